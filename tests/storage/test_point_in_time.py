"""Point-in-time training sets (``fs.get_training_data``) against the brute-force reference.

Each seed builds a random write history (see ``scenarios``), applies every write to the store and
to ``reference.ReferenceGroup``, then asks both for the training set of a random entity frame:
rows anchored on feature rows (same time, one second before/after, exactly the ttl, one second
past it), rows older than any feature row, far in the future, unknown entities, duplicates.
"""

from __future__ import annotations

import random
from typing import Any

import pandas as pd
import pytest
from reference import (
    ReferenceGroup,
    assert_frames_equal,
    normalize_frame,
    pick_row,
    py_value,
    reference_training_data,
    to_utc,
    values_equal,
)
from scenarios import BASE, DAY, REGIONS, Scenario, apply_write, create_groups, describe, make_scenario, read_store

from raise_ import FeatureStore

SEEDS = [11, 12, 13, 14, 15]


def build_store(fs: FeatureStore, scenario: Scenario) -> tuple[dict[str, Any], dict[str, ReferenceGroup]]:
    groups = create_groups(fs, scenario)
    refs = scenario.reference_groups()
    for i, w in enumerate(scenario.writes):
        try:
            apply_write(groups[w.group], refs[w.group], scenario.specs[w.group], w)
        except Exception as exc:
            raise AssertionError(f"seed {scenario.seed}, write #{i}: {describe(w)}: {exc!r}") from exc
    return groups, refs


def make_entity_df(scenario: Scenario, refs: dict[str, ReferenceGroup], time_col: str) -> pd.DataFrame:
    rng = random.Random(scenario.seed * 7919)
    visible = {name: ref.visible_rows() for name, ref in refs.items()}
    has_items = "item-signals" in refs
    rows: list[dict[str, Any]] = []
    for _ in range(rng.randint(80, 160)):
        row: dict[str, Any] = {
            "user_id": rng.choice(scenario.users),
            "region": rng.choice(REGIONS),
        }
        if has_items:
            row["item_id"] = rng.choice(scenario.items)
        p = rng.random()
        if p < 0.55:  # anchored on a feature row of some group
            name = rng.choice(sorted(refs))
            anchor = rng.choice(visible[name])
            row.update(dict(zip(refs[name].keys, anchor.keys, strict=True)))
            us = pd.Timedelta(microseconds=1)
            offsets = [pd.Timedelta(0), -us, us, pd.Timedelta(seconds=rng.choice([-1, 1, rng.randint(0, 3 * DAY)]))]
            ttl = refs[name].ttl
            if ttl is not None:
                offsets += [ttl, ttl, ttl + us, ttl - us, ttl + pd.Timedelta(seconds=1)]
            t = anchor.event_time + rng.choice(offsets)
        elif p < 0.7:
            t = BASE + pd.Timedelta(seconds=rng.randint(-DAY, 12 * DAY))
        elif p < 0.8:  # older than any feature row
            t = BASE - pd.Timedelta(seconds=rng.randint(1, 30 * DAY))
        elif p < 0.9:  # long after every row: beyond any ttl
            t = BASE + pd.Timedelta(seconds=rng.randint(20 * DAY, 60 * DAY))
        else:  # unknown entities
            row["user_id"] = 900_000 + rng.randint(0, 9)
            if has_items:
                row["item_id"] = "zz-unknown"
            t = BASE + pd.Timedelta(seconds=rng.randint(0, 10 * DAY))
        row[time_col] = t
        row["label"] = None if rng.random() < 0.1 else round(rng.random(), 4)
        rows.append(row)
    for _ in range(rng.randint(1, 5)):  # exact duplicate entity rows stay separate rows
        rows.insert(rng.randint(0, len(rows)), dict(rng.choice(rows)))
    row_ids = rng.sample(range(100_000), len(rows))
    columns = ["row_id", "user_id", "region", *(["item_id"] if has_items else []), time_col, "label"]
    df = pd.DataFrame(
        {c: [rid if c == "row_id" else r[c] for rid, r in zip(row_ids, rows, strict=True)] for c in columns}
    )
    df = normalize_frame(df, entity_kinds(df.columns, time_col))
    if scenario.seed % 4 == 3:  # naive entity times are UTC
        df[time_col] = df[time_col].dt.tz_localize(None)
    elif scenario.seed % 4 == 1:  # the same instants, in another time zone
        df[time_col] = df[time_col].dt.tz_convert("America/New_York")
    return df


