"""The catalog table of notification deliveries: one row per message per channel.

Registered on the catalog's ``Base`` (migration ``0012_dashboards_alerts``). A row records what
was sent, to whom, through which channel, how many attempts it took and how it ended; never a
secret (endpoints and credentials stay in the server's configuration, and error texts are
scrubbed of them before they are stored).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from raise_.metadata.models import Base, JsonType, utcnow

__all__ = ["NotificationDeliveryModel"]


class NotificationDeliveryModel(Base):
    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("idx_notification_source", "source_kind", "source_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    source_kind: Mapped[str] = mapped_column(String(32))  # "analytics_alert" or "audit_alert"
    source_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    source_name: Mapped[str | None] = mapped_column(String(128))
    event: Mapped[str] = mapped_column(String(16))  # firing, resolved, test, match
    channel: Mapped[str] = mapped_column(String(32))
    recipients: Mapped[list[str]] = mapped_column(JsonType, default=list)
    subject: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()
