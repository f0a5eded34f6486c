"""``GET /raise/v1/metrics``: Prometheus text that a real parser reads, request counts and latency
histograms per route and status that move with the calls, in-flight requests, the store's sizes
and the scheduler's tasks."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from prometheus_client.parser import text_string_to_metric_families

from raise_.api.codec import ARROW_STREAM, table_to_ipc
from raise_.client.remote import RemoteBackend
from raise_jupyter.server_ext import RaiseExtension
from raise_jupyter.server_ext.background import BackgroundServer

GROUP = "acme/ml/rec/user-signals"


@pytest.fixture
def catalog_url(tmp_path: Any) -> str:  # metrics do not depend on the catalog backend: SQLite only
    return f"sqlite:///{tmp_path / 'home' / 'catalog.db'}"


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(api: Any) -> Samples:
    code, headers, body = await api("GET", "metrics")
    assert code == 200, body
    assert headers["Content-Type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def requests(samples: Samples, route: str, method: str = "GET", status: str = "200") -> float:
    key = ("raise_http_requests_total", (("method", method), ("route", route), ("status", status)))
    return samples.get(key, 0.0)


def latency_count(samples: Samples, route: str) -> float:
    return samples.get(("raise_http_request_duration_seconds_count", (("route", route),)), 0.0)


def gauge(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def test_counts_and_latencies_move_with_the_calls(api: Any) -> None:
    before = await scrape(api)
    for _ in range(2):
        assert (await api("GET", "organizations"))[0] == 200
    assert (await api("GET", "organizations/nope"))[0] == 404
    assert (await api("GET", "no/such/route"))[0] == 404
    assert (await api("GET", "organizations", auth=False))[0] == 403
    after = await scrape(api)

    assert requests(after, "list_organizations") - requests(before, "list_organizations") == 2
    assert requests(after, "get_organization", status="404") - requests(before, "get_organization", status="404") == 1
    assert requests(after, "unmatched", status="404") == 1
    # refused before it was served: still counted, under the route it asked for
    assert requests(after, "list_organizations", status="403") == 1
    assert latency_count(after, "list_organizations") - latency_count(before, "list_organizations") == 3
    assert requests(after, "metrics") == 1  # the first scrape, counted once it finished

    buckets = {
        dict(labels)["le"]: value
        for (name, labels), value in after.items()
        if name == "raise_http_request_duration_seconds_bucket" and dict(labels)["route"] == "list_organizations"
    }
    assert buckets["+Inf"] == 3 and buckets["0.0005"] <= buckets["0.1"] <= buckets["+Inf"]
    assert after[("raise_http_request_duration_seconds_sum", (("route", "list_organizations"),))] > 0
    assert gauge(after, "raise_http_requests_in_flight") == 1  # the scrape itself


async def test_store_sizes(api: Any, extension: RaiseExtension) -> None:
    empty = await scrape(api)
    assert gauge(empty, "raise_store_up") == 1
    assert gauge(empty, "raise_catalog_organizations") == 0

    assert (await api("PUT", "projects/acme/ml/rec"))[0] == 200
    group = {"name": "user-signals", "entity_keys": ["user_id"]}
    assert (await api("POST", "projects/acme/ml/rec/groups", json_body=group))[0] == 200
    definitions = [{"name": "clicks", "dtype": "int64"}, {"name": "score", "dtype": "float64"}]
    assert (await api("POST", f"groups/{GROUP}/features/bulk", json_body={"definitions": definitions}))[0] == 200
    assert (await api("DELETE", f"groups/{GROUP}/features/score@v1"))[0] == 200
    n = 50_000
    table = pa.table(
        {
            "user_id": pa.array(range(n), pa.int64()),
            "event_time": pa.array([datetime(2024, 1, 1, tzinfo=UTC)] * n, pa.timestamp("us", tz="UTC")),
            "clicks": pa.array(range(n), pa.int64()),
        }
    )
    code, _, body = await api(
        "POST", f"groups/{GROUP}/data", body=table_to_ipc(table), headers={"Content-Type": ARROW_STREAM}
    )
    assert code == 200, body

    full = await scrape(api)
    assert [
        gauge(full, f"raise_catalog_{level}") for level in ("organizations", "domains", "projects", "feature_groups")
    ] == [1, 1, 1, 1]
    assert gauge(full, "raise_catalog_features", status="active") == 1
    assert gauge(full, "raise_catalog_features", status="archived") == 1
    assert gauge(full, "raise_audit_entries") > gauge(empty, "raise_audit_entries")
    offline = extension.store_settings().offline_store_path
    on_disk = sum(p.stat().st_size for p in (offline, offline.with_name(offline.name + ".wal")) if p.exists())
    assert gauge(full, "raise_offline_store_bytes") == on_disk > 0


class TestUnreachableCatalog:
    @pytest.fixture
    def raise_config(self) -> dict[str, Any]:
        return {"RaiseExtension": {"catalog_url": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"}}

    async def test_a_scrape_still_answers_with_store_up_0(self, api: Any) -> None:
        samples = await scrape(api)
        assert gauge(samples, "raise_store_up") == 0
        assert not any(name.startswith("raise_catalog_") for name, _ in samples)


class TestRateLimited:
    @pytest.fixture
    def raise_config(self) -> dict[str, Any]:
        return {"RaiseExtension": {"rate_limit_per_minute": 1}}

    async def test_refusals_are_counted_under_their_route(self, api: Any) -> None:
        assert [(await api("GET", "organizations"))[0] for _ in range(3)] == [200, 429, 429]
        samples = await scrape(api)
        assert requests(samples, "list_organizations", status="429") == 2


async def test_scheduled_tasks_are_reported(api: Any, extension: RaiseExtension, jp_serverapp: Any) -> None:
    await jp_serverapp._post_start()  # what a real server does once its loop runs: starts the scheduler
    ran = []
    extension.scheduler.register("ping", lambda: ran.append(1), every=3600, first_in=0)
    for _ in range(200):
        if extension.scheduler.get("ping").runs:
            break
        await asyncio.sleep(0.01)
    samples = await scrape(api)
    assert gauge(samples, "raise_scheduler_task_runs_total", task="ping") == 1
    assert gauge(samples, "raise_scheduler_task_failures_total", task="ping") == 0
    assert ran == [1]


def test_a_client_that_leaves_mid_answer_is_counted_and_not_in_flight(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with BackgroundServer(home=home, catalog_url=f"sqlite:///{home / 'catalog.db'}") as server:
        backend = RemoteBackend(server.url, server.token)
        backend.ensure_project("acme/ml/rec")
        backend.create_feature_group("acme/ml/rec", "g", entity_keys=["user_id"])
        backend.create_features("acme/ml/rec/g", [{"name": "x", "dtype": "float64"}])
        n = 2_000_000  # about 48 MB of answer: far more than the socket buffers hold
        backend.write("acme/ml/rec/g", pa.table({"user_id": pa.array(range(n), pa.int64()), "x": [0.5] * n}))
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            head = f"GET /raise/v1/groups/acme/ml/rec/g/data HTTP/1.1\r\nAuthorization: token {server.token}\r\n"
            sock.sendall(head.encode() + b"Host: 127.0.0.1\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
        metrics = server.extension.metrics
        deadline = time.monotonic() + 30
        while metrics.in_flight._value.get() != 0:  # the server notices when its write fails
            assert time.monotonic() < deadline, "the abandoned request stayed in flight"
            time.sleep(0.05)
        counted = metrics.requests.labels("read", "GET", "200")._value.get()
        assert counted == 1
