"""Distribution values against numpy: histogram counts and edges (values on edges, a constant
feature, NaN and ±inf left out and counted), percentiles, segments with shared edges, value
counts of text and flags, windows, empty and single-row groups."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from analysis_reference import DAY, END, group_key, in_window, span

from raise_ import Distribution, FeatureStore
from raise_.client.group import FeatureGroup
from raise_.errors import FeatureNotFoundError, InvalidAnalysisError

PERCENTILES = [0, 1, 12.5, 50, 90, 99.9, 100]


def _values(rows: pd.DataFrame, feature: str) -> np.ndarray:
    """The feature's values that are set (NaN and ±inf included), as float64."""
    if feature == "score":
        return rows.loc[~rows["score_null"], "score"].to_numpy(dtype="float64")
    return rows[feature].dropna().astype("float64").to_numpy()


def _nulls(rows: pd.DataFrame, feature: str) -> int:
    return int(rows["score_null"].sum()) if feature == "score" else int(rows[feature].isna().sum())


def _describe(rows: pd.DataFrame, feature: str, bins: int, edges: np.ndarray | None = None) -> dict[str, Any]:
    values = _values(rows, feature)
    finite = values[np.isfinite(values)]
    if edges is None:
        counts, edges = np.histogram(finite, bins=bins) if len(finite) else (np.array([]), np.array([]))
    else:
        counts = np.histogram(finite, bins=edges)[0]
    return {
        "count": len(values),
        "null_count": _nulls(rows, feature),
        "non_finite": int((~np.isfinite(values)).sum()),
        "min": float(finite.min()) if len(finite) else None,
        "max": float(finite.max()) if len(finite) else None,
        "mean": float(finite.mean()) if len(finite) else None,
        "stddev": float(finite.std(ddof=1)) if len(finite) > 1 else None,
        "histogram": {"bin_edges": list(edges), "counts": [int(c) for c in counts]},
        "percentiles": {f"p{p:g}": (float(np.percentile(finite, p)) if len(finite) else None) for p in PERCENTILES},
    }


def _assert_described(got: dict[str, Any], want: dict[str, Any], where: str = "") -> None:
    assert got["histogram"]["counts"] == want["histogram"]["counts"], where
    assert got["histogram"]["bin_edges"] == pytest.approx(want["histogram"]["bin_edges"], rel=1e-12), where
    assert {k: got[k] for k in ("count", "null_count", "non_finite")} == {
        k: want[k] for k in ("count", "null_count", "non_finite")
    }, where
    for k in ("min", "max", "mean", "stddev"):
        assert got[k] == (None if want[k] is None else pytest.approx(want[k], rel=1e-9)), f"{where} {k}"
    assert got["percentiles"] == {
        k: (None if v is None else pytest.approx(v, rel=1e-9, abs=1e-12)) for k, v in want["percentiles"].items()
    }, where


HISTOGRAMS = [
    pytest.param("revenue", 50, id="float-with-nulls-50-bins"),
    pytest.param("level", 10, id="ints-on-every-edge"),
    pytest.param("level", 5, id="ints-on-every-other-edge"),
    pytest.param("level", 3, id="ints-near-inexact-edges"),
    pytest.param("level", 7, id="ints-7-bins"),
    pytest.param("click_count", 12, id="int-poisson"),
    pytest.param("ctr", 20, id="derived-ctr"),
    pytest.param("rate@v2", 8, id="derived-second-version"),
    pytest.param("score", 30, id="nan-and-inf-left-out"),
    pytest.param("constant", 10, id="constant-feature"),
    pytest.param("constant", 1, id="constant-one-bin"),
    pytest.param("big", 9, id="large-offset"),
    pytest.param("latency@v2", 16, id="stored-second-version"),
]


@pytest.mark.parametrize(("feature", "bins"), HISTOGRAMS)
def test_histogram_and_percentiles_match_numpy(signals: FeatureGroup, frame: pd.DataFrame, feature: str, bins: int):
    result = signals.analyze(Distribution(feature=feature, bins=bins, percentiles=PERCENTILES))
    assert result.data["kind"] == "numeric"
    want = _describe(frame, feature, bins)
    _assert_described(result.data, want, feature)
    assert result.histogram == result.data["histogram"]
    assert result.percentiles == result.data["percentiles"]


