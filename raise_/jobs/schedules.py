"""When a job runs (README *Schedules*, PRD §15.7), as values the catalog stores.

Cron, daily, hourly and interval schedules become items of the one scheduler (DESIGN §8);
``on_change`` fires when a source changes: a feature-group source through the change feed (the
commit log), a file, object-store or database source when a poll every ``poll_seconds`` finds
its fingerprint (files, sizes and times; a table's row count and newest checkpoint value)
changed; ``once`` runs at one time; ``manual`` only when asked. Times are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from croniter import croniter

from raise_.durations import parse_duration
from raise_.errors import InvalidArgumentError, InvalidJobError

__all__ = ["SCHEDULE_TYPES", "Schedule"]

SCHEDULE_TYPES: Final = ("cron", "interval", "on_change", "once", "manual")


def _whole(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidJobError(f"{what} must be a whole number from {low} to {high}, got {value!r}.", {"field": what})
    return value


@dataclass(frozen=True)
class Schedule:
    schedule_type: str = "manual"
    expression: str | None = None  # the cron expression of cron, daily and hourly schedules
    every_seconds: int | None = None
    sources: list[str] | None = None  # on_change: the sources watched (None: all of them)
    at: datetime | None = None  # once
    poll_seconds: int = 60  # on_change: how often non-feature-group sources are looked at

    def __post_init__(self) -> None:
        if self.schedule_type not in SCHEDULE_TYPES:
            raise InvalidJobError(
                f"Unknown schedule type {self.schedule_type!r}; use one of {', '.join(SCHEDULE_TYPES)}.",
                {"field": "schedule"},
            )
        if self.schedule_type == "cron" and not (
            isinstance(self.expression, str) and croniter.is_valid(self.expression)
        ):
            raise InvalidJobError(
                f"Not a cron expression: {self.expression!r} (five fields, e.g. '0 */6 * * *').",
                {"field": "schedule.expression"},
            )
        if self.schedule_type == "interval" and not (isinstance(self.every_seconds, int) and self.every_seconds > 0):
            raise InvalidJobError("An interval schedule needs a positive interval.", {"field": "schedule"})
        if self.schedule_type == "once":
            if not isinstance(self.at, datetime):
                raise InvalidJobError("Schedule.once needs the time to run at (a datetime).", {"field": "schedule.at"})
            if self.at.tzinfo is None:
                object.__setattr__(self, "at", self.at.replace(tzinfo=UTC))
        if self.sources is not None and (
            isinstance(self.sources, str) or not all(isinstance(s, str) and s for s in self.sources)
        ):
            raise InvalidJobError("on_change sources is a list of source names.", {"field": "schedule.sources"})

    # -- the README's constructors ----------------------------------------------------------------

    @classmethod
    def cron(cls, expression: str) -> Schedule:
        return cls("cron", expression=expression)

    @classmethod
    def daily(cls, hour: int = 0, minute: int = 0) -> Schedule:
        h, m = _whole(hour, "hour", 0, 23), _whole(minute, "minute", 0, 59)
        return cls("cron", expression=f"{m} {h} * * *")

    @classmethod
    def hourly(cls, minute: int = 0) -> Schedule:
        return cls("cron", expression=f"{_whole(minute, 'minute', 0, 59)} * * * *")

    @classmethod
    def every(cls, interval: str | int) -> Schedule:
        try:
            seconds = parse_duration(interval, "interval")
        except InvalidArgumentError as exc:
            raise InvalidJobError(exc.message, {"field": "schedule"}) from None
        return cls("interval", every_seconds=seconds)

    @classmethod
    def on_change(cls, sources: list[str] | None = None, poll_seconds: int = 60) -> Schedule:
        return cls("on_change", sources=list(sources) if sources is not None else None, poll_seconds=poll_seconds)

    @classmethod
    def once(cls, at: datetime) -> Schedule:
        return cls("once", at=at)

    @classmethod
    def manual(cls) -> Schedule:
        return cls("manual")

    # -- stored form ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schedule_type": self.schedule_type}
        if self.expression:
            out["expression"] = self.expression
        if self.every_seconds:
            out["every_seconds"] = self.every_seconds
        if self.schedule_type == "on_change":
            out["sources"] = self.sources
            out["poll_seconds"] = self.poll_seconds
        if self.at is not None:
            out["at"] = self.at.isoformat()
        return out

    @classmethod
    def from_value(cls, value: Schedule | dict[str, Any] | str | None) -> Schedule:
        if value is None:
            return cls.manual()
        if isinstance(value, Schedule):
            return value
        if isinstance(value, str):
            text = value.strip()
            if text in ("manual", "on_change"):
                return cls(text)
            if text.startswith("cron:"):
                return cls.cron(text[5:].strip())
            if croniter.is_valid(text):
                return cls.cron(text)
            return cls.every(text)
        if isinstance(value, dict):
            data = dict(value)
            if isinstance(data.get("at"), str):
                data["at"] = datetime.fromisoformat(data["at"])
            try:
                return cls(**data)
            except TypeError as exc:
                raise InvalidJobError(f"Bad schedule: {exc}.", {"field": "schedule"}) from None
        raise InvalidJobError(f"schedule is a Schedule, got {value!r}.", {"field": "schedule"})

    def __repr__(self) -> str:
        if self.schedule_type == "cron":
            return f"Schedule.cron({self.expression!r})"
        if self.schedule_type == "interval":
            return f"Schedule.every({self.every_seconds}s)"
        if self.schedule_type == "on_change":
            return f"Schedule.on_change(sources={self.sources!r})"
        if self.schedule_type == "once":
            return f"Schedule.once({self.at!r})"
        return "Schedule.manual()"
