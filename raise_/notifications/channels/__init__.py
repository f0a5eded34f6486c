"""The notification channels, chosen by name (DESIGN §8: a name table, as the offline stores
are)."""

from __future__ import annotations

from typing import Final

from raise_.notifications.channels.base import NotificationChannel, body_text, subject_line
from raise_.notifications.channels.email import EmailChannel
from raise_.notifications.channels.pagerduty import PagerDutyChannel
from raise_.notifications.channels.slack import SlackChannel
from raise_.notifications.channels.sms import SmsChannel
from raise_.notifications.channels.webhook import WebhookChannel

__all__ = [
    "CHANNELS",
    "EmailChannel",
    "NotificationChannel",
    "PagerDutyChannel",
    "SlackChannel",
    "SmsChannel",
    "WebhookChannel",
    "body_text",
    "subject_line",
]

#: Each channel's class by name; a class is built from its section of the settings.
CHANNELS: Final[dict[str, type]] = {
    "email": EmailChannel,
    "slack": SlackChannel,
    "webhook": WebhookChannel,
    "pagerduty": PagerDutyChannel,
    "sms": SmsChannel,
}
