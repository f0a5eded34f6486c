"""The catalog table of dashboards (PRD §3 ``dashboards``).

Registered on the catalog's ``Base`` (migration ``0012_dashboards_alerts``). Beyond PRD §3 a
dashboard keeps the project it was made in (``scope``: where its charts' bare feature names and
live tables are found, and whose ACL governs editing it), its ``owner``, how often a published
one refreshes, and the stored snapshot a published page shows (its charts as Vega-Lite specs,
with the time they were rendered).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from raise_.metadata.models import Base, JsonType, utcnow

__all__ = ["DashboardModel"]


class DashboardModel(Base):
    __tablename__ = "dashboards"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    scope: Mapped[str] = mapped_column(String(512))  # org/domain/project
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    charts: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    parameters: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    layout: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_url: Mapped[str | None] = mapped_column(String(512))
    refresh_seconds: Mapped[int | None] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(256))
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    snapshot_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
