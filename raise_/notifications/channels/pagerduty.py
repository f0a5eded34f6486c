"""The pagerduty channel: an Events API v2 event. ``firing``, ``test`` and ``match`` trigger,
``resolved`` resolves; the ``dedup_key`` (the notification's, else one derived from its
source) ties a resolve to the incident its trigger opened."""

from __future__ import annotations

import json
from typing import Any, Final

from raise_.notifications.channels.base import subject_line
from raise_.notifications.channels.http_post import post
from raise_.notifications.config import PagerDutySettings
from raise_.notifications.records import Notification

__all__ = ["PagerDutyChannel", "dedup_key", "pagerduty_event"]

SEVERITIES: Final = ("critical", "error", "warning", "info")
_DEFAULT_SEVERITY: Final = {"firing": "error", "match": "warning", "test": "info"}


def dedup_key(n: Notification) -> str:
    key = n.dedup_key or f"raise/{n.source_kind}/{n.source_id or n.source_name}"
    return key[:255]


def pagerduty_event(n: Notification, routing_key: str) -> dict[str, Any]:
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "resolve" if n.event == "resolved" else "trigger",
        "dedup_key": dedup_key(n),
    }
    if event["event_action"] == "trigger":
        severity = str(n.details.get("severity", "")).lower()
        if severity not in SEVERITIES:
            severity = "info" if n.test else _DEFAULT_SEVERITY.get(n.event, "error")
        event["payload"] = {
            "summary": subject_line(n)[:1024],
            "source": f"raise/{n.source_kind}/{n.source_name}",
            "severity": severity,
            "custom_details": {**n.details, "body": n.body, "event": n.event, "test": n.test},
        }
        event["client"] = "Raise"
    return event


class PagerDutyChannel:
    name: Final = "pagerduty"

    def __init__(self, settings: PagerDutySettings) -> None:
        self.settings = settings
        self.timeout = settings.timeout

    def targets(self, notification: Notification) -> list[str]:
        return []  # the service the routing key names

    def send(self, notification: Notification) -> None:
        event = pagerduty_event(notification, self.settings.routing_key)
        body = json.dumps(event, ensure_ascii=False, default=str).encode("utf-8")
        post(self.name, self.settings.url, body, {"Content-Type": "application/json"}, self.settings.timeout)
