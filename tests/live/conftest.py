"""Live-table tests run on both catalogs and, where they use ``fs``, both in-process and through
the session's Jupyter server (the same answers from both doors)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from raise_ import FeatureStore
from raise_.client import FeatureGroup

START = pd.Timestamp("2026-09-01", tz="UTC")


@pytest.fixture
def store_env(store_on_both_backends: Path) -> Path:
    return store_on_both_backends


@pytest.fixture
def open_org(fs: FeatureStore) -> FeatureStore:
    """``fs`` with its organization open to its members (deny by default otherwise)."""
    from raise_ import ACL

    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    return fs


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


@pytest.fixture
def signals(fs: FeatureStore) -> FeatureGroup:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"click_count": "int64", "revenue": "float64", "user_tier": "string"})
    group.write(signal_rows(300, seed=1))
    return group


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> float:
    """Seconds until ``check()`` held (fails the test after ``timeout``)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.01)
    return time.monotonic() - started
