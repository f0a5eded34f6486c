"""The ``NotificationChannel`` seam (DESIGN §8): a channel sends one notification to its
endpoint, once, within its timeout, or raises :class:`DeliveryFailedError`. Retries, threads,
records and scrubbing are the service's; a channel's error message may still name what it was
told (the service scrubs it), but a channel never puts a secret in one on purpose."""

from __future__ import annotations

import re
from typing import Protocol

from raise_.errors import DeliveryFailedError
from raise_.notifications.records import Notification

__all__ = ["NotificationChannel", "body_text", "failure", "subject_line"]

_PREFIX = {"firing": "[FIRING] ", "resolved": "[RESOLVED] ", "match": "[MATCH] "}
_SPACE = re.compile(r"\s+")


class NotificationChannel(Protocol):
    """A way to reach people: email, slack, webhook, pagerduty or sms."""

    name: str
    timeout: float  # seconds one attempt may take (per connection or request)

    def targets(self, notification: Notification) -> list[str]:
        """The recipients this channel addresses (recorded with the delivery)."""
        ...

    def send(self, notification: Notification) -> None:
        """Send once; :class:`DeliveryFailedError` (``details["retryable"]``) if it failed."""
        ...


def subject_line(n: Notification) -> str:
    """The subject every channel shows: ``[TEST] `` for a test, then the event, on one line."""
    subject = _SPACE.sub(" ", n.subject).strip()
    return ("[TEST] " if n.test else "") + _PREFIX.get(n.event, "") + subject


def body_text(n: Notification) -> str:
    """The plain-text body, saying first when it is only a test."""
    if n.test:
        return f"This is a test notification from {n.source_name}: nothing is wrong.\n\n{n.body}"
    return n.body


def failure(channel: str, message: str, *, retryable: bool, **details: object) -> DeliveryFailedError:
    return DeliveryFailedError(f"{channel}: {message}", {"channel": channel, "retryable": retryable, **details})