def test_score_counts_its_nan_and_infinities(signals: FeatureGroup, frame: pd.DataFrame):
    score = frame.loc[~frame["score_null"], "score"]
    assert np.isnan(score).sum() > 0 and np.isposinf(score).sum() > 0 and np.isneginf(score).sum() > 0
    result = signals.analyze(Distribution(feature="score", bins=5))
    assert result.data["non_finite"] == int((~np.isfinite(score)).sum())
    assert sum(result.histogram["counts"]) == int(np.isfinite(score).sum())
    assert result.histogram["bin_edges"][-1] == float(score[np.isfinite(score)].max())


def test_a_constant_feature_gets_the_bins_of_value_plus_minus_half(signals: FeatureGroup, frame: pd.DataFrame):
    result = signals.analyze(Distribution(feature="constant", bins=4, metrics=["histogram"]))
    assert result.histogram == {"bin_edges": [2.5, 2.75, 3.0, 3.25, 3.5], "counts": [0, 0, len(frame), 0]}
    assert np.histogram(frame["constant"], bins=4)[0].tolist() == [0, 0, len(frame), 0]


def test_only_the_metrics_asked_for(signals: FeatureGroup):
    hist = signals.analyze(Distribution(feature="revenue", metrics=["histogram"], bins=3))
    assert "percentiles" not in hist.data and len(hist.histogram["counts"]) == 3
    pct = signals.analyze(Distribution(feature="revenue", metrics=["percentiles"], percentiles=[50]))
    assert "histogram" not in pct.data and list(pct.percentiles) == ["p50"]


@pytest.mark.parametrize(("window", "end"), [("7d", None), ("3d", END - 10 * DAY), ("1d", pd.Timestamp("2020-01-01"))])
def test_windowed_distribution(signals: FeatureGroup, frame: pd.DataFrame, window: str, end: pd.Timestamp | None):
    spec_end = None if end is None else end.isoformat()
    result = signals.analyze(Distribution(feature="ctr", bins=6, percentiles=PERCENTILES, window=window, end=spec_end))
    resolved = END if end is None else (end if end.tzinfo else end.tz_localize("UTC"))
    want = _describe(in_window(frame, span(window), resolved), "ctr", 6)
    _assert_described(result.data, want, f"{window} to {resolved}")
    assert result.data["window_end"] == resolved


# -- segments ----------------------------------------------------------------------------------

SEGMENTS = [
    pytest.param("revenue", "variant", id="text-segments-one-without-values"),
    pytest.param("score", "country", id="with-a-null-segment-and-non-finite"),
    pytest.param("ctr", "is_premium", id="flag-segments-derived-feature"),
    pytest.param("level", "level", id="segment-by-itself"),
    pytest.param("revenue", "tier", id="derived-segments"),
]


def _segments(frame: pd.DataFrame, by: str) -> list[Any]:
    present = {group_key(v) for v in frame[by]}
    named = sorted((v for v in present if v is not None), key=lambda v: (isinstance(v, str), v))
    return named + ([None] if None in present else [])


@pytest.mark.parametrize(("feature", "segment_by"), SEGMENTS)
def test_segments_share_the_overall_edges(signals: FeatureGroup, frame: pd.DataFrame, feature: str, segment_by: str):
    result = signals.analyze(Distribution(feature=feature, bins=7, percentiles=PERCENTILES, segment_by=segment_by))
    overall = _describe(frame, feature, 7)
    _assert_described(result.data, overall, "overall")
    edges = np.asarray(result.histogram["bin_edges"])
    assert [s["segment"] for s in result.segments] == _segments(frame, segment_by)
    for seg in result.segments:
        value = seg["segment"]
        rows = frame[frame[segment_by].isna()] if value is None else frame[frame[segment_by] == value]
        _assert_described(seg, _describe(rows, feature, 7, edges), f"{segment_by}={value}")
        assert seg["histogram"]["bin_edges"] == result.histogram["bin_edges"]
    # every finite value lands in exactly one segment's bins
    assert np.sum([s["histogram"]["counts"] for s in result.segments], axis=0).tolist() == result.histogram["counts"]