def entity_kinds(columns: Any, time_col: str) -> dict[str, str]:
    known = {"row_id": "int", "user_id": "int", "region": "string", "item_id": "string", "label": "float"}
    return {c: "timestamp" if c == time_col else known[c] for c in columns}


def requested_features(scenario: Scenario) -> list[tuple[str, str]]:
    rng = random.Random(scenario.seed * 31)
    pairs = [(g, f) for g, spec in scenario.specs.items() for f in spec.features]
    rng.shuffle(pairs)
    if scenario.seed % 3 == 0:
        pairs = pairs[: len(pairs) - 2]
    return pairs


@pytest.mark.parametrize("seed", SEEDS)
def test_store_state_matches_reference(fs: FeatureStore, seed: int) -> None:
    """The written state itself (every visible row), so a write bug is not reported as a join bug."""
    scenario = make_scenario(seed)
    groups, refs = build_store(fs, scenario)
    for name, group in groups.items():
        got = read_store(group, scenario.specs[name], history=True)
        expected = normalize_frame(refs[name].read(history=True), scenario.specs[name].kinds())
        assert_frames_equal(got, expected, obj=f"seed {seed} {name} read(history=True)")


@pytest.mark.parametrize("seed", SEEDS)
def test_training_data_matches_reference(fs: FeatureStore, seed: int) -> None:
    scenario = make_scenario(seed)
    _, refs = build_store(fs, scenario)
    time_col = "event_time" if seed % 2 == 0 else "request_time"
    entity_df = make_entity_df(scenario, refs, time_col)
    pairs = requested_features(scenario)
    names = [f"{g}.{f}" for g, f in pairs]

    ds = fs.get_training_data(entity_df, features=names, event_time_column=time_col)
    assert len(ds) == len(entity_df)
    got = ds.to_pandas()
    assert len(got) == len(entity_df)
    # the order of the feature columns is checked by test_feature_columns_in_requested_order
    assert list(got.columns)[: len(entity_df.columns)] == list(entity_df.columns)
    assert sorted(got.columns[len(entity_df.columns) :]) == sorted(f for _, f in pairs)
    got = got[[*entity_df.columns, *(f for _, f in pairs)]]
    assert got["row_id"].tolist() == entity_df["row_id"].tolist(), "rows not in entity_df's order"

    # no value may come from a row after the entity time (or outside the ttl): every non-NULL value
    # must be the value of some qualifying visible row of that entity
    visible = {name: ref.visible_rows() for name, ref in refs.items()}
    for i in range(len(got)):
        t = to_utc(entity_df[time_col].iloc[i])
        for g, f in pairs:
            value = got[f].iloc[i]
            if py_value(value) is None:
                continue
            ref = refs[g]
            keys = tuple(py_value(entity_df[k].iloc[i]) for k in ref.keys)
            sources = [
                r
                for r in visible[g]
                if r.keys == keys
                and r.event_time <= t
                and (ref.ttl is None or t - r.event_time <= ref.ttl)
                and values_equal(r.values[f], value)
            ]
            assert sources, (
                f"seed {seed}: row_id {entity_df['row_id'].iloc[i]} keys {keys} at {t}: {g}.{f} = {value!r} "
                f"comes from no row at or before the entity time within the ttl; expected "
                f"{pick_row(ref, visible[g], keys, t)}; rows of that entity: "
                f"{sorted((r.event_time, r.values[f]) for r in visible[g] if r.keys == keys)}"
            )

    expected = reference_training_data(entity_df, refs, pairs, time_col)
    kinds = entity_kinds(entity_df.columns, time_col)
    for g, f in pairs:
        kinds[f] = scenario.specs[g].kinds()[f]
    assert_frames_equal(normalize_frame(got, kinds), normalize_frame(expected, kinds), obj=f"seed {seed}")


