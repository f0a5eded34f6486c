"""The webhook channel: the notification as JSON, POSTed to the configured URL and signed.

``X-Raise-Signature: sha256=<hex>`` is the HMAC-SHA256 of the exact body bytes with the
configured secret. ``X-Raise-Timestamp`` (Unix seconds) repeats the body's ``timestamp``, which
the signature covers: a receiver checks the signature, then that the timestamp is recent, to
refuse a replayed message. Every attempt is signed afresh.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any, Final

from raise_.notifications.channels.base import subject_line
from raise_.notifications.channels.http_post import post
from raise_.notifications.config import WebhookSettings
from raise_.notifications.records import Notification

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookChannel", "sign", "webhook_payload"]

SIGNATURE_HEADER: Final = "X-Raise-Signature"
TIMESTAMP_HEADER: Final = "X-Raise-Timestamp"


def sign(secret: str, body: bytes) -> str:
    """The ``X-Raise-Signature`` value of ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def webhook_payload(n: Notification, now: float) -> dict[str, Any]:
    return {
        "event": n.event,
        "source": {"kind": n.source_kind, "id": n.source_id, "name": n.source_name},
        "subject": subject_line(n),
        "body": n.body,
        "details": n.details,
        "recipients": list(n.recipients),
        "test": n.test,
        "dedup_key": n.dedup_key,
        "sent_at": datetime.fromtimestamp(now, UTC).isoformat(),
        "timestamp": int(now),
    }


class WebhookChannel:
    name: Final = "webhook"

    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings
        self.timeout = settings.timeout

    def targets(self, notification: Notification) -> list[str]:
        return list(notification.recipients)  # sent in the payload, for the receiver to route

    def send(self, notification: Notification) -> None:
        now = time.time()
        payload = webhook_payload(notification, now)
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
        data = body.encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(self.settings.secret, data),
            TIMESTAMP_HEADER: str(payload["timestamp"]),
            "X-Raise-Event": notification.event,
        }
        post(self.name, self.settings.url, data, headers, self.settings.timeout)
