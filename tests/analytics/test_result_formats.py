"""What an analysis returns (README *Result Formats*): ``to_dataframe()`` is the natural table of
each type and holds the payload's values, ``to_json()``/``to_csv()`` parse back, ``data`` is the
raw payload, ``_repr_html_`` and ``repr()`` read well, and ``plot()`` draws the Altair chart fit
for the type. Every test runs embedded and through a real Jupyter server (results cross the wire
as JSON), on a SQLite catalog: the catalog backends are covered by the cache tests."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from raise_ import (
    Aggregation,
    AnalysisResult,
    Correlation,
    Distribution,
    FeatureStore,
    Freshness,
    RecordLookup,
    StatTest,
    VersionDiff,
)
from raise_.analytics import spec_from_dict
from raise_.client.group import FeatureGroup
from raise_.engine import Engine
from raise_.errors import AnalysisResultNotFoundError, InvalidAnalysisError

G = "acme/mlplatform/recommendation/user-signals"
START = datetime(2026, 1, 1, tzinfo=UTC)
N = 12  # user i: event time START + 12h·i, clicks i % 4, revenue 1.5·i, tier gold (odd i) or silver
REVENUE = [1.5 * i for i in range(N)]


@pytest.fixture
def catalog_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'home' / 'catalog.db'}"
    Engine.close_all()


@pytest.fixture
def store_env(store_on_both_backends: Path) -> Path:
    return store_on_both_backends


@pytest.fixture
def group(fs: FeatureStore) -> FeatureGroup:
    g = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    g.create_feature("clicks", "int64")
    g.create_feature("revenue", "float64")
    g.create_feature("tier", "string")
    g.write(
        [
            {
                "user_id": i,
                "event_time": START + timedelta(hours=12 * i),
                "clicks": i % 4,
                "revenue": REVENUE[i],
                "tier": "gold" if i % 2 else "silver",
            }
            for i in range(N)
        ]
    )
    return g


def chart(result: AnalysisResult) -> tuple[list[str], list[dict[str, Any]]]:
    """The marks of ``result.plot()`` (layers included) and the rows it draws."""
    spec = result.plot().to_dict()
    marks = [spec.get("mark"), *(layer.get("mark") for layer in spec.get("layer", []))]
    names = [m if isinstance(m, str) else m["type"] for m in marks if m is not None]
    datasets = list(spec["datasets"].values())
    assert len(datasets) == 1
    return names, datasets[0]


def from_csv(result: AnalysisResult, **kwargs: Any) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(result.to_csv()), **kwargs)


def as_json(value: Any) -> Any:
    """The payload as ``to_json`` writes it: times as ISO text."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    return value


SPECS = [
    Aggregation(feature="clicks", metrics=["sum", "avg"]),
    Aggregation(feature="revenue", metrics=["sum"], window="1d", rolling=True, periods=3),
    Distribution(feature="revenue", bins=3, percentiles=[50, 90]),
    Correlation(features=["clicks", "revenue"], method="spearman"),
    StatTest(feature="revenue", segment_by="tier", control="silver", treatment="gold"),
    RecordLookup(features=["clicks", "tier"], filter="tier = 'gold'", limit=2),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.type + ("-rolling" if getattr(s, "rolling", False) else ""))
def test_to_json_carries_the_spec_and_the_payload(group: FeatureGroup, spec: Any) -> None:
    result = group.analyze(spec)
    parsed = json.loads(result.to_json())
    assert parsed["spec"] == spec.to_dict() and spec_from_dict(parsed["spec"]) == spec
    assert (parsed["id"], parsed["type"], parsed["group"]) == (result.id, spec.type, G)
    assert (parsed["from_cache"], parsed["stale"], parsed["data_version"]) == (False, False, f"{G}@1")
    assert datetime.fromisoformat(parsed["computed_at"]) == result.computed_at
    assert parsed["duration_ms"] == result.duration_ms >= 0
    assert parsed["result"] == as_json(result.data) and result.data == result.record.data
    assert json.loads(result.to_json(indent=None)) == parsed and "\n" not in result.to_json(indent=None)
    cached = group.analyze(spec, freshness=Freshness.CACHED)
    assert json.loads(cached.to_json())["from_cache"] is True and cached.data == result.data


