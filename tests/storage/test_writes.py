"""Writes: bad data is refused with a coded error naming column and row, and commits nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from raise_ import FeatureStore
from raise_.client.group import FeatureGroup
from raise_.errors import FeatureNotFoundError, InvalidArgumentError, InvalidDataError


def T(day: int, hour: int = 0) -> datetime:
    return datetime(2024, 1, day, hour, tzinfo=UTC)


@pytest.fixture
def group(fs: FeatureStore) -> FeatureGroup:
    g = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    g.create_features_from_schema({"clicks": "int64", "country": "string[2]", "emb": "float32[3]"})
    g.create_feature("score", dtype="float64", nullable=False)
    g.write([{"user_id": 1, "event_time": T(1), "clicks": 1, "country": "fr", "emb": [1, 2, 3], "score": 0.5}])
    return g


def _state(group: FeatureGroup) -> tuple[list[dict], int]:
    return group.read(history=True).to_arrow().to_pylist(), len(group.commits())


@pytest.mark.parametrize(
    ("rows", "column", "row", "fragment"),
    [
        (
            [
                {"user_id": 2, "event_time": T(2), "clicks": 1, "score": 1.0},
                {"user_id": 3, "clicks": "many", "score": 1.0},
            ],
            "clicks",
            1,
            "'many'",
        ),
        (
            [{"user_id": 2, "event_time": T(2), "score": 1.0}, {"user_id": 3, "event_time": T(2), "score": None}],
            "score",
            1,
            "not nullable",
        ),
        ([{"user_id": 2, "event_time": T(2), "country": "fra", "score": 1.0}], "country", 0, "longer than 2"),
        ([{"user_id": 2, "event_time": T(2), "emb": [1, 2], "score": 1.0}], "emb", 0, r"fit float32\[3\]"),
        ([{"user_id": None, "event_time": T(2), "score": 1.0}], "user_id", 0, "null"),
        ([{"event_time": T(2), "score": 1.0}], "user_id", None, "missing"),
    ],
)
def test_bad_rows_name_column_and_row_and_commit_nothing(
    group: FeatureGroup, rows: list[dict], column: str, row: int | None, fragment: str
) -> None:
    before = _state(group)
    with pytest.raises(InvalidDataError, match=fragment) as info:
        group.write(rows)
    assert info.value.code == "INVALID_DATA"
    assert info.value.details["column"] == column
    if row is not None:
        assert info.value.details["row"] == row
    assert _state(group) == before


def test_first_bad_row_is_found_in_a_large_write(group: FeatureGroup) -> None:
    n = 50_000
    clicks = pa.array([str(i) for i in range(n)], type=pa.string())
    clicks = pa.concat_arrays([clicks.slice(0, 31_337), pa.array(["x"]), clicks.slice(31_338)])
    table = pa.table(
        {
            "user_id": pa.array(range(n), type=pa.int64()),
            "event_time": pa.array([T(2)] * n, type=pa.timestamp("us", tz="UTC")),
            "clicks": clicks,
            "score": pa.array([1.0] * n),
        }
    )
    with pytest.raises(InvalidDataError, match="row 31337") as info:
        group.write(table)
    assert info.value.details["row"] == 31_337


def test_unknown_and_derived_columns_are_refused(fs: FeatureStore, group: FeatureGroup) -> None:
    with pytest.raises(FeatureNotFoundError, match="Did you mean 'clicks'"):
        group.write([{"user_id": 2, "event_time": T(2), "clikcs": 3, "score": 1.0}])
    group.create_feature("ctr", dtype="float64", derived_from="clicks / 2")
    with pytest.raises(InvalidDataError, match="derived feature"):
        group.write([{"user_id": 2, "event_time": T(2), "ctr": 0.1, "score": 1.0}])
    with pytest.raises(InvalidDataError, match="reserved"):
        group.write([{"user_id": 2, "event_time": T(2), "_commit": 5, "score": 1.0}])
    with pytest.raises(InvalidArgumentError, match="Invalid write mode"):
        group.write([{"user_id": 2, "score": 1.0}], mode="merge")
    with pytest.raises(InvalidArgumentError, match="pandas or polars"):
        group.write("user_id,score\n1,2")


def test_writes_accept_pandas_arrow_polars_and_dicts(group: FeatureGroup) -> None:
    polars = pytest.importorskip("polars")
    group.write(pd.DataFrame({"user_id": [10], "event_time": [pd.Timestamp("2024-01-05")], "score": [1.0]}))
    group.write(pa.table({"user_id": [11], "event_time": [T(5)], "score": [2.0]}))
    group.write(polars.DataFrame({"user_id": [12], "event_time": [T(5)], "score": [3.0]}))
    group.write([{"user_id": 13, "event_time": T(5), "score": 4.0}])
    got = group.read(["score"], filter="user_id >= 10").to_pandas()
    assert got["score"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert got["event_time"].dt.tz is not None  # naive pandas times were taken as UTC
    assert str(got["event_time"].iloc[0]) == "2024-01-05 00:00:00+00:00"


def test_missing_event_time_means_now(group: FeatureGroup) -> None:
    before = datetime.now(UTC)
    group.write([{"user_id": 7, "score": 1.0}])
    t = group.read(filter="user_id = 7").to_arrow().column("event_time")[0].as_py()
    assert before <= t <= datetime.now(UTC)


def test_versions_write_to_their_own_columns(group: FeatureGroup) -> None:
    group.create_feature("emb", dtype="float32[2]", version="v2")
    group.write([{"user_id": 5, "event_time": T(3), "emb": [9, 9], "emb@v1": [1, 1, 1], "score": 1.0}])
    row = group.read(["emb", "emb@v1"], filter="user_id = 5").to_arrow().to_pylist()[0]
    assert (row["emb"], row["emb@v1"]) == ([9.0, 9.0], [1.0, 1.0, 1.0])


def test_first_write_fixes_keys_and_time_column(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    g = fs.create_feature_group("sessions")
    g.create_features_from_schema({"minutes": "float64"})
    g.write([{"session_id": "a", "device": "ios", "minutes": 3.5}])
    assert (g.entity_keys, g.event_time) == (["session_id", "device"], "event_time")
    assert fs.feature_group("sessions").entity_keys == ["session_id", "device"]
    with pytest.raises(InvalidDataError, match="'device' is missing"):
        g.write([{"session_id": "b", "minutes": 1.0}])
    with catalog_engine.connect() as conn:
        actions = (
            conn.execute(
                sa.text("SELECT action FROM audit_log WHERE resource_path LIKE '%/sessions' ORDER BY timestamp")
            )
            .scalars()
            .all()
        )
    assert actions == ["CREATE", "UPDATE_SCHEMA", "WRITE"]


def test_writes_reads_and_training_sets_are_audited(
    fs: FeatureStore, group: FeatureGroup, catalog_engine: sa.Engine
) -> None:
    group.write([{"user_id": 2, "event_time": T(2), "score": 2.0}])
    group.read()
    fs.get_training_data(pd.DataFrame({"user_id": [1, 2], "event_time": [T(9), T(9)]}), ["user-signals.score"])
    with catalog_engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT action, metadata FROM audit_log WHERE resource_type = 'feature_group' "
                "AND action IN ('WRITE', 'READ', 'QUERY') ORDER BY timestamp"
            )
        ).all()
    actions = [r[0] for r in rows]
    assert actions == ["WRITE", "WRITE", "READ", "QUERY"]
    import json

    details = [r[1] if isinstance(r[1], dict) else json.loads(r[1]) for r in rows]
    assert [d["rows"] for d in details] == [1, 1, 2, 2]
