"""The catalog tables of analytics alerts (PRD §3 ``analytics_alerts``) and their evaluations.

Registered on the catalog's ``Base`` (migration ``0012_dashboards_alerts``). Beyond PRD §3 an
alert keeps the project it was made in (``scope``) and the group its analysis reads, its
``owner`` (checks run as them), ``state`` (``ok`` or ``firing``: a notification goes out on
the transition, not at every check), the last value and error, and whether a commit to what it
reads triggers a check. ``check_interval`` is a number of seconds (PRD's INTERVAL, portable).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from raise_.metadata.models import Base, JsonType, utcnow

__all__ = ["AlertEvaluationModel", "AnalyticsAlertModel"]


class AnalyticsAlertModel(Base):
    __tablename__ = "analytics_alerts"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    scope: Mapped[str] = mapped_column(String(512))  # org/domain/project
    group_path: Mapped[str] = mapped_column(String(512))  # the group the analysis reads
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    analysis_spec: Mapped[dict[str, Any]] = mapped_column(JsonType)
    condition_spec: Mapped[dict[str, Any]] = mapped_column(JsonType)
    notify: Mapped[list[str]] = mapped_column(JsonType, default=list)
    channels: Mapped[list[str]] = mapped_column(JsonType, default=list)
    check_interval: Mapped[int] = mapped_column(Integer)  # seconds
    check_on_change: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(32), default="active")  # active, paused, error
    state: Mapped[str] = mapped_column(String(16), default="ok")  # ok, firing
    owner: Mapped[str] = mapped_column(String(256))
    last_check: Mapped[datetime | None] = mapped_column()
    last_triggered: Mapped[datetime | None] = mapped_column()
    last_value: Mapped[float | None] = mapped_column(Float)
    trigger_count: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    cursors: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AlertEvaluationModel(Base):
    __tablename__ = "analytics_alert_evaluations"
    __table_args__ = (Index("idx_alert_evaluations_alert", "alert_id", "evaluated_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("analytics_alerts.id"))
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)
    trigger: Mapped[str] = mapped_column(String(16))  # scheduled, change, test, manual
    value: Mapped[float | None] = mapped_column(Float)
    triggered: Mapped[bool | None] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))  # the alert's state after this check
    transition: Mapped[str | None] = mapped_column(String(16))  # fired, resolved or None
    notified: Mapped[bool] = mapped_column(Boolean, default=False)
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    analysis_result_id: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[float | None] = mapped_column(Float)
