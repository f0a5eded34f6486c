"""What the notification service is given and what it returns: plain frozen values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

__all__ = ["EVENTS", "SOURCE_KINDS", "DeliveryRecord", "Notification"]

#: Who sends notifications: an analytics alert (raise_.alerts) or an audit alert (PRD §10).
SOURCE_KINDS: Final = ("analytics_alert", "audit_alert")
#: What a notification says: an alert started or stopped firing, a test, new audit matches.
EVENTS: Final = ("firing", "resolved", "test", "match")


@dataclass(frozen=True)
class Notification:
    """One message, sent as it is over every channel it is delivered on.

    ``body`` is plain text for people; ``details`` is JSON-safe data for machines (the value,
    the condition, the analysis, the organization, ...): the webhook sends it whole, PagerDuty
    as ``custom_details``. ``recipients`` are e-mail addresses (the email channel) and
    +E.164 phone numbers (the sms channel); the other channels send to their configured
    endpoint. ``test`` marks a message sent by ``alert.test()``: every channel says so.
    ``dedup_key`` is stable per alert, so PagerDuty resolves the incident it triggered.
    """

    source_kind: str
    source_id: str | None
    source_name: str
    event: str
    subject: str
    body: str
    recipients: list[str]
    details: dict[str, Any] = field(default_factory=dict)
    test: bool = False
    dedup_key: str | None = None


@dataclass(frozen=True)
class DeliveryRecord:
    """One notification delivered (or not) over one channel: a ``notification_deliveries`` row.

    ``status`` is ``delivered`` or ``failed``; ``attempts`` counts the tries (0: the channel is
    not configured, nothing was tried); ``error`` says why the last try failed, scrubbed of
    every secret; ``recipients`` are those the channel addressed.
    """

    id: str
    channel: str
    status: str
    attempts: int
    error: str | None
    event: str
    source_kind: str
    source_name: str | None
    recipients: list[str]
    test: bool
    created_at: datetime
    delivered_at: datetime | None
    source_id: str | None = None
    subject: str = ""
