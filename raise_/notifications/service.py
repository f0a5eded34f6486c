"""Delivering notifications: every channel at once, with retries, each delivery recorded.

:meth:`NotificationService.deliver` sends a notification over each channel named, each on a
thread of its own, so a dead or slow endpoint delays only its own delivery. A failed attempt is
retried after an exponential backoff (the settings' :class:`RetryPolicy`; ``sleep`` is injected,
so tests do not wait); a failure that a retry cannot mend (a refused login, an HTTP 4xx, no
recipient the channel can reach) is not retried. Every delivery becomes a
``notification_deliveries`` row; an unconfigured channel is a failed row saying so. Nothing a
channel does makes ``deliver`` raise, and it returns within a bounded time: each attempt has its
timeout, and a channel that overruns its whole budget is recorded as failed and left behind.

Secrets (DESIGN §8) stay in the server's configuration: an error text is scrubbed of every
configured secret, and of the userinfo and query string of any URL, before it is stored,
returned or logged. Deliveries are not audited: the rows are their record, and an audit entry
per delivery would feed the audit alerts that caused it.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select

from raise_.errors import ChannelNotConfiguredError, DeliveryFailedError, InvalidArgumentError
from raise_.metadata.database import CatalogDatabase
from raise_.metadata.models import utcnow
from raise_.notifications.channels import CHANNELS, NotificationChannel
from raise_.notifications.config import CHANNEL_NAMES, NotificationSettings
from raise_.notifications.models import NotificationDeliveryModel
from raise_.notifications.records import EVENTS, SOURCE_KINDS, DeliveryRecord, Notification
from raise_.notifications.scrub import Scrubber

__all__ = ["NotificationService"]

logger = logging.getLogger("raise_.notifications")

#: Beyond its attempts' timeouts and backoffs, how long a channel may take before ``deliver``
#: stops waiting for it (a channel that ignores its timeout must not hold the caller).
GRACE_SECONDS: Final = 5.0
MAX_LIMIT: Final = 1000

_Row = NotificationDeliveryModel


@dataclass(frozen=True)
class _Outcome:
    status: str
    attempts: int
    error: str | None
    delivered_at: datetime | None


class NotificationService:
    """Sends notifications over the configured channels and records each delivery."""

    def __init__(
        self,
        db: CatalogDatabase,
        settings: NotificationSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.db = db
        self.settings = settings
        self._sleep = sleep
        self._scrub = Scrubber(settings.secrets())

    # -- channels ---------------------------------------------------------------------------------

    def check_channels(self, channels: Iterable[str] | str) -> list[str]:
        """The channel names, trimmed, lower-cased and without repeats;
        :class:`InvalidArgumentError` naming the five channels if one is unknown."""
        if isinstance(channels, str):
            channels = [channels]
        names: list[str] = []
        for raw in channels:
            name = raw.strip().lower() if isinstance(raw, str) else None
            if name not in CHANNEL_NAMES:
                raise InvalidArgumentError(
                    f"Unknown notification channel {raw!r}: use {', '.join(CHANNEL_NAMES)}.",
                    {"channel": raw if isinstance(raw, str) else repr(raw), "channels": list(CHANNEL_NAMES)},
                )
            if name not in names:
                names.append(name)
        return names

    def unconfigured(self, channels: Iterable[str] | str) -> list[str]:
        """Those of ``channels`` the server has no (usable) configuration for."""
        return [name for name in self.check_channels(channels) if not self.settings.configured(name)]

    def channel(self, name: str) -> NotificationChannel | None:
        """A new channel object for one delivery over ``name``; None if it is not configured."""
        section = self.settings.channel(name)
        if section is None:
            return None
        channel: NotificationChannel = CHANNELS[name](section)
        return channel

    # -- delivering -------------------------------------------------------------------------------

    def deliver(self, notification: Notification, channels: Iterable[str] | str) -> list[DeliveryRecord]:
        """Send ``notification`` over each of ``channels`` at once; one record per channel, in
        the order named. Raises only for a malformed call (an unknown channel or event), never
        because a delivery failed."""
        n = notification
        self._check(n)
        names = self.check_channels(channels)
        created = utcnow()
        outcomes: dict[str, _Outcome] = {}
        targets: dict[str, list[str]] = {}
        workers: list[tuple[str, threading.Thread, float]] = []
        results: dict[str, _Outcome] = {}
        started = time.monotonic()
        for name in names:
            channel = self.channel(name)
            if channel is None:
                why = ChannelNotConfiguredError(self.settings.why_unconfigured(name))
                outcomes[name] = _Outcome("failed", 0, self._scrub(str(why)), None)
                targets[name] = list(n.recipients)  # whom it was meant for
                logger.warning("notification %s of %s not sent: %s", n.event, n.source_name, outcomes[name].error)
                continue
            targets[name] = channel.targets(n)
            thread = threading.Thread(
                target=self._attempts,
                args=(channel, n, results),
                name=f"raise-notify-{name}",
                daemon=True,
            )
            workers.append((name, thread, self._budget(channel, targets[name])))
            thread.start()
        for name, thread, budget in workers:
            thread.join(max(0.0, started + budget - time.monotonic()))
            outcome = results.get(name)
            if outcome is None:  # overran every timeout it was given: left behind, recorded failed
                error = DeliveryFailedError(f"{name}: no outcome within {budget:g} s; gave up waiting")
                outcome = _Outcome("failed", self.settings.retry.attempts, str(error), None)
                logger.warning("notification %s of %s: %s", n.event, n.source_name, outcome.error)
            outcomes[name] = outcome
        return self._record(n, names, outcomes, targets, created)

    def _check(self, n: Notification) -> None:
        if n.source_kind not in SOURCE_KINDS:
            raise InvalidArgumentError(
                f"Unknown notification source kind {n.source_kind!r}: use {', '.join(SOURCE_KINDS)}.", {}
            )
        if n.event not in EVENTS:
            raise InvalidArgumentError(f"Unknown notification event {n.event!r}: use {', '.join(EVENTS)}.", {})
        if n.source_id is not None:
            _uuid(n.source_id, "source_id")

    def _budget(self, channel: NotificationChannel, targets: list[str]) -> float:
        """How long the channel may take in all: every attempt's timeout (an SMS per number),
        the backoffs between them, and some grace."""
        policy = self.settings.retry
        # The timeout bounds each socket operation: an SMS is a request per number, an SMTP
        # exchange several steps (connect, hello, login, envelope, data), an HTTP POST a few.
        steps = 2 * max(1, len(targets)) if channel.name == "sms" else 4 if channel.name == "email" else 2
        per_attempt = float(getattr(channel, "timeout", 30.0)) * steps
        return policy.attempts * per_attempt + sum(policy.delays()) + GRACE_SECONDS

    def _attempts(self, channel: NotificationChannel, n: Notification, results: dict[str, _Outcome]) -> None:
        policy = self.settings.retry
        error: str | None = None
        attempt = 0
        for attempt in range(1, policy.attempts + 1):
            if attempt > 1:
                self._sleep(policy.delay(attempt - 1))
            try:
                channel.send(n)
            except DeliveryFailedError as exc:
                error, retryable = self._scrub(exc.message), bool(exc.details.get("retryable", True))
            except Exception as exc:  # a channel's bug fails its own delivery, never the others
                error, retryable = self._scrub(f"{channel.name}: {type(exc).__name__}: {exc}"), True
            else:
                results[channel.name] = _Outcome("delivered", attempt, None, utcnow())
                logger.info(
                    "notification %s of %s %r delivered via %s (attempt %d)",
                    n.event,
                    n.source_kind,
                    n.source_name,
                    channel.name,
                    attempt,
                )
                return
            logger.warning(
                "notification %s of %s %r via %s failed (attempt %d of %d): %s",
                n.event,
                n.source_kind,
                n.source_name,
                channel.name,
                attempt,
                policy.attempts,
                error,
            )
            if not retryable:
                break
        text = str(DeliveryFailedError(error or f"{channel.name}: failed"))
        if attempt > 1:
            text += f" (after {attempt} attempts)"
        results[channel.name] = _Outcome("failed", attempt, text, None)

    def _record(
        self,
        n: Notification,
        names: list[str],
        outcomes: dict[str, _Outcome],
        targets: dict[str, list[str]],
        created: datetime,
    ) -> list[DeliveryRecord]:
        # Every row of one notification shares its created_at: the moment it was handed over.
        subject = self._scrub(n.subject)
        details = self._scrub.value(dict(n.details))
        rows = [
            _Row(
                id=uuid.uuid4(),
                source_kind=n.source_kind,
                source_id=_uuid(n.source_id, "source_id") if n.source_id else None,
                source_name=n.source_name[:128],
                event=n.event,
                channel=name,
                recipients=list(targets[name]),
                subject=subject,
                status=outcomes[name].status,
                attempts=outcomes[name].attempts,
                error=outcomes[name].error,
                test=bool(n.test),
                details=details,
                created_at=created,
                delivered_at=outcomes[name].delivered_at,
            )
            for name in names
        ]
        with self.db.transaction() as s:
            s.add_all(rows)
            s.flush()
            return [_record(r) for r in rows]

    # -- reading ----------------------------------------------------------------------------------

    def deliveries(
        self, source_kind: str | None = None, source_id: str | None = None, limit: int = 50
    ) -> list[DeliveryRecord]:
        """The recorded deliveries, newest first, of one kind of source or one source."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_LIMIT:
            raise InvalidArgumentError(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}.", {})
        stmt = select(_Row).order_by(_Row.created_at.desc(), _Row.channel)
        if source_kind is not None:
            stmt = stmt.where(_Row.source_kind == source_kind)
        if source_id is not None:
            stmt = stmt.where(_Row.source_id == _uuid(source_id, "source_id"))
        with self.db.reader() as s:
            return [_record(r) for r in s.scalars(stmt.limit(limit)).all()]


def _uuid(value: Any, what: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise InvalidArgumentError(f"{what} must be a UUID, got {value!r}.", {what: str(value)}) from None


def _record(row: NotificationDeliveryModel) -> DeliveryRecord:
    return DeliveryRecord(
        id=str(row.id),
        channel=row.channel,
        status=row.status,
        attempts=row.attempts,
        error=row.error,
        event=row.event,
        source_kind=row.source_kind,
        source_name=row.source_name,
        recipients=list(row.recipients or []),
        test=bool(row.test),
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        source_id=str(row.source_id) if row.source_id else None,
        subject=row.subject,
    )
