"""When an item is due next: every N seconds, or a cron expression (with ``croniter``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter

from raise_.errors import InvalidArgumentError

__all__ = ["Schedule"]


@dataclass(frozen=True)
class Schedule:
    every: float | None = None  # seconds
    cron: str | None = None  # "*/5 * * * *", evaluated in UTC

    def __post_init__(self) -> None:
        if (self.every is None) == (self.cron is None):
            raise InvalidArgumentError("A schedule is either every=SECONDS or cron='EXPR', not both or neither.", {})
        if self.every is not None and (isinstance(self.every, bool) or not self.every > 0):
            raise InvalidArgumentError(f"every must be a positive number of seconds, got {self.every!r}.", {})
        if self.cron is not None and not croniter.is_valid(self.cron):
            raise InvalidArgumentError(f"Not a cron expression: {self.cron!r} (e.g. '*/5 * * * *').", {})

    def first_after(self, now: datetime) -> datetime:
        """The first due time of a new item: one interval from now, or the next cron time."""
        if self.every is not None:
            return now + timedelta(seconds=self.every)
        return self._cron_next(now)

    def next_after(self, due: datetime, now: datetime) -> datetime:
        """The due time after a run of the slot ``due``, strictly after ``now``: an interval
        keeps its phase and skips the slots missed while nothing ran (no burst of catch-up runs)."""
        if self.every is not None:
            step = timedelta(seconds=self.every)
            missed = max(0, math.floor((now - due) / step))
            after = due + step * (missed + 1)
            return after if after > now else after + step
        return self._cron_next(max(due, now))

    def _cron_next(self, after: datetime) -> datetime:
        assert self.cron is not None
        nxt: datetime = croniter(self.cron, after.astimezone(UTC)).get_next(datetime)
        return nxt if nxt.tzinfo else nxt.replace(tzinfo=UTC)
