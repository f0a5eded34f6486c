"""Writes of data that cannot be stored as given: a coded INVALID_DATA naming the column (and the
row), on the embedded engine and through the server alike, and nothing committed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from raise_ import FeatureStore
from raise_.client.group import FeatureGroup
from raise_.errors import InvalidDataError, RaiseError

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def group(fs: FeatureStore) -> FeatureGroup:
    g = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    g.create_features_from_schema(
        {"clicks": "int64", "small": "int32", "half": "float16", "score": "float32", "emb": "float32[2]"}
    )
    g.write([{"user_id": 1, "event_time": T0, "clicks": 7, "small": 1, "half": 0.5, "score": 0.5, "emb": [1, 2]}])
    return g


def _state(group: FeatureGroup) -> tuple[list[dict[str, Any]], int]:
    return group.read(history=True).to_arrow().to_pylist(), len(group.commits())


def _polars_huge() -> Any:
    polars = pytest.importorskip("polars")
    return polars.DataFrame({"user_id": [2, 3], "clicks": polars.Series([1, 2**70], dtype=polars.Int128)})


def _duplicated(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([[2, 5, 6]], columns=columns)


CASES: list[tuple[str, Callable[[], Any], str, int | None, str]] = [
    # (case, data, column, row, message fragment)
    ("pandas duplicate feature", lambda: _duplicated(["user_id", "clicks", "clicks"]), "clicks", None, "2 times"),
    ("pandas duplicate key", lambda: _duplicated(["user_id", "user_id", "clicks"]), "user_id", None, "2 times"),
    ("pandas 2**70", lambda: pd.DataFrame({"user_id": [2, 3], "clicks": [1, 2**70]}), "clicks", 1, "int64"),
    ("pandas -2**70", lambda: pd.DataFrame({"user_id": [2, 3], "clicks": [-(2**70), 1]}), "clicks", 0, "int64"),
    ("pandas key 2**70", lambda: pd.DataFrame({"user_id": [2, 2**70], "clicks": [1, 2]}), "user_id", 1, "int64"),
    ("dicts 2**70", lambda: [{"user_id": 2, "clicks": 1}, {"user_id": 3, "clicks": 2**70}], "clicks", 1, "int64"),
    ("polars Int128", _polars_huge, "clicks", 1, "int64|64-bit integer"),  # the client converts it
    ("int32 range", lambda: pd.DataFrame({"user_id": [2, 3], "small": [1, 2**31]}), "small", 1, "int32"),
    ("string into int", lambda: [{"user_id": 2, "clicks": 1}, {"user_id": 3, "clicks": "many"}], "clicks", 1, "many"),
    ("float16 range", lambda: pd.DataFrame({"user_id": [2, 3], "half": [1.0, 70000.0]}), "half", 1, "65504"),
    ("float32 range", lambda: [{"user_id": 2, "score": 1.0}, {"user_id": 3, "score": -1e300}], "score", 1, "float32"),
    ("embedding range", lambda: [{"user_id": 2, "emb": [1.0, 2.0]}, {"user_id": 3, "emb": [0, 1e39]}], "emb", 1, "e38"),
]


@pytest.mark.parametrize(("case", "data", "column", "row", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_data_that_does_not_fit_is_a_coded_error_and_commits_nothing(
    group: FeatureGroup, case: str, data: Callable[[], Any], column: str, row: int | None, fragment: str
) -> None:
    before = _state(group)
    with pytest.raises(InvalidDataError, match=fragment) as info:
        group.write(data())
    assert info.value.code == "INVALID_DATA"
    assert info.value.details["column"] == column
    assert repr(column) in info.value.message
    if row is not None:
        assert info.value.details["row"] == row
        assert f"row {row}" in info.value.message
    assert _state(group) == before


def test_a_column_name_that_is_not_a_string_is_refused(group: FeatureGroup) -> None:
    before = _state(group)
    # JSON keys are strings, so through the server the column is '5', which no feature is called
    with pytest.raises(RaiseError) as info:
        group.write([{"user_id": 2, 5: 1}])
    assert info.value.code in ("INVALID_DATA", "FEATURE_NOT_FOUND")
    assert "5" in info.value.message
    assert _state(group) == before


def test_values_at_the_edge_of_their_type_are_stored_exactly(group: FeatureGroup) -> None:
    rows = pd.DataFrame(
        {
            "user_id": [2, 3],
            "event_time": [T0, T0],
            "clicks": [2**63 - 1, -(2**63)],
            "small": [2**31 - 1, -(2**31)],
            "half": [65504.0, -65504.0],
            "score": [3.4028234663852886e38, float("inf")],  # infinity given is infinity kept
        }
    )
    group.write(rows)
    got = group.read(["clicks", "small", "half", "score"], filter="user_id >= 2").to_pandas()
    expected = rows.drop(columns=["event_time"])
    assert got.drop(columns=["event_time"]).to_dict("list") == expected.to_dict("list")
