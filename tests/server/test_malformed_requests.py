"""Requests a client got wrong, through a real Jupyter server: an Arrow body that is not exactly
one whole stream, filters nested deeper than Raise reads, JSON nested 100,000 deep. Each is a
coded 4xx (never a 500), and nothing is written."""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pytest

from raise_.api.codec import ARROW_STREAM, table_to_ipc

GROUP = "acme/ml/rec/user-signals"
MAX_JSON_DEPTH = 64  # raise_.api.calls.MAX_JSON_DEPTH, as docs/server.md documents it
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _table(rows: int = 3) -> pa.Table:
    return pa.table(
        {
            "user_id": pa.array(range(1, rows + 1), pa.int64()),
            "event_time": pa.array([T0] * rows, pa.timestamp("us", tz="UTC")),
            "name": pa.array([f"user {u}" for u in range(1, rows + 1)]),
        }
    )


def _two_batches() -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, _table().schema) as writer:
        writer.write_table(_table())
        writer.write_table(_table())
    return sink.getvalue().to_pybytes()


def _offsets_past_their_data() -> bytes:
    """A well-formed stream whose string offsets point far outside the column's data."""
    table = pa.table({"user_id": pa.array([1, 2], pa.int64()), "name": pa.array(["hello", "world"])})
    data = bytearray(table_to_ipc(table))
    at = data.find(struct.pack("<3i", 0, 5, 10))
    data[at + 8 : at + 12] = struct.pack("<i", 1_000_000)
    return bytes(data)


STREAM = table_to_ipc(_table())
TWO_BATCHES = _two_batches()
ONE_BATCH_LENGTH = len(STREAM) - 8  # schema and one batch, without the end-of-stream marker

