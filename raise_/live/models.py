"""The catalog tables of live tables (PRD §3 ``live_tables``, ``live_table_refresh_history``).

Registered on the catalog's ``Base``: one Alembic history for all (``0011_live_tables``). Beyond
PRD §3, a live table keeps its ``owner`` (refreshes run as them), the coded error of its last
failed refresh, the groups it reads (``sources``: the change feed wakes it on their commits) and
``cursors``, the last commit of each source it consumed (reconciled from the offline store's
checkpoint, which is written in the same commit as the table's data).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from raise_.metadata.models import Base, JsonType, utcnow

__all__ = ["LiveTableModel", "LiveTableRefreshModel"]


class LiveTableModel(Base):
    __tablename__ = "live_tables"
    __table_args__ = (UniqueConstraint("group_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("feature_groups.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    analysis_spec: Mapped[dict[str, Any]] = mapped_column(JsonType)
    refresh_policy: Mapped[dict[str, Any]] = mapped_column(JsonType)
    status: Mapped[str] = mapped_column(String(32), default="active")
    last_refresh: Mapped[datetime | None] = mapped_column()
    row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    storage_path: Mapped[str | None] = mapped_column(String(512))
    owner: Mapped[str] = mapped_column(String(256))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    sources: Mapped[list[str]] = mapped_column(JsonType, default=list)
    cursors: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LiveTableRefreshModel(Base):
    __tablename__ = "live_table_refresh_history"
    __table_args__ = (Index("idx_live_refresh_table_started", "live_table_id", "started_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    live_table_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("live_tables.id"))
    status: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    rows_processed: Mapped[int | None] = mapped_column(BigInteger)
    trigger: Mapped[str | None] = mapped_column(String(32))  # created, manual, cdc, scheduled
    error_message: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(64))
    mode: Mapped[str | None] = mapped_column(String(16))  # full or incremental
    duration_ms: Mapped[float | None] = mapped_column(Float)
    run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
