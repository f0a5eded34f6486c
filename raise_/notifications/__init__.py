"""Notifications (PRD §14.4): the ``NotificationChannel`` seam, its five channels (email,
slack, webhook, pagerduty, sms), delivery with retries, and the delivery of audit alerts.

The channels' endpoints and credentials come from the server's configuration
(:class:`NotificationSettings`), never from a notebook; see docs/notifications.md.
"""

from __future__ import annotations

from raise_.notifications.config import CHANNEL_NAMES, NotificationSettings, RetryPolicy
from raise_.notifications.records import DeliveryRecord, Notification
from raise_.notifications.service import NotificationService

__all__ = [
    "CHANNEL_NAMES",
    "DeliveryRecord",
    "Notification",
    "NotificationService",
    "NotificationSettings",
    "RetryPolicy",
]
