"""Seeded random write histories, applied to the real store and to the reference model alike.

A scenario is fixed by its seed: the groups (one single-key group without a ttl, one
composite-key group with a ttl, sometimes a third), and per group several writes mixing
``append``, ``upsert`` with partial columns, duplicate (key, time) pairs within and across
writes, out-of-order event times, sometimes an ``overwrite``; the data goes in as a pandas
DataFrame, a pyarrow Table or a list of dicts, with naive (= UTC) times now and then.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
from reference import ReferenceGroup, normalize_frame

BASE = pd.Timestamp("2024-03-01", tz="UTC")
DAY = 86_400
REGIONS = ["ap", "eu", "us"]
STRINGS = ["de", "fr", "us", "", "ünï", "x y", "a'b"]

KIND_OF_DTYPE = {"int64": "int", "float64": "float", "string": "string"}
ARROW_TYPE = {
    "int": pa.int64(),
    "float": pa.float64(),
    "string": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


@dataclass(frozen=True)
class GroupSpec:
    name: str
    keys: dict[str, str]  # key column -> kind
    event_time: str
    features: dict[str, str]  # feature -> dtype

    def kinds(self) -> dict[str, str]:
        return {
            **self.keys,
            self.event_time: "timestamp",
            **{f: KIND_OF_DTYPE[d] for f, d in self.features.items()},
        }


USER_SIGNALS = GroupSpec(
    "user-signals", {"user_id": "int"}, "event_time", {"clicks": "int64", "score": "float64", "country": "string"}
)
USER_REGION = GroupSpec(
    "user-region",
    {"user_id": "int", "region": "string"},
    "ts",
    {"visits": "int64", "spend": "float64", "device": "string"},
)
ITEM_SIGNALS = GroupSpec(
    "item-signals", {"item_id": "string"}, "event_time", {"price": "float64", "stock": "int64", "category": "string"}
)


@dataclass
class Write:
    group: str
    mode: str
    rows: list[dict[str, Any]]  # python values, times as UTC Timestamps, NULL = None
    columns: list[str]  # the columns this write carries, in the order handed to the store
    fmt: str  # "pandas" | "arrow" | "records"
    naive: bool  # pandas only: event times without a time zone (= UTC)


@dataclass
class Scenario:
    seed: int
    specs: dict[str, GroupSpec]
    ttl_args: dict[str, Any]  # as handed to create_feature_group
    ttl_seconds: dict[str, int | None]
    users: list[int]
    items: list[str]
    writes: list[Write] = field(default_factory=list)

    def reference_groups(self) -> dict[str, ReferenceGroup]:
        return {
            name: ReferenceGroup(list(spec.keys), spec.event_time, self.ttl_seconds[name], features=list(spec.features))
            for name, spec in self.specs.items()
        }


def _value(rng: random.Random, dtype: str, null_p: float = 0.15) -> Any:
    if rng.random() < null_p:
        return None
    if dtype == "int64":
        return rng.randint(-5, 1000)
    if dtype == "float64":
        return rng.choice([0.0, round(rng.uniform(-100, 100), 3), round(rng.uniform(0, 1), 6)])
    return rng.choice(STRINGS)


def make_scenario(seed: int, *, n_groups: int | None = None, overwrite: bool | None = None) -> Scenario:
    """Groups and writes for ``seed``. ``overwrite``: force one overwrite in (or keep it out of) the
    history; by default odd seeds have one."""
    rng = random.Random(seed)
    n_groups = n_groups if n_groups is not None else (3 if seed % 2 == 0 else 2)
    overwrite = overwrite if overwrite is not None else seed % 2 == 1
    specs = {s.name: s for s in [USER_SIGNALS, USER_REGION, ITEM_SIGNALS][:n_groups]}
    ttl_forms: list[Any] = ["2d", timedelta(days=2), 2 * DAY]
    ttl_args: dict[str, Any] = {"user-signals": None, "user-region": ttl_forms[seed % 3]}
    ttl_seconds: dict[str, int | None] = {"user-signals": None, "user-region": 2 * DAY}
    if "item-signals" in specs:
        ttl_args["item-signals"], ttl_seconds["item-signals"] = ("30h", 30 * 3600) if seed % 4 == 0 else (None, None)

    users = rng.sample(range(1, 500), rng.randint(20, 60))
    items = [f"i{n:03d}" for n in rng.sample(range(1000), rng.randint(20, 40))]
    entities: dict[str, list[tuple[Any, ...]]] = {
        "user-signals": [(u,) for u in users],
        "user-region": [(u, r) for u in users for r in rng.sample(REGIONS, rng.randint(1, 2))],
        "item-signals": [(i,) for i in items],
    }
    scenario = Scenario(seed, specs, ttl_args, ttl_seconds, users, items)

    plans: list[tuple[str, str]] = []
    overwrite_group = rng.choice(sorted(specs)) if overwrite else None
    for name in specs:
        n_writes = rng.randint(4, 7)
        modes = ["append"] + [rng.choice(["append", "upsert", "upsert"]) for _ in range(n_writes - 1)]
        if name == overwrite_group:
            modes[rng.randint(2, n_writes - 2)] = "overwrite"
        plans.extend((name, m) for m in modes)
    # interleave the groups' writes, keeping each group's own order
    order: list[tuple[str, str]] = []
    queues = {name: [m for g, m in plans if g == name] for name in specs}
    while any(queues.values()):
        name = rng.choice([n for n, q in queues.items() if q])
        order.append((name, queues[name].pop(0)))

    pools: dict[tuple[str, tuple[Any, ...]], list[pd.Timestamp]] = {}
    for name, mode in order:
        spec = specs[name]
        feats = list(spec.features)
        if mode == "upsert":
            carried = rng.sample(feats, rng.randint(1, len(feats) - 1)) if rng.random() < 0.8 else feats
        elif mode == "append" and rng.random() < 0.35:
            carried = rng.sample(feats, rng.randint(1, len(feats) - 1))
        else:
            carried = feats
        rows: list[dict[str, Any]] = []
        for _ in range(rng.randint(5, 50)):
            ent = rng.choice(entities[name])
            pool = pools.setdefault((name, ent), [])
            if pool and rng.random() < 0.75:
                t = rng.choice(pool)  # a (key, time) written before: a duplicate across writes
            else:
                t = BASE + pd.Timedelta(seconds=rng.randint(0, 10 * DAY))
                if rng.random() < 0.2:  # sub-second times (microseconds)
                    t += pd.Timedelta(microseconds=rng.randint(1, 999_999))
                pool.append(t)
            row: dict[str, Any] = dict(zip(spec.keys, ent, strict=True))
            row[spec.event_time] = t
            row.update({f: _value(rng, spec.features[f]) for f in carried})
            rows.append(row)
        if rng.random() < 0.6:  # the same (key, time) again in this write, other values, anywhere
            for _ in range(rng.randint(1, 4)):
                dup = dict(rng.choice(rows))
                dup.update({f: _value(rng, spec.features[f]) for f in carried})
                rows.insert(rng.randint(0, len(rows)), dup)
        columns = [*spec.keys, spec.event_time, *carried]
        if rng.random() < 0.5:
            rng.shuffle(columns)
        fmt = rng.choice(["pandas", "pandas", "arrow", "records"])
        naive = fmt == "pandas" and rng.random() < 0.25
        scenario.writes.append(Write(name, mode, rows, columns, fmt, naive))
    return scenario


# -- handing data to the store --------------------------------------------------------------------


def store_data(spec: GroupSpec, write: Write) -> Any:
    """The write's rows in its format: pandas DataFrame, pyarrow Table or list of dicts."""
    kinds = spec.kinds()
    if write.fmt == "records":
        return [{c: _record_value(r.get(c)) for c in write.columns} for r in write.rows]
    if write.fmt == "arrow":
        return pa.table({c: pa.array([r.get(c) for r in write.rows], type=ARROW_TYPE[kinds[c]]) for c in write.columns})
    df = normalize_frame(pd.DataFrame({c: [r.get(c) for r in write.rows] for c in write.columns}), kinds)
    if write.naive:
        df[spec.event_time] = df[spec.event_time].dt.tz_localize(None)
    return df


