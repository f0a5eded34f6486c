"""The catalog of PRD §3: namespace, features, lineage, ACLs, grants and audit log.

Revision ID: 0001_catalog
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_catalog"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def _timestamps() -> list[sa.Column[object]]:
    return [sa.Column("created_at", TS, nullable=False), sa.Column("updated_at", TS, nullable=False)]


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("display_name", sa.String(256)),
        sa.Column("description", sa.Text()),
        sa.Column("owner", sa.String(256), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("settings", JSON, nullable=False),
        *_timestamps(),
    )
    op.create_table(
        "domains",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False, index=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("owner", sa.String(256)),
        sa.Column("tags", JSON, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("org_id", "name"),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("domain_id", sa.Uuid(), sa.ForeignKey("domains.id"), nullable=False, index=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("owner", sa.String(256)),
        sa.Column("tags", JSON, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("domain_id", "name"),
    )
    op.create_table(
        "feature_groups",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("project_id", sa.Uuid(), sa.ForeignKey("projects.id"), nullable=False, index=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("owner", sa.String(256)),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("entity_keys", JSON),
        sa.Column("event_time_column", sa.String(128)),
        sa.Column("ttl_seconds", sa.BigInteger()),
        sa.Column("physical_table", sa.String(600), nullable=False, unique=True),
        *_timestamps(),
        sa.UniqueConstraint("project_id", "name"),
    )
    op.create_table(
        "features",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("group_id", sa.Uuid(), sa.ForeignKey("feature_groups.id"), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("dtype", sa.String(1024), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("owner", sa.String(256)),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("nullable", sa.Boolean(), nullable=False),
        sa.Column("default_value", JSON),
        sa.Column("derived_from", sa.Text()),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("deprecation_message", sa.Text()),
        sa.Column("physical_column", sa.String(256), nullable=False),
        sa.Column("created_by", sa.String(256)),
        sa.Column("search_text", sa.Text(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("group_id", "name", "version"),
        sa.UniqueConstraint("group_id", "physical_column"),
    )
    op.create_index("idx_features_group_name_vnum", "features", ["group_id", "name", "version_number"])
    op.create_index("idx_features_status", "features", ["status"])
    op.create_table(
        "feature_lineage",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("feature_id", sa.Uuid(), sa.ForeignKey("features.id"), nullable=False, index=True),
        sa.Column("upstream_feature_id", sa.Uuid(), sa.ForeignKey("features.id"), nullable=False, index=True),
        sa.Column("expression_context", sa.Text()),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("feature_id", "upstream_feature_id"),
    )
    op.create_table(
        "acls",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("resource_type", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("readers", JSON, nullable=False),
        sa.Column("writers", JSON, nullable=False),
        sa.Column("admins", JSON, nullable=False),
        sa.Column("inherit", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("resource_type", "resource_id"),
    )
    op.create_table(
        "external_grants",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("granting_org_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("grantee_org", sa.String(128), nullable=False),
        sa.Column("resource_type", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("features", JSON, nullable=False),
        sa.Column("permission", sa.String(32), nullable=False),
        sa.Column("granted_by", sa.String(256), nullable=False),
        sa.Column("expires_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("granting_org_id", "grantee_org", "resource_type", "resource_id"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("timestamp", TS, nullable=False),
        sa.Column("org_id", sa.Uuid()),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("actor_org", sa.String(128)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("resource_type", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.Uuid()),
        sa.Column("resource_path", sa.String(512)),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("ip_address", sa.String(64)),
        sa.Column("user_agent", sa.String(512)),
    )
    op.create_index("idx_audit_timestamp", "audit_log", ["timestamp"])
    op.create_index("idx_audit_resource", "audit_log", ["resource_type", "resource_id"])
    op.create_index("idx_audit_actor", "audit_log", ["actor"])
    op.create_index("idx_audit_action", "audit_log", ["action"])


def downgrade() -> None:
    for table in (
        "audit_log",
        "external_grants",
        "acls",
        "feature_lineage",
        "features",
        "feature_groups",
        "projects",
        "domains",
        "organizations",
    ):
        op.drop_table(table)
