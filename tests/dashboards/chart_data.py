"""Real analyses for the chart and HTML tests, and the independent answers they are checked with
(a module of its own: ``conftest`` is not importable by name when several test folders are
collected together; the browser tests import it too).

:func:`analysed` writes one group to a fresh embedded store (SQLite catalog) and runs every kind
of analysis the charts draw, plus a live table; each :class:`Drawn` is what a dashboard chart
reads: the analysis type, its spec (``result.record.spec``) and its frame (``to_dataframe()``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd

from raise_ import (
    Aggregation,
    Correlation,
    Distribution,
    FeatureStore,
    RecordLookup,
    StatTest,
    VersionDiff,
)

PROJECT = "acme/mlplatform/recommendation"
USER = "alice@acme"
START = pd.Timestamp("2026-09-01", tz="UTC")
TIERS = ("bronze", "silver", "gold")


@dataclass(frozen=True)
class Drawn:
    kind: str
    spec: dict[str, Any] | None
    frame: pd.DataFrame


def signal_rows(n: int = 600, seed: int = 11, days: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    clicks = rng.integers(0, 100, n)
    revenue = rng.gamma(2.0, 10.0, n) + np.where(rng.random(n) < 0.3, 25.0, 0.0)
    return pd.DataFrame(
        {
            "user_id": np.arange(n),
            "event_time": START + pd.to_timedelta(rng.integers(0, days * 86_400, n), unit="s"),
            "click_count": clicks,
            "impression_count": clicks * 3 + rng.integers(0, 60, n),
            "revenue": np.where(rng.random(n) < 0.1, np.nan, revenue),
            "balance": rng.normal(-5.0, 10.0, n),  # sums below zero: no pie
            "user_tier": rng.choice(TIERS, n),
            "latency@v1": rng.gamma(2.0, 10.0, n),
            "latency@v2": rng.gamma(2.0, 12.0, n) + 3,
        }
    )


ANALYSES: dict[str, Any] = {
    "rolling": Aggregation(feature="click_count", metrics=["sum"], window="1d", rolling=True, periods=30),
    "rolling_by_tier": Aggregation(
        feature="click_count", metrics=["sum", "avg"], window="1d", rolling=True, periods=7, group_by="user_tier"
    ),
    "by_tier": Aggregation(feature="revenue", metrics=["sum", "avg"], group_by="user_tier"),
    "by_tier_balance": Aggregation(feature="balance", metrics=["sum"], group_by="user_tier"),
    "balance": Aggregation(feature="balance", metrics=["sum"]),
    "metrics": Aggregation(feature="revenue", metrics=["sum", "avg", "null_rate", "percentile_99.9"]),
    "histogram": Distribution(feature="click_count", metrics=["histogram"], bins=10),
    "histogram_by_tier": Distribution(feature="revenue", metrics=["histogram"], bins=8, segment_by="user_tier"),
    "quartiles": Distribution(feature="revenue", metrics=["percentiles"], percentiles=[5, 25, 50, 75, 95]),
    "quartiles_by_tier": Distribution(
        feature="revenue", metrics=["percentiles"], percentiles=[10, 25, 50, 75, 90], segment_by="user_tier"
    ),
    "percentiles": Distribution(feature="revenue", metrics=["percentiles"]),  # 50..99: no p25
    "tiers": Distribution(feature="user_tier"),
    "tiers_by_clicks": Distribution(feature="user_tier", segment_by="click_count"),
    "correlation": Correlation(features=["click_count", "impression_count", "revenue"]),
    "ttest": StatTest(feature="revenue", segment_by="user_tier", control="bronze", treatment="gold"),
    "chi_squared": StatTest(feature="user_tier", test="chi_squared", segment_by="click_count"),
    "lookup": RecordLookup(features=["click_count", "revenue", "user_tier"], limit=200),
    "version_diff": VersionDiff(feature="latency", version_a="v1", version_b="v2"),
}

LIVE_TABLE = Aggregation(feature="click_count", metrics=["sum", "avg", "count"], window="1d", group_by="user_tier")


def analysed(home: Path) -> dict[str, Drawn]:
    """Every analysis of :data:`ANALYSES` (and the live table ``daily_engagement`` as ``"live"``) on
    :func:`signal_rows` in a fresh store at ``home`` (``RAISE_USER`` must be :data:`USER`)."""
    fs = FeatureStore(PROJECT, home=home, catalog_url=f"sqlite:///{home / 'catalog.db'}")
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema(
        {
            "click_count": "int64",
            "impression_count": "int64",
            "revenue": "float64",
            "balance": "float64",
            "user_tier": "string",
            "latency": "float64",
        }
    )
    group.create_feature("latency", dtype="float64", version="v2")
    group.write(signal_rows())
    out = {}
    for name, spec in ANALYSES.items():
        result = group.analyze(spec)
        out[name] = Drawn(result.type, result.record.spec, result.to_dataframe())
    live = group.create_live_table(name="daily_engagement", analysis=LIVE_TABLE, refresh="manual")
    out["live"] = Drawn("live_table", LIVE_TABLE.to_dict(), live.query())
    return out


# -- independent answers ----------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A frame's value as the chart's JSON should carry it."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    columns = list(frame.columns) if columns is None else columns
    return [{c: plain(row[c]) for c in columns} for _, row in frame.iterrows()]


@functools.cache
def _validator() -> jsonschema.Draft7Validator:
    from altair.vegalite.v5.schema.core import load_schema

    return jsonschema.Draft7Validator(load_schema())


def vega_lite_errors(spec: dict[str, Any]) -> list[str]:
    """What makes ``spec`` invalid against the Vega-Lite 5 JSON schema that Altair ships (none: valid)."""
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in _validator().iter_errors(spec)]


def marks(spec: dict[str, Any]) -> list[str]:
    """The mark types of a spec's views, layers in order."""
    views = spec.get("layer") or [spec.get("spec", spec)]
    return [v["mark"]["type"] if isinstance(v["mark"], dict) else v["mark"] for v in views]


def view(spec: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """The view that draws: the spec itself, one of its layers, or a facet's inner spec."""
    if "layer" in spec:
        return dict(spec["layer"][index])
    return dict(spec.get("spec", spec))


def field_of(spec: dict[str, Any], channel: str, index: int = 0) -> str | None:
    encoding = view(spec, index).get("encoding") or spec.get("encoding") or {}
    return (encoding.get(channel) or {}).get("field")


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at or above ``value``, by listing them."""
    candidates = sorted(step * 10.0**k for k in range(-6, 16) for step in (1, 2, 5))
    return next(c for c in candidates if c >= value)
