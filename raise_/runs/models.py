"""The ``runs`` table: one row per run of user work (DESIGN §8 "Runs").

Registered on the catalog's ``Base`` so it shares the catalog's one Alembic history
(``0009_runs_and_schedules``) and the model check in ``tests/catalog/test_migrations.py``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from raise_.metadata.models import Base, utcnow

__all__ = ["RunModel"]


class RunModel(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("idx_runs_status", "status"),
        Index("idx_runs_kind_created", "kind", "created_at"),
        Index("idx_runs_actor_created", "actor", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(256))  # "manual", "schedule:audit-alerts", ...
    actor: Mapped[str] = mapped_column(String(256))
    spec: Mapped[dict[str, Any]] = mapped_column()
    launcher: Mapped[str] = mapped_column(String(32))
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)  # stage → seconds
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column()
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    log: Mapped[str] = mapped_column(Text, default="")
    runner: Mapped[str | None] = mapped_column(String(256))  # host:pid of the process holding it
    timeout_seconds: Mapped[float | None] = mapped_column(Float)
    # Set by a cancel or a timeout, read by whoever records the end: why the run was stopped
    # (the process that stops it and the one that records it may differ).
    stop_requested: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
