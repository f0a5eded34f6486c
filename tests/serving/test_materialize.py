"""Materialization and lookups against the offline store as the reference: after mixed writes
(appends, upserts, late rows, overwrites) the online values equal ``group.read()``'s, for every
type of appendix A, on SQLite and on Redis; incremental copies write only what changed."""

from __future__ import annotations

import math
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from serving_helpers import TWO_COMBOS

from raise_ import FeatureStore
from raise_.client import FeatureGroup
from raise_.engine import Engine
from raise_.errors import FeatureNotFoundError, InvalidArgumentError

P = "acme/mlplatform/recommendation"
SCHEMA = {
    "i32": "int32",
    "i64": "int64",
    "f16": "float16",
    "f32": "float32",
    "f64": "float64",
    "flag": "bool",
    "name": "string",
    "raw": "bytes",
    "seen": "timestamp",
    "emb": "float32[4]",
    "emb64": "float64[3]",
    "tags": "string[]",
    "point": "struct<lat:float64,lon:float64>",
}
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def random_rows(rng: random.Random, keys: list[int], *, base: datetime = T0) -> pa.Table:
    """Rows of every type for ``keys`` (nulls included), as an Arrow table of the stored types."""

    def maybe(value: Any) -> Any:
        return None if rng.random() < 0.1 else value

    cols: dict[str, Any] = {
        "user_id": pa.array(keys, pa.int64()),
        "event_time": pa.array(
            [base + timedelta(minutes=rng.randrange(0, 10_000)) for _ in keys], pa.timestamp("us", tz="UTC")
        ),
        "i32": pa.array([maybe(rng.randrange(-(2**31), 2**31)) for _ in keys], pa.int32()),
        "i64": pa.array([maybe(rng.randrange(-(2**62), 2**62)) for _ in keys], pa.int64()),
        "f16": pa.array([maybe(float(np.float16(rng.uniform(-100, 100)))) for _ in keys], pa.float32()),
        "f32": pa.array([maybe(float(np.float32(rng.uniform(-1e6, 1e6)))) for _ in keys], pa.float32()),
        "f64": pa.array(
            [maybe(rng.choice([rng.uniform(-1e9, 1e9), 1e-300, math.inf, -0.0])) for _ in keys], pa.float64()
        ),
        "flag": pa.array([maybe(rng.random() < 0.5) for _ in keys], pa.bool_()),
        "name": pa.array([maybe(rng.choice(["", "é漢字", "a:b", "x" * 50])) for _ in keys], pa.string()),
        "raw": pa.array(
            [maybe(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 9)))) for _ in keys], pa.binary()
        ),
        "seen": pa.array(
            [maybe(base - timedelta(microseconds=rng.randrange(0, 10**12))) for _ in keys], pa.timestamp("us", tz="UTC")
        ),
        "emb": pa.array(
            [maybe([float(np.float32(rng.gauss(0, 1))) for _ in range(4)]) for _ in keys], pa.list_(pa.float32(), 4)
        ),
        "emb64": pa.array([maybe([rng.gauss(0, 1) for _ in range(3)]) for _ in keys], pa.list_(pa.float64(), 3)),
        "tags": pa.array(
            [maybe([rng.choice("abc") for _ in range(rng.randrange(0, 4))]) for _ in keys], pa.list_(pa.string())
        ),
        "point": pa.array(
            [maybe({"lat": rng.uniform(-90, 90), "lon": rng.uniform(-180, 180)}) for _ in keys],
            pa.struct([("lat", pa.float64()), ("lon", pa.float64())]),
        ),
    }
    return pa.table(cols)


@pytest.fixture
def signals(open_org: FeatureStore) -> FeatureGroup:
    group = open_org.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema(SCHEMA)
    group.create_feature("i64_plus", "int64", derived_from="i64 + i32")
    return group