def test_aggregation_formats(group: FeatureGroup) -> None:
    result = group.analyze(Aggregation(feature="clicks", metrics=["sum", "avg"]))
    expected = {"sum": sum(i % 4 for i in range(N)), "avg": sum(i % 4 for i in range(N)) / N}
    assert result.metrics == result.data["metrics"] == expected
    assert result.to_dataframe().to_dict("records") == [expected]
    assert from_csv(result).to_dict("records") == [expected]
    html = result._repr_html_()
    assert "<table" in html and "<th>sum</th>" in html and "<td>18</td>" in html and f"aggregation of {G}" in html
    marks, rows = chart(result)
    assert marks == ["bar"] and rows == [{"metric": "sum", "value": 18.0}, {"metric": "avg", "value": 1.5}]


def test_grouped_aggregation_formats(group: FeatureGroup) -> None:
    result = group.analyze(Aggregation(feature="revenue", metrics=["sum", "count"], group_by="tier"))
    gold = sum(REVENUE[1::2])
    silver = sum(REVENUE[0::2])
    assert result.metrics == {"gold": {"sum": gold, "count": 6}, "silver": {"sum": silver, "count": 6}}
    rows = [{"tier": "gold", "sum": gold, "count": 6}, {"tier": "silver", "sum": silver, "count": 6}]
    assert result.rows == rows and result.to_dataframe().to_dict("records") == rows
    assert from_csv(result).to_dict("records") == rows
    marks, drawn = chart(result)
    assert marks == ["bar"] and drawn == rows


def vega_path(field: str) -> list[str]:
    """The access path Vega-Lite reads a field as: a dot or bracket not escaped by a backslash
    steps into a nested object (vega-util's splitAccessPath, for names without quotes)."""
    path, part, i = [], "", 0
    while i < len(field):
        ch = field[i]
        if ch == "\\" and i + 1 < len(field):
            part, i = part + field[i + 1], i + 2
            continue
        if ch in ".[]":
            if part:
                path.append(part)
            part = ""
        else:
            part += ch
        i += 1
    return [*path, part] if part else path


def encoded_fields(spec: dict[str, Any]) -> list[str]:
    """Every field a chart's encoding reads (tooltips included)."""
    fields = []
    for channel in spec["encoding"].values():
        for item in channel if isinstance(channel, list) else [channel]:
            if isinstance(item, dict) and "field" in item:
                fields.append(item["field"])
    return fields


@pytest.mark.parametrize("rolling", [False, True])
def test_a_metric_or_group_named_with_a_dot_is_drawn(group: FeatureGroup, rolling: bool) -> None:
    window = {"window": "1d", "rolling": True, "periods": 3} if rolling else {}
    result = group.analyze(
        Aggregation(feature="revenue", metrics=["percentile_99.9", "count"], group_by="tier", **window)
    )
    spec = result.plot().to_dict()
    rows = next(iter(spec["datasets"].values()))
    # each field names one column of the rows drawn (not a nested access into them)
    for field in encoded_fields(spec):
        path = vega_path(field)
        assert len(path) == 1 and path[0] in rows[0], field
    if not rolling:
        assert spec["encoding"]["y"]["title"] == "percentile_99.9"
        assert [r["percentile_99.9"] for r in rows] == [r["percentile_99.9"] for r in result.rows or []]
        assert all(r["percentile_99.9"] is not None for r in rows)


