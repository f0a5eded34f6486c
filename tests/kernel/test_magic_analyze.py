"""``%%raise analyze``: a YAML analysis spec in, the result (and its chart) out, on both backends."""

from __future__ import annotations

from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from IPython.core.error import UsageError

from raise_ import AnalysisResult, FeatureStore


@pytest.fixture
def signals(fs: FeatureStore) -> pd.DataFrame:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"clicks": "int64", "minutes": "float64", "country": "string"})
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame(
        {
            "user_id": np.arange(n, dtype=np.int64),
            "event_time": pd.Timestamp("2026-10-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 14, n), unit="D"),
            "clicks": rng.poisson(4, n).astype(np.int64),
            "minutes": rng.gamma(2.0, 5.0, n),
            "country": rng.choice(["FR", "DE", "US"], n),
        }
    )
    group.write(pa.Table.from_pandas(frame, preserve_index=False))
    return frame


def test_analyze_runs_the_yaml_spec_and_shows_its_chart(ip: Any, signals: pd.DataFrame) -> None:
    body = "type: distribution\nfeature: minutes\nbins: 12\nsegment_by: country\n"
    with mock.patch("IPython.display.display") as shown:
        result = ip.run_cell_magic("raise", "analyze user-signals -o dist", body)
    assert isinstance(result, AnalysisResult) and ip.user_ns["dist"] is result
    counts, edges = np.histogram(signals["minutes"], bins=12)
    assert result.histogram == {"bin_edges": pytest.approx(edges.tolist()), "counts": counts.tolist()}
    assert [s["segment"] for s in result.segments or []] == ["DE", "FR", "US"]
    (chart,) = shown.call_args.args
    spec = chart.to_dict()
    assert spec["mark"]["type"] == "bar" and spec["encoding"]["color"]["field"] == "segment"


def test_analyze_without_a_group_names_features_by_path(ip: Any, signals: pd.DataFrame) -> None:
    body = "type: correlation\nfeatures: [user-signals.clicks, user-signals.minutes]\nmethod: spearman\n"
    result = ip.run_cell_magic("raise", "analyze --no-plot", body)
    expected = signals[["clicks", "minutes"]].corr(method="spearman").to_numpy()
    assert np.allclose(np.array(result.correlation_matrix, dtype=float), expected, rtol=1e-12)


def test_analyze_freshness_reuses_the_stored_result(ip: Any, signals: pd.DataFrame) -> None:
    body = "type: aggregation\nfeature: clicks\nmetrics: [sum, avg]\n"
    first = ip.run_cell_magic("raise", "analyze user-signals --no-plot", body)
    again = ip.run_cell_magic("raise", "analyze user-signals --no-plot --freshness within:1h", body)
    assert first.metrics == {"sum": int(signals["clicks"].sum()), "avg": pytest.approx(signals["clicks"].mean())}
    assert (again.from_cache, again.id) == (True, first.id)


@pytest.mark.parametrize(
    ("line", "body", "expected"),
    [
        ("analyze user-signals", "feature: clicks\n", "[INVALID_FILE]"),
        ("analyze user-signals", "type: aggregation\nfeature: clicks\nmetrics: [summ]\n", "Did you mean 'sum'?"),
        ("analyze user-signals", "type: aggregation\nfeature: country\nmetrics: [avg]\n", "[INVALID_ANALYSIS]"),
        ("analyze user-signals", "type: aggregation\nfeature: nope\n", "[FEATURE_NOT_FOUND]"),
        ("analyze user-signals --freshness sometimes", "type: aggregation\nfeature: clicks\n", "freshness"),
        ("analyze no-such-group", "type: aggregation\nfeature: clicks\n", "[FEATURE_GROUP_NOT_FOUND]"),
    ],
)
def test_analyze_reports_bad_input_as_one_coded_line(
    ip: Any, signals: pd.DataFrame, line: str, body: str, expected: str
) -> None:
    with pytest.raises(UsageError) as caught:
        ip.run_cell_magic("raise", line, body)
    assert expected in str(caught.value)


def test_analyze_of_a_schema_only_version_diff_shows_no_chart(ip: Any, fs: FeatureStore, signals: pd.DataFrame) -> None:
    fs.feature_group("user-signals").create_feature("clicks", "float64", version="v2", description="As a rate")
    body = "type: version_diff\nfeature: clicks\nversion_a: v1\nversion_b: v2\ncompare: [schema]\n"
    with mock.patch("IPython.display.display") as shown:
        result = ip.run_cell_magic("raise", "analyze user-signals -o diff", body)
    assert isinstance(result, AnalysisResult) and ip.user_ns["diff"] is result
    assert result.schema_changes == {
        "dtype": {"old": "int64", "new": "float64"},
        "description": {"old": None, "new": "As a rate"},
    }
    shown.assert_not_called()  # nothing to draw: the result alone


def test_analyze_of_a_text_version_diff_draws_its_categories(ip: Any, fs: FeatureStore, signals: pd.DataFrame) -> None:
    group = fs.feature_group("user-signals")
    group.create_feature("country", "string", version="v2")
    group.write(
        pa.table(
            {
                "user_id": pa.array(signals["user_id"]),
                "event_time": pa.array(signals["event_time"]),
                "country@v2": pa.array(signals["country"].replace({"FR": "BE"})),
            }
        ),
        mode="upsert",
    )
    body = "type: version_diff\nfeature: country\nversion_a: v1\nversion_b: v2\n"
    with mock.patch("IPython.display.display") as shown:
        result = ip.run_cell_magic("raise", "analyze user-signals", body)
    drift = result.distribution_drift
    assert drift["categories"] == ["BE", "DE", "FR", "US"]
    (chart,) = shown.call_args.args
    spec = chart.to_dict()
    assert spec["mark"]["type"] == "bar" and spec["encoding"]["x"]["field"] == "category"