def test_a_segment_without_values_has_empty_bins_and_no_percentiles(signals: FeatureGroup):
    result = signals.analyze(Distribution(feature="revenue", bins=4, segment_by="variant"))
    ghost = next(s for s in result.segments if s["segment"] == "ghost")
    assert ghost["count"] == 0 and ghost["null_count"] == 6
    assert ghost["histogram"]["counts"] == [0, 0, 0, 0]
    assert set(ghost["percentiles"].values()) == {None}
    assert ghost["min"] is None and ghost["mean"] is None and ghost["stddev"] is None


# -- categorical -------------------------------------------------------------------------------


def _value_counts(series: pd.Series, top: int) -> dict[str, Any]:
    counts = series.dropna().value_counts()
    ordered = sorted(((group_key(v), int(n)) for v, n in counts.items()), key=lambda kv: (-kv[1], str(kv[0])))
    return {
        "values": [v for v, _ in ordered[:top]],
        "counts": [n for _, n in ordered[:top]],
        "other": sum(n for _, n in ordered[top:]),
        "distinct": len(ordered),
    }


CATEGORICAL = [
    pytest.param("country", 10, id="text-all-values"),
    pytest.param("country", 2, id="text-top-two-and-other"),
    pytest.param("variant", 50, id="text-four-values"),
    pytest.param("is_premium", 5, id="flag"),
    pytest.param("user_id", 5, id="entity-key"),
    pytest.param("tier", 5, id="derived-text"),
]


@pytest.mark.parametrize(("feature", "top"), CATEGORICAL)
def test_value_counts_match_pandas(signals: FeatureGroup, frame: pd.DataFrame, feature: str, top: int):
    result = signals.analyze(Distribution(feature=feature, bins=top))
    assert result.data["kind"] == "categorical"
    assert result.histogram == _value_counts(frame[feature], top)
    assert result.data["count"] == int(frame[feature].notna().sum())
    assert result.data["null_count"] == int(frame[feature].isna().sum())


def test_flag_values_are_true_and_false(signals: FeatureGroup, frame: pd.DataFrame):
    result = signals.analyze(Distribution(feature="is_premium"))
    present = frame["is_premium"].dropna()
    assert dict(zip(result.histogram["values"], result.histogram["counts"], strict=True)) == {
        True: int(present.sum()),
        False: int((~present).sum()),
    }


def test_categorical_segments(signals: FeatureGroup, frame: pd.DataFrame):
    result = signals.analyze(Distribution(feature="country", bins=3, segment_by="variant"))
    assert [s["segment"] for s in result.segments] == ["control", "ghost", "holdout", "treatment"]
    for seg in result.segments:
        rows = frame[frame["variant"] == seg["segment"]]
        assert seg["value_counts"] == _value_counts(rows["country"], 3), seg["segment"]
        assert seg["count"] == int(rows["country"].notna().sum())
        assert seg["null_count"] == int(rows["country"].isna().sum())


# -- empty and single-row groups -----------------------------------------------------------------


def test_a_group_without_writes(no_writes: FeatureGroup):
    numeric = no_writes.analyze(Distribution(feature="revenue", bins=5, percentiles=[50, 90]))
    assert numeric.histogram == {"bin_edges": [], "counts": []}
    assert numeric.percentiles == {"p50": None, "p90": None}
    assert (numeric.data["count"], numeric.data["null_count"], numeric.data["min"]) == (0, 0, None)
    text = no_writes.analyze(Distribution(feature="country"))
    assert text.histogram == {"values": [], "counts": [], "other": 0, "distinct": 0}
    segmented = no_writes.analyze(Distribution(feature="ctr", segment_by="country"))
    assert segmented.segments == []


@pytest.mark.parametrize("feature", ["revenue", "ctr", "level", "score"])
def test_a_single_row_group(one_row: FeatureGroup, frame: pd.DataFrame, feature: str):
    result = one_row.analyze(Distribution(feature=feature, bins=10, percentiles=PERCENTILES))
    _assert_described(result.data, _describe(frame.iloc[:1], feature, 10), feature)


# -- via fs and errors ---------------------------------------------------------------------------


