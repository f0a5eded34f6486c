"""A small click-event source and the job over it that the orchestration tests deploy, with the
pandas reference of what the job writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from raise_ import FeatureStore, FileSystem, Schedule, SQLTransform, Target
from raise_.client import FeatureGroup
from raise_.client.jobs import Job

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def click_events(n: int = 400, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, 3 * 86400, n)
    return pd.DataFrame(
        {
            "user_id": rng.integers(1, 6, n).astype("int64"),
            "event_time": pd.to_datetime([T0 + timedelta(seconds=int(s)) for s in seconds], utc=True),
        }
    )


def daily_clicks(events: pd.DataFrame) -> pd.DataFrame:
    """The reference: clicks per user and UTC day."""
    out = (
        events.assign(event_time=events.event_time.dt.normalize())
        .groupby(["user_id", "event_time"])
        .size()
        .rename("daily_clicks")
        .reset_index()
    )
    return out.sort_values(["user_id", "event_time"]).reset_index(drop=True)


def signals_group(fs: FeatureStore) -> FeatureGroup:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"daily_clicks": "int64"})
    return group


def clicks_job(fs: FeatureStore, folder: Path, *, name: str = "daily_clicks", sql: str | None = None, **kw: Any) -> Job:
    """A SQL job over ``folder/events.parquet`` writing daily clicks (``sql`` replaces its query)."""
    events = click_events()
    folder.mkdir(parents=True, exist_ok=True)
    events.to_parquet(folder / "events.parquet", index=False)
    query = sql or (
        "SELECT user_id, DATE(event_time) AS date, COUNT(*) AS daily_clicks "
        "FROM source GROUP BY user_id, DATE(event_time)"
    )
    return fs.create_job(
        name=name,
        sources=[FileSystem(path=str(folder / "events.parquet"), format="parquet")],
        transform=SQLTransform(name="daily", sql=query),
        target=Target(feature_group="user-signals", key_columns=["user_id", "date"], write_mode="upsert"),
        schedule=kw.pop("schedule", Schedule.daily(hour=2)),
        **kw,
    )


def written(group: FeatureGroup) -> pd.DataFrame:
    frame = group.read(history=True).to_pandas()[["user_id", "event_time", "daily_clicks"]]
    frame["event_time"] = pd.to_datetime(frame["event_time"], utc=True)
    return frame.sort_values(["user_id", "event_time"]).reset_index(drop=True)
