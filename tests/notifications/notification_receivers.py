"""Real receivers for the notification tests: an SMTP server (aiosmtpd) that keeps what it is
sent, endpoints that never answer or refuse connections, and helpers to build settings."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from raise_.notifications import Notification, NotificationSettings

SMTP_LOGIN = "raise-mailer"
SMTP_PASSWORD = "smtp-pa55-Secret!"


def free_port() -> int:
    """A port nothing listens on now (aiosmtpd cannot be given port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    at: float


class Mailbox:
    """The aiosmtpd handler: every message accepted, kept in arrival order."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.logins: list[tuple[str, str]] = []
        self._cond = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self._cond:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, time.monotonic()))  # type: ignore[arg-type]
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=(login, password) == (SMTP_LOGIN, SMTP_PASSWORD), handled=False)

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()
            self.logins.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)


@dataclass
class SmtpServer:
    host: str
    port: int
    mailbox: Mailbox
    controller: Controller


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=mailbox.authenticate,
        auth_require_tls=False,  # the test server has no TLS; a login is only tried when configured
    )
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, mailbox, controller)
    finally:
        controller.stop()


@contextmanager
def silent_endpoint() -> Iterator[str]:
    """An http:// URL whose server accepts the connection and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # never accepted: the kernel completes the handshake, nobody replies
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    finally:
        sock.close()


def closed_port() -> int:
    """A port that refuses connections."""
    return free_port()


def email_section(server: SmtpServer, **extra: Any) -> dict[str, Any]:
    return {"host": server.host, "port": server.port, "sender": "Raise <raise@acme.com>", "timeout": 5, **extra}


def settings(environ: dict[str, str] | None = None, **sections: Any) -> NotificationSettings:
    made = NotificationSettings.from_dict(sections, environ or {})
    assert not made.problems, made.problems
    return made


def notification(**changes: Any) -> Notification:
    values: dict[str, Any] = {
        "source_kind": "analytics_alert",
        "source_id": "6f1c1f7e-1f57-4a55-9d5f-0a8b2c3d4e5f",
        "source_name": "revenue-drop",
        "event": "firing",
        "subject": "revenue dropped below 1000",
        "body": "Revenue is 812.5 (condition: value < 1000).",
        "recipients": ["ops@acme.com", "cto@acme.com", "+15550100200"],
        "details": {"value": 812.5, "condition": "value < 1000", "org": "acme"},
        "dedup_key": "raise/analytics_alert/revenue-drop",
    }
    values.update(changes)
    return Notification(**values)


class Sleeps:
    """An injected ``sleep``: records the waits, waits for none of them."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.calls.append(seconds)
