"""Live tables and their refresh history (PRD §3, §12; issue 18).

Revision ID: 0011_live_tables
Revises: 0010_analysis_jobs_as_runs
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011_live_tables"
down_revision = "0010_analysis_jobs_as_runs"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "live_tables",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("group_id", sa.Uuid(), sa.ForeignKey("feature_groups.id"), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("analysis_spec", JSON, nullable=False),
        sa.Column("refresh_policy", JSON, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("last_refresh", TS),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("storage_path", sa.String(512)),
        sa.Column("owner", sa.String(256), nullable=False),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_message", sa.Text()),
        sa.Column("sources", JSON, nullable=False),
        sa.Column("cursors", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("group_id", "name"),
    )
    op.create_index("ix_live_tables_group_id", "live_tables", ["group_id"])
    op.create_table(
        "live_table_refresh_history",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("live_table_id", sa.Uuid(), sa.ForeignKey("live_tables.id"), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("completed_at", TS),
        sa.Column("rows_processed", sa.BigInteger()),
        sa.Column("trigger", sa.String(32)),
        sa.Column("error_message", sa.Text()),
        sa.Column("error_code", sa.String(64)),
        sa.Column("mode", sa.String(16)),
        sa.Column("duration_ms", sa.Float()),
        sa.Column("run_id", sa.Uuid()),
    )
    op.create_index("idx_live_refresh_table_started", "live_table_refresh_history", ["live_table_id", "started_at"])


def downgrade() -> None:
    op.drop_table("live_table_refresh_history")
    op.drop_table("live_tables")
