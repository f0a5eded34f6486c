"""What the live-table tests share besides fixtures (a module of its own: ``conftest`` is not
importable by name when several test folders are collected together)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

START = pd.Timestamp("2026-09-01", tz="UTC")


def signal_rows(n: int, seed: int, first_user: int = 0, days: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "user_id": np.arange(first_user, first_user + n),
            "event_time": START + pd.to_timedelta(rng.integers(0, days * 86_400, n), unit="s"),
            "click_count": rng.integers(0, 100, n),
            "revenue": np.where(rng.random(n) < 0.1, np.nan, rng.gamma(2.0, 10.0, n)),
            "user_tier": rng.choice(["bronze", "silver", "gold"], n),
        }
    )


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> float:
    """Seconds until ``check()`` held (fails the test after ``timeout``)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.01)
    return time.monotonic() - started
