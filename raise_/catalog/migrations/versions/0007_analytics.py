"""Analytics (PRD §11): computed results (the cache behind ``Freshness``) and asynchronous jobs.

Revision ID: 0007_analytics
Revises: 0006_audit_path_statistics
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007_analytics"
down_revision = "0006_audit_path_statistics"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "analysis_results",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("scope_path", sa.String(512), nullable=False),
        sa.Column("analysis_spec_hash", sa.String(64), nullable=False),
        sa.Column("analysis_spec", JSON, nullable=False),
        sa.Column("data_version", sa.Text(), nullable=False),
        sa.Column("features", JSON, nullable=False),
        sa.Column("result_data", JSON, nullable=False),
        sa.Column("computed_by", sa.String(256)),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("freshness_at", TS, nullable=False),
        sa.Column("expires_at", TS),
    )
    op.create_index("idx_results_hash", "analysis_results", ["analysis_spec_hash", "freshness_at"])
    op.create_index("idx_results_freshness", "analysis_results", ["freshness_at"])
    op.create_table(
        "analysis_jobs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("scope_path", sa.String(512), nullable=False),
        sa.Column("analysis_spec", JSON, nullable=False),
        sa.Column("freshness", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("result_id", sa.Uuid(), sa.ForeignKey("analysis_results.id")),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_message", sa.Text()),
        sa.Column("submitted_by", sa.String(256), nullable=False),
        sa.Column("runner", sa.String(256)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS),
        sa.Column("completed_at", TS),
    )
    op.create_index("idx_jobs_status", "analysis_jobs", ["status"])
    op.create_index("idx_jobs_submitter", "analysis_jobs", ["submitted_by", "created_at"])


def downgrade() -> None:
    op.drop_table("analysis_jobs")
    op.drop_table("analysis_results")
