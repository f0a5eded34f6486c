"""Orchestration: a project's orchestrator, job deployments, job-scoped tokens, and the
orchestrator a job runs on (PRD §16; issue 21).

Revision ID: 0014_orchestration
Revises: 0013_jobs
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0014_orchestration"
down_revision = "0013_jobs"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("orchestrator", sa.String(32), nullable=False, server_default="internal"))
    op.create_table(
        "orchestrator_configs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Uuid(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("url", sa.Text()),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("updated_by", sa.String(256), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("scope", "name"),
    )
    op.create_index("ix_orchestrator_configs_org_id", "orchestrator_configs", ["org_id"])
    op.create_table(
        "job_deployments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("job_id", sa.Uuid(), sa.ForeignKey("jobs.id"), nullable=False, unique=True),
        sa.Column("orchestrator", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(256), nullable=False),
        sa.Column("url", sa.Text()),
        sa.Column("definition_path", sa.Text()),
        sa.Column("deployed_by", sa.String(256), nullable=False),
        sa.Column("deployed_at", TS, nullable=False),
    )
    op.create_table(
        "job_tokens",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("job_id", sa.Uuid(), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("orchestrator", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
    )
    op.create_index("ix_job_tokens_job_id", "job_tokens", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_job_tokens_job_id", table_name="job_tokens")
    op.drop_table("job_tokens")
    op.drop_table("job_deployments")
    op.drop_index("ix_orchestrator_configs_org_id", table_name="orchestrator_configs")
    op.drop_table("orchestrator_configs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("orchestrator")