def test_rolling_aggregation_formats(group: FeatureGroup) -> None:
    result = group.analyze(Aggregation(feature="revenue", metrics=["sum"], window="1d", rolling=True, periods=3))
    end = START + timedelta(hours=12 * (N - 1))  # the newest event time
    today = pd.Timestamp(end).floor("D")  # calendar days: the last period is the one holding `end`

    def day(k: int) -> float:  # revenue with event time on the k-th day before end's
        start = today - timedelta(days=k)
        return sum(
            r
            for i, r in enumerate(REVENUE)
            if start <= START + timedelta(hours=12 * i) < start + timedelta(days=1)
            and START + timedelta(hours=12 * i) <= end
        )

    days = [day(2), day(1), day(0)]
    frame = result.to_dataframe()
    assert list(frame.columns) == ["date", "period_end", "sum", "rolling_sum"]
    assert frame["date"].tolist() == [today - timedelta(days=k) for k in (2, 1, 0)]
    assert frame["period_end"].tolist() == [today - timedelta(days=k - 1) for k in (2, 1, 0)]
    assert (
        frame["sum"].tolist() == pytest.approx(days) and [r["sum"] for r in result.rows or []] == frame["sum"].tolist()
    )
    back = from_csv(result, parse_dates=["date", "period_end"])
    assert (
        back["date"].tolist() == frame["date"].tolist()
        and back["rolling_sum"].tolist() == frame["rolling_sum"].tolist()
    )
    marks, drawn = chart(result)
    assert marks == ["line"]
    sums = [(pd.Timestamp(r["date"]), r["value"]) for r in drawn if r["series"] == "sum"]
    assert sums == list(zip(frame["date"], frame["sum"], strict=True))
    assert {r["series"] for r in drawn} == {"sum", "rolling_sum"}


def test_distribution_formats(group: FeatureGroup) -> None:
    result = group.analyze(Distribution(feature="revenue", bins=3, percentiles=[50, 90]))
    assert result.histogram == {"bin_edges": [0.0, 5.5, 11.0, 16.5], "counts": [4, 4, 4]}
    assert result.percentiles == {"p50": pytest.approx(8.25), "p90": pytest.approx(14.85)}
    rows = [
        {"bin_start": 0.0, "bin_end": 5.5, "count": 4},
        {"bin_start": 5.5, "bin_end": 11.0, "count": 4},
        {"bin_start": 11.0, "bin_end": 16.5, "count": 4},
    ]
    assert result.to_dataframe().to_dict("records") == rows and from_csv(result).to_dict("records") == rows
    marks, drawn = chart(result)
    assert marks == ["bar"] and drawn == rows
    assert result.plot().to_dict()["encoding"]["x"]["bin"] == "binned"


def test_categorical_and_segmented_distribution_formats(group: FeatureGroup) -> None:
    tiers = group.analyze(Distribution(feature="tier"))
    assert tiers.to_dataframe().to_dict("records") == [{"value": "gold", "count": 6}, {"value": "silver", "count": 6}]
    assert chart(tiers) == (["bar"], [{"value": "gold", "count": 6}, {"value": "silver", "count": 6}])
    segmented = group.analyze(Distribution(feature="revenue", bins=2, segment_by="tier"))
    frame = segmented.to_dataframe()
    assert frame.to_dict("records") == [
        {"segment": s, "bin_start": a, "bin_end": b, "count": 3}
        for s in ("gold", "silver")
        for a, b in ((0.0, 8.25), (8.25, 16.5))
    ]
    marks, drawn = chart(segmented)
    assert marks == ["bar"] and drawn == frame.to_dict("records")
    assert segmented.plot().to_dict()["encoding"]["color"]["field"] == "segment"


def test_correlation_formats(group: FeatureGroup) -> None:
    result = group.analyze(Correlation(features=["clicks", "revenue"], method="spearman"))
    expected = pd.DataFrame({"clicks": [i % 4 for i in range(N)], "revenue": REVENUE}, dtype="float64").corr(
        method="spearman"
    )
    frame = result.to_dataframe()
    assert list(frame.index) == list(frame.columns) == result.features == ["clicks", "revenue"]
    pd.testing.assert_frame_equal(frame, expected)
    assert frame.values.tolist() == result.correlation_matrix
    pd.testing.assert_frame_equal(from_csv(result, index_col=0), expected)
    html = result._repr_html_()
    assert "<table" in html and "<th>clicks</th>" in html and "<th>revenue</th>" in html
    marks, cells = chart(result)
    assert marks == ["rect", "text"]
    r = expected.loc["clicks", "revenue"]
    assert cells == [
        {"x": "clicks", "y": "clicks", "r": 1.0},
        {"x": "clicks", "y": "revenue", "r": pytest.approx(r)},
        {"x": "revenue", "y": "clicks", "r": pytest.approx(r)},
        {"x": "revenue", "y": "revenue", "r": 1.0},
    ]


