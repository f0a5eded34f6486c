"""Timing helpers shared by the benchmark scripts in ``bench/`` (no numpy needed)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Stats", "percentile", "summarize", "time_call", "time_calls"]

_NS_PER_MS = 1_000_000


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linearly interpolated between closest ranks."""
    if not values:
        raise ValueError("percentile of an empty sequence")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within [0, 100], got {q}")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True)
class Stats:
    """Summary of a series of durations, in milliseconds."""

    n: int
    p50: float
    p99: float
    mean: float
    min: float
    max: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(durations_ns: Sequence[int]) -> Stats:
    ms = [d / _NS_PER_MS for d in durations_ns]
    return Stats(
        n=len(ms),
        p50=percentile(ms, 50),
        p99=percentile(ms, 99),
        mean=sum(ms) / len(ms),
        min=min(ms),
        max=max(ms),
    )


def time_call(fn: Callable[[], object]) -> int:
    """Duration of one call of ``fn``, in nanoseconds."""
    start = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - start


def time_calls(fns: Sequence[Callable[[], object]], n: int, warmup: int = 0) -> list[list[int]]:
    """Run every function of ``fns`` ``warmup`` times untimed, then ``n`` times timed, interleaved.

    Interleaving (a, b, a, b, ...) spreads the noise of a shared machine evenly over the series
    being compared. Returns one list of durations (ns) per function.
    """
    for _ in range(warmup):
        for fn in fns:
            fn()
    out: list[list[int]] = [[] for _ in fns]
    for _ in range(n):
        for series, fn in zip(out, fns, strict=True):
            series.append(time_call(fn))
    return out


def table_lines(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table as lines: the first column left-aligned, the figures right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| "
        + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        + " |"
        for r in rows
    ]
    return [line, rule, *body]
