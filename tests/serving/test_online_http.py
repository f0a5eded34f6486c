"""Lookups over HTTP: through the Jupyter server (the SDK's remote backend, and seed 002's
``POST raise/v1/features:lookup`` shape), and through ``raise serve-online`` (a real process on
loopback) with API keys, health, readiness, metrics and a hot-key load test."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from raise_ import FeatureStore
from raise_.errors import InvalidApiKeyError, InvalidArgumentError

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ROWS = [
    {"user_id": 1, "event_time": T0, "clicks": 3, "ctr_base": 0.25, "name": "ada"},
    {"user_id": 2, "event_time": T0, "clicks": 7, "ctr_base": 0.5, "name": "bo"},
]


def backends(*combos: tuple[str, str, str]) -> pytest.MarkDecorator:
    """Only these (backend, catalog, online store) combinations: the whole matrix repeats what the
    other combinations show, at a server start and a store each."""
    params = [
        pytest.param(*c, marks=pytest.mark.postgres) if c[1] == "postgresql" else pytest.param(*c) for c in combos
    ]
    return pytest.mark.parametrize(("store_on_both_backends", "catalog_url", "online_store"), params, indirect=True)


EMBEDDED_BOTH_STORES = backends(("embedded", "sqlite", "sqlite"), ("embedded", "postgresql", "redis"))
REMOTE_BOTH_STORES = backends(("remote", "sqlite", "redis"), ("remote", "postgresql", "sqlite"))


@pytest.fixture
def store_env(store_on_both_backends: Path, online_store: str) -> Path:
    return store_on_both_backends


@pytest.fixture
def served(open_org: FeatureStore) -> FeatureStore:
    group = open_org.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"clicks": "int64", "ctr_base": "float64", "name": "string"})
    group.write(ROWS)
    group.materialize()
    return open_org


@backends(
    ("embedded", "sqlite", "redis"),
    ("embedded", "postgresql", "sqlite"),
    ("remote", "sqlite", "sqlite"),
    ("remote", "postgresql", "redis"),
)
def test_lookups_through_the_server_equal_the_offline_read(served: FeatureStore) -> None:
    result = served.get_online_features(
        ["user-signals.clicks", "user-signals.name"], [{"user_id": 2}, {"user_id": 1}, {"user_id": 9}]
    )
    offline = {r["user_id"]: r for r in served.feature_group("user-signals").read().to_arrow().to_pylist()}
    assert result.to_dict() == {
        "user_id": [2, 1, 9],
        "user-signals.clicks": [offline[2]["clicks"], offline[1]["clicks"], None],
        "user-signals.name": [offline[2]["name"], offline[1]["name"], None],
    }
    assert result[0]["user-signals.clicks"].event_time == T0
    with pytest.raises(InvalidArgumentError):
        served.get_online_features(["user-signals.clicks"], [{"nobody": 1}])


@REMOTE_BOTH_STORES
def test_seed_002_lookup_shape_over_the_jupyter_server(served: FeatureStore) -> None:
    if not os.environ.get("RAISE_URL"):
        pytest.skip("the HTTP request goes to the Jupyter server: the remote variant")
    url = os.environ["RAISE_URL"] + "raise/v1/features:lookup"
    headers = {"Authorization": f"token {os.environ['RAISE_TOKEN']}"}
    body = {
        "entity_name": "user-signals",
        "project": "acme/mlplatform/recommendation",
        "keys": [1, 3],
        "features": [{"name": "clicks", "version": "v1"}, "ctr_base"],
        "options": {"timeout_ms": 50},
    }
    answer = requests.post(url, json=body, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "entity_name": "user-signals",
        "results": [
            {
                "key": 1,
                "features": {
                    "clicks@v1": {"value": 3, "ts": "2026-01-01T00:00:00Z", "version": "v1", "status": "OK"},
                    "ctr_base": {"value": 0.25, "ts": "2026-01-01T00:00:00Z", "version": "v1", "status": "OK"},
                },
                "status": "OK",
            },
            {
                "key": 3,
                "features": {
                    "clicks@v1": {"value": None, "ts": None, "version": "v1", "status": "NOT_FOUND"},
                    "ctr_base": {"value": None, "ts": None, "version": "v1", "status": "NOT_FOUND"},
                },
                "status": "NOT_FOUND",
            },
        ],
    }
    too_many = requests.post(
        os.environ["RAISE_URL"] + "raise/v1/features:batchLookup",
        json={**body, "keys": list(range(5_001))},
        headers=headers,
        timeout=30,
    )
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "INVALID_ARGUMENT", too_many.text
    assert "5000" in too_many.json()["error"]["message"].replace(",", "")


# -- raise serve-online ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def online_server(served: FeatureStore, store_env: Path) -> Iterator[str]:
    if os.environ.get("RAISE_URL"):
        pytest.skip("serve-online opens the store's catalog and online store itself: the embedded variant")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "raise_.cli", "serve-online", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "/health", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            out = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"raise serve-online did not start: {out}")
        time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(15)


@EMBEDDED_BOTH_STORES
def test_serve_online_answers_with_an_api_key_only(served: FeatureStore, online_server: str) -> None:
    issued = served.create_api_key("model-server")
    assert issued.key not in repr(issued)
    body = {"entity_name": "user-signals", "keys": [2], "features": ["clicks", "name"]}
    assert requests.post(online_server + "/v1/features:lookup", json=body, timeout=10).status_code == 401
    bad = requests.post(
        online_server + "/v1/features:lookup", json=body, headers={"X-API-Key": "raise-key-x"}, timeout=10
    )
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "INVALID_API_KEY"
    ok = requests.post(online_server + "/v1/features:lookup", json=body, headers={"X-API-Key": issued.key}, timeout=10)
    assert ok.status_code == 200, ok.text
    (result,) = ok.json()["results"]
    assert result["features"]["clicks"]["value"] == 7 and result["features"]["name"]["value"] == "bo"
    rows = requests.post(
        online_server + "/v1/online/features",
        json={"features": ["user-signals.clicks"], "entity_rows": [{"user_id": 1}]},
        headers={"X-API-Key": issued.key},
        timeout=10,
    )
    assert rows.status_code == 200 and rows.json()["results"][0]["user-signals.clicks"]["value"] == 3
    elsewhere = requests.post(
        online_server + "/v1/online/features",
        json={"features": ["acme/mlplatform/other/user-signals.clicks"], "entity_rows": [{"user_id": 1}]},
        headers={"X-API-Key": issued.key},
        timeout=10,
    )
    assert elsewhere.status_code == 403 and elsewhere.json()["error"]["code"] == "PERMISSION_DENIED"
    # mistakes are 4xx with a code, never a 500
    for payload, status in [
        (b"{not json", 400),
        (json.dumps({**body, "keys": []}).encode(), 400),
        (json.dumps({**body, "features": ["nope"]}).encode(), 404),
        (json.dumps({**body, "entity_name": "other/proj/x/user-signals"}).encode(), 403),
        (json.dumps({**body, "surprise": 1}).encode(), 400),
        # a longer path reaching another project: outside the key's scope, whoever created it
        (json.dumps({**body, "features": ["acme/mlplatform/other/user-signals.clicks"]}).encode(), 403),
    ]:
        answer = requests.post(
            online_server + "/v1/features:lookup", data=payload, headers={"X-API-Key": issued.key}, timeout=10
        )
        assert answer.status_code == status, (payload, answer.text)
        assert answer.json()["error"]["code"]
    # revoked: refused within a second
    assert served.revoke_api_key("model-server") is True
    time.sleep(1.1)
    gone = requests.post(
        online_server + "/v1/features:lookup", json=body, headers={"X-API-Key": issued.key}, timeout=10
    )
    assert gone.status_code == 401
    with pytest.raises(InvalidApiKeyError):
        from raise_.engine import Engine

        Engine.shared(served._settings).service.online.verify_api_key(issued.key)


@EMBEDDED_BOTH_STORES
def test_serve_online_health_ready_and_metrics(served: FeatureStore, online_server: str) -> None:
    issued = served.create_api_key("scraper")
    assert requests.get(online_server + "/health", timeout=10).json() == {"status": "ok"}
    ready = requests.get(online_server + "/ready", timeout=10)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert requests.get(online_server + "/metrics", timeout=10).status_code == 401
    body = {"entity_name": "user-signals", "keys": [1, 2, 5], "features": ["clicks"]}
    for _ in range(3):
        requests.post(online_server + "/v1/features:lookup", json=body, headers={"X-API-Key": issued.key}, timeout=10)
    text = requests.get(online_server + "/metrics", headers={"X-API-Key": issued.key}, timeout=10).text
    metrics = _parse_metrics(text)
    group = "acme/mlplatform/recommendation/user-signals"
    assert metrics["raise_online_lookup_duration_seconds_count"] == 3
    assert metrics["raise_online_lookup_keys_total"] == 9
    assert metrics[f'raise_online_hits_total{{group="{group}"}}'] == 6
    assert metrics[f'raise_online_misses_total{{group="{group}"}}'] == 3


def _parse_metrics(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


@pytest.mark.slow
@EMBEDDED_BOTH_STORES
def test_a_thousand_concurrent_lookups_of_one_key_share_few_store_reads(
    served: FeatureStore, online_server: str
) -> None:
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    issued = served.create_api_key("load")
    body = json.dumps({"entity_name": "user-signals", "keys": [2], "features": ["clicks", "name"]})

    async def hammer() -> list[Any]:
        client = AsyncHTTPClient(force_instance=True, max_clients=200)
        request = HTTPRequest(
            online_server + "/v1/features:lookup", method="POST", body=body, headers={"X-API-Key": issued.key}
        )
        try:
            return await asyncio.gather(*(client.fetch(request, raise_error=False) for _ in range(1_000)))
        finally:
            client.close()

    started = time.monotonic()
    answers = asyncio.run(hammer())
    took = time.monotonic() - started
    assert [a.code for a in answers] == [200] * 1_000
    values = {json.dumps(json.loads(a.body)["results"][0]["features"], sort_keys=True) for a in answers}
    assert len(values) == 1 and '"value": 7' in values.pop()
    assert took < 60, took
    metrics = _parse_metrics(
        requests.get(online_server + "/metrics", headers={"X-API-Key": issued.key}, timeout=10).text
    )
    shared = metrics["raise_online_near_cache_hits_total"] + metrics["raise_online_coalesced_total"]
    # 1,000 lookups of one key: the store is read at most once per near-cache period (0.5 s) while
    # they last, plus a few (a busy machine only makes them last longer), never once per lookup
    store_reads = 1_000 - shared
    assert store_reads <= 5 + took / 0.5 and store_reads <= 130, (store_reads, took, metrics)


@REMOTE_BOTH_STORES
def test_the_jupyter_servers_metrics_show_online_serving(served: FeatureStore) -> None:
    if not os.environ.get("RAISE_URL"):
        pytest.skip("scrapes the Jupyter server: the remote variant")
    group = served.feature_group("user-signals")
    group.set_online(True)
    headers = {"Authorization": f"token {os.environ['RAISE_TOKEN']}"}
    before = _parse_metrics(
        requests.get(os.environ["RAISE_URL"] + "raise/v1/metrics", headers=headers, timeout=30).text
    )
    served.get_online_features(["user-signals.clicks"], [{"user_id": 1}, {"user_id": 2}, {"user_id": 3}])
    group.write([{"user_id": 3, "event_time": T0, "clicks": 1, "ctr_base": 0.0, "name": "cy"}])
    behind = 'raise_online_commits_behind{group="acme/mlplatform/recommendation/user-signals"}'
    deadline = time.monotonic() + 30
    while True:  # the server's change follower materializes the write; the scrape measures it
        after = _parse_metrics(
            requests.get(os.environ["RAISE_URL"] + "raise/v1/metrics", headers=headers, timeout=30).text
        )
        if after.get(behind) == 0 and group.online_freshness().entities == 3:
            break
        assert time.monotonic() < deadline, after.get(behind)
        time.sleep(0.1)
    keys = "raise_online_lookup_keys_total"
    assert after[keys] - before.get(keys, 0) == 3
    assert after['raise_online_lag_seconds{group="acme/mlplatform/recommendation/user-signals"}'] == 0
    assert after["raise_online_lookup_duration_seconds_count"] >= 1
    group.set_online(False)
