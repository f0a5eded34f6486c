"""Runs of user work and the scheduler's due items (DESIGN §8, issue 17 items 3 and 4).

Revision ID: 0009_runs_and_schedules
Revises: 0008_explicit_org_acls
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009_runs_and_schedules"
down_revision = "0008_explicit_org_acls"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(256), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("launcher", sa.String(32), nullable=False),
        sa.Column("timings", JSON, nullable=False),
        sa.Column("metrics", JSON, nullable=False),
        sa.Column("result", JSON),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_message", sa.Text()),
        sa.Column("log", sa.Text(), nullable=False),
        sa.Column("runner", sa.String(256)),
        sa.Column("timeout_seconds", sa.Float()),
        sa.Column("stop_requested", sa.String(16)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS),
        sa.Column("ended_at", TS),
    )
    op.create_index("idx_runs_status", "runs", ["status"])
    op.create_index("idx_runs_kind_created", "runs", ["kind", "created_at"])
    op.create_index("idx_runs_actor_created", "runs", ["actor", "created_at"])
    op.create_table(
        "scheduled_items",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False, unique=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("interval_seconds", sa.Float()),
        sa.Column("cron", sa.String(128)),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_due_at", TS, nullable=False),
        sa.Column("last_run_at", TS),
        sa.Column("last_run_id", sa.Uuid()),
        sa.Column("last_status", sa.String(16)),
        sa.Column("lease_owner", sa.String(256)),
        sa.Column("lease_expires_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("idx_scheduled_due", "scheduled_items", ["enabled", "next_due_at"])


def downgrade() -> None:
    op.drop_table("scheduled_items")
    op.drop_table("runs")
