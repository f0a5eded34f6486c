"""Aggregation values against pandas/numpy on the same rows: whole group, windows, group_by,
rolling periods, every dtype, derived features, empty and single-row groups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from analysis_reference import (
    DAY,
    END,
    START,
    assert_values,
    close,
    group_key,
    in_window,
    metrics,
    rolling_reference,
    span,
)

from raise_ import Aggregation, FeatureStore
from raise_.client.group import FeatureGroup
from raise_.errors import FeatureNotFoundError, InvalidAnalysisError

NUMERIC = [
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "stddev",
    "variance",
    "null_rate",
    "distinct_count",
    "percentile_50",
    "percentile_99",
    "percentile_12.5",
]
ALL_SIMPLE = ["count", "sum", "avg", "min", "max", "stddev", "variance", "null_rate", "distinct_count"]
TEXT = ["count", "min", "max", "null_rate", "distinct_count"]

BY_DTYPE = [
    pytest.param("click_count", NUMERIC, id="int64-with-nulls"),
    pytest.param("level", NUMERIC, id="int64-small-range"),
    pytest.param("revenue", NUMERIC, id="float64-with-nulls"),
    pytest.param("big", ["count", "avg", "stddev", "variance", "percentile_50"], id="float64-large-offset"),
    pytest.param("constant", NUMERIC, id="constant"),
    pytest.param("ctr", NUMERIC, id="derived-ctr"),
    pytest.param("rate@v2", NUMERIC, id="derived-second-version"),
    pytest.param("latency@v1", NUMERIC, id="stored-first-version"),
    pytest.param("is_premium", [*NUMERIC[:9], "percentile_30"], id="bool"),
    pytest.param("country", TEXT, id="string"),
    pytest.param("tier", TEXT, id="derived-string"),
]


@pytest.mark.parametrize(("feature", "names"), BY_DTYPE)
def test_whole_group_metrics_match_pandas(signals: FeatureGroup, frame: pd.DataFrame, feature: str, names: list[str]):
    result = signals.analyze(Aggregation(feature=feature, metrics=names))
    # Around 1e9, DuckDB's and numpy's summation orders differ in the last digits.
    rel = 1e-6 if feature == "big" else 1e-9
    assert_values(result.metrics, metrics(frame[feature], names), rel=rel, where=feature)


def test_an_integer_sum_is_exact(signals: FeatureGroup, frame: pd.DataFrame):
    result = signals.analyze(Aggregation(feature="click_count", metrics=["sum", "count"]))
    assert result.metrics == {"sum": int(frame["click_count"].sum()), "count": int(frame["click_count"].count())}
    assert isinstance(result.metrics["sum"], int)


def test_bool_metrics_count_true_as_one(signals: FeatureGroup, frame: pd.DataFrame):
    result = signals.analyze(Aggregation(feature="is_premium", metrics=["sum", "avg", "min", "max"]))
    present = frame["is_premium"].dropna()
    assert result.metrics == {
        "sum": pytest.approx(float(present.sum())),
        "avg": pytest.approx(float(present.mean())),
        "min": False,
        "max": True,
    }


def test_fs_analyze_takes_features_by_path(store: FeatureStore, signals: FeatureGroup, frame: pd.DataFrame):
    by_path = store.analyze(Aggregation(feature="user-signals.ctr", metrics=["count", "avg", "percentile_90"]))
    by_group = signals.analyze(Aggregation(feature="ctr", metrics=["count", "avg", "percentile_90"]))
    assert by_path.metrics == by_group.metrics
    assert_values(by_path.metrics, metrics(frame["ctr"], ["count", "avg", "percentile_90"]))
    assert by_path.group == "acme/mlplatform/recommendation/user-signals"


def test_fs_analyze_group_by_path(store: FeatureStore, frame: pd.DataFrame):
    result = store.analyze(
        Aggregation(feature="user-signals.revenue", metrics=["count", "sum"], group_by="user-signals.country")
    )
    expected = {
        group_key(k): metrics(g["revenue"], ["count", "sum"]) for k, g in frame.groupby("country", dropna=False)
    }
    assert result.metrics.keys() == expected.keys()
    for key, values in expected.items():
        assert_values(result.metrics[key], values, where=str(key))


# -- windows ------------------------------------------------------------------------------------

WINDOWS = [
    pytest.param("7d", None, END, id="7d-default-end-is-newest-event"),
    pytest.param("7d", END.to_pydatetime(), END, id="7d-explicit-end-at-newest"),
    pytest.param("7d", (END - 10 * DAY).to_pydatetime(), END - 10 * DAY, id="7d-explicit-end-on-a-row"),
    pytest.param("36h", "2024-03-20T06:00:00", pd.Timestamp("2024-03-20T06:00:00", tz="UTC"), id="naive-iso-end"),
    pytest.param("2h", "2024-03-20T06:00:00+02:00", pd.Timestamp("2024-03-20T04:00:00", tz="UTC"), id="offset-end"),
    pytest.param("7d", "2024-02-01", pd.Timestamp("2024-02-01", tz="UTC"), id="empty-window-before-the-data"),
    pytest.param("400d", None, END, id="window-wider-than-the-data"),
]


@pytest.mark.parametrize(("window", "end", "resolved"), WINDOWS)
@pytest.mark.parametrize("feature", ["revenue", "ctr", "country"])
def test_window_keeps_rows_from_end_minus_window_to_end(
    signals: FeatureGroup, frame: pd.DataFrame, window: str, end: Any, resolved: pd.Timestamp, feature: str
):
    names = TEXT if feature == "country" else ["count", "sum", "avg", "stddev", "null_rate", "percentile_75"]
    result = signals.analyze(Aggregation(feature=feature, metrics=names, window=window, end=end))
    rows = in_window(frame, span(window), resolved)
    assert_values(result.metrics, metrics(rows[feature], names), where=f"{window} to {resolved}")
    assert result.data["window_end"] == resolved
    assert result.data["window_start"] == resolved - span(window)


def test_window_leaves_out_a_row_exactly_at_its_start(signals: FeatureGroup, frame: pd.DataFrame):
    # A row lies at END - 7d exactly; the window (END - 7d, END] leaves it out (7 days, not 8).
    assert (frame["event_time"] == END - 7 * DAY).sum() == 1
    result = signals.analyze(Aggregation(feature="big", metrics=["count"], window="7d"))
    expected = int(((frame["event_time"] > END - 7 * DAY) & frame["big"].notna()).sum())
    assert result.metrics["count"] == expected


@pytest.mark.parametrize(
    ("end", "resolved"),
    [
        pytest.param((END - 10 * DAY).isoformat(), END - 10 * DAY, id="a-time"),
        pytest.param("now", END + 100_000 * DAY, id="now-after-every-row"),
    ],
)
def test_end_without_a_window_keeps_every_row_up_to_it(
    signals: FeatureGroup, frame: pd.DataFrame, end: str, resolved: pd.Timestamp
):
    names = ["count", "sum", "percentile_50"]
    result = signals.analyze(Aggregation(feature="revenue", metrics=names, end=end))
    assert_values(result.metrics, metrics(frame.loc[frame["event_time"] <= resolved, "revenue"], names))
    assert (result.data["window_start"], result.data["window_end"]) == (None, None)


def test_a_window_ending_now_is_empty_for_old_data(signals: FeatureGroup):
    result = signals.analyze(Aggregation(feature="revenue", metrics=["count", "avg"], window="7d", end="now"))
    assert result.metrics == {"count": 0, "avg": None}
    assert result.data["window_end"] > END.to_pydatetime()


def test_an_empty_window_has_zero_counts_and_no_values(signals: FeatureGroup):
    result = signals.analyze(Aggregation(feature="revenue", metrics=ALL_SIMPLE, window="1d", end="2020-01-01"))
    assert result.metrics == {m: 0 if m in ("count", "distinct_count") else None for m in ALL_SIMPLE}


# -- group_by -----------------------------------------------------------------------------------

GROUPINGS = [
    pytest.param("country", "revenue", id="string-column-with-null-group"),
    pytest.param("user_id", "click_count", id="entity-key"),
    pytest.param("is_premium", "ctr", id="bool-column-derived-feature"),
    pytest.param(["country", "is_premium"], "revenue", id="two-columns"),
    pytest.param(["user_id", "country"], "ctr", id="entity-key-and-column"),
    pytest.param("variant", "revenue", id="a-group-with-only-nulls"),
    pytest.param("tier", "ctr", id="derived-text-column"),
    pytest.param(["tier", "user_id"], "revenue", id="derived-column-and-entity-key"),
]


def _expected_groups(rows: pd.DataFrame, by: list[str], feature: str, names: list[str]) -> list[dict[str, Any]]:
    out = []
    for key, part in rows.groupby(by, dropna=False, sort=False):
        labels = key if isinstance(key, tuple) else (key,)
        out.append({**{c: group_key(v) for c, v in zip(by, labels, strict=True)}, **metrics(part[feature], names)})
    # The engine orders groups by their values, nulls last.
    return sorted(out, key=lambda r: tuple((r[c] is None, r[c] if r[c] is not None else 0) for c in by))


@pytest.mark.parametrize(("group_by", "feature"), GROUPINGS)
def test_group_by_matches_pandas_groupby(signals: FeatureGroup, frame: pd.DataFrame, group_by: Any, feature: str):
    names = ["count", "sum", "avg", "min", "max", "stddev", "null_rate", "distinct_count", "percentile_90"]
    result = signals.analyze(Aggregation(feature=feature, metrics=names, group_by=group_by))
    by = [group_by] if isinstance(group_by, str) else group_by
    expected = _expected_groups(frame, by, feature, names)
    assert [{c: r[c] for c in by} for r in result.rows] == [{c: r[c] for c in by} for r in expected]
    for got, want in zip(result.rows, expected, strict=True):
        assert_values({m: got[m] for m in names}, {m: want[m] for m in names}, where=str(want))


def test_group_by_with_window(signals: FeatureGroup, frame: pd.DataFrame):
    end = END - 3 * DAY
    result = signals.analyze(
        Aggregation(feature="revenue", metrics=["count", "avg"], window="7d", end=end.isoformat(), group_by="country")
    )
    expected = _expected_groups(in_window(frame, 7 * DAY, end), ["country"], "revenue", ["count", "avg"])
    assert result.rows == [pytest.approx(r) if r["country"] else r for r in expected]


def test_grouped_metrics_are_keyed_by_group_value(signals: FeatureGroup, frame: pd.DataFrame):
    one = signals.analyze(Aggregation(feature="click_count", metrics=["count"], group_by="country"))
    assert one.metrics == {
        group_key(k): {"count": int(g["click_count"].count())} for k, g in frame.groupby("country", dropna=False)
    }
    two = signals.analyze(Aggregation(feature="click_count", metrics=["count"], group_by=["country", "is_premium"]))
    assert two.metrics == {
        (group_key(a), group_key(b)): {"count": int(g["click_count"].count())}
        for (a, b), g in frame.groupby(["country", "is_premium"], dropna=False)
    }


def test_group_by_on_an_empty_window_has_no_rows(signals: FeatureGroup):
    result = signals.analyze(Aggregation(feature="revenue", metrics=["count"], group_by="country", end="2020-01-01"))
    assert result.rows == []


# -- empty and single-row groups -----------------------------------------------------------------


@pytest.mark.parametrize("feature", ["revenue", "ctr", "country", "is_premium"])
def test_a_group_without_writes_has_zero_counts_and_no_values(no_writes: FeatureGroup, feature: str):
    names = TEXT if feature == "country" else [*ALL_SIMPLE, "percentile_50"]
    result = no_writes.analyze(Aggregation(feature=feature, metrics=names))
    assert result.metrics == {m: 0 if m in ("count", "distinct_count") else None for m in names}
    windowed = no_writes.analyze(Aggregation(feature=feature, metrics=["count"], window="7d"))
    assert windowed.metrics == {"count": 0}
    grouped = no_writes.analyze(Aggregation(feature=feature, metrics=["count"], group_by="user_id"))
    assert grouped.rows == []
    rolling = no_writes.analyze(Aggregation(feature=feature, metrics=["count"], window="1d", rolling=True, periods=3))
    assert rolling.rows == []


@pytest.mark.parametrize("feature", ["revenue", "click_count", "ctr", "is_premium", "country", "score"])
def test_a_single_row_group(one_row: FeatureGroup, frame: pd.DataFrame, feature: str):
    names = TEXT if feature == "country" else [*ALL_SIMPLE, "percentile_50", "percentile_1"]
    result = one_row.analyze(Aggregation(feature=feature, metrics=names))
    row = frame.iloc[:1]
    if feature == "score":  # the one row's score is finite and set
        assert not row["score_null"].iloc[0] and np.isfinite(row["score"].iloc[0])
    assert_values(result.metrics, metrics(row[feature], names))
    assert result.metrics["stddev"] is None if "stddev" in names else True
    rolled = one_row.analyze(Aggregation(feature=feature, metrics=["count"], window="1d", rolling=True, periods=2))
    assert [r["count"] for r in rolled.rows] == [0, 1]


# -- rolling ------------------------------------------------------------------------------------

ROLLING = [
    pytest.param("revenue", NUMERIC, "1d", 7, None, id="revenue-1d-x7"),
    pytest.param("click_count", NUMERIC, "3d", 4, None, id="int-3d-x4"),
    pytest.param("ctr", NUMERIC, "2d", 5, None, id="derived-2d-x5"),
    pytest.param("is_premium", ALL_SIMPLE, "1d", 3, None, id="bool"),
    pytest.param("country", TEXT, "1d", 4, None, id="string"),
    pytest.param("big", ["count", "avg", "stddev", "variance"], "2d", 6, None, id="large-offset-variance"),
    pytest.param("revenue", ["count", "sum", "null_rate"], "12h", 10, "2024-03-15T09:30:00", id="explicit-end"),
    pytest.param("revenue", [*ALL_SIMPLE, "percentile_95"], "1d", 5, "2024-03-03T00:00:00", id="periods-before-data"),
]


@pytest.mark.parametrize(("feature", "names", "window", "periods", "end"), ROLLING)
def test_rolling_matches_pandas_per_period_and_over_periods(
    signals: FeatureGroup,
    frame: pd.DataFrame,
    feature: str,
    names: list[str],
    window: str,
    periods: int,
    end: str | None,
):
    spec = Aggregation(feature=feature, metrics=names, window=window, rolling=True, periods=periods, end=end)
    result = signals.analyze(spec)
    resolved = END if end is None else pd.Timestamp(end, tz="UTC")
    expected = rolling_reference(frame, feature, names, span(window), periods, resolved)
    assert len(result.rows) == periods
    assert result.data["window_end"] == resolved
    for got, want in zip(result.rows, expected, strict=True):
        assert got["date"] == want["date"] and got["period_end"] == want["period_end"]
        values = {k: v for k, v in want.items() if k not in ("date", "period_end")}
        assert_values({k: got[k] for k in values}, values, rel=1e-7, where=str(want["date"]))


def test_rolling_periods_are_calendar_days_opening_at_midnight(signals: FeatureGroup, frame: pd.DataFrame):
    # Rows lie exactly at END (midnight), END - 1d and END - 2d: each opens the day it labels.
    result = signals.analyze(Aggregation(feature="big", metrics=["count"], window="1d", rolling=True, periods=3))
    t = frame["event_time"]
    starts = [END - k * DAY for k in (2, 1, 0)]
    assert [r["date"] for r in result.rows] == starts
    assert [r["count"] for r in result.rows] == [
        int(((t >= s) & (t < s + DAY) & (t <= END) & frame["big"].notna()).sum()) for s in starts
    ]


def test_rolling_metrics_are_keyed_by_period_start(signals: FeatureGroup):
    result = signals.analyze(Aggregation(feature="revenue", metrics=["count"], window="1d", rolling=True, periods=2))
    assert list(result.metrics) == [END - DAY, END]
    first = result.metrics[END - DAY]
    assert set(first) == {"count", "rolling_count"}


def test_rolling_by_group(signals: FeatureGroup, frame: pd.DataFrame):
    names = ["count", "sum", "avg", "distinct_count", "percentile_50"]
    periods, width = 3, span("2d")
    result = signals.analyze(
        Aggregation(
            feature="click_count", metrics=names, window="2d", rolling=True, periods=periods, group_by="country"
        )
    )
    recent = frame[(frame["event_time"] > END - (2 * periods - 1) * width) & (frame["event_time"] <= END)]
    present = sorted({group_key(v) for v in recent["country"]}, key=lambda v: (v is None, v or ""))
    assert [r["country"] for r in result.rows] == [c for c in present for _ in range(periods)]
    for country in present:
        part = frame[frame["country"].isna()] if country is None else frame[frame["country"] == country]
        expected = rolling_reference(part, "click_count", names, width, periods, END)
        got = [r for r in result.rows if r["country"] == country]
        for g, w in zip(got, expected, strict=True):
            assert g["date"] == w["date"]
            values = {k: v for k, v in w.items() if k not in ("date", "period_end")}
            assert_values({k: g[k] for k in values}, values, where=f"{country}")


def test_rolling_over_a_derived_feature_via_fs(store: FeatureStore, frame: pd.DataFrame):
    result = store.analyze(
        Aggregation(feature="user-signals.ctr", metrics=["avg", "count"], window="5d", rolling=True, periods=2)
    )
    expected = rolling_reference(frame, "ctr", ["avg", "count"], span("5d"), 2, END)
    for got, want in zip(result.rows, expected, strict=True):
        assert close(got["rolling_avg"], want["rolling_avg"]) and got["count"] == want["count"]


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["sum", "avg", "stddev", "variance", "percentile_50"])
def test_a_numeric_metric_of_a_string_feature_is_invalid(signals: FeatureGroup, metric: str):
    with pytest.raises(InvalidAnalysisError) as err:
        signals.analyze(Aggregation(feature="country", metrics=["count", metric]))
    assert err.value.code == "INVALID_ANALYSIS"
    assert err.value.details["feature"] == "country" and err.value.details["metric"] == metric


def test_a_numeric_metric_of_an_entity_key_is_invalid(signals: FeatureGroup):
    with pytest.raises(InvalidAnalysisError):
        signals.analyze(Aggregation(feature="event_time", metrics=["avg"]))


def test_an_unknown_feature_is_not_found(signals: FeatureGroup, store: FeatureStore):
    with pytest.raises(FeatureNotFoundError) as err:
        signals.analyze(Aggregation(feature="clicks", metrics=["count"]))
    assert err.value.code == "FEATURE_NOT_FOUND"
    with pytest.raises(FeatureNotFoundError):
        signals.analyze(Aggregation(feature="revenue", metrics=["count"], group_by="region"))
    with pytest.raises(FeatureNotFoundError):
        store.analyze(Aggregation(feature="user-signals.revenue@v7", metrics=["count"]))


def test_window_end_is_reported_as_a_datetime(signals: FeatureGroup):
    result = signals.analyze(Aggregation(feature="revenue", metrics=["count"], window="7d"))
    assert isinstance(result.data["window_end"], datetime)
    assert result.data["window_end"] > START


@pytest.mark.parametrize("group_by", [None, "country"])
def test_nan_and_inf_count_as_values_but_no_metric_uses_them(
    signals: FeatureGroup, frame: pd.DataFrame, group_by: str | None
):
    names = ["count", "null_rate", "sum", "avg", "min", "max", "stddev", "percentile_90"]
    result = signals.analyze(Aggregation(feature="score", metrics=names, group_by=group_by))
    score = frame["score"]
    assert np.isnan(score).any() and np.isinf(score).any()  # the data really holds both

    def expected(rows: pd.DataFrame) -> dict[str, Any]:
        values = rows["score"][~rows["score_null"]]  # NaN and ±inf are values; nulls are in the mask
        finite = values[np.isfinite(values)]
        return {
            "count": len(values),
            "null_rate": float(rows["score_null"].mean()),
            "sum": float(finite.sum()),
            "avg": float(finite.mean()),
            "min": float(finite.min()),
            "max": float(finite.max()),
            "stddev": float(finite.std(ddof=1)),
            "percentile_90": float(np.percentile(finite, 90)),
        }

    if group_by is None:
        assert_values(result.metrics, expected(frame), rel=1e-9, where="score")
        return
    assert result.rows
    for row in result.rows:
        rows = (
            frame[frame["country"] == row["country"]] if row["country"] is not None else frame[frame["country"].isna()]
        )
        assert_values({k: row[k] for k in names}, expected(rows), rel=1e-9, where=str(row["country"]))


# -- distinct counts of floats, group columns named like internals or payload fields -------------


def test_distinct_count_leaves_nan_and_inf_out(signals: FeatureGroup, frame: pd.DataFrame):
    valued = frame[~frame["score_null"]]  # NaN and ±inf are values of score; its nulls are in the mask
    finite = valued[np.isfinite(valued["score"].to_numpy(dtype="float64"))]
    assert len(finite) < len(valued)
    whole = signals.analyze(Aggregation(feature="score", metrics=["count", "distinct_count"]))
    assert whole.metrics == {"count": len(valued), "distinct_count": int(finite["score"].nunique())}
    grouped = signals.analyze(Aggregation(feature="score", metrics=["distinct_count"], group_by="country"))
    for row in grouped.rows:
        part = (
            finite[finite["country"].isna()] if row["country"] is None else finite[finite["country"] == row["country"]]
        )
        assert row["distinct_count"] == int(part["score"].nunique()), row["country"]
    periods = 15
    rolling = signals.analyze(
        Aggregation(feature="score", metrics=["distinct_count"], window="1d", rolling=True, periods=periods)
    )
    expected = rolling_reference(finite, "score", ["distinct_count"], DAY, periods, END)
    assert [(r["distinct_count"], r["rolling_distinct_count"]) for r in rolling.rows] == [
        (e["distinct_count"], e["rolling_distinct_count"]) for e in expected
    ]


def test_rolling_groups_order_numbers_by_value(signals: FeatureGroup, frame: pd.DataFrame):
    result = signals.analyze(
        Aggregation(feature="revenue", metrics=["count"], window="7d", rolling=True, periods=2, group_by="level")
    )
    assert [r["level"] for r in result.rows] == [level for level in [*range(11), None] for _ in range(2)]


INTERNAL_NAMES = ["v", "fv", "k", "n", "c", "cf", "s", "mean", "m2", "mn", "mx", "_percentiles", "_sentinel"]
PAYLOAD_NAMES = ["date", "period_end", "sum", "rolling_sum"]


@pytest.fixture
def grid(fs: FeatureStore) -> tuple[FeatureGroup, pd.DataFrame]:
    """A float ``amount`` and text columns named like the SQL aliases of the aggregation and like the
    fields of its result rows."""
    rng = np.random.default_rng(3)
    n = 48
    group = fs.create_feature_group("grid", entity_keys=["row_id"], event_time="event_time")
    group.create_features_from_schema({"amount": "float64", **dict.fromkeys(INTERNAL_NAMES + PAYLOAD_NAMES, "string")})
    amount = pd.Series(rng.normal(10.0, 3.0, n), dtype="Float64")
    amount[[3, 17]] = pd.NA
    data = pd.DataFrame(
        {
            "row_id": np.arange(n),
            "event_time": END - pd.to_timedelta(np.arange(n), unit="h"),  # within the last 2 days
            "amount": amount,
            **{name: [("a", "b", "c")[(j // (i + 1)) % 3] for j in range(n)] for i, name in enumerate(INTERNAL_NAMES)},
            **{name: ["x"] * n for name in PAYLOAD_NAMES},
        }
    )
    group.write(data)
    return group, data


@pytest.mark.parametrize("column", INTERNAL_NAMES)
def test_a_group_column_named_like_an_internal_alias(grid: tuple[FeatureGroup, pd.DataFrame], column: str):
    group, data = grid
    names = ["count", "sum", "avg", "min", "max", "stddev", "variance", "null_rate", "distinct_count", "percentile_50"]
    result = group.analyze(Aggregation(feature="amount", metrics=names, group_by=column))
    assert [r[column] for r in result.rows] == ["a", "b", "c"]
    for row in result.rows:
        assert_values({m: row[m] for m in names}, metrics(data.loc[data[column] == row[column], "amount"], names))
    rolled = group.analyze(
        Aggregation(feature="amount", metrics=names, window="1d", rolling=True, periods=2, group_by=column)
    )
    for value in ("a", "b", "c"):
        got = [r for r in rolled.rows if r[column] == value]
        want = rolling_reference(data[data[column] == value], "amount", names, DAY, 2, END)
        assert len(got) == 2
        for g, w in zip(got, want, strict=True):
            assert g["date"] == w["date"]
            assert_values(
                {k: g[k] for k in w if k not in ("date", "period_end")},
                {k: v for k, v in w.items() if k not in ("date", "period_end")},
                where=f"{column}={value}",
            )


@pytest.mark.parametrize("rolling", [False, True])
@pytest.mark.parametrize("column", PAYLOAD_NAMES)
def test_a_group_column_named_like_a_result_field_is_invalid(
    grid: tuple[FeatureGroup, pd.DataFrame], column: str, rolling: bool
):
    group, _ = grid
    window = {"window": "1d", "rolling": True, "periods": 2} if rolling else {}
    with pytest.raises(InvalidAnalysisError) as err:
        group.analyze(Aggregation(feature="amount", metrics=["sum", "count"], group_by=["n", column], **window))
    assert err.value.code == "INVALID_ANALYSIS"
    assert err.value.details == {"group_by": column, "clash": column} and repr(column) in err.value.message