def _record_value(v: Any) -> Any:
    return v.to_pydatetime() if isinstance(v, pd.Timestamp) else v


def create_groups(fs: Any, scenario: Scenario) -> dict[str, Any]:
    groups = {}
    for name, spec in scenario.specs.items():
        g = fs.create_feature_group(
            name, entity_keys=list(spec.keys), event_time=spec.event_time, ttl=scenario.ttl_args[name]
        )
        g.create_features_from_schema(dict(spec.features))
        groups[name] = g
    return groups


def apply_write(group: Any, ref: ReferenceGroup, spec: GroupSpec, write: Write) -> int:
    """One write to the store and the same write to the reference; returns the commit id."""
    result = group.write(store_data(spec, write), mode=write.mode)
    cid = result.commit_id
    assert isinstance(cid, int), f"commit_id {cid!r} is not an int"
    last = ref.last_commit
    assert last is None or cid > last, f"commit id {cid} after {last}: not strictly increasing"
    distinct = {(tuple(r[k] for k in spec.keys), r[spec.event_time]) for r in write.rows}
    assert isinstance(result.rows_written, int)
    assert len(distinct) <= result.rows_written <= len(write.rows), (result.rows_written, len(write.rows))
    ref.write(write.rows, write.mode, commit_id=cid)
    return cid


def describe(write: Write) -> str:
    return f"{write.group} {write.mode} ({write.fmt}{', naive' if write.naive else ''}) cols={write.columns}"


def read_store(group: Any, spec: GroupSpec, features: list[str] | None = None, **kwargs: Any) -> pd.DataFrame:
    """``group.read(...)`` normalized. Columns must be keys, event time, then the features; the
    order of the default (all) features is not part of the contract, so it is put in schema order."""
    got = group.read(features, **kwargs).to_pandas()
    head = [*spec.keys, spec.event_time]
    columns = list(got.columns)
    assert columns[: len(head)] == head, f"read({kwargs}) columns {columns}"
    if features is None:
        assert sorted(columns[len(head) :]) == sorted(spec.features), f"read({kwargs}) columns {columns}"
        got = got[[*head, *spec.features]]
    else:
        assert columns[len(head) :] == features, f"read({features}, {kwargs}) columns {columns}"
    return normalize_frame(got, spec.kinds())
