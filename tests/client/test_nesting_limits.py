"""Filters and derived features nested deeper than Raise reads: a coded INVALID_EXPRESSION on the
embedded engine and through the server alike (never a RecursionError, never a 500), and nothing
created; what stays under the limits keeps working."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from raise_ import FeatureStore
from raise_.client.group import FeatureGroup
from raise_.errors import InvalidExpressionError
from raise_.expressions.nesting import MAX_NESTING, MAX_TREE_DEPTH

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def group(fs: FeatureStore) -> FeatureGroup:
    g = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    g.create_feature("clicks", dtype="int64")
    g.write([{"user_id": u, "event_time": T0, "clicks": u * 10} for u in (1, 2, 3)])
    return g


DEEP_FILTERS = [
    ("5000 brackets", "(" * 5000 + "clicks > 1" + ")" * 5000, 5000),
    ("3000 brackets", "(" * 3000 + "clicks > 1" + ")" * 3000, 3000),
    ("3000 NOT", "NOT " * 3000 + "clicks > 1", 3000),
]


@pytest.mark.parametrize(("case", "text", "depth"), DEEP_FILTERS, ids=[c[0] for c in DEEP_FILTERS])
def test_a_filter_nested_too_deep_is_invalid_expression(group: FeatureGroup, case: str, text: str, depth: int) -> None:
    with pytest.raises(InvalidExpressionError) as caught:
        group.read(filter=text)
    assert caught.value.details["reason"] == "NESTING_TOO_DEEP"
    assert (caught.value.details["depth"], caught.value.details["limit"]) == (depth, MAX_NESTING)
    assert "Remove redundant brackets" in caught.value.message


def test_a_filter_at_the_limit_and_a_long_or_list_still_read(group: FeatureGroup) -> None:
    nested = "(" * MAX_NESTING + "clicks > 15" + ")" * MAX_NESTING
    assert sorted(group.read(filter=nested).to_arrow().column("user_id").to_pylist()) == [2, 3]
    alternatives = " OR ".join(f"clicks = {n}" for n in range(0, 1000, 10))
    assert sorted(group.read(filter=alternatives).to_arrow().column("user_id").to_pylist()) == [1, 2, 3]


DEEP_DERIVATIONS = [
    ("5000 brackets", "(" * 5000 + "clicks" + ")" * 5000, "nests 5000 levels deep"),
    ("60 brackets", "(" * 60 + "clicks" + ")" * 60, "nests 60 levels deep"),  # a RecursionError before
    ("a chain of 3000", "clicks" + " + clicks" * 3000, f"at most {MAX_TREE_DEPTH}"),
]


@pytest.mark.parametrize(("case", "text", "fragment"), DEEP_DERIVATIONS, ids=[c[0] for c in DEEP_DERIVATIONS])
@pytest.mark.parametrize("validation", ["strict", "permissive"])
def test_a_derivation_nested_too_deep_is_invalid_expression_and_creates_nothing(
    group: FeatureGroup, case: str, text: str, fragment: str, validation: str
) -> None:
    before = [f.name for f in group.list_features()]
    with pytest.raises(InvalidExpressionError) as caught:
        group.create_feature("deep", dtype="int64", derived_from=text, validation=validation)
    assert caught.value.details["reason"] == "NESTING_TOO_DEEP"
    assert fragment in caught.value.details["errors"][0]["message"]
    assert [f.name for f in group.list_features()] == before == ["clicks"]
    result = group.validate_feature("deep", dtype="int64", derived_from=text)
    assert [e.code for e in result.errors] == ["NESTING_TOO_DEEP"]


def test_a_derivation_under_the_limits_is_created_and_read(group: FeatureGroup) -> None:
    group.create_feature("sum", dtype="int64", derived_from="clicks" + " + clicks" * (MAX_TREE_DEPTH - 16))
    group.create_feature("nested", dtype="int64", derived_from="ABS(" * 20 + "clicks" + ")" * 20)
    table = group.read(features=["sum", "nested"]).to_arrow().sort_by("user_id")
    assert table.column("sum").to_pylist() == [u * 10 * (MAX_TREE_DEPTH - 15) for u in (1, 2, 3)]
    assert table.column("nested").to_pylist() == [10, 20, 30]