def test_version_diff_formats(group: FeatureGroup) -> None:
    group.create_feature("clicks", "float64", version="v2")
    group.write(
        [
            {"user_id": i, "event_time": START + timedelta(hours=12 * i), "clicks@v2": (i % 4) * 2.0}
            for i in range(N // 2)
        ],
        mode="upsert",
    )
    result = group.analyze(VersionDiff(feature="clicks", version_a="v1", version_b="v2", bins=2))
    assert result.schema_changes == {"dtype": {"old": "int64", "new": "float64"}}
    frame = result.to_dataframe().set_index("metric")
    assert list(frame.columns) == ["v1", "v2", "delta"]
    assert frame.loc["schema.dtype", ["v1", "v2"]].tolist() == ["int64", "float64"]
    assert frame.loc["row_count"].tolist() == [N, N // 2, N // 2 - N]
    assert frame.loc["null_rate"].tolist() == [0.0, 0.5, 0.5]
    assert frame.loc["psi", "delta"] == pytest.approx(result.distribution_drift["psi"])  # type: ignore[index]
    back = from_csv(result).set_index("metric")
    assert back.loc["row_count", "v2"] == str(N // 2) and back.loc["psi", "delta"] == pytest.approx(
        frame.loc["psi", "delta"]
    )
    marks, bars = chart(result)
    drift = result.distribution_drift or {}
    assert marks == ["bar"]
    assert [b["share"] for b in bars if b["version"] == "v1"] == drift["shares_a"]
    assert [b["share"] for b in bars if b["version"] == "v2"] == drift["shares_b"]


def test_text_version_diff_draws_shares_per_category(group: FeatureGroup) -> None:
    group.create_feature("tier", "string", version="v2")
    group.write(
        [
            {"user_id": i, "event_time": START + timedelta(hours=12 * i), "tier@v2": "gold" if i < 9 else "bronze"}
            for i in range(N)
        ],
        mode="upsert",
    )
    result = group.analyze(VersionDiff(feature="tier", version_a="v1", version_b="v2"))
    drift = result.distribution_drift or {}
    assert drift["categories"] == ["bronze", "gold", "silver"]
    assert drift["shares_a"] == [0.0, 0.5, 0.5] and drift["shares_b"] == [0.25, 0.75, 0.0]
    marks, bars = chart(result)
    assert marks == ["bar"]
    assert [(b["category"], b["version"], b["share"]) for b in bars] == [
        ("bronze", "v1", 0.0), ("gold", "v1", 0.5), ("silver", "v1", 0.5),
        ("bronze", "v2", 0.25), ("gold", "v2", 0.75), ("silver", "v2", 0.0),
    ]  # fmt: skip
    schema_only = group.analyze(VersionDiff(feature="tier", version_a="v1", version_b="v2", compare=["schema"]))
    with pytest.raises(InvalidAnalysisError, match="no distribution to draw"):
        schema_only.plot()


def test_stat_test_formats(group: FeatureGroup) -> None:
    result = group.analyze(StatTest(feature="revenue", segment_by="tier", control="silver", treatment="gold"))
    row = result.to_dataframe().to_dict("records")[0]
    assert (row["test"], row["n_control"], row["n_treatment"]) == ("ttest", 6, 6)
    assert (row["mean_control"], row["mean_treatment"]) == (sum(REVENUE[0::2]) / 6, sum(REVENUE[1::2]) / 6)
    assert (row["p_value"], row["statistic"], row["effect_size"]) == (
        result.p_value,
        result.statistic,
        result.effect_size,
    )
    assert (row["ci_low"], row["ci_high"]) == result.confidence_interval
    assert from_csv(result).to_dict("records")[0]["p_value"] == pytest.approx(result.p_value)
    marks, bars = chart(result)
    assert marks == ["bar"] and [(b["group"], b["mean"], b["n"]) for b in bars] == [
        ("control", row["mean_control"], 6),
        ("treatment", row["mean_treatment"], 6),
    ]
    chi = group.analyze(StatTest(feature="tier", test="chi_squared", segment_by="clicks"))
    table = chi.contingency_table
    assert table is not None and table.to_dict() == {
        "gold": {0: 0, 1: 3, 2: 0, 3: 3},
        "silver": {0: 3, 1: 0, 2: 3, 3: 0},
    }
    marks, cells = chart(chi)
    assert marks == ["rect"] and {(c["segment"], c["value"]): c["count"] for c in cells} == {
        (s, v): n for v, counts in table.to_dict().items() for s, n in counts.items()
    }


def test_record_lookup_formats(group: FeatureGroup) -> None:
    result = group.analyze(RecordLookup(features=["clicks", "tier"], filter="tier = 'gold'", limit=2))
    frame = result.to_dataframe()
    assert list(frame.columns) == result.data["columns"] == ["user_id", "event_time", "clicks", "tier"]
    assert frame.to_dict("records") == [
        {"user_id": 1, "event_time": pd.Timestamp(START + timedelta(hours=12)), "clicks": 1, "tier": "gold"},
        {"user_id": 3, "event_time": pd.Timestamp(START + timedelta(hours=36)), "clicks": 3, "tier": "gold"},
    ]
    assert result.records == [
        {"user_id": 1, "event_time": START + timedelta(hours=12), "clicks": 1, "tier": "gold"},
        {"user_id": 3, "event_time": START + timedelta(hours=36), "clicks": 3, "tier": "gold"},
    ]
    back = from_csv(result, parse_dates=["event_time"])
    assert back["user_id"].tolist() == [1, 3] and back["event_time"].tolist() == frame["event_time"].tolist()
    assert "<td>gold</td>" in result._repr_html_()
    with pytest.raises(InvalidAnalysisError, match=r"has no chart; look at result\.to_dataframe"):
        result.plot()


def test_repr_says_what_and_where_from(group: FeatureGroup) -> None:
    computed = group.analyze(Aggregation(feature="clicks", metrics=["max"]))
    when = f"{computed.computed_at:%Y-%m-%d %H:%M:%S}"
    assert repr(computed) == f"AnalysisResult(aggregation of {G} (computed {when} UTC): {{'max': 3}})"
    group.write([{"user_id": 99, "event_time": START, "clicks": 7}])
    cached = group.analyze(Aggregation(feature="clicks", metrics=["max"]), freshness=Freshness.CACHED)
    assert repr(cached) == f"AnalysisResult(aggregation of {G} (cache {when} UTC, stale): {{'max': 3}})"
    corr = group.analyze(Correlation(features=["clicks", "revenue"]))
    assert repr(corr).startswith(
        f"AnalysisResult(correlation of {G} (computed "
    ) and "'features': ['clicks', 'revenue']" in repr(corr)


def test_a_stored_result_is_got_back_by_id(fs: FeatureStore, group: FeatureGroup) -> None:
    computed = group.analyze(Distribution(feature="revenue", bins=3))
    got = fs.analysis_result(computed.id)
    assert (got.id, got.type, got.group, got.data_version) == (computed.id, "distribution", G, f"{G}@1")
    assert got.data == computed.data and got.spec == computed.spec and got.computed_at == computed.computed_at
    assert (got.from_cache, got.stale) == (True, False)
    pd.testing.assert_frame_equal(got.to_dataframe(), computed.to_dataframe())
    group.write([{"user_id": 99, "event_time": START, "revenue": 1.0}])
    assert fs.analysis_result(computed.id).stale is True  # the data changed since
    for missing in ("00000000-0000-0000-0000-000000000000", "not-an-id"):
        with pytest.raises(AnalysisResultNotFoundError) as err:
            fs.analysis_result(missing)
        assert err.value.code == "ANALYSIS_RESULT_NOT_FOUND" and missing in err.value.message
