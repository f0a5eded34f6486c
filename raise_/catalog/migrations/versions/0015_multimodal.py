"""Multimodal data: blob registries, references and their validations (PRD §17.3; issue 22).

Revision ID: 0015_multimodal
Revises: 0014_orchestration
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0015_multimodal"
down_revision = "0014_orchestration"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "blob_registries",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("integrity_policy", JSON, nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("last_validated_at", TS),
        sa.UniqueConstraint("scope", "name"),
    )
    op.create_index("ix_blob_registries_org_id", "blob_registries", ["org_id"])
    op.create_table(
        "blob_references",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("registry_id", sa.Uuid(), sa.ForeignKey("blob_registries.id"), nullable=False),
        sa.Column("uri", sa.String(2048), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("checksum", sa.String(256), nullable=False),
        sa.Column("hash_algorithm", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.String(256)),
        sa.Column("version_id", sa.String(256)),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("validated_at", TS),
        sa.UniqueConstraint("registry_id", "uri", "checksum"),
    )
    op.create_index("ix_blob_references_registry_id", "blob_references", ["registry_id"])
    op.create_index("idx_blob_refs_uri", "blob_references", ["uri"])
    op.create_index("idx_blob_refs_content_type", "blob_references", ["content_type"])
    op.create_index("idx_blob_refs_status", "blob_references", ["status"])
    op.create_table(
        "blob_validations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("reference_id", sa.Uuid(), sa.ForeignKey("blob_references.id"), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("message", sa.Text()),
        sa.Column("actual_checksum", sa.String(256)),
        sa.Column("actual_size", sa.BigInteger()),
        sa.Column("checksum_matches", sa.Boolean()),
        sa.Column("size_matches", sa.Boolean()),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("checked_by", sa.String(256), nullable=False),
        sa.Column("checked_at", TS, nullable=False),
    )
    op.create_index("ix_blob_validations_reference_id", "blob_validations", ["reference_id"])
    op.create_index("idx_validations_status", "blob_validations", ["status"])


def downgrade() -> None:
    op.drop_index("idx_validations_status", table_name="blob_validations")
    op.drop_index("ix_blob_validations_reference_id", table_name="blob_validations")
    op.drop_table("blob_validations")
    for index in ("idx_blob_refs_status", "idx_blob_refs_content_type", "idx_blob_refs_uri"):
        op.drop_index(index, table_name="blob_references")
    op.drop_index("ix_blob_references_registry_id", table_name="blob_references")
    op.drop_table("blob_references")
    op.drop_index("ix_blob_registries_org_id", table_name="blob_registries")
    op.drop_table("blob_registries")
