"""Rate limits per user (PRD §20.3): a token bucket per actor, checked before a request does work.

Each actor (the user a request acts as, :mod:`.identity`) has a bucket holding up to one minute's
allowance, ``limit`` requests, refilled continuously at ``limit / 60`` per second. A request takes
one token; with none left it is refused (429) and told how long until the next token
(``Retry-After``). So a user may burst up to the whole minute's allowance at once, and over any
longer stretch never sends more than ``limit`` per minute on average.

The buckets live on the event loop (one thread), so they need no lock. A bucket that has refilled
to the brim is the same as no bucket, so idle users' buckets are dropped when the table grows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

__all__ = ["TIERS", "RateLimiter", "limit_for"]

#: Requests per minute of each tier (PRD §20.3).
TIERS: Final[Mapping[str, int]] = {"free": 100, "standard": 1000, "enterprise": 10000}

_SWEEP_AT: Final = 4096  # buckets kept before the full ones are dropped


def limit_for(tier: str | None, per_minute: int | None) -> int | None:
    """Requests per minute for a tier and an explicit override (None: unlimited)."""
    if per_minute is not None:
        if per_minute < 0:
            raise ValueError(f"a rate limit must be at least 0 requests per minute, got {per_minute}")
        return per_minute or None  # 0: no limit
    if tier is None:
        return None
    try:
        return TIERS[tier]
    except KeyError:
        raise ValueError(f"unknown rate-limit tier {tier!r}: use one of {', '.join(TIERS)}") from None


@dataclass
class _Bucket:
    tokens: float
    at: float  # when ``tokens`` was last brought up to date


class RateLimiter:
    """``take(key)`` spends one request of ``key``'s allowance: 0.0 when allowed, else the seconds
    until it would be.

    ``limit`` is the default allowance (requests per minute, None: unlimited); ``per_key`` gives
    some keys their own.
    """

    def __init__(
        self,
        limit: int | None,
        per_key: Mapping[str, int | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.per_key = dict(per_key or {})
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    @property
    def active(self) -> bool:
        """Whether any key is limited at all (if not, ``take`` is never worth calling)."""
        return self.limit is not None or any(v is not None for v in self.per_key.values())

    def limit_of(self, key: str) -> int | None:
        return self.per_key.get(key, self.limit)

    def take(self, key: str) -> float:
        limit = self.limit_of(key)
        if limit is None:
            return 0.0
        now = self._clock()
        rate = limit / 60.0  # tokens per second
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _SWEEP_AT:
                self._sweep(now)
            bucket = self._buckets[key] = _Bucket(float(limit), now)
        else:
            bucket.tokens = min(float(limit), bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate

    @staticmethod
    def retry_after(wait: float) -> int:
        """``Retry-After`` is whole seconds: rounded up, so a client that waits that long gets through."""
        return max(1, math.ceil(wait))

    def _sweep(self, now: float) -> None:
        full = []
        for key, bucket in self._buckets.items():
            limit = self.limit_of(key)
            if limit is None or bucket.tokens + (now - bucket.at) * limit / 60.0 >= limit:
                full.append(key)
        for key in full:
            del self._buckets[key]
