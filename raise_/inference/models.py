"""The catalog tables of bulk inference (PRD §18.8, migration ``0016_inference``).

- ``inference_transforms``: the inference transform of a job, one row per job whose transform is
  one (kept in step with the job's definition, which stays the source of truth for runs).
- ``inference_runs``: what each inference run of a job run did (PRD §18.8's columns, and the
  whole :class:`~raise_.inference.records.InferenceResult` in ``details``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from raise_.metadata.models import Base, JsonType, utcnow

__all__ = ["InferenceRunModel", "InferenceTransformModel"]


class InferenceTransformModel(Base):
    __tablename__ = "inference_transforms"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id"), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    model_spec: Mapped[dict[str, Any]] = mapped_column(JsonType)
    accelerator_config: Mapped[dict[str, Any]] = mapped_column(JsonType)
    batch_config: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    runtime_config: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    input_mapping: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    output_mapping: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    mode: Mapped[str] = mapped_column(String(32), default="batch")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InferenceRunModel(Base):
    __tablename__ = "inference_runs"
    __table_args__ = (
        Index("idx_inference_runs_job", "job_run_id"),
        Index("idx_inference_runs_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    job_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("job_runs.id"))
    transform_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inference_transforms.id"))
    status: Mapped[str] = mapped_column(String(32))
    total_samples: Mapped[int] = mapped_column(BigInteger, default=0)
    processed_samples: Mapped[int] = mapped_column(BigInteger, default=0)
    failed_samples: Mapped[int] = mapped_column(BigInteger, default=0)
    throughput_samples_per_sec: Mapped[float | None] = mapped_column(Float)
    avg_latency_ms: Mapped[float | None] = mapped_column(Float)
    p99_latency_ms: Mapped[float | None] = mapped_column(Float)
    gpu_utilization_pct: Mapped[float | None] = mapped_column(Float)
    peak_memory_gb: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
