"""The data the analytics tests analyse, and the independent answers they compare with.

``make_signals`` draws one group's history with a seeded rng and returns it twice: as the Arrow
table written to the store, and as a pandas frame (nullable dtypes, ``ctr`` computed here) that
the references below read. Nothing here calls the analytics engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

PROJECT = "acme/mlplatform/recommendation"
START = pd.Timestamp("2024-03-01", tz="UTC")
END = START + pd.Timedelta(days=30)  # the newest event time in the data
DAY = pd.Timedelta(days=1)

# Stored features of the "user-signals" group (latency has two versions of two dtypes).
SIGNALS_SCHEMA = {
    "click_count": "int64",
    "impression_count": "int64",
    "revenue": "float64",
    "score": "float64",  # NaN and ±inf among its values
    "level": "int64",  # 0..10: values fall exactly on histogram edges
    "constant": "float64",
    "big": "float64",  # 1e9 + N(0, 1): sums of squares lose it
    "is_premium": "bool",
    "country": "string",
    "variant": "string",
}
CTR = "click_count / NULLIF(impression_count, 0)"
RATE_V2 = "(click_count + 1) / (impression_count + 2)"
TIER = "CASE WHEN click_count >= 5 THEN 'high' WHEN click_count IS NOT NULL THEN 'low' END"
COUNTRIES = ("US", "DE", "FR", "GB")


@dataclass(frozen=True)
class Signals:
    table: pa.Table  # what is written
    frame: pd.DataFrame  # the same rows, with ctr and the null mask of score


def _masked(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    return rng.random(n) < share


def make_signals(n: int = 1200, users: int = 80, seed: int = 7) -> Signals:
    rng = np.random.default_rng(seed)
    total = 30 * 86400
    # The newest row lies at END; a few rows lie exactly on day boundaries before it (the edges
    # of rolling periods and of a 7d window). Times are unique, so every row is visible.
    boundaries = np.array([total, total - 86400, total - 2 * 86400, total - 7 * 86400, total - 10 * 86400])
    rest = rng.choice(np.setdiff1d(np.arange(0, total, 37), boundaries), size=n - len(boundaries), replace=False)
    seconds = np.concatenate([boundaries, rest])
    event_time = pd.DatetimeIndex(START + pd.to_timedelta(seconds, unit="s"))
    user_id = rng.integers(1, users + 1, n)

    clicks = rng.poisson(4, n).astype("int64")
    clicks_null = _masked(rng, n, 0.08)
    impressions = rng.integers(0, 30, n).astype("int64")  # 0 makes ctr null
    impressions_null = _masked(rng, n, 0.05)
    revenue = rng.normal(20.0, 5.0, n)
    revenue_null = _masked(rng, n, 0.10)
    score = rng.lognormal(0.0, 1.0, n)
    special = rng.random(n)
    score[special < 0.01] = np.nan
    score[(special >= 0.01) & (special < 0.015)] = np.inf
    score[(special >= 0.015) & (special < 0.018)] = -np.inf
    score_null = (special >= 0.018) & (special < 0.05)
    level = rng.integers(0, 11, n).astype("int64")
    level_null = _masked(rng, n, 0.02)
    big = 1e9 + rng.normal(0.0, 1.0, n)
    premium = rng.random(n) < 0.3
    premium_null = _masked(rng, n, 0.05)
    country = rng.choice(COUNTRIES, n).astype(object)
    country[_masked(rng, n, 0.06)] = None
    variant = rng.choice(["control", "treatment", "holdout"], n, p=[0.45, 0.45, 0.10]).astype(object)
    ghost = rng.choice(np.arange(5, n), size=6, replace=False)
    variant[ghost] = "ghost"  # a segment whose revenue is always null
    revenue_null[ghost] = True
    # Treatment earns a little more, so the tests have an effect to find.
    revenue = revenue + np.where(variant == "treatment", 1.5, 0.0)
    latency_v1 = rng.gamma(2.0, 10.0, n)
    latency_v1_null = _masked(rng, n, 0.04)
    latency_v2 = np.round(rng.gamma(2.0, 12.0, n) + 3).astype("int64")
    latency_v2_null = _masked(rng, n, 0.15)

    def arr(values: np.ndarray, mask: np.ndarray | None, type_: pa.DataType) -> pa.Array:
        return pa.array(values, type=type_, mask=mask)

    table = pa.table(
        {
            "user_id": pa.array(user_id, pa.int64()),
            "event_time": pa.array(event_time),
            "click_count": arr(clicks, clicks_null, pa.int64()),
            "impression_count": arr(impressions, impressions_null, pa.int64()),
            "revenue": arr(revenue, revenue_null, pa.float64()),
            "score": arr(score, score_null, pa.float64()),
            "level": arr(level, level_null, pa.int64()),
            "constant": pa.array(np.full(n, 3.0)),
            "big": pa.array(big),
            "is_premium": arr(premium, premium_null, pa.bool_()),
            "country": pa.array(list(country), pa.string()),
            "variant": pa.array(list(variant), pa.string()),
            "latency@v1": arr(latency_v1, latency_v1_null, pa.float64()),
            "latency@v2": arr(latency_v2, latency_v2_null, pa.int64()),
        }
    )

    def nullable(values: np.ndarray, mask: np.ndarray, dtype: str) -> pd.Series:
        s = pd.Series(pd.array(values, dtype=dtype))
        s[mask] = pd.NA
        return s

    frame = pd.DataFrame(
        {
            "user_id": user_id,
            "event_time": event_time,
            "click_count": nullable(clicks, clicks_null, "Int64"),
            "impression_count": nullable(impressions, impressions_null, "Int64"),
            "revenue": nullable(revenue, revenue_null, "Float64"),
            # score keeps NaN and inf as values; its nulls are in score_null
            "score": score,
            "score_null": score_null,
            "level": nullable(level, level_null, "Int64"),
            "constant": np.full(n, 3.0),
            "big": big,
            "is_premium": nullable(premium, premium_null, "boolean"),
            "country": pd.Series(list(country), dtype=object),
            "variant": pd.Series(list(variant), dtype=object),
            "latency@v1": nullable(latency_v1, latency_v1_null, "Float64"),
            "latency@v2": nullable(latency_v2, latency_v2_null, "Int64"),
        }
    )
    c = frame["click_count"].astype("Float64")
    i = frame["impression_count"].astype("Float64")
    frame["ctr"] = (c / i.where(i != 0)).astype("Float64")
    frame["rate@v1"] = frame["ctr"]
    frame["tier"] = pd.Series(
        np.where(clicks_null, None, np.where(clicks >= 5, "high", "low")), dtype=object, index=frame.index
    )
    frame["rate@v2"] = (c + 1) / (i + 2)
    return Signals(table, frame)


# -- references ---------------------------------------------------------------------------------


def values_of(series: pd.Series) -> np.ndarray:
    """The non-null values, as float64 (booleans as 0/1)."""
    return series.dropna().astype("float64").to_numpy()


def metric(series: pd.Series, name: str) -> Any:
    """One Aggregation metric by pandas/numpy, with the engine's conventions: a metric over no
    values is None, stddev/variance are the sample statistics, null_rate is over the rows."""
    present = series.dropna()
    if name == "count":
        return len(present)
    if name == "null_rate":
        return None if len(series) == 0 else float(series.isna().mean())
    if name == "distinct_count":
        return int(present.nunique())
    if len(present) == 0:
        return None
    if name in ("min", "max"):
        value = present.min() if name == "min" else present.max()
        return value.item() if hasattr(value, "item") else value
    numbers = values_of(series)
    if name == "sum":
        return float(numbers.sum())
    if name == "avg":
        return float(numbers.mean())
    if name in ("stddev", "variance"):
        if len(numbers) < 2:
            return None
        variance = float(np.var(numbers, ddof=1))
        return math.sqrt(variance) if name == "stddev" else variance
    if name.startswith("percentile_"):
        return float(np.percentile(numbers, float(name.removeprefix("percentile_"))))
    raise AssertionError(f"no reference for {name}")


def metrics(series: pd.Series, names: list[str]) -> dict[str, Any]:
    return {m: metric(series, m) for m in names}


def close(actual: Any, expected: Any, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    if isinstance(expected, str) or isinstance(actual, str):
        return actual == expected
    return bool(actual == pytest.approx(expected, rel=rel, abs=abs_))


def assert_values(actual: dict[str, Any], expected: dict[str, Any], rel: float = 1e-9, where: str = "") -> None:
    assert set(actual) == set(expected), where
    wrong = {k: (actual[k], expected[k]) for k in expected if not close(actual[k], expected[k], rel)}
    assert not wrong, f"{where}: (actual, expected) {wrong}"


def span(text: str) -> pd.Timedelta:
    """``"7d"``, ``"36h"``, ``"12h"``: a window's length (written here, not by the engine)."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    return pd.Timedelta(**{units[text[-1]]: float(text[:-1])})


