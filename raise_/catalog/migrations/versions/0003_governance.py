"""Governance (PRD §8–§10): creators of every level, principal groups, organization aliases,
grant revocation, and the hash-chained audit log with its alerts.

Revision ID: 0003_governance
Revises: 0002_search_index
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003_governance"
down_revision = "0002_search_index"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
_LEVELS = ("organizations", "domains", "projects", "feature_groups")


def upgrade() -> None:
    # The creator of a resource is its admin (issue 5); ``owner`` is a free-text contact.
    for table in _LEVELS:
        op.add_column(table, sa.Column("created_by", sa.String(256)))
    op.add_column("external_grants", sa.Column("revoked_at", TS))
    op.add_column("external_grants", sa.Column("revoked_by", sa.String(256)))

    op.create_table(
        "principal_groups",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("members", JSON, nullable=False),
        sa.Column("created_by", sa.String(256)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("org_id", "name"),
    )
    op.create_table(
        "org_aliases",
        sa.Column("alias", sa.String(256), primary_key=True),
        sa.Column("org_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False, index=True),
        sa.Column("created_at", TS, nullable=False),
    )

    # Audit: a sequence number and a hash chain over every entry.
    op.add_column("audit_log", sa.Column("seq", sa.BigInteger()))
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64)))
    op.add_column("audit_log", sa.Column("entry_hash", sa.String(64)))
    op.create_index("idx_audit_seq", "audit_log", ["seq"], unique=True)
    op.create_index("idx_audit_org_timestamp", "audit_log", ["org_id", "timestamp"])
    op.create_index("idx_audit_actor_org", "audit_log", ["actor_org"])
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_alerts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("query", JSON, nullable=False),
        sa.Column("notify", JSON, nullable=False),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_checked_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(256)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("org_id", "name"),
    )
    op.create_table(
        "audit_alert_matches",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("alert_id", sa.Uuid(), sa.ForeignKey("audit_alerts.id"), nullable=False, index=True),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("entry_seq", sa.BigInteger(), nullable=False),
        sa.Column("matched_at", TS, nullable=False),
        sa.Column("delivered_at", TS),
        sa.UniqueConstraint("alert_id", "entry_id"),
    )


def downgrade() -> None:
    for table in ("audit_alert_matches", "audit_alerts", "audit_chain", "org_aliases", "principal_groups"):
        op.drop_table(table)
    for index in ("idx_audit_actor_org", "idx_audit_org_timestamp", "idx_audit_seq"):
        op.drop_index(index, table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        for column in ("entry_hash", "prev_hash", "seq"):
            batch.drop_column(column)
    with op.batch_alter_table("external_grants") as batch:
        batch.drop_column("revoked_by")
        batch.drop_column("revoked_at")
    for table in _LEVELS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("created_by")
