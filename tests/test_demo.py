"""The demo store `make demo` opens is seeded idempotently with realistic data."""

from __future__ import annotations

from pathlib import Path

from raise_ import FeatureStore
from raise_.demo import seed_demo_store


def test_seed_demo_store_is_idempotent(store_env: Path) -> None:
    first = seed_demo_store()
    second = seed_demo_store()
    assert first == second
    assert "2 feature groups, 9 features, 28,500 rows" in first
    fs = FeatureStore("acme/mlplatform/recommendation")
    users = fs.feature_group("user-signals").read().to_pandas()
    assert len(users) == 2_000 and users["event_time"].nunique() == 1  # latest day for everyone
    assert (users["click_count"] <= users["impression_count"]).all()
    assert len(fs.feature_group("user-signals").commits()) == 1
