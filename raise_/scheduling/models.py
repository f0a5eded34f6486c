"""The ``scheduled_items`` table: what is due when, and who holds it (DESIGN §8 "One scheduler").

Due times live here, not in a process, so a restart neither loses nor repeats work; the lease
columns make each due item run in one process when several share a catalog.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from raise_.metadata.models import Base, utcnow

__all__ = ["ScheduledItemModel"]


class ScheduledItemModel(Base):
    __tablename__ = "scheduled_items"
    __table_args__ = (Index("idx_scheduled_due", "enabled", "next_due_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(256), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    interval_seconds: Mapped[float | None] = mapped_column(Float)
    cron: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_due_at: Mapped[datetime] = mapped_column()
    last_run_at: Mapped[datetime | None] = mapped_column()
    last_run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    last_status: Mapped[str | None] = mapped_column(String(16))
    lease_owner: Mapped[str | None] = mapped_column(String(256))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