def in_window(frame: pd.DataFrame, window: pd.Timedelta, end: pd.Timestamp) -> pd.DataFrame:
    t = frame["event_time"]
    return frame[(t > end - window) & (t <= end)]  # (end - window, end]


def group_key(value: Any) -> Any:
    """A pandas group label as the engine reports it (NA → None, numpy scalars → Python)."""
    if value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


#: Calendar periods are aligned on this Monday, midnight UTC (as DuckDB's time_bucket).
ORIGIN = pd.Timestamp("2000-01-03", tz="UTC")


def rolling_reference(
    frame: pd.DataFrame,
    feature: str,
    names: list[str],
    width: pd.Timedelta,
    periods: int,
    end: pd.Timestamp,
) -> list[dict[str, Any]]:
    """Per period (oldest first): its start, and each metric over the period and over the
    ``periods`` periods ending with it. Periods are ``[ORIGIN + i·width, ORIGIN + (i+1)·width)``,
    the last one holding ``end``; rows after ``end`` are left out."""
    last = (end - ORIGIN) // width
    bucket = ((frame["event_time"] - ORIGIN) // width).where(frame["event_time"] <= end)
    k = last - bucket
    out = []
    for period in range(periods - 1, -1, -1):
        own = frame.loc[k == period, feature]
        rolled = frame.loc[(k >= period) & (k < period + periods), feature]
        start = ORIGIN + (last - period) * width
        row: dict[str, Any] = {"date": start, "period_end": start + width}
        row.update(metrics(own, names))
        row.update({f"rolling_{m}": v for m, v in metrics(rolled, names).items()})
        out.append(row)
    return out
