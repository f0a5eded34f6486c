"""The REST routes through a real Jupyter server (pytest-jupyter): answers agree with the server's
own service, errors carry the PRD §20.4 body and the error's status, data travels as Arrow IPC."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from raise_.api.codec import ARROW_STREAM, IpcBody, from_wire, ipc_to_table, table_to_ipc
from raise_.api.forwarded_warnings import HEADER, decode_header
from raise_.catalog.records import DomainRecord, FeatureGroupRecord, FeatureRecord, OrganizationRecord
from raise_.errors import RaiseError
from raise_.governance.access_service import ACL
from raise_.service import DataService
from raise_.storage.records import WriteResult

GROUP = "acme/ml/rec/user-signals"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def body_of(reply: tuple[int, Any, bytes], status: int = 200) -> Any:
    code, _, body = reply
    assert code == status, body
    return json.loads(body)


async def make_group(api: Any, *features: dict[str, Any]) -> None:
    body_of(await api("PUT", "projects/acme/ml/rec"))
    body_of(
        await api("POST", "projects/acme/ml/rec/groups", json_body={"name": "user-signals", "entity_keys": ["user_id"]})
    )
    if features:
        body_of(await api("POST", f"groups/{GROUP}/features/bulk", json_body={"definitions": list(features)}))


async def test_namespace_crud_agrees_with_the_service(api: Any, jp_fetch: Any, service: DataService) -> None:
    created = body_of(
        await api("POST", "organizations", json_body={"name": "acme", "tags": ["prod"], "settings": {"tier": "free"}})
    )
    org = from_wire(created, OrganizationRecord)
    assert org == service.get_organization("acme")
    assert (org.owner, org.tags, org.settings) == ("alice@acme", ["prod"], {"tier": "free"})
    # jp_fetch itself, on a plain path
    fetched = await jp_fetch("raise", "v1", "organizations", "acme")
    assert from_wire(json.loads(fetched.body), OrganizationRecord) == org

    domain = from_wire(body_of(await api("POST", "organizations/acme/domains", json_body={"name": "ml"})), DomainRecord)
    assert domain == service.get_domain("acme", "ml")
    listed = body_of(await api("GET", "organizations/acme/domains?tags=[]"))
    assert [from_wire(d, DomainRecord) for d in listed] == service.list_domains("acme") == [domain]

    await make_group(api, {"name": "clicks", "dtype": "int64"}, {"name": "score", "dtype": "float64"})
    group = from_wire(body_of(await api("GET", f"groups/{GROUP}")), FeatureGroupRecord)
    assert group == service.get_feature_group(GROUP)
    assert group.entity_keys == ["user_id"]

    features = body_of(await api("GET", f"groups/{GROUP}/features"))
    assert [from_wire(f, FeatureRecord) for f in features] == service.list_features(GROUP)
    updated = body_of(
        await api("PATCH", f"groups/{GROUP}/features/clicks@v1", json_body={"changes": {"description": "Clicks"}})
    )
    assert from_wire(updated, FeatureRecord).description == "Clicks" == service.get_feature(GROUP, "clicks").description
    latest = body_of(await api("GET", f"groups/{GROUP}/features/clicks"))
    assert from_wire(latest, FeatureRecord) == service.get_feature(GROUP, "clicks", "v1")
    deleted = body_of(await api("DELETE", f"groups/{GROUP}/features/score@v1"))
    assert deleted["status"] == "archived" == service.list_versions(GROUP, "score")[0].status


async def test_not_found_is_404_with_the_error_body(api: Any, service: DataService) -> None:
    await make_group(api)
    code, headers, body = await api("GET", f"groups/{GROUP}/features/nope@v1")
    assert code == 404 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "error": {
            "code": "FEATURE_NOT_FOUND",
            "message": "Feature 'nope' not found in group 'user-signals'.",
            "details": {"group": "user-signals", "feature": "nope"},
        }
    }
    with pytest.raises(RaiseError) as embedded:
        service.get_feature(GROUP, "nope", "v1")
    assert json.loads(body) == embedded.value.to_dict()


async def test_permission_denied_is_403(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    await make_group(api)
    body_of(await api("PUT", f"resources/{GROUP}/acl", json_body={"acl": {"readers": ["bob@acme"]}}))
    monkeypatch.setenv("RAISE_USER", "carol@acme")  # the server acts as its own user (token auth)
    code, _, body = await api("GET", f"groups/{GROUP}")
    error = json.loads(body)["error"]
    assert (code, error["code"]) == (403, "PERMISSION_DENIED")
    assert error["details"]["actor"] == "carol@acme" and error["details"]["required"] == "reader"


@pytest.mark.parametrize(
    ("verb", "path", "payload", "status", "code"),
    [
        ("POST", "organizations", {"name": "bad name"}, 400, "INVALID_NAME"),
        ("POST", "organizations", {"name": "acme", "colour": "red"}, 400, "INVALID_ARGUMENT"),
        ("GET", "organizations?colour=red", None, 400, "INVALID_ARGUMENT"),
        ("POST", "organizations", [1, 2], 400, "INVALID_ARGUMENT"),
        ("POST", "organizations", {}, 400, "INVALID_ARGUMENT"),  # name missing
        ("GET", "no/such/route", None, 404, "ROUTE_NOT_FOUND"),
        ("PUT", "organizations", {}, 405, "METHOD_NOT_ALLOWED"),
        ("POST", "projects/acme/ml/rec/groups", {"name": "g", "ttl_seconds": -5}, 400, "INVALID_ARGUMENT"),
    ],
)
async def test_bad_requests_get_coded_errors(
    api: Any, verb: str, path: str, payload: Any, status: int, code: str
) -> None:
    body_of(await api("PUT", "projects/acme/ml/rec"))
    got, _, body = await api(verb, path, json_body=payload)
    assert (got, json.loads(body)["error"]["code"]) == (status, code)


async def test_malformed_json_is_400(api: Any) -> None:
    code, _, body = await api("POST", "organizations", body=b"{nope", headers={"Content-Type": "application/json"})
    assert (code, json.loads(body)["error"]["code"]) == (400, "INVALID_ARGUMENT")


async def test_an_unexpected_failure_is_500_without_a_traceback(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: DataService, org: str) -> None:
        raise RuntimeError("secret connection string postgres://u:pw@db")

    monkeypatch.setattr(DataService, "get_organization", broken)
    code, _, body = await api("GET", "organizations/acme")
    assert code == 500
    assert json.loads(body)["error"]["code"] == "INTERNAL_ERROR"
    assert b"secret" not in body and b"Traceback" not in body


async def test_arrow_write_then_read_is_the_input(api: Any, service: DataService) -> None:
    await make_group(api, {"name": "clicks", "dtype": "int64"}, {"name": "score", "dtype": "float64"})
    table = pa.table(
        {
            "user_id": pa.array([3, 1, 2], pa.int64()),
            "event_time": pa.array([T0, T0, T0], pa.timestamp("us", tz="UTC")),
            "clicks": pa.array([30, 10, None], pa.int64()),
            "score": pa.array([0.5, 1.5, 2.5]),
        }
    )
    code, _, body = await api(
        "POST", f"groups/{GROUP}/data?mode=append", body=table_to_ipc(table), headers={"Content-Type": ARROW_STREAM}
    )
    written = from_wire(json.loads(body), WriteResult)
    assert (code, written.rows_written, written.mode) == (200, 3, "append")
    code, headers, body = await api("GET", f"groups/{GROUP}/data")
    assert code == 200 and headers["Content-Type"] == ARROW_STREAM
    read = ipc_to_table(body)
    assert read.sort_by("user_id").equals(table.sort_by("user_id"))
    assert read.sort_by("user_id").equals(service.read(GROUP).sort_by("user_id"))
    # rows as JSON (a list of dicts) take the same checks as in-process
    rows = [{"user_id": 1, "event_time": {"$datetime": "2024-01-02T00:00:00+00:00"}, "clicks": 11}]
    assert body_of(await api("POST", f"groups/{GROUP}/data?mode=upsert", json_body=rows))["commit_id"] == 2
    bad = [{"user_id": 1, "clicks": "many"}]
    code, _, body = await api("POST", f"groups/{GROUP}/data", json_body=bad)
    assert (code, json.loads(body)["error"]["details"]["column"]) == (422, "clicks")


async def test_training_data_agrees_with_the_service(api: Any, service: DataService) -> None:
    await make_group(api, {"name": "clicks", "dtype": "int64"})
    rows = [
        {"user_id": u, "event_time": {"$datetime": f"2024-01-0{d}T00:00:00+00:00"}, "clicks": u * d}
        for u in (1, 2)
        for d in (1, 3)
    ]
    body_of(await api("POST", f"groups/{GROUP}/data", json_body=rows))
    entities = pa.table({"user_id": [1, 2, 2], "event_time": pa.array([datetime(2024, 1, 2, tzinfo=UTC)] * 3)})
    code, _, body = await api(
        "POST",
        'projects/acme/ml/rec/training-data?features=["user-signals.clicks"]',
        body=table_to_ipc(entities),
        headers={"Content-Type": ARROW_STREAM},
    )
    assert code == 200, body
    result = ipc_to_table(body)
    assert result.column("clicks").to_pylist() == [1, 2, 2]
    assert result.equals(service.get_training_data("acme/ml/rec", entities, ["user-signals.clicks"]))


async def test_warnings_travel_in_a_header(api: Any) -> None:
    await make_group(api, {"name": "clicks", "dtype": "int64"})
    definition = {"name": "ctr", "dtype": "float64", "derived_from": "click_cnt / 2"}
    code, headers, _ = await api("POST", f"groups/{GROUP}/features/bulk", json_body={"definitions": [definition]})
    (warning,) = decode_header(headers[HEADER])
    assert code == 200
    assert warning.category == "raise_.errors.ExpressionWarning"
    assert warning.message.startswith("ctr: UNKNOWN_REFERENCE") and "Did you mean 'clicks'?" in warning.message


async def test_set_acl_accepts_the_acl_as_json(api: Any, service: DataService) -> None:
    await make_group(api)
    acl = body_of(
        await api("PUT", f"resources/{GROUP}/acl", json_body={"acl": {"readers": ["bob@acme"], "inherit": False}})
    )
    assert from_wire(acl, ACL) == ACL(readers=["bob@acme"], inherit=False) == service.get_acl(GROUP)
    chain = body_of(await api("GET", f"resources/{GROUP}/acl/chain"))
    assert [entry["kind"] for entry in chain] == [e.kind for e in service.get_acl_chain(GROUP)]


async def test_a_trailing_slash_is_an_empty_name_not_a_redirect(api: Any, service: DataService) -> None:
    code, _, body = await api("GET", "organizations/")
    with pytest.raises(RaiseError) as embedded:
        service.get_organization("")
    assert (code, json.loads(body)) == (embedded.value.http_status, embedded.value.to_dict())


async def test_store_calls_never_block_the_event_loop(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(self: DataService, tags: list[str] | None = None) -> list[Any]:
        time.sleep(1.0)  # a long query, in a worker thread
        return []

    monkeypatch.setattr(DataService, "list_organizations", slow)
    started = time.perf_counter()
    slow_call = asyncio.ensure_future(api("GET", "organizations"))
    await asyncio.sleep(0.05)
    code, _, _ = await api("GET", "health")
    health_seconds = time.perf_counter() - started
    assert code == 200 and health_seconds < 0.5
    assert (await slow_call)[0] == 200 and time.perf_counter() - started >= 1.0


def test_an_arrow_body_is_the_tables_own_buffers() -> None:
    n = 100_000
    table = pa.table({"user_id": pa.array(range(n), pa.int64()), "score": pa.array([0.5] * n)})
    body = IpcBody.of(table)
    addresses = {pa.py_buffer(p).address for p in body.parts}
    assert table.column("score").chunk(0).buffers()[1].address in addresses  # shared, not copied
    assert body.nbytes == sum(p.nbytes for p in body.parts) == len(body.tobytes())
    assert ipc_to_table(body.tobytes()).equals(table)
    assert len(body.parts) < 10  # headers and padding joined, not a write per piece


async def test_a_large_arrow_answer_round_trips(api: Any, service: DataService) -> None:
    await make_group(api, {"name": "clicks", "dtype": "int64"}, {"name": "score", "dtype": "float64"})
    n = 200_000  # about 6 MB: sent from the table's buffers
    table = pa.table(
        {
            "user_id": pa.array(range(n), pa.int64()),
            "event_time": pa.array([T0] * n, pa.timestamp("us", tz="UTC")),
            "clicks": pa.array(range(n), pa.int64()),
            "score": pa.array([i / 3 for i in range(n)]),
        }
    )
    code, _, body = await api(
        "POST", f"groups/{GROUP}/data", body=table_to_ipc(table), headers={"Content-Type": ARROW_STREAM}
    )
    assert code == 200, body
    code, headers, body = await api("GET", f"groups/{GROUP}/data")
    assert code == 200 and int(headers["Content-Length"]) == len(body) > 64 * 1024
    assert ipc_to_table(body).sort_by("user_id").equals(table)
