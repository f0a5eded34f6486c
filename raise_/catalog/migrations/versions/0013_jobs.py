"""Transformation jobs: definitions, sources, checkpoints, runs and quality reports (PRD §15;
issue 20).

Revision ID: 0013_jobs
Revises: 0012_dashboards_alerts
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0013_jobs"
down_revision = "0012_dashboards_alerts"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("owner", sa.String(256), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("sources", JSON, nullable=False),
        sa.Column("transform", JSON, nullable=False),
        sa.Column("target", JSON, nullable=False),
        sa.Column("target_group", sa.String(512), nullable=False),
        sa.Column("schedule", JSON, nullable=False),
        sa.Column("incremental", JSON, nullable=False),
        sa.Column("quality_checks", JSON, nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("retry_delay_seconds", sa.Integer(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("alerts", JSON, nullable=False),
        sa.Column("launcher", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("deployed_at", TS),
        sa.Column("watch_state", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("org_id", "name"),
    )
    op.create_index("ix_jobs_org_id", "jobs", ["org_id"])
    op.create_index("ix_jobs_target_group", "jobs", ["target_group"])
    op.create_index("idx_jobs_status", "jobs", ["status"])
    op.create_table(
        "job_sources",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("job_id", sa.Uuid(), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128)),
        sa.Column("config", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_job_sources_job_id", "job_sources", ["job_id"])
    op.create_table(
        "job_checkpoints",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("job_id", sa.Uuid(), sa.ForeignKey("jobs.id"), nullable=False, unique=True),
        sa.Column("checkpoint_type", sa.String(32), nullable=False),
        sa.Column("checkpoint_value", JSON),
        sa.Column("checkpoint_column", sa.String(128)),
        sa.Column("commit_id", sa.BigInteger()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("job_id", sa.Uuid(), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("trigger", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("execution_date", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS),
        sa.Column("completed_at", TS),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("rows_written", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_before", JSON),
        sa.Column("checkpoint_after", JSON),
        sa.Column("metrics", JSON, nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("error_code", sa.String(64)),
        sa.Column("commit_id", sa.BigInteger()),
        sa.Column("compute_run_id", sa.Uuid()),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("runner", sa.String(256)),
        sa.Column("log", sa.Text(), nullable=False),
    )
    op.create_index("idx_job_runs_job", "job_runs", ["job_id", "execution_date"])
    op.create_index("idx_job_runs_status", "job_runs", ["status"])
    op.create_table(
        "job_quality_reports",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("run_id", sa.Uuid(), sa.ForeignKey("job_runs.id"), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("checks", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_job_quality_reports_run_id", "job_quality_reports", ["run_id"])


def downgrade() -> None:
    op.drop_table("job_quality_reports")
    op.drop_table("job_runs")
    op.drop_table("job_checkpoints")
    op.drop_table("job_sources")
    op.drop_table("jobs")
