"""The catalog tables of transformation jobs (PRD §15.3, §15.5, §15.8, §15.10, §15.11).

Registered on the catalog's ``Base`` (migration ``0013_jobs``). Beyond the PRD a job keeps the
project it was made in (``scope``), the path of the group it writes (``target_group``, for
lineage and a group's job list), its launcher, when it was deployed, and ``watch_state``: what
an ``on_change`` schedule last saw of its sources (commit cursors, file fingerprints). A run
row keeps its trigger, the runs-core run that computed it, the commit it made and its log.
Intervals are seconds (portable).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from raise_.metadata.models import Base, JsonType, utcnow

__all__ = ["JobCheckpointModel", "JobModel", "JobQualityReportModel", "JobRunModel", "JobSourceModel"]


class JobModel(Base):
    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("org_id", "name"), Index("idx_jobs_status", "status"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    scope: Mapped[str] = mapped_column(String(512))  # org/domain/project
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(256))
    tags: Mapped[list[str]] = mapped_column(JsonType, default=list)
    sources: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    transform: Mapped[dict[str, Any]] = mapped_column(JsonType)
    target: Mapped[dict[str, Any]] = mapped_column(JsonType)
    target_group: Mapped[str] = mapped_column(String(512), index=True)
    schedule: Mapped[dict[str, Any]] = mapped_column(JsonType)
    incremental: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    quality_checks: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    retry_delay_seconds: Mapped[int] = mapped_column(Integer, default=300)
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    alerts: Mapped[list[str]] = mapped_column(JsonType, default=list)
    launcher: Mapped[str] = mapped_column(String(32), default="subprocess")
    # Which orchestrator fires its schedule: "internal" (the store's scheduler) or "airflow"
    # (a DAG; the internal scheduler then leaves it alone). Set when the job is deployed.
    orchestrator: Mapped[str] = mapped_column(String(32), default="internal", server_default="internal")
    status: Mapped[str] = mapped_column(String(32), default="draft")
    deployed_at: Mapped[datetime | None] = mapped_column()
    watch_state: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JobSourceModel(Base):
    __tablename__ = "job_sources"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id"), index=True)
    source_type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(128))
    config: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobCheckpointModel(Base):
    __tablename__ = "job_checkpoints"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id"), unique=True)
    checkpoint_type: Mapped[str] = mapped_column(String(32))
    checkpoint_value: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    checkpoint_column: Mapped[str | None] = mapped_column(String(128))
    commit_id: Mapped[int | None] = mapped_column(BigInteger)  # the offline-store commit that wrote it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JobRunModel(Base):
    __tablename__ = "job_runs"
    __table_args__ = (
        Index("idx_job_runs_job", "job_id", "execution_date"),
        Index("idx_job_runs_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id"))
    status: Mapped[str] = mapped_column(String(32))  # pending, running, succeeded, failed, cancelled, timed_out
    trigger: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(256))
    execution_date: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_written: Mapped[int] = mapped_column(BigInteger, default=0)
    checkpoint_before: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    checkpoint_after: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)  # timings per stage, counts
    error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(64))
    commit_id: Mapped[int | None] = mapped_column(BigInteger)
    compute_run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the runs-core run that computed it
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    runner: Mapped[str | None] = mapped_column(String(256))  # host:pid of the process driving it
    log: Mapped[str] = mapped_column(Text, default="")


class JobQualityReportModel(Base):
    __tablename__ = "job_quality_reports"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("job_runs.id"), index=True)
    passed: Mapped[bool] = mapped_column(Boolean)
    checks: Mapped[list[Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
