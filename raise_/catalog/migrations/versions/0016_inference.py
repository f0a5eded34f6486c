"""Bulk inference: inference transforms and their runs (PRD §18.8; issue 23).

Revision ID: 0016_inference
Revises: 0015_multimodal
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0016_inference"
down_revision = "0015_multimodal"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inference_transforms",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("job_id", sa.Uuid(), sa.ForeignKey("jobs.id"), nullable=False, unique=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("model_spec", JSON, nullable=False),
        sa.Column("accelerator_config", JSON, nullable=False),
        sa.Column("batch_config", JSON, nullable=False),
        sa.Column("runtime_config", JSON),
        sa.Column("input_mapping", JSON, nullable=False),
        sa.Column("output_mapping", JSON, nullable=False),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "inference_runs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("job_run_id", sa.Uuid(), sa.ForeignKey("job_runs.id"), nullable=False),
        sa.Column("transform_id", sa.Uuid(), sa.ForeignKey("inference_transforms.id"), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("total_samples", sa.BigInteger(), nullable=False),
        sa.Column("processed_samples", sa.BigInteger(), nullable=False),
        sa.Column("failed_samples", sa.BigInteger(), nullable=False),
        sa.Column("throughput_samples_per_sec", sa.Float()),
        sa.Column("avg_latency_ms", sa.Float()),
        sa.Column("p99_latency_ms", sa.Float()),
        sa.Column("gpu_utilization_pct", sa.Float()),
        sa.Column("peak_memory_gb", sa.Float()),
        sa.Column("started_at", TS),
        sa.Column("completed_at", TS),
        sa.Column("error", sa.Text()),
        sa.Column("details", JSON, nullable=False),
    )
    op.create_index("idx_inference_runs_job", "inference_runs", ["job_run_id"])
    op.create_index("idx_inference_runs_status", "inference_runs", ["status"])


def downgrade() -> None:
    op.drop_index("idx_inference_runs_status", table_name="inference_runs")
    op.drop_index("idx_inference_runs_job", table_name="inference_runs")
    op.drop_table("inference_runs")
    op.drop_table("inference_transforms")
