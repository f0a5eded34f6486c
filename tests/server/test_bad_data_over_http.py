"""Data that cannot be stored, sent straight to ``POST .../data`` (no SDK in between): a 4xx with
the INVALID_DATA body naming the column and row, and nothing committed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from raise_.api.codec import ARROW_STREAM, table_to_ipc
from raise_.service import DataService

GROUP = "acme/ml/rec/user-signals"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


async def _group_with_one_row(api: Any) -> None:
    for verb, path, body in [
        ("PUT", "projects/acme/ml/rec", None),
        ("POST", "projects/acme/ml/rec/groups", {"name": "user-signals", "entity_keys": ["user_id"]}),
        (
            "POST",
            f"groups/{GROUP}/features/bulk",
            {"definitions": [{"name": "clicks", "dtype": "int64"}, {"name": "score", "dtype": "float32"}]},
        ),
        ("POST", f"groups/{GROUP}/data", [{"user_id": 1, "clicks": 7, "score": 0.5}]),
    ]:
        code, _, answer = await api(verb, path, json_body=body)
        assert code == 200, answer


def _duplicated_columns() -> bytes:
    arrays = [pa.array([2], pa.int64()), pa.array([5], pa.int64()), pa.array([6], pa.int64())]
    return table_to_ipc(pa.Table.from_arrays(arrays, names=["user_id", "clicks", "clicks"]))


@pytest.mark.parametrize(
    ("body", "column", "row"),
    [
        ({"json": [{"user_id": 2, "clicks": 1}, {"user_id": 3, "clicks": 2**70}]}, "clicks", 1),
        ({"json": [{"user_id": 2**70, "clicks": 1}]}, "user_id", 0),
        ({"json": [{"user_id": 2, "score": 1.0}, {"user_id": 3, "score": 1e300}]}, "score", 1),
        ({"arrow": _duplicated_columns()}, "clicks", None),
    ],
    ids=["int64 overflow", "key overflow", "float32 range", "duplicate columns"],
)
async def test_bad_data_is_a_coded_4xx_and_commits_nothing(
    api: Any, service: DataService, body: dict[str, Any], column: str, row: int | None
) -> None:
    await _group_with_one_row(api)
    before = service.read(GROUP, history=True), service.commits(GROUP)
    if "json" in body:
        code, _, answer = await api("POST", f"groups/{GROUP}/data", json_body=body["json"])
    else:
        headers = {"Content-Type": ARROW_STREAM}
        code, _, answer = await api("POST", f"groups/{GROUP}/data", body=body["arrow"], headers=headers)
    error = json.loads(answer)["error"]
    assert (code, error["code"], error["details"]["column"]) == (422, "INVALID_DATA", column)
    assert repr(column) in error["message"]
    if row is not None:
        assert error["details"]["row"] == row
    assert (service.read(GROUP, history=True), service.commits(GROUP)) == before
