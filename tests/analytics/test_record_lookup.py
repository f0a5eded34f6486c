"""RecordLookup against the rows themselves: a seeded sample is reproducible and a subset of the
filtered rows; a filter is parsed (a feature outside ``features`` works, SQL injection fails with
a coded error and changes nothing); ``limit`` gives the first rows in key and time order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from analysis_reference import group_key

from raise_ import FeatureStore, RecordLookup
from raise_.client.group import FeatureGroup
from raise_.errors import InvalidAnalysisError, InvalidExpressionError, RaiseError

FEATURES = ["revenue", "ctr", "country", "is_premium", "click_count"]


def _row_value(row: pd.Series, column: str) -> Any:
    value = row[column]
    return group_key(value) if not isinstance(value, pd.Timestamp) else value


def _as_records(rows: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    return [{c: _row_value(r, c) for c in ["user_id", "event_time", *columns]} for _, r in rows.iterrows()]


def _assert_records(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.keys() == w.keys()
        for k in w:
            if isinstance(w[k], float):
                assert g[k] == pytest.approx(w[k], rel=1e-12), (k, w)
            else:
                assert g[k] == w[k], (k, w)


def _by_key(frame: pd.DataFrame) -> dict[tuple[int, pd.Timestamp], pd.Series]:
    return {(int(r["user_id"]), r["event_time"]): r for _, r in frame.iterrows()}


# -- limit --------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 7, 100])
def test_limit_gives_the_first_rows_in_key_and_time_order(signals: FeatureGroup, frame: pd.DataFrame, limit: int):
    result = signals.analyze(RecordLookup(features=FEATURES, limit=limit))
    first = frame.sort_values(["user_id", "event_time"]).head(limit)
    assert result.data["columns"] == ["user_id", "event_time", *FEATURES]
    _assert_records(result.records, _as_records(first, FEATURES))


def test_the_default_is_the_first_100_rows_of_every_stored_feature(signals: FeatureGroup, frame: pd.DataFrame):
    result = signals.analyze(RecordLookup())
    assert len(result.records) == 100
    first = frame.sort_values(["user_id", "event_time"]).head(100)
    assert [(r["user_id"], r["event_time"]) for r in result.records] == list(
        zip(first["user_id"], first["event_time"], strict=True)
    )
    assert "revenue" in result.data["columns"] and "latency" in result.data["columns"]


def test_versions_by_name(signals: FeatureGroup, frame: pd.DataFrame):
    result = signals.analyze(RecordLookup(features=["latency@v1", "latency", "rate@v2"], limit=20))
    first = frame.sort_values(["user_id", "event_time"]).head(20).rename(columns={"latency@v2": "latency"})
    _assert_records(result.records, _as_records(first, ["latency@v1", "latency", "rate@v2"]))


# -- filters ------------------------------------------------------------------------------------

FILTERS = [
    pytest.param("country = 'US' AND revenue > 20", lambda f: (f["country"] == "US") & (f["revenue"] > 20), id="and"),
    pytest.param("ctr > 0.5", lambda f: f["ctr"] > 0.5, id="derived-feature"),
    pytest.param("tier = 'high' AND ctr < 0.3", lambda f: (f["tier"] == "high") & (f["ctr"] < 0.3), id="derived-text"),
    pytest.param("user_id IN (3, 5, 8)", lambda f: f["user_id"].isin([3, 5, 8]), id="entity-key"),
    pytest.param("revenue IS NULL", lambda f: f["revenue"].isna(), id="is-null"),
    pytest.param("level BETWEEN 2 AND 4 OR is_premium", lambda f: f["level"].between(2, 4) | f["is_premium"], id="or"),
    pytest.param("variant = 'ghost'", lambda f: f["variant"] == "ghost", id="text"),
    pytest.param("country = 'US; DROP TABLE x'", lambda f: f["country"] == "US; DROP TABLE x", id="sql-in-a-literal"),
]


@pytest.mark.parametrize(("text", "keep"), FILTERS)
def test_filter_keeps_the_rows_pandas_keeps(signals: FeatureGroup, frame: pd.DataFrame, text: str, keep):
    # the filter names features that are not among those returned
    result = signals.analyze(RecordLookup(features=["ctr"], filter=text, limit=10_000))
    kept = frame[keep(frame).fillna(False).astype(bool)].sort_values(["user_id", "event_time"])
    assert result.data["columns"] == ["user_id", "event_time", "ctr"]
    _assert_records(result.records, _as_records(kept, ["ctr"]))


def test_a_seeded_sample_is_reproducible_and_a_subset_of_the_filtered_rows(signals: FeatureGroup, frame: pd.DataFrame):
    spec = RecordLookup(features=FEATURES, sample=25, seed=42, filter="country = 'DE' AND click_count >= 3")
    one, two = signals.analyze(spec), signals.analyze(spec, freshness="real_time")
    assert one.records == two.records and len(one.records) == 25
    eligible = _by_key(frame[(frame["country"] == "DE") & (frame["click_count"] >= 3).fillna(False)])
    assert len(eligible) > 25
    keys = [(r["user_id"], r["event_time"]) for r in one.records]
    assert len(set(keys)) == 25 and set(keys) <= set(eligible)
    for record in one.records:
        _assert_records(
            [record], _as_records(pd.DataFrame([eligible[(record["user_id"], record["event_time"])]]), FEATURES)
        )
    other = signals.analyze(RecordLookup(features=FEATURES, sample=25, seed=43, filter=spec.filter))
    assert {(r["user_id"], r["event_time"]) for r in other.records} != set(keys)
    assert (one.data["sample"], one.data["seed"]) == (25, 42)


def test_a_sample_larger_than_the_rows_gives_every_row(signals: FeatureGroup, frame: pd.DataFrame):
    result = signals.analyze(RecordLookup(features=["ctr"], sample=5000, seed=1, filter="variant = 'ghost'"))
    ghosts = frame[frame["variant"] == "ghost"]
    assert sorted((r["user_id"], r["event_time"]) for r in result.records) == sorted(
        zip(ghosts["user_id"], ghosts["event_time"], strict=True)
    )


def test_a_sample_is_stable_under_other_lookups(signals: FeatureGroup):
    # the sample depends on the seed and the rows' keys only, not on the features asked for
    a = signals.analyze(RecordLookup(features=["ctr"], sample=10, seed=9))
    b = signals.analyze(RecordLookup(features=["revenue", "country"], sample=10, seed=9))
    assert [(r["user_id"], r["event_time"]) for r in a.records] == [(r["user_id"], r["event_time"]) for r in b.records]


def test_fs_analyze_by_path(store: FeatureStore, signals: FeatureGroup):
    by_path = store.analyze(RecordLookup(features=["user-signals.ctr", "user-signals.revenue"], limit=5))
    by_group = signals.analyze(RecordLookup(features=["ctr", "revenue"], limit=5))
    assert by_path.records == by_group.records


# -- injection, empty groups, errors -------------------------------------------------------------

INJECTIONS = [
    "x = 1; DROP TABLE t",
    "revenue > 0; DROP TABLE acme__mlplatform__recommendation__user_signals",
    "1=1) OR (1=1",
    "revenue > (SELECT count(*) FROM acme__mlplatform__recommendation__user_signals)",
    "read_csv('/etc/passwd') IS NOT NULL",
    "revenue > 0 UNION SELECT * FROM _raise_commits",
    "country = 'US'' OR 1=1",  # an unterminated string: sqlglot's TokenError, reported coded
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_sql_injection_fails_with_a_coded_error_and_changes_nothing(
    signals: FeatureGroup, frame: pd.DataFrame, text: str
):
    commits = len(signals.commits())
    try:
        signals.analyze(RecordLookup(features=["ctr"], filter=text))
    except RaiseError as exc:
        assert exc.code == "INVALID_EXPRESSION"
    except Exception as exc:  # anything uncoded is the failure this test looks for
        raise AssertionError(f"uncoded {type(exc).__name__}: {exc}") from exc
    else:
        raise AssertionError(f"filter {text!r} ran")
    assert len(signals.commits()) == commits
    assert len(signals.read(history=True, features=["revenue"])) == len(frame)


def test_an_unknown_filter_column_is_named(signals: FeatureGroup):
    with pytest.raises(InvalidExpressionError) as err:
        signals.analyze(RecordLookup(filter="revenu > 1"))
    assert "revenu" in err.value.message


def test_empty_and_single_row_groups(no_writes: FeatureGroup, one_row: FeatureGroup, frame: pd.DataFrame):
    assert no_writes.analyze(RecordLookup(features=["ctr"], sample=3)).records == []
    assert no_writes.analyze(RecordLookup(features=["ctr"], filter="ctr > 0")).records == []
    one = one_row.analyze(RecordLookup(features=FEATURES, sample=3, seed=5))
    _assert_records(one.records, _as_records(frame.iloc[:1], FEATURES))
    assert one_row.analyze(RecordLookup(features=["ctr"], filter="user_id <> user_id")).records == []


@pytest.mark.parametrize(
    "bad",
    [
        {"sample": 0},
        {"sample": 5, "limit": 5},
        {"limit": -1},
        {"seed": "7"},
        {"seed": True},
        {"filter": "  "},
        {"features": []},
        {"features": "ctr"},
    ],
)
def test_bad_record_lookups_are_invalid(bad: dict):
    with pytest.raises(InvalidAnalysisError) as err:
        RecordLookup(**bad)
    assert err.value.code == "INVALID_ANALYSIS"


def test_records_are_plain_values(signals: FeatureGroup):
    records = signals.analyze(RecordLookup(features=["score", "is_premium", "click_count"], limit=300)).records
    for r in records:
        assert r["score"] is None or (isinstance(r["score"], float) and np.isfinite(r["score"]))
        assert r["is_premium"] in (None, True, False)
        assert r["click_count"] is None or isinstance(r["click_count"], int)
