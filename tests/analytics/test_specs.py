"""Analysis specs: checked when built (coded INVALID_ANALYSIS naming the fix), serializable
(``to_dict`` → JSON → ``spec_from_dict`` gives the same spec), hashed stably; a bad analysis run
through the SDK raises a coded error and leaves the store as it was."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from raise_ import (
    Aggregation,
    Correlation,
    Distribution,
    FeatureStore,
    RecordLookup,
    StatTest,
    VersionDiff,
)
from raise_.analytics import AnalysisSpec, spec_from_dict
from raise_.analytics.specs import percentile_of, spec_hash
from raise_.errors import FeatureNotFoundError, InvalidAnalysisError, InvalidExpressionError

INVALID: list[Any] = [
    # (spec class, arguments, text the message must contain)
    (Aggregation, {"feature": "x", "metrics": ["avgg"]}, "Did you mean 'avg'"),
    (Aggregation, {"feature": "x", "metrics": ["median"]}, "percentile_XX"),
    (Aggregation, {"feature": "x", "metrics": ["percentile_101"]}, "metric"),
    (Aggregation, {"feature": "x", "metrics": ["percentile_"]}, "metric"),
    (Aggregation, {"feature": "x", "metrics": "avg"}, "list"),
    (Aggregation, {"feature": "x", "metrics": []}, "non-empty"),
    (Aggregation, {"feature": "x", "metrics": ["avg", "avg"]}, "twice"),
    (Aggregation, {"feature": "", "metrics": ["avg"]}, "feature name"),
    (Aggregation, {"feature": 3, "metrics": ["avg"]}, "feature name"),
    (Aggregation, {"feature": "x", "window": "7 days"}, "window"),
    (Aggregation, {"feature": "x", "window": 7}, "window"),
    (Aggregation, {"feature": "x", "end": "yesterday"}, "end"),
    (Aggregation, {"feature": "x", "rolling": True}, "needs a window"),
    (Aggregation, {"feature": "x", "rolling": "yes", "window": "1d"}, "rolling"),
    (Aggregation, {"feature": "x", "periods": 3}, "rolling=True"),
    (Aggregation, {"feature": "x", "rolling": True, "window": "1d", "periods": 0}, "periods"),
    (Aggregation, {"feature": "x", "group_by": ["a", "a"]}, "twice"),
    (Aggregation, {"feature": "x", "group_by": [""]}, "group_by"),
    (Distribution, {"feature": "x", "bins": 0}, "bins"),
    (Distribution, {"feature": "x", "bins": 2.5}, "bins"),
    (Distribution, {"feature": "x", "metrics": ["hist"]}, "histogram"),
    (Distribution, {"feature": "x", "percentiles": [50, 101]}, "between 0 and 100"),
    (Distribution, {"feature": "x", "percentiles": [True]}, "percentile"),
    (Correlation, {"features": ["a"]}, "at least 2"),
    (Correlation, {"features": ["a", "b"], "method": "pearsn"}, "Did you mean 'pearson'"),
    (Correlation, {"features": ["a", "b"], "method": "distance"}, "pearson, spearman, kendall"),
    (StatTest, {"feature": "x", "test": "anova", "segment_by": "s", "control": 1, "treatment": 2}, "ttest"),
    (StatTest, {"feature": "x", "test": "t_test", "segment_by": "s", "control": 1, "treatment": 2}, "ttest"),
    (StatTest, {"feature": "x", "test": "ttest", "segment_by": "s"}, "control= and treatment="),
    (StatTest, {"feature": "x", "test": "mann_whitney", "segment_by": "s", "control": "a"}, "control= and treatment="),
    (
        StatTest,
        {"feature": "x", "test": "chi_squared", "segment_by": "s", "control": "a"},
        "both control and treatment",
    ),
    (StatTest, {"feature": "x", "segment_by": "s", "control": "a", "treatment": "a"}, "two different segments"),
    (StatTest, {"feature": "x", "segment_by": "x", "control": "a", "treatment": "b"}, "another feature"),
    (StatTest, {"feature": "x", "segment_by": "", "control": "a", "treatment": "b"}, "segment_by"),
    (StatTest, {"feature": "x", "segment_by": "s", "control": ["a"], "treatment": "b"}, "segment value"),
    (StatTest, {"feature": "x", "segment_by": "s", "control": "a", "treatment": "b", "confidence": 1.0}, "between 0"),
    (StatTest, {"feature": "x", "segment_by": "s", "control": "a", "treatment": "b", "confidence": True}, "confidence"),
    (
        StatTest,
        {"feature": "x", "segment_by": "s", "control": "a", "treatment": "b", "alternative": "bigger"},
        "greater",
    ),
    (VersionDiff, {"feature": "x", "version_a": "v1", "version_b": "v1"}, "two different versions"),
    (VersionDiff, {"feature": "x", "version_a": "v1", "version_b": "latest"}, "version_b"),
    (VersionDiff, {"feature": "x@v1", "version_a": "v1", "version_b": "v2"}, "without a version"),
    (VersionDiff, {"feature": "x", "version_a": "v1", "version_b": "v2", "compare": ["schemas"]}, "schema"),
    (RecordLookup, {"sample": 10, "limit": 10}, "not both"),
    (RecordLookup, {"sample": -1}, "sample"),
    (RecordLookup, {"limit": 2_000_000}, "at most"),
    (RecordLookup, {"seed": 1.5}, "seed"),
    (RecordLookup, {"filter": ""}, "filter"),
    (RecordLookup, {"features": ["a", "a"]}, "twice"),
]


@pytest.mark.parametrize(("cls", "args", "says"), INVALID, ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_a_bad_spec_fails_when_built(cls: type[AnalysisSpec], args: dict[str, Any], says: str):
    with pytest.raises(InvalidAnalysisError) as err:
        cls(**args)
    assert err.value.code == "INVALID_ANALYSIS"
    assert says in err.value.message
    assert isinstance(err.value.details, dict)
    # the same mistake, sent as a dict (YAML, the REST body), fails alike
    with pytest.raises(InvalidAnalysisError):
        spec_from_dict({"type": cls.type, **args})


VALID = [
    Aggregation(feature="clicks"),
    Aggregation(feature="clicks", metrics=["sum", "percentile_99.9", "percentile_100"], window="7d", end="2024-05-01"),
    Aggregation(feature="clicks", metrics=["avg"], group_by=["country", "user_id"]),
    Aggregation(feature="clicks", metrics=["avg"], window="1d", rolling=True, periods=14, group_by="country"),
    Distribution(feature="revenue", bins=20, percentiles=[5, 50, 99.5], segment_by="country", window="30d", end="now"),
    Correlation(features=["a", "b", "c"], method="kendall", window="1h"),
    VersionDiff(feature="emb", version_a="1", version_b="v3", compare=["distribution"], bins=20),
    StatTest(feature="revenue", test="ttest", segment_by="arm", control="a", treatment="b", alternative="less"),
    StatTest(feature="clicked", test="chi_squared", segment_by="arm"),
    StatTest(feature="x", test="ks_test", segment_by="premium", control=False, treatment=True, confidence=0.99),
    RecordLookup(features=["a", "b"], sample=10, seed=3, filter="a > 1"),
    RecordLookup(),
]


@pytest.mark.parametrize("spec", VALID, ids=lambda s: s.type)
def test_a_spec_survives_json(spec: AnalysisSpec):
    data = json.loads(json.dumps(spec.to_dict()))
    assert data["type"] == spec.type
    again = spec_from_dict(data)
    assert again == spec and type(again) is type(spec)
    assert spec_from_dict(again) is again
    assert spec_hash(again, "o/d/p/g", ["x=x@v1"]) == spec_hash(spec, "o/d/p/g", ["x=x@v1"])


def test_specs_are_normalised():
    assert Aggregation(feature=" clicks ", end="2024-05-01T02:00:00").to_dict() == {
        "type": "aggregation",
        "feature": "clicks",
        "metrics": ["count", "avg", "min", "max", "null_rate"],
        "window": None,
        "group_by": None,
        "rolling": False,
        "periods": None,
        "end": "2024-05-01T02:00:00+00:00",
    }
    assert Aggregation(feature="c", end="2024-05-01T02:00:00+02:00").end == "2024-05-01T00:00:00+00:00"
    assert Aggregation(feature="c", end="NOW").end == "now" and Aggregation(feature="c", end="now").relative_to_now
    assert Aggregation(feature="c", rolling=True, window="1d").periods == 30
    assert Distribution(feature="x", percentiles=[50, 90]).percentiles == [50.0, 90.0]
    assert (VersionDiff(feature="x", version_a="1", version_b="2").version_a, "v2") == ("v1", "v2")
    assert RecordLookup().limit == 100 and RecordLookup(sample=5).limit is None
    assert Aggregation(feature="c", group_by="country").group_columns == ["country"]


@pytest.mark.parametrize(
    ("control", "treatment", "plain"),
    [
        (np.int64(3), np.int64(4), (3, 4)),
        (np.bool_(False), np.bool_(True), (False, True)),
        (np.str_("a"), np.str_("b"), ("a", "b")),
        (np.float64(0.5), 1, (0.5, 1)),
    ],
)
def test_segment_values_from_a_dataframe_become_plain(control: Any, treatment: Any, plain: tuple[Any, Any]):
    spec = StatTest(feature="x", segment_by="s", control=control, treatment=treatment)
    assert (spec.control, spec.treatment) == plain
    assert [type(v) for v in (spec.control, spec.treatment)] == [type(v) for v in plain]
    assert spec_from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"type": "VersionDiff", "feature": "x", "version_a": "v1", "version_b": "v2"}, VersionDiff),
        ({"type": "stat-test", "feature": "x", "test": "chi_squared", "segment_by": "s"}, StatTest),
        ({"type": "RecordLookup"}, RecordLookup),
        ({"type": " Aggregation ", "feature": "x"}, Aggregation),
    ],
)
def test_type_names_are_forgiving(data: dict[str, Any], kind: type):
    assert isinstance(spec_from_dict(data), kind)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"type": "histogram", "feature": "x"}, "analysis type"),
        ({"feature": "x"}, "analysis type"),
        ({"type": "aggregation", "feature": "x", "metric": ["avg"]}, "no field 'metric'"),
        (["aggregation"], "mapping"),
        ("aggregation", "mapping"),
    ],
)
def test_a_bad_spec_dict_is_invalid(data: Any, says: str):
    with pytest.raises(InvalidAnalysisError) as err:
        spec_from_dict(data)
    assert says in err.value.message


def test_the_hash_keys_spec_scope_and_versions():
    spec = Aggregation(feature="clicks", metrics=["sum"])
    base = spec_hash(spec, "o/d/p/g", ["clicks=clicks@v1"])
    assert base == spec_hash(Aggregation(feature="clicks", metrics=["sum"]), "o/d/p/g", ["clicks=clicks@v1"])
    assert base != spec_hash(Aggregation(feature="clicks", metrics=["avg"]), "o/d/p/g", ["clicks=clicks@v1"])
    assert base != spec_hash(spec, "o/d/p/h", ["clicks=clicks@v1"])
    assert base != spec_hash(spec, "o/d/p/g", ["clicks=clicks@v2"])
    assert len(base) == 64


@pytest.mark.parametrize(
    ("metric", "p"),
    [("percentile_50", 50.0), ("percentile_99.9", 99.9), ("percentile_0", 0.0), ("percentile_100", 100.0),
     ("percentile_101", None), ("percentile_5.", None), ("p50", None), ("avg", None)],
)  # fmt: skip
def test_percentile_of(metric: str, p: float | None):
    assert percentile_of(metric) == p


# -- through the SDK: dicts, coded errors, the store unchanged ----------------------------------


@pytest.fixture
def clicks(fs: FeatureStore):
    group = fs.create_feature_group("clicks", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"clicks": "int64", "country": "string", "arm": "string"})
    group.create_feature("ctr", dtype="float64", derived_from="clicks / 10")
    group.write(
        pd.DataFrame(
            {
                "user_id": [1, 2, 3, 4],
                "event_time": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"], utc=True),
                "clicks": [1, 5, None, 7],
                "country": ["US", "DE", "US", None],
                "arm": ["a", "a", "b", "b"],
            }
        )
    )
    return group


def test_the_sdk_takes_a_dict(clicks):
    as_dict = clicks.analyze({"type": "aggregation", "feature": "ctr", "metrics": ["sum", "count"]})
    as_spec = clicks.analyze(Aggregation(feature="ctr", metrics=["sum", "count"]))
    assert as_dict.metrics == as_spec.metrics == {"sum": pytest.approx(1.3), "count": 3}
    assert as_dict.spec == Aggregation(feature="ctr", metrics=["sum", "count"])


BAD_RUNS = [
    pytest.param(lambda: {"type": "aggregation", "feature": "clicks", "metrics": ["mean"]}, InvalidAnalysisError,
                 id="unknown-metric"),
    pytest.param(lambda: {"type": "correlation", "features": ["clicks", "ctr"], "method": "cosine"},
                 InvalidAnalysisError, id="unknown-method"),
    pytest.param(lambda: {"type": "stat_test", "feature": "clicks", "test": "z", "segment_by": "arm"},
                 InvalidAnalysisError, id="unknown-test"),
    pytest.param(lambda: {"type": "stat_test", "feature": "clicks", "test": "ttest", "segment_by": "arm"},
                 InvalidAnalysisError, id="missing-control-and-treatment"),
    pytest.param(lambda: Aggregation(feature="country", metrics=["avg"]), InvalidAnalysisError,
                 id="non-numeric-feature"),
    pytest.param(lambda: Correlation(features=["clicks", "country"]), InvalidAnalysisError,
                 id="non-numeric-correlation"),
    pytest.param(lambda: StatTest(feature="clicks", segment_by="arm", control="a", treatment="c"),
                 InvalidAnalysisError, id="segment-with-no-rows"),
    pytest.param(lambda: StatTest(feature="ctr", segment_by="arm", control="a", treatment="b"),
                 InvalidAnalysisError, id="segment-with-one-value"),
    pytest.param(lambda: StatTest(feature="clicks", test="chi_squared", segment_by="country", control="US",
                                  treatment="FR"), InvalidAnalysisError, id="chi-squared-segment-with-no-rows"),
    pytest.param(lambda: Aggregation(feature="click", metrics=["avg"]), FeatureNotFoundError, id="unknown-feature"),
    pytest.param(lambda: Distribution(feature="clicks", segment_by="region"), FeatureNotFoundError,
                 id="unknown-segment"),
    pytest.param(lambda: VersionDiff(feature="clicks", version_a="v1", version_b="v2"), FeatureNotFoundError,
                 id="unknown-version"),
    pytest.param(lambda: RecordLookup(filter="clicks > 1; DELETE FROM t"), InvalidExpressionError,
                 id="two-statements-in-a-filter"),
]  # fmt: skip


def _state(fs: FeatureStore, engine: sa.Engine) -> dict[str, Any]:
    group = fs.feature_group("clicks")
    with engine.connect() as conn:
        results = conn.execute(sa.text("SELECT count(*) FROM analysis_results")).scalar_one()
    return {
        "results": results,
        "commits": [(c.commit_id, c.rows) for c in group.commits()],
        "features": sorted((f.name, f.version, f.dtype) for f in group.list_features(all_versions=True)),
        "rows": group.read(history=True, features=["clicks", "country", "arm"]).to_arrow().to_pylist(),
    }


def test_a_bad_analysis_raises_a_coded_error_and_changes_nothing(fs: FeatureStore, catalog_engine: sa.Engine, clicks):
    # One store for the whole table (a fresh store per case costs a second each).
    before = _state(fs, catalog_engine)
    for case in BAD_RUNS:
        make, error = case.values
        for door, run in (("group", clicks.analyze), ("fs", lambda spec: fs.analyze(_by_path(spec)))):
            try:
                with pytest.raises(error) as err:
                    run(make())
            except BaseException as exc:  # pytest's Failed too: name the case
                exc.add_note(f"case {case.id} via {door}")
                raise
            assert err.value.code == error.code, f"{case.id} via {door}"
        assert _state(fs, catalog_engine) == before, case.id
    # a good analysis does add a result: the check above can see one
    clicks.analyze(Aggregation(feature="clicks", metrics=["count"]))
    assert _state(fs, catalog_engine)["results"] == before["results"] + 1


def _by_path(spec: AnalysisSpec | dict[str, Any]) -> dict[str, Any]:
    """The spec with its features named by path in the project (``fs.analyze``)."""
    data = spec.to_dict() if isinstance(spec, AnalysisSpec) else dict(spec)
    for key in ("feature", "segment_by"):
        if data.get(key):
            data[key] = f"clicks.{data[key]}"
    if data.get("features"):
        data["features"] = [f"clicks.{f}" for f in data["features"]]
    if data.get("type") == "record_lookup" and not data.get("features"):
        data["features"] = ["clicks.clicks"]
    return data