BAD_BODIES = [
    # (case, body, what the message says)
    ("not arrow", b"this is not an arrow stream", "not a valid Arrow IPC stream"),
    ("cut inside a message", STREAM[: len(STREAM) // 2], "not a valid Arrow IPC stream"),
    ("cut before the end marker", STREAM[:-8], "without the end-of-stream marker"),
    ("cut between two batches", TWO_BATCHES[:ONE_BATCH_LENGTH], "without the end-of-stream marker"),
    ("trailing bytes", STREAM + b"trailing garbage", "16 bytes follow the end"),
    ("a second stream after the first", STREAM + STREAM, f"{len(STREAM)} bytes follow the end"),
    ("offsets past their data", _offsets_past_their_data(), "not a valid Arrow IPC stream"),
]


def body_of(reply: tuple[int, Any, bytes], status: int = 200) -> Any:
    code, _, body = reply
    assert code == status, body
    return json.loads(body)


async def _make_group(api: Any) -> None:
    body_of(await api("PUT", "projects/acme/ml/rec"))
    body_of(
        await api("POST", "projects/acme/ml/rec/groups", json_body={"name": "user-signals", "entity_keys": ["user_id"]})
    )
    body_of(
        await api(
            "POST", f"groups/{GROUP}/features/bulk", json_body={"definitions": [{"name": "name", "dtype": "string"}]}
        )
    )
    code, _, body = await api("POST", f"groups/{GROUP}/data", body=STREAM, headers={"Content-Type": ARROW_STREAM})
    assert code == 200, body


async def _store_state(api: Any) -> tuple[int, int]:
    commits = body_of(await api("GET", f"groups/{GROUP}/commits"))
    code, _, data = await api("GET", f"groups/{GROUP}/data")
    assert code == 200
    with pa.ipc.open_stream(data) as reader:
        rows = reader.read_all().num_rows
    return len(commits), rows


@pytest.mark.parametrize(("case", "body", "fragment"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
async def test_a_bad_arrow_body_is_400_and_writes_nothing(api: Any, case: str, body: bytes, fragment: str) -> None:
    await _make_group(api)
    before = await _store_state(api)
    for path in (
        f"groups/{GROUP}/data?mode=append",
        'projects/acme/ml/rec/training-data?features=["user-signals.name"]',
    ):
        code, _, reply = await api("POST", path, body=body, headers={"Content-Type": ARROW_STREAM})
        error = json.loads(reply)["error"]
        assert (code, error["code"]) == (400, "INVALID_BODY"), reply
        assert fragment in error["message"] and "nothing was written" in error["message"]
        assert error["details"]["size_bytes"] == len(body)
    assert await _store_state(api) == before == (1, 3)


async def test_a_whole_stream_is_still_written(api: Any) -> None:
    await _make_group(api)
    code, _, body = await api(
        "POST", f"groups/{GROUP}/data?mode=append", body=TWO_BATCHES, headers={"Content-Type": ARROW_STREAM}
    )
    assert code == 200, body
    assert await _store_state(api) == (2, 3)  # the same three users, once more


@pytest.mark.parametrize("depth", [3000, 5000])
async def test_a_filter_nested_thousands_deep_is_422_over_http(api: Any, depth: int) -> None:
    await _make_group(api)
    nested = "(" * depth + "user_id > 1" + ")" * depth
    code, _, body = await api("GET", f"groups/{GROUP}/data?filter={quote(nested)}")
    error = json.loads(body)["error"]
    assert (code, error["code"]) == (422, "INVALID_EXPRESSION")
    assert (error["details"]["reason"], error["details"]["depth"]) == ("NESTING_TOO_DEEP", depth)


async def test_a_derivation_nested_thousands_deep_is_422_over_http(api: Any) -> None:
    await _make_group(api)
    definition = {"name": "deep", "dtype": "int64", "derived_from": "(" * 3000 + "user_id" + ")" * 3000}
    code, _, body = await api("POST", f"groups/{GROUP}/features/bulk", json_body={"definitions": [definition]})
    error = json.loads(body)["error"]
    assert (code, error["code"], error["details"]["reason"]) == (422, "INVALID_EXPRESSION", "NESTING_TOO_DEEP")
    assert [f["name"] for f in body_of(await api("GET", f"groups/{GROUP}/features"))] == ["name"]


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
async def test_json_nested_too_deep_is_400(api: Any, depth: int) -> None:
    await _make_group(api)
    deep = b"[" * depth + b"]" * depth
    code, _, body = await api(
        "POST", "organizations", body=b'{"name": ' + deep + b"}", headers={"Content-Type": "application/json"}
    )
    error = json.loads(body)["error"]
    assert (code, error["code"], error["details"]) == (
        400,
        "INVALID_ARGUMENT",
        {"depth": depth + 1, "limit": MAX_JSON_DEPTH},
    )
    code, _, body = await api("POST", f"groups/{GROUP}/data", body=deep, headers={"Content-Type": "application/json"})
    assert (code, json.loads(body)["error"]["code"]) == (400, "INVALID_ARGUMENT")
    if depth < 10_000:  # a query string this long is refused for its length
        code, _, body = await api("GET", f"organizations?tags={quote(deep.decode())}")
        error = json.loads(body)["error"]
        assert (code, error["code"]) == (400, "INVALID_ARGUMENT") and "'tags'" in error["message"]
    assert [o["name"] for o in body_of(await api("GET", "organizations"))] == ["acme"]
    assert await _store_state(api) == (1, 3)


async def test_json_as_deep_as_allowed_and_brackets_inside_strings_are_read(api: Any) -> None:
    tags = json.loads("[" * (MAX_JSON_DEPTH - 2) + '"x"' + "]" * (MAX_JSON_DEPTH - 2))
    code, _, body = await api("POST", "organizations", json_body={"name": "deep", "settings": {"t": tags}})
    assert code == 200, body
    brackets = "[" * 500 + '\\"{'
    code, _, body = await api("POST", "organizations", json_body={"name": "flat", "description": brackets})
    assert code == 200, body
    assert body_of(await api("GET", "organizations/flat"))["description"] == brackets