def test_fs_analyze_by_path(store: FeatureStore, signals: FeatureGroup):
    spec = {"feature": "ctr", "bins": 9, "segment_by": "country"}
    by_group = signals.analyze(Distribution(**spec))
    by_path = store.analyze(
        Distribution(**{**spec, "feature": "user-signals.ctr", "segment_by": "user-signals.country"})
    )
    assert by_path.data == {**by_group.data, "feature": "ctr"}


def test_unknown_feature_or_segment_is_not_found(signals: FeatureGroup):
    with pytest.raises(FeatureNotFoundError):
        signals.analyze(Distribution(feature="revenu"))
    with pytest.raises(FeatureNotFoundError):
        signals.analyze(Distribution(feature="revenue", segment_by="segment"))


def test_bad_distribution_specs_are_invalid():
    for bad in ({"bins": 0}, {"metrics": ["mode"]}, {"percentiles": [101]}, {"percentiles": []}, {"window": "7 days"}):
        with pytest.raises(InvalidAnalysisError) as err:
            Distribution(feature="revenue", **bad)
        assert err.value.code == "INVALID_ANALYSIS"


# -- large categories and segments ---------------------------------------------------------------


def test_value_counts_bring_only_the_top_values_out_of_duckdb(
    signals: FeatureGroup, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
):
    from raise_.analytics.frame import Frame

    returned: list[int] = []
    query = Frame.query

    def counting(self: Frame, select: str, params: dict[str, Any] | None = None) -> Any:
        table = query(self, select, params)
        returned.append(table.num_rows)
        return table

    monkeypatch.setattr(Frame, "query", counting)
    result = signals.analyze(Distribution(feature="user_id", bins=3, segment_by="variant"))
    assert result.histogram == _value_counts(frame["user_id"], 3)
    for seg in result.segments:
        assert seg["value_counts"] == _value_counts(frame.loc[frame["variant"] == seg["segment"], "user_id"], 3)
    # one row for the whole group and one per variant, not one per (variant, user): 80 users
    assert returned and max(returned) == frame["variant"].nunique()


def test_categorical_segments_order_numbers_by_value(signals: FeatureGroup, frame: pd.DataFrame):
    result = signals.analyze(Distribution(feature="country", bins=2, segment_by="level"))
    assert [s["segment"] for s in result.segments] == [*range(11), None]  # 10 after 9, null last
    for seg in result.segments:
        rows = frame[frame["level"].isna()] if seg["segment"] is None else frame[frame["level"] == seg["segment"]]
        assert seg["value_counts"] == _value_counts(rows["country"], 2)
        assert (seg["count"], seg["null_count"]) == (
            int(rows["country"].notna().sum()),
            int(rows["country"].isna().sum()),
        )


def test_nan_segments_are_one_segment(fs: FeatureStore):
    group = fs.create_feature_group("cohorts", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"minutes": "float64", "cohort": "float64"})
    cohorts = [10.0, 9.0, float("nan"), None, 10.0, float("nan"), 9.0, float("nan"), None, 10.0]
    n = len(cohorts)
    group.write(
        pa.table(
            {
                "user_id": pa.array(range(n), pa.int64()),
                "event_time": pa.array([datetime(2024, 1, 1, tzinfo=UTC)] * n),
                "minutes": pa.array([float(i) for i in range(n)]),
                "cohort": pa.array(cohorts, pa.float64()),  # NaN kept as NaN, None as null
            }
        )
    )
    result = group.analyze(Distribution(feature="minutes", bins=2, percentiles=[50], segment_by="cohort"))
    # numbers by value, then NaN (one segment, reported as None: NaN is no JSON), then null
    assert [(s["segment"], s["count"]) for s in result.segments] == [(9.0, 2), (10.0, 3), (None, 3), (None, 2)]
    nan_rows = [float(i) for i, c in enumerate(cohorts) if c is not None and np.isnan(c)]
    assert result.segments[2]["percentiles"] == {"p50": float(np.percentile(nan_rows, 50))}
    keys = group.analyze(Distribution(feature="user_id", segment_by="cohort"))  # categorical: counted in DuckDB
    assert [(s["segment"], s["count"]) for s in keys.segments] == [(9.0, 2), (10.0, 3), (None, 3), (None, 2)]
    assert keys.segments[2]["value_counts"]["values"] == [2, 5, 7]