def assert_online_equals_offline(fs: FeatureStore, group: FeatureGroup, keys: list[int]) -> None:
    """Every feature of every key: the online value, event time and status against group.read()."""
    # The reference: the offline read as Python values (Arrow's, no pandas NaN for a null int)
    offline = {row["user_id"]: row for row in group.read().to_arrow().to_pylist()}
    names = [*SCHEMA, "i64_plus"]
    result = fs.get_online_features([f"user-signals.{n}" for n in names], [{"user_id": k} for k in keys])
    for key, row in zip(keys, result, strict=True):
        for name in names:
            got = row[f"user-signals.{name}"]
            if key not in offline:
                assert got.status == "NOT_FOUND" and got.value is None, (key, name, got)
                continue
            want = offline[key][name]
            assert got.status == "OK", (key, name, got)
            assert got.event_time == offline[key]["event_time"], (key, name)
            assert _same(got.value, want), (key, name, got.value, want)


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, np.ndarray):
        want = want.tolist()
    if want is None or (isinstance(want, float) and math.isnan(want)) or want is pd.NaT:
        return got is None
    if isinstance(want, pd.Timestamp):
        return got == want.to_pydatetime()
    if isinstance(want, list):
        return (
            isinstance(got, list) and len(got) == len(want) and all(_same(g, w) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, dict):
        return isinstance(got, dict) and set(got) == set(want) and all(_same(got[k], want[k]) for k in want)
    if isinstance(want, float):
        return isinstance(got, float) and (got == want and math.copysign(1, got) == math.copysign(1, want))
    if isinstance(want, np.generic):
        want = want.item()
    return bool(got == want) and type(got) is type(want)


def test_online_values_equal_the_offline_read_after_mixed_writes(open_org: FeatureStore, signals: FeatureGroup) -> None:
    rng = random.Random(24)
    universe = list(range(1, 41))
    first = signals.materialize()
    assert first.mode == "full" and first.entities_written == 0
    written_keys: set[int] = set()
    for _ in range(8):
        keys = rng.sample(universe, rng.randrange(1, 15))
        # upsert replaces (key, event time); append adds rows, some later and some earlier (late data)
        mode = rng.choice(["append", "append", "upsert"])
        signals.write(random_rows(rng, keys), mode=mode)
        written_keys.update(keys)
        result = signals.materialize()
        assert result.mode == "incremental" and result.entities_written <= len(set(keys)), result
        assert_online_equals_offline(open_org, signals, universe)
    # an overwrite leaves fewer entities: the copy drops those that are gone
    survivors = rng.sample(sorted(written_keys), 5)
    signals.write(random_rows(rng, survivors), mode="overwrite")
    result = signals.materialize()
    assert result.mode == "full" and result.entities_written == 5
    assert_online_equals_offline(open_org, signals, universe)
    assert signals.online_freshness().entities == 5


@TWO_COMBOS
def test_an_incremental_copy_writes_only_newer_rows_per_entity(open_org: FeatureStore, signals: FeatureGroup) -> None:
    rng = random.Random(7)
    signals.write(random_rows(rng, [1, 2, 3], base=T0 + timedelta(days=30)))
    assert signals.materialize().entities_written == 3
    # key 1: a late row (older than its stored one) changes nothing; key 4 is new; key 2 moves on
    late = random_rows(rng, [1], base=T0)
    newer = random_rows(rng, [2, 4], base=T0 + timedelta(days=60))
    signals.write(pa.concat_tables([late, newer]))
    result = signals.materialize()
    assert (result.mode, result.entities_written) == ("incremental", 2)
    assert signals.materialize().mode == "unchanged"
    assert_online_equals_offline(open_org, signals, [1, 2, 3, 4, 5])
    freshness = signals.online_freshness()
    assert freshness.commits_behind == 0 and freshness.materialized_commit == freshness.newest_commit
    signals.write(random_rows(rng, [5]))
    assert signals.online_freshness().commits_behind == 1


@TWO_COMBOS
def test_a_new_feature_version_makes_a_full_copy_with_it(open_org: FeatureStore, signals: FeatureGroup) -> None:
    rng = random.Random(3)
    signals.write(random_rows(rng, [1, 2]))
    signals.materialize()
    signals.create_feature("double", "float64", derived_from="f64 * 2")
    result = signals.materialize()
    assert result.mode == "full" and "double@v1" in result.features
    online = open_org.get_online_features(["user-signals.double", "user-signals.f64"], [{"user_id": 1}, {"user_id": 2}])
    for row in online:
        f64 = row["user-signals.f64"].value
        assert row["user-signals.double"].value == (None if f64 is None else f64 * 2)


def caught_up(group: FeatureGroup, follower: Any, timeout: float = 30.0) -> None:
    """Wait until the follower has materialized every commit of ``group`` (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while group.online_freshness().commits_behind or not follower.wait_idle(0.05):
        assert time.monotonic() < deadline, f"{group.name} still behind after {timeout} s"
        time.sleep(0.02)


@TWO_COMBOS
def test_online_groups_are_materialized_after_every_commit(open_org: FeatureStore) -> None:
    group = open_org.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time", online=True)
    group.create_features_from_schema({"clicks": "int64"})
    engine = Engine.shared(open_org._settings)
    follower = engine.online_follower
    assert follower is not None
    for i in range(3):
        group.write(
            pd.DataFrame({"user_id": [1, 2], "event_time": [T0 + timedelta(hours=i)] * 2, "clicks": [i, 10 * i]})
        )
    caught_up(group, follower)
    assert group.wait_until_online(timeout=5).commits_behind == 0
    online = open_org.get_online_features(["user-signals.clicks"], [{"user_id": 1}, {"user_id": 2}])
    assert [r["user-signals.clicks"].value for r in online] == [2, 20]
    fresh = group.online_freshness()
    assert fresh.online and fresh.commits_behind == 0
    group.set_online(False)
    group.write(pd.DataFrame({"user_id": [1], "event_time": [T0 + timedelta(days=1)], "clicks": [99]}))
    time.sleep(0.5)  # time for the feed to tell the follower, were it still following the group
    assert follower.wait_idle(30)
    assert open_org.get_online_features(["user-signals.clicks"], [{"user_id": 1}])[0]["user-signals.clicks"].value == 2
    assert group.online_freshness().commits_behind == 1


@TWO_COMBOS
def test_values_older_than_the_ttl_come_back_expired(open_org: FeatureStore) -> None:
    group = open_org.create_feature_group("sessions", entity_keys=["user_id"], event_time="event_time", ttl="1h")
    group.create_features_from_schema({"clicks": "int64"})
    now = datetime.now(UTC)
    group.write(pd.DataFrame({"user_id": [1, 2], "event_time": [now - timedelta(hours=2), now], "clicks": [5, 6]}))
    group.materialize()
    old, fresh = open_org.get_online_features(["sessions.clicks"], [{"user_id": 1}, {"user_id": 2}])
    assert (old["sessions.clicks"].status, old["sessions.clicks"].value) == ("EXPIRED", None)
    assert (fresh["sessions.clicks"].status, fresh["sessions.clicks"].value) == ("OK", 6)


@TWO_COMBOS
def test_results_keep_the_order_asked_and_convert_to_pandas(open_org: FeatureStore, signals: FeatureGroup) -> None:
    signals.write(
        pd.DataFrame(
            {"user_id": [3, 1], "event_time": [T0, T0], "i64": [30, 10], "name": ["c", "a"], "f64": [0.5, None]}
        )
    )
    signals.materialize()
    result = open_org.get_online_features(
        ["user-signals.name", "user-signals.i64@v1", "user-signals.f64"],
        [{"user_id": 1}, {"user_id": 2}, {"user_id": 3}],
    )
    assert result.to_dict() == {
        "user_id": [1, 2, 3],
        "user-signals.name": ["a", None, "c"],
        "user-signals.i64@v1": [10, None, 30],
        "user-signals.f64": [None, None, 0.5],
    }
    assert result.statuses()["user-signals.name"] == ["OK", "NOT_FOUND", "OK"]
    frame = result.to_pandas()
    expected = pd.DataFrame(
        {
            "user_id": [1, 2, 3],
            "user-signals.name": ["a", None, "c"],
            "user-signals.i64@v1": pd.array([10, None, 30], dtype="Int64"),  # an integer, not a float
            "user-signals.f64": [np.nan, np.nan, 0.5],
        }
    )
    pd.testing.assert_frame_equal(frame, expected)
    assert frame["user-signals.i64@v1"].isna().tolist() == [False, True, False]


@TWO_COMBOS
def test_bad_lookups_say_what_is_wrong(open_org: FeatureStore, signals: FeatureGroup) -> None:
    signals.write(pd.DataFrame({"user_id": [1], "event_time": [T0], "i64": [1]}))
    signals.materialize(features=["i64"])
    with pytest.raises(FeatureNotFoundError) as missing:
        open_org.get_online_features(["user-signals.nope"], [{"user_id": 1}])
    assert "nope" in missing.value.message
    with pytest.raises(FeatureNotFoundError) as not_online:
        open_org.get_online_features(["user-signals.f64"], [{"user_id": 1}])
    assert "not in the online store" in not_online.value.message and "materialize" in not_online.value.message
    with pytest.raises(InvalidArgumentError) as no_key:
        open_org.get_online_features(["user-signals.i64"], [{"customer": 1}])
    assert "user_id" in no_key.value.message
    with pytest.raises(InvalidArgumentError):
        open_org.get_online_features("user-signals.i64", [{"user_id": 1}])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        open_org.get_online_features(["user-signals.i64", "user-signals.i64"], [{"user_id": 1}])
    # the online copy is unchanged by all of that
    assert open_org.get_online_features(["user-signals.i64"], [{"user_id": 1}])[0]["user-signals.i64"].value == 1
    assert signals.materialize().mode == "unchanged"
