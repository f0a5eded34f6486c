"""Durations as users write them: ``timedelta``, seconds, or ``"30d"``, ``"1h30m"``, ``"90s"``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

from raise_.errors import InvalidArgumentError

__all__ = ["format_duration", "parse_duration"]

_UNITS: Final = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART: Final = re.compile(r"(\d+)\s*([wdhms])")


def parse_duration(value: object, what: str = "duration") -> int:
    """Return a positive number of seconds."""
    seconds: float
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().lower().replace(" ", "")
        parts = _PART.findall(text)
        if "".join(n + u for n, u in parts) != text:
            raise InvalidArgumentError(
                f"Invalid {what} {value!r}: write e.g. '30d', '12h', '1h30m' or '90s', or pass a timedelta.",
                {what: value},
            )
        seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    else:
        raise InvalidArgumentError(
            f"Invalid {what} {value!r}: write e.g. '30d' or pass a timedelta or a number of seconds.",
            {what: repr(value)},
        )
    if seconds <= 0 or seconds != int(seconds):
        raise InvalidArgumentError(
            f"The {what} must be a positive whole number of seconds, got {value!r}.", {what: repr(value)}
        )
    return int(seconds)


def format_duration(seconds: int) -> str:
    """``2592000`` → ``'30d'``, ``5400`` → ``'1h30m'``."""
    out = []
    for unit, size in _UNITS.items():
        if unit == "w":
            continue
        n, seconds = divmod(seconds, size)
        if n:
            out.append(f"{n}{unit}")
    return "".join(out) or "0s"
