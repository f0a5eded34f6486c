"""The data the dashboard and alert tests share (a module of its own: ``conftest`` is not
importable by name when several test folders are collected together)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from raise_ import Aggregation, FeatureStore
from raise_.client import FeatureGroup

START = pd.Timestamp("2026-09-01", tz="UTC")


def engagement_rows(n: int = 600, seed: int = 7, days: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    clicks = rng.integers(0, 100, n)
    return pd.DataFrame(
        {
            "user_id": np.arange(n),
            "event_time": START + pd.to_timedelta(rng.integers(0, days * 86_400, n), unit="s"),
            "click_count": clicks,
            "impression_count": clicks * 3 + rng.integers(0, 50, n),
            "revenue": np.where(rng.random(n) < 0.1, np.nan, rng.gamma(2.0, 10.0, n)),
            "user_tier": rng.choice(["bronze", "silver", "gold", "platinum", "it's"], n),
        }
    )


def engagement_group(fs: FeatureStore, rows: pd.DataFrame | None = None) -> FeatureGroup:
    """The README's group (``user-signals``) with its features, and the live table
    ``daily_engagement`` its dashboard links."""
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema(
        {"click_count": "int64", "impression_count": "int64", "revenue": "float64", "user_tier": "string"}
    )
    group.write(engagement_rows() if rows is None else rows)
    group.create_live_table(
        name="daily_engagement",
        analysis=Aggregation(feature="click_count", metrics=["sum", "avg", "count"], window="1d", group_by="user_tier"),
        refresh="on_change",
    )
    return group
