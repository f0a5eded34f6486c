"""Incremental refreshes equal full recomputes: randomized sequences of appends, upserts,
overwrites and appends that replace rows, on decomposable aggregations (grouped, ungrouped,
rolling periods, a fixed window); after each write every live table is refreshed and compared
with ``group.analyze`` of the same spec (the analysis path, itself checked against pandas) and,
for the grouped sum, with pandas directly."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from live_helpers import START

from raise_ import Aggregation, FeatureStore
from raise_.live.incremental import is_decomposable

METRICS = ["count", "sum", "avg", "min", "max", "null_rate", "variance", "stddev"]
SPECS = {
    "by-tier": Aggregation(feature="click_count", metrics=METRICS, group_by="user_tier"),
    "revenue": Aggregation(feature="revenue", metrics=METRICS),
    "rolling": Aggregation(
        feature="revenue", metrics=METRICS, window="1d", rolling=True, periods=4, group_by="user_tier"
    ),
    "fixed-window": Aggregation(
        feature="click_count", metrics=METRICS, window="3d", end="2026-09-06T00:00:00+00:00", group_by="user_tier"
    ),
    "flag-by-tier": Aggregation(feature="flag", metrics=["count", "sum", "avg", "null_rate"], group_by="user_tier"),
}


@pytest.fixture
def embedded(fresh_store: Path) -> FeatureStore:
    return FeatureStore("acme/mlplatform/recommendation")


def rows(rng: np.random.Generator, users: np.ndarray, days: int = 8) -> pd.DataFrame:
    n = len(users)
    clicks = pd.array(rng.integers(0, 1000, n), dtype="Int64")
    clicks[rng.random(n) < 0.1] = pd.NA
    revenue = rng.normal(50.0, 20.0, n)
    revenue[rng.random(n) < 0.1] = np.nan  # NaN: left out of sums, as the analysis leaves it
    flag = pd.array(rng.random(n) < 0.3, dtype="boolean")
    flag[rng.random(n) < 0.05] = pd.NA
    return pd.DataFrame(
        {
            "user_id": users,
            # whole minutes: an upsert can hit an existing (user, time) exactly
            "event_time": START + pd.to_timedelta(rng.integers(0, days * 1440, n), unit="min"),
            "click_count": clicks,
            "revenue": revenue,
            "flag": flag,
            "user_tier": rng.choice(["bronze", "silver", "gold", "platinum"], n),
        }
    )


def assert_same(live: pd.DataFrame, full: pd.DataFrame, what: str) -> None:
    assert list(live.columns) == list(full.columns), what
    assert len(live) == len(full), what
    for col in full.columns:
        for i, (a, b) in enumerate(zip(live[col].tolist(), full[col].tolist(), strict=True)):
            missing_a = a is None or (isinstance(a, float) and math.isnan(a)) or a is pd.NaT
            missing_b = b is None or (isinstance(b, float) and math.isnan(b)) or b is pd.NaT
            assert missing_a == missing_b, f"{what}: {col}[{i}]: {a!r} vs {b!r}"
            if missing_a:
                continue
            if (isinstance(b, float) and not float(b).is_integer()) or isinstance(a, float):
                assert a == pytest.approx(b, rel=1e-9, abs=1e-9), f"{what}: {col}[{i}]"
            else:
                assert a == b, f"{what}: {col}[{i}]"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_equals_full_recompute(embedded: FeatureStore, seed: int) -> None:
    rng = np.random.default_rng(seed)
    group = embedded.create_feature_group("events", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema(
        {"click_count": "int64", "revenue": "float64", "flag": "bool", "user_tier": "string"}
    )
    group.write(rows(rng, np.arange(200)))
    tables = {name: group.create_live_table(name=name, analysis=spec, refresh="manual") for name, spec in SPECS.items()}
    assert all(is_decomposable(spec) for spec in SPECS.values())
    next_user = 200
    modes: dict[str, set[str]] = {}
    for step in range(10):
        op = rng.choice(["append", "append", "append", "upsert", "overwrite", "append-replacing"])
        if op == "append":
            count = int(rng.integers(1, 60))
            group.write(rows(rng, np.arange(next_user, next_user + count), days=int(rng.integers(6, 12))))
            next_user += count
        elif op == "upsert":
            existing = group.read(history=True).to_pandas().sample(10, random_state=int(rng.integers(1 << 30)))
            changed = rows(rng, existing["user_id"].to_numpy())
            changed["event_time"] = existing["event_time"].to_numpy()
            group.write(changed, mode="upsert")
        elif op == "append-replacing":  # an append whose rows replace visible ones: not a pure append
            existing = group.read(history=True).to_pandas().head(5)
            changed = rows(rng, existing["user_id"].to_numpy())
            changed["event_time"] = existing["event_time"].to_numpy()
            group.write(changed)
        else:
            group.write(rows(rng, np.arange(next_user, next_user + 80)), mode="overwrite")
            next_user += 80
        for name, table in tables.items():
            event = table.refresh()
            assert event.status == "completed", (step, name, event.error_message)
            modes.setdefault(str(op), set()).add(event.mode or "")
            full = group.analyze(SPECS[name]).to_dataframe()
            assert_same(table.query(), full, f"seed {seed} step {step} ({op}) {name}")
        # an independent check of one table against pandas
        data = group.read(history=True).to_pandas()
        by_hand = data.groupby("user_tier")["click_count"].sum().sort_index()
        live = tables["by-tier"].query().set_index("user_tier")["sum"].sort_index()
        assert live.astype("int64").to_dict() == by_hand.astype("int64").to_dict()
    assert modes.get("append", {"incremental"}) == {"incremental"}
    for op in ("upsert", "overwrite", "append-replacing"):
        assert modes.get(op, {"full"}) == {"full"}, op


def test_what_is_not_decomposable_recomputes(embedded: FeatureStore) -> None:
    group = embedded.create_feature_group("events", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema(
        {"click_count": "int64", "revenue": "float64", "flag": "bool", "user_tier": "string"}
    )
    rng = np.random.default_rng(5)
    group.write(rows(rng, np.arange(100)))
    specs = {
        "distinct": Aggregation(feature="click_count", metrics=["distinct_count", "percentile_90"]),
        "moving-window": Aggregation(feature="click_count", metrics=["sum"], window="2d"),
    }
    tables = {n: group.create_live_table(name=n, analysis=s, refresh="manual") for n, s in specs.items()}
    group.write(rows(rng, np.arange(100, 150)))
    for name, table in tables.items():
        assert not is_decomposable(specs[name])
        event = table.refresh()
        assert (event.status, event.mode) == ("completed", "full")
        assert_same(table.query(), group.analyze(specs[name]).to_dataframe(), name)