def _t(hhmmss: str) -> pd.Timestamp:
    return pd.Timestamp(f"2024-01-01 {hhmmss}", tz="UTC")


def test_hand_computed_training_set(fs: FeatureStore) -> None:
    """A tiny fixed case with the expected values written out (independent of the reference)."""
    users = fs.create_feature_group("users", entity_keys=["user_id"], event_time="event_time")
    users.create_features_from_schema({"clicks": "int64", "country": "string"})
    pairs = fs.create_feature_group("pairs", entity_keys=["user_id", "region"], event_time="ts", ttl="1h")
    pairs.create_features_from_schema({"spend": "float64"})
    users.write(
        pd.DataFrame(
            {
                "user_id": [1, 1, 2],
                "event_time": [_t("10:00"), _t("11:00"), _t("10:00")],
                "clicks": pd.array([5, None, 7], dtype="Int64"),  # a stored NULL at 11:00: no fallback
                "country": ["de", "fr", None],
            }
        )
    )
    pairs.write(
        pd.DataFrame({"user_id": [1, 1], "region": ["eu", "us"], "ts": [_t("10:00"), _t("10:30")], "spend": [1.5, 2.5]})
    )
    entity_df = pd.DataFrame(
        {
            "row_id": [30, 10, 20, 0, 50, 40, 60],
            "user_id": [1, 1, 1, 2, 1, 3, 2],
            "region": ["eu", "eu", "eu", "eu", "us", "eu", "us"],
            "event_time": [
                _t("10:59:59"),
                _t("11:00"),  # exactly the 1h ttl of pairs: inclusive
                _t("11:00:01"),  # one second past it
                _t("09:00"),  # older than any feature row
                _t("10:30"),  # exactly a feature row's time
                _t("12:00"),  # unknown entity
                _t("23:00"),  # users has no ttl
            ],
        }
    )
    got = fs.get_training_data(entity_df, features=["pairs.spend", "users.clicks", "users.country"]).to_pandas()
    expected = entity_df.assign(
        spend=[1.5, 1.5, None, None, 2.5, None, None],
        clicks=[5, None, None, None, 5, None, 7],
        country=["de", "fr", "fr", None, "de", None, None],
    )
    kinds = {"row_id": "int", "user_id": "int", "region": "string", "event_time": "timestamp"}
    kinds |= {"spend": "float", "clicks": "int", "country": "string"}
    assert list(got.columns) == list(expected.columns)
    assert_frames_equal(normalize_frame(got, kinds), normalize_frame(expected, kinds))


def test_feature_columns_in_requested_order(fs: FeatureStore) -> None:
    """One column per requested feature, in the order requested, even across groups."""
    a = fs.create_feature_group("ga", entity_keys=["user_id"])
    a.create_features_from_schema({"a1": "int64", "a2": "int64"})
    b = fs.create_feature_group("gb", entity_keys=["user_id"])
    b.create_features_from_schema({"b1": "int64"})
    a.write([{"user_id": 1, "event_time": _t("10:00"), "a1": 1, "a2": 2}])
    b.write([{"user_id": 1, "event_time": _t("10:00"), "b1": 3}])
    entity_df = pd.DataFrame({"user_id": [1], "event_time": [_t("11:00")]})
    got = fs.get_training_data(entity_df, features=["ga.a2", "gb.b1", "ga.a1"]).to_pandas()
    assert list(got.columns) == ["user_id", "event_time", "a2", "b1", "a1"]
    assert got[["a2", "b1", "a1"]].iloc[0].tolist() == [2, 3, 1]
