"""The sms channel: Twilio's Messages API (or a service shaped like it): one form POST per
phone number, with basic auth (account SID, auth token). The numbers are the notification's
recipients that are +E.164 phone numbers, then the configured default ``to`` numbers.

A channel object serves one delivery: a retry texts only the numbers not reached yet."""

from __future__ import annotations

import base64
import re
from typing import Final
from urllib.parse import quote, urlencode

from raise_.notifications.channels.base import body_text, failure, subject_line
from raise_.notifications.channels.http_post import post
from raise_.notifications.config import SmsSettings
from raise_.notifications.records import Notification

__all__ = ["SmsChannel", "phone_number"]

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_SEPARATORS = re.compile(r"[\s().-]")
#: Twilio's limit on a message body.
BODY_MAX: Final = 1600


def phone_number(value: str) -> str | None:
    """``value`` as +E.164 (spaces, dots, dashes and parentheses dropped), or None."""
    number = _SEPARATORS.sub("", value)
    return number if _E164.match(number) else None


class SmsChannel:
    name: Final = "sms"

    def __init__(self, settings: SmsSettings) -> None:
        self.settings = settings
        self.timeout = settings.timeout
        self._reached: set[str] = set()

    def targets(self, notification: Notification) -> list[str]:
        numbers = [phone_number(r) for r in [*notification.recipients, *self.settings.to]]
        return list(dict.fromkeys(n for n in numbers if n))

    @property
    def url(self) -> str:
        s = self.settings
        return f"{s.base_url.rstrip('/')}/2010-04-01/Accounts/{quote(s.account_sid, safe='')}/Messages.json"

    def send(self, notification: Notification) -> None:
        numbers = self.targets(notification)
        if not numbers:
            raise failure(
                self.name, "no +E.164 phone number among the recipients nor in the configured 'to'", retryable=False
            )
        s = self.settings
        text = f"{subject_line(notification)}\n{body_text(notification)}"
        if len(text) > BODY_MAX:
            text = text[: BODY_MAX - 1] + "…"
        auth = base64.b64encode(f"{s.account_sid}:{s.auth_token}".encode()).decode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {auth}"}
        failed: list[str] = []
        retryable = False
        for number in numbers:
            if number in self._reached:
                continue
            form = urlencode({"From": s.from_number, "To": number, "Body": text}).encode("ascii")
            try:
                post(self.name, self.url, form, headers, s.timeout)
            except Exception as exc:  # the other numbers are still texted
                failed.append(f"{number}: {str(getattr(exc, 'message', exc)).removeprefix(self.name + ': ')}")
                retryable = retryable or bool(getattr(exc, "details", {}).get("retryable", True))
                continue
            self._reached.add(number)
        if failed:
            raise failure(
                self.name,
                f"{len(failed)} of {len(numbers)} numbers not reached ({'; '.join(failed)})",
                retryable=retryable,
            )
