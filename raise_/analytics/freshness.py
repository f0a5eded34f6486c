"""How fresh an analysis result must be (PRD §11.8).

- ``Freshness.REAL_TIME``: always compute (the result is then stored for later callers);
- ``Freshness.WITHIN("1h")``: reuse a stored result computed less than an hour ago, or one
  computed on exactly the data there is now (whatever its age: it is the same answer);
- ``Freshness.SAME_DATA``: reuse a stored result only if it was computed on exactly the data
  there is now (exact, whatever its age; what dashboards and alerts use);
- ``Freshness.CACHED``: reuse the newest stored result of the analysis if there is one, even if
  the data changed since (``result.stale`` says so); compute only when nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from raise_.durations import format_duration, parse_duration
from raise_.errors import InvalidArgumentError

__all__ = ["Freshness"]


@dataclass(frozen=True)
class Freshness:
    policy: str  # "real_time", "within" or "cached"
    max_age_seconds: int | None = None

    REAL_TIME: ClassVar[Freshness]
    CACHED: ClassVar[Freshness]
    SAME_DATA: ClassVar[Freshness]

    @classmethod
    def WITHIN(cls, duration: Any) -> Freshness:
        return cls("within", parse_duration(duration, "freshness"))

    def accepts(self, age_seconds: float, same_data: bool) -> bool:
        """Whether a stored result of this age (computed on the current data or not) will do."""
        if self.policy == "cached":
            return True
        if self.policy == "within":
            return same_data or age_seconds <= (self.max_age_seconds or 0)
        if self.policy == "same_data":
            return same_data
        return False

    def to_text(self) -> str:
        if self.policy == "within":
            return f"within:{format_duration(self.max_age_seconds or 0)}"
        return self.policy

    @classmethod
    def parse(cls, value: object) -> Freshness:
        """A ``Freshness``, or its text (``"real_time"``, ``"cached"``, ``"within:1h"``, ``"1h"``)."""
        if value is None:
            return cls.REAL_TIME
        if isinstance(value, Freshness):
            return value
        if isinstance(value, str):
            text = value.strip().lower().replace("-", "_")
            if text in ("real_time", "realtime"):
                return cls.REAL_TIME
            if text == "cached":
                return cls.CACHED
            if text == "same_data":
                return cls.SAME_DATA
            if text.startswith("within:"):
                text = text.split(":", 1)[1]
            try:
                return cls.WITHIN(text)
            except InvalidArgumentError:
                pass
        raise InvalidArgumentError(
            f"Invalid freshness {value!r}: use Freshness.REAL_TIME, Freshness.CACHED or Freshness.WITHIN('1h').",
            {"freshness": repr(value)},
        )

    def __repr__(self) -> str:
        if self.policy == "within":
            return f"Freshness.WITHIN({format_duration(self.max_age_seconds or 0)!r})"
        return f"Freshness.{self.policy.upper()}"


Freshness.REAL_TIME = Freshness("real_time")
Freshness.CACHED = Freshness("cached")
Freshness.SAME_DATA = Freshness("same_data")
