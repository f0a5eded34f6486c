"""A read without ``features=`` returns every feature of the group the caller may read, derived
ones computed, in the order ``list_features()`` gives them; so do ``changes()``, a record lookup
and the statistics the sidebar asks for. What the caller may not read is left out, not an error."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import pandas as pd
import pytest

from raise_ import ACL, FeatureStore
from raise_.client.group import FeatureGroup
from raise_.errors import InvalidExpressionError, LineageBreakWarning, PermissionDeniedError

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ROWS = pd.DataFrame(
    {
        "user_id": [1, 2, 3],
        "event_time": [T0, T0, T0],
        "imps": [10, 20, 40],
        "clicks": [1, 5, 8],
        "revenue": [2.0, 10.0, 4.0],
    }
)


def _expected() -> pd.DataFrame:
    """The reference, computed in pandas: every feature by name order, derived ones included."""
    out = ROWS.assign(ctr=ROWS["clicks"] / ROWS["imps"], rev_per_click=ROWS["revenue"] / ROWS["clicks"])
    return out[["user_id", "event_time", "clicks", "ctr", "imps", "rev_per_click", "revenue"]]


@pytest.fixture
def group(fs: FeatureStore) -> FeatureGroup:
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))  # acme opens itself to its members
    g = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    g.create_feature("imps", dtype="int64")
    g.create_feature("clicks", dtype="int64")
    g.create_feature("ctr", dtype="float64", derived_from="clicks / imps")
    g.create_feature("revenue", dtype="float64")
    g.create_feature("rev_per_click", dtype="float64", derived_from="revenue / clicks")
    g.write(ROWS)
    return g


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("user_id").reset_index(drop=True)


def test_the_default_read_computes_derived_features_in_place(group: FeatureGroup) -> None:
    expected = _expected()
    assert [f.name for f in group.list_features()] == list(expected.columns[2:])
    got = group.read().to_pandas()
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(_sorted(got), expected, check_dtype=False)
    # a filter may name a derived feature of the default read
    assert group.read(filter="ctr > 0.2").to_pandas()["user_id"].tolist() == [2]


def test_changes_return_every_feature_too(group: FeatureGroup) -> None:
    commit = group.commits()[-1].commit_id
    got = group.changes(since_commit=0).to_pandas()
    expected = _expected().assign(_commit=commit)
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(_sorted(got), expected, check_dtype=False)


def test_a_record_lookup_and_the_sidebar_statistics_see_derived_features(group: FeatureGroup) -> None:
    lookup = group.analyze({"type": "record_lookup"})
    assert lookup.data["columns"] == list(_expected().columns)
    records = pd.DataFrame(lookup.data["records"])
    expected = _expected()
    pd.testing.assert_series_equal(_sorted(records)["ctr"], expected["ctr"], check_dtype=False)
    # the spec the sidebar sends for a feature's statistics (labextension/src/statistics.ts)
    spec = {"type": "aggregation", "feature": "ctr@v1", "metrics": ["count", "min", "max", "avg"]}
    metrics = group.analyze(spec, "within:1h").metrics
    ctr = expected["ctr"]
    assert metrics is not None
    assert metrics["count"] == 3
    assert metrics["min"] == pytest.approx(ctr.min())
    assert metrics["max"] == pytest.approx(ctr.max())
    assert metrics["avg"] == pytest.approx(ctr.mean())


def test_what_the_caller_may_not_read_is_left_out(
    fs: FeatureStore, group: FeatureGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    group.feature("revenue").set_acl(ACL(readers=["finance@acme"], inherit=False))
    monkeypatch.setenv("RAISE_USER", "rita@acme")
    rita = fs.feature_group("user-signals")
    # revenue is hers to read by no ACL; rev_per_click reads revenue, so it is left out as well
    expected = _expected()[["user_id", "event_time", "clicks", "ctr", "imps"]]
    pd.testing.assert_frame_equal(_sorted(rita.read().to_pandas()), expected, check_dtype=False)
    got = rita.changes(since_commit=0).to_pandas()
    assert list(got.columns) == [*expected.columns, "_commit"]
    assert "rev_per_click" not in rita.analyze({"type": "record_lookup"}).data["columns"]
    with pytest.raises(PermissionDeniedError):  # asked for by name, it is an error
        rita.read(["rev_per_click"])


def test_a_derived_feature_that_cannot_be_computed_is_left_out_with_a_warning(group: FeatureGroup) -> None:
    with pytest.warns(LineageBreakWarning):
        group.feature("imps").delete()
    with pytest.warns(LineageBreakWarning, match="ctr@v1"):
        got = group.read().to_pandas()
    expected = _expected()[["user_id", "event_time", "clicks", "rev_per_click", "revenue"]]
    pd.testing.assert_frame_equal(_sorted(got), expected, check_dtype=False)
    with pytest.raises(InvalidExpressionError, match="imps"), warnings.catch_warnings():  # by name: an error
        warnings.simplefilter("ignore")
        group.read(["ctr"])
