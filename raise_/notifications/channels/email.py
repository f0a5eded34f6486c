"""The email channel: a MIME message over SMTP (``smtplib``), to the notification's e-mail
addresses; STARTTLS or implicit TLS, and a login when a username is configured."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Final

from raise_.notifications.channels.base import body_text, failure, subject_line
from raise_.notifications.config import EmailSettings
from raise_.notifications.records import Notification

__all__ = ["EmailChannel"]


def is_email(value: str) -> bool:
    local, at, domain = value.partition("@")
    return bool(at and local and "." in domain and not any(c.isspace() for c in value) and "," not in value)


class EmailChannel:
    name: Final = "email"

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings
        self.timeout = settings.timeout

    def targets(self, notification: Notification) -> list[str]:
        return list(dict.fromkeys(r.strip() for r in notification.recipients if is_email(r.strip())))

    def message(self, notification: Notification) -> EmailMessage:
        n = notification
        msg = EmailMessage()
        msg["Subject"] = subject_line(n)
        msg["From"] = self.settings.sender
        msg["To"] = ", ".join(self.targets(n))
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = make_msgid(domain="raise.local")
        msg["X-Raise-Event"] = n.event
        msg["X-Raise-Source"] = f"{n.source_kind}/{' '.join(n.source_name.split())}"
        if n.test:
            msg["X-Raise-Test"] = "true"
        msg.set_content(body_text(n))
        return msg

    def send(self, notification: Notification) -> None:
        to = self.targets(notification)
        if not to:
            raise failure(self.name, "no e-mail address among the recipients", retryable=False)
        s = self.settings
        msg = self.message(notification)
        try:
            smtp: smtplib.SMTP
            if s.ssl:
                smtp = smtplib.SMTP_SSL(
                    s.host, s.effective_port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout)
            with smtp:
                if s.starttls and not s.ssl:
                    smtp.starttls(context=ssl.create_default_context())
                if s.username:
                    smtp.login(s.username, s.password or "")
                smtp.send_message(msg, from_addr=_address(s.sender), to_addrs=to)
        except smtplib.SMTPAuthenticationError as exc:
            raise failure(self.name, f"the SMTP server refused the login: {_reply(exc)}", retryable=False) from None
        except smtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(sorted(exc.recipients))
            raise failure(self.name, f"the SMTP server refused every recipient ({refused})", retryable=False) from None
        except smtplib.SMTPSenderRefused as exc:
            raise failure(self.name, f"the SMTP server refused the sender: {_reply(exc)}", retryable=False) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise failure(self.name, f"the SMTP server does not support it: {exc}", retryable=False) from None
        except smtplib.SMTPResponseException as exc:  # 4xx: try again later; 5xx: it will not change
            raise failure(self.name, f"the SMTP server answered {_reply(exc)}", retryable=exc.smtp_code < 500) from None
        except TimeoutError:
            raise failure(self.name, f"no answer from the SMTP server within {s.timeout:g} s", retryable=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise failure(
                self.name, f"cannot reach the SMTP server: {type(exc).__name__}: {exc}", retryable=True
            ) from None


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {' '.join(text.split())}"


def _address(sender: str) -> str:
    """The envelope sender of ``"Name <addr>"``."""
    if "<" in sender and sender.rstrip().endswith(">"):
        return sender[sender.rindex("<") + 1 : sender.rstrip().rindex(">")].strip()
    return sender.strip()
