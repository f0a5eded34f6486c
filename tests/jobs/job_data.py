"""Data the job tests write as sources, and the pandas references they compare with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def click_events(n: int, *, seed: int = 0, days: int = 3, start: datetime = T0, users: int = 5) -> pd.DataFrame:
    """Click events: user, time (spread over ``days`` from ``start``), revenue."""
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, days * 86400, n)
    return pd.DataFrame(
        {
            "user_id": rng.integers(1, users + 1, n).astype("int64"),
            "event_time": pd.to_datetime([start + timedelta(seconds=int(s)) for s in seconds], utc=True),
            "revenue": rng.gamma(2.0, 10.0, n).round(2),
        }
    )


def daily_clicks(events: pd.DataFrame) -> pd.DataFrame:
    """The reference: clicks per user and UTC day, as a daily-aggregation job writes them."""
    out = (
        events.assign(date=events.event_time.dt.tz_convert("UTC").dt.normalize())
        .groupby(["user_id", "date"])
        .agg(clicks=("user_id", "size"), revenue=("revenue", "sum"))
        .reset_index()
    )
    return out.sort_values(["user_id", "date"]).reset_index(drop=True)


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path


def stored_daily(group: object) -> pd.DataFrame:
    """Every (user, day) row the group holds now, sorted: what the job wrote."""
    frame = group.read(history=True).to_pandas()  # type: ignore[attr-defined]
    frame = frame.rename(columns={"event_time": "date"})
    return frame.sort_values(["user_id", "date"]).reset_index(drop=True)
