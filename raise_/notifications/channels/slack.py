"""The slack channel: an incoming-webhook message (``text`` for notifications and clients
without blocks, ``blocks`` for the message itself) POSTed as JSON to the configured URL."""

from __future__ import annotations

import json
from typing import Any, Final

from raise_.notifications.channels.base import body_text, subject_line
from raise_.notifications.channels.http_post import post
from raise_.notifications.config import SlackSettings
from raise_.notifications.records import Notification

__all__ = ["SlackChannel", "slack_payload"]

#: Slack's limits: a header block's text, a section's text.
_HEADER_MAX: Final = 150
_SECTION_MAX: Final = 3000


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_payload(n: Notification) -> dict[str, Any]:
    subject = subject_line(n)
    body = body_text(n)
    context = f"*{n.event}* · {n.source_kind.replace('_', ' ')} `{n.source_name}`"
    if n.test:
        context += " · test message"
    return {
        "text": _cut(f"{subject}\n{body}", 40000),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _cut(subject, _HEADER_MAX)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(body or subject, _SECTION_MAX)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    }


class SlackChannel:
    name: Final = "slack"

    def __init__(self, settings: SlackSettings) -> None:
        self.settings = settings
        self.timeout = settings.timeout

    def targets(self, notification: Notification) -> list[str]:
        return []  # the channel the webhook posts to

    def send(self, notification: Notification) -> None:
        body = json.dumps(slack_payload(notification), ensure_ascii=False).encode("utf-8")
        post(
            self.name,
            self.settings.webhook_url,
            body,
            {"Content-Type": "application/json; charset=utf-8"},
            self.settings.timeout,
        )
