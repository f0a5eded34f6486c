"""Online serving (issue 24): Raise's lookups, ``raise serve-online`` and materialization against Feast 0.67.

A script, not a test: it prints one report and optionally writes the numbers as JSON.

    .venv/bin/python bench/online.py                       # S1: 3 groups × 1M rows (3M rows), 100k keys
    .venv/bin/python bench/online.py --scale tiny          # quick smoke run (3 × 100k rows, 10k keys)
    .venv/bin/python bench/online.py --skip-feast --json out.json
    .venv/bin/python bench/online.py --skip-feast-redis    # Feast on SQLite only

Data: S1 of ``bench/pit_join.py`` (its generator, fixed seed): 3 feature groups ``g0``..``g2`` of N rows,
5 float64 features each (15 in all), ``user_id`` (int64) drawn from K keys, event times uniform over 90 days.
The same tables go into Raise (``group.write(pyarrow_table)``) and, as parquet, into Feast (a FileSource per
group, an Entity ``user_id``, 3 FeatureViews, online store ``sqlite``; optionally a second repo on the same
Redis as Raise's), in Feast's own venv ``bench/.feast-venv`` (a subprocess, as ``bench/pit_join.py`` does).

Measured, in one run, on the same data and the same random keys (drawn over the whole key space, so the
near cache of single-key lookups rarely answers; its hits are reported):

1. **Materialize** all 3 groups (3N rows → 3K entities): Raise into SQLite and into Redis
   (``fs.materialize``), Feast ``store.materialize(start, end)`` (duckdb offline store); then 1% of the rows
   change (``group.write(..., mode="upsert")``, N/100 rows per group with newer event times) and the
   incremental ``fs.materialize`` is timed on both stores (``mode == "incremental"`` checked).
2. **In-process lookups** of 15 features: 1 row (random key) and 100 rows, p50/p99 after a warm-up: Raise
   ``fs.get_online_features(...).to_dict()`` on SQLite and Redis, Feast
   ``store.get_online_features(...).to_dict()`` on SQLite (and Redis).
3. **HTTP**, 1 row × 15 features on a reused keep-alive connection: ``raise serve-online`` (SQLite and Redis,
   ``POST /v1/features:lookup``) and ``feast serve`` (``POST /get-online-features``; 1 worker, no access
   log, ``--max-requests 0`` so gunicorn never recycles the worker mid-run), interleaved request by request,
   with the transport floor (serve-online's ``GET /health``, answered on its event loop) and the lookup's own
   mean time inside the server (its ``/metrics``).
4. **Saturation**: an asyncio client (raw HTTP/1.1 on keep-alive connections, this process) at
   1..64 concurrent connections in a closed loop; the best requests/s is the saturation throughput. Then an
   open loop at half that rate (requests scheduled at fixed intervals, latency counted from the scheduled
   time, so queueing shows): p50/p99. On a 2-core machine the client takes CPU from the server: the
   throughput is a floor for a server with a core of its own.

Correctness (the script exits 1 on any mismatch): on a sample of keys, Raise's online values on each store
equal ``group.read()``'s latest values and Feast's answers, exactly (float64); the HTTP answers equal the
in-process ones; after the 1% change, the changed keys' values equal ``group.read()``'s on both stores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from _machine import machine_info, machine_line
from _timing import Stats, summarize, table_lines, time_call, time_calls
from pit_join import (
    DAY_US,
    FEAST_VENV,
    FEATURES_PER_GROUP,
    GROUPS,
    SPAN_DAYS,
    T0_US,
    TS,
    ensure_feast_venv,
    feature_names,
    generate_group,
    group_name,
)
from pit_join import SCALES as PIT_SCALES
from server import free_port

import raise_
from raise_ import FeatureStore
from raise_.engine import Engine

PROJECT = "acme/mlplatform/recommendation"
REDIS_URL = "redis://127.0.0.1:6379/12"
FEAST_REDIS = "127.0.0.1:6379,db=12"
# name: (rows per group, keys) — S1 is pit_join's "small"
SCALES: dict[str, tuple[int, int]] = {name: PIT_SCALES[name][:2] for name in ("tiny", "small")}
REFS = [f"{group_name(i)}.{f}" for i in range(GROUPS) for f in feature_names(i)]  # Raise: "g0.g0_f0"
FEAST_REFS = [f"{group_name(i)}:{f}" for i in range(GROUPS) for f in feature_names(i)]  # Feast: "g0:g0_f0"
HTTP_FEATURES = [
    f if i == 0 else f"{group_name(i)}.{f}" for i in range(GROUPS) for f in feature_names(i)
]  # serve-online's lookup of entity g0: its own features by name, the others' as "g1.g1_f0"
CHANGED_SHARE = 0.01
SAMPLE = 1_000

# (1-row lookups, 100-row lookups, warm-up 1-row, warm-up 100-row, HTTP requests, seconds per
#  saturation level, seconds at half load)
COUNTS: dict[str, tuple[int, int, int, int, int, float, float]] = {
    "tiny": (500, 60, 50, 5, 400, 1.0, 3.0),
    "small": (2_000, 300, 200, 20, 2_000, 3.0, 10.0),
}
CONCURRENCY = (1, 2, 4, 8, 16, 32, 64)
FLOOR = "floor: serve-online GET /health"
OPEN_LOOP_CONNECTIONS = 64

# The issue's figures for Feast, measured on this machine before, and its aims.
FEAST_ISSUE: dict[str, Any] = {"one_p99": 1.06, "hundred_p99": 26.9, "http_p99": 4.6, "materialize_s": (41.0, 47.0)}
AIM_LOOKUP_RATIO = 0.2  # Raise p99 ≤ 0.2 × Feast's
AIM_HTTP_P99_MS = 2.0
AIM_MATERIALIZE_S = 5.0
AIM_INCREMENTAL_S = 0.1


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- data ---------------------------------------------------------------------------------------


def changed_rows(i: int, rows: int, keys: int, seed: int) -> pa.Table:
    """1% of a group's rows: distinct keys, event times after all the data, new values."""
    rng = np.random.default_rng([seed, 3_000, i])
    n = max(1, int(rows * CHANGED_SHARE))
    columns: dict[str, Any] = {
        "user_id": np.sort(rng.choice(keys, n, replace=False)).astype(np.int64),
        "event_time": pa.array(T0_US + (SPAN_DAYS + 1) * DAY_US + rng.integers(0, DAY_US, n, dtype=np.int64), type=TS),
    }
    for name in feature_names(i):
        columns[name] = rng.standard_normal(n)
    return pa.table(columns)


def key_plan(keys: int, counts: tuple[Any, ...], seed: int) -> dict[str, Any]:
    """The random keys every engine looks up, in the same order."""
    one_n, hundred_n, warm_one, warm_hundred, http_n = counts[:5]
    rng = np.random.default_rng([seed, 4_000])

    def draw(n: int) -> list[int]:
        return [int(k) for k in rng.integers(0, keys, n)]

    return {
        "warm_one": draw(warm_one),
        "warm_hundred": [draw(100) for _ in range(warm_hundred)],
        "one": draw(one_n),
        "hundred": [draw(100) for _ in range(hundred_n)],
        "http": draw(http_n),
        "load": draw(20_000),
        # a few keys past the key space: NOT_FOUND must agree too
        "sample": sorted({int(k) for k in rng.choice(keys, min(SAMPLE, keys), replace=False)} | {keys, keys + 7}),
        "start_s": (T0_US - DAY_US) / 1e6,
        "end_s": (T0_US + (SPAN_DAYS + 2) * DAY_US) / 1e6,
    }


# -- correctness ------------------------------------------------------------------------------------


def reference(fs: FeatureStore, keys: Sequence[int]) -> dict[str, list[Any]]:
    """``group.read()``'s latest value of each feature for ``keys`` (None: no such entity)."""
    out: dict[str, list[Any]] = {}
    wanted = pa.array(keys, pa.int64())
    for i in range(GROUPS):
        table = fs.feature_group(group_name(i)).read().to_arrow()
        pos = pc.index_in(wanted, value_set=table.column("user_id")).to_pylist()
        for f in feature_names(i):
            column = table.column(f).to_pylist()
            out[f"{group_name(i)}.{f}"] = [None if p is None else column[p] for p in pos]
    return out


def mismatches(got: dict[str, list[Any]], want: dict[str, list[Any]], names: dict[str, str] | None = None) -> int:
    """Cells of ``got`` (its columns renamed by ``names``) that differ from ``want``, exactly."""
    bad = 0
    for ref, expected in want.items():
        column = got.get((names or {}).get(ref, ref))
        if column is None or len(column) != len(expected):
            return -1
        bad += sum(1 for a, b in zip(column, expected, strict=True) if a != b)
    return bad


# -- Raise ------------------------------------------------------------------------------------------


def open_store(home: Path, online_url: str | None) -> FeatureStore:
    """The store at ``home`` with its online store at ``online_url`` (None: SQLite in home)."""
    Engine.close_all()
    if online_url:
        os.environ["RAISE_ONLINE_URL"] = online_url
    else:
        os.environ.pop("RAISE_ONLINE_URL", None)
    return FeatureStore(PROJECT, home=home)


def online_service(fs: FeatureStore) -> Any:
    return Engine.shared(fs._settings).service.online


def write_groups(fs: FeatureStore, tables: list[pa.Table]) -> list[float]:
    seconds = []
    for i, table in enumerate(tables):
        g = fs.create_feature_group(group_name(i), entity_keys=["user_id"], event_time="event_time")
        g.create_features([{"name": f, "dtype": "float64"} for f in feature_names(i)])
        seconds.append(time_call(partial(g.write, table)) / 1e9)
    return seconds


def materialize(fs: FeatureStore, expect: str) -> dict[str, Any]:
    groups = [group_name(i) for i in range(GROUPS)]
    out: dict[str, Any] = {}
    ns = time_call(lambda: out.setdefault("results", fs.materialize(groups=groups)))
    results = out["results"]
    modes = [r.mode for r in results]
    if any(m != expect for m in modes):
        raise SystemExit(f"FAIL: materialize modes {modes}, expected {expect!r} for every group")
    return {
        "seconds": ns / 1e9,
        "mode": expect,
        "entities_written": sum(r.entities_written for r in results),
        "per_group_s": [r.seconds for r in results],
        "store": results[0].store,
    }


def raise_lookups(fs: FeatureStore, plan: dict[str, Any]) -> dict[str, Any]:
    hot = online_service(fs).hot

    def look(keys: Sequence[int]) -> dict[str, list[Any]]:
        return fs.get_online_features(REFS, [{"user_id": k} for k in keys]).to_dict()

    for k in plan["warm_one"]:
        look([k])
    for ks in plan["warm_hundred"]:
        look(ks)
    cached0, reads0 = hot.cached, hot.reads
    one = [time_call(partial(look, [k])) for k in plan["one"]]
    cached = hot.cached - cached0
    reads = hot.reads - reads0
    hundred = [time_call(partial(look, ks)) for ks in plan["hundred"]]
    return {
        "one": summarize(one),
        "hundred": summarize(hundred),
        "near_cache_hits": cached,
        "store_reads_1row": reads,
        "sample": look(plan["sample"]),
    }


# -- Feast ------------------------------------------------------------------------------------------

FEAST_RUNNER = textwrap.dedent(
    '''
    """Feast's materialize and online lookups over a generated repo; written and started by bench/online.py."""
    import importlib.util, json, sys, time, warnings
    from datetime import datetime, timezone
    from pathlib import Path

    warnings.filterwarnings("ignore")
    import feast
    from feast import FeatureStore

    repo, plan_path, out_path = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    plan = json.loads(plan_path.read_text())
    spec = importlib.util.spec_from_file_location("bench_definitions", repo / "definitions.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    store = FeatureStore(repo_path=str(repo))
    t = time.perf_counter()
    store.apply([mod.user, *mod.views])
    apply_s = time.perf_counter() - t
    start = datetime.fromtimestamp(plan["start_s"], tz=timezone.utc)
    end = datetime.fromtimestamp(plan["end_s"], tz=timezone.utc)
    t = time.perf_counter()
    store.materialize(start_date=start, end_date=end)
    materialize_s = time.perf_counter() - t
    print(f"materialized in {materialize_s:.2f} s", flush=True)


    def look(keys):
        rows = [{"user_id": k} for k in keys]
        return store.get_online_features(features=mod.FEATURE_REFS, entity_rows=rows).to_dict()


    for k in plan["warm_one"]:
        look([k])
    for ks in plan["warm_hundred"]:
        look(ks)
    clock = time.perf_counter_ns
    one = []
    for k in plan["one"]:
        t0 = clock()
        look([k])
        one.append(clock() - t0)
    hundred = []
    for ks in plan["hundred"]:
        t0 = clock()
        look(ks)
        hundred.append(clock() - t0)
    sample = look(plan["sample"])
    Path(out_path).write_text(json.dumps({
        "feast": feast.__version__, "apply_s": apply_s, "materialize_s": materialize_s,
        "one_ns": one, "hundred_ns": hundred, "sample": sample,
    }))
    '''
).lstrip()


def feast_definitions(data_dir: Path) -> str:
    return textwrap.dedent(
        f"""
        from datetime import timedelta

        from feast import Entity, FeatureView, Field, FileSource
        from feast.types import Float64, Int64

        GROUPS, PER_GROUP, DATA = {GROUPS}, {FEATURES_PER_GROUP}, {str(data_dir)!r}
        user = Entity(name="user", join_keys=["user_id"])
        views, FEATURE_REFS = [], []
        for i in range(GROUPS):
            names = [f"g{{i}}_f{{j}}" for j in range(PER_GROUP)]
            source = FileSource(name=f"g{{i}}_source", path=f"{{DATA}}/g{{i}}.parquet", timestamp_field="event_time")
            views.append(
                FeatureView(
                    name=f"g{{i}}",
                    entities=[user],
                    ttl=timedelta(0),  # no TTL: the data is from 2025
                    schema=[Field(name="user_id", dtype=Int64), *[Field(name=n, dtype=Float64) for n in names]],
                    source=source,
                    online=True,
                )
            )
            FEATURE_REFS += [f"g{{i}}:{{n}}" for n in names]
        """
    ).lstrip()


def feast_yaml(project: str, repo: Path, online: str) -> str:
    store = (
        f"online_store:\n  type: sqlite\n  path: {repo / 'online.db'}\n"
        if online == "sqlite"
        else f"online_store:\n  type: redis\n  connection_string: '{FEAST_REDIS}'\n"
    )
    return (
        f"project: {project}\n"
        f"registry: {repo / 'registry.db'}\n"
        "provider: local\n"
        f"{store}"
        "offline_store:\n  type: duckdb\n"
        "entity_key_serialization_version: 3\n"
    )


def feast_env() -> dict[str, str]:
    env = {**os.environ, "FEAST_USAGE": "False", "PYTHONWARNINGS": "ignore"}
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "RAISE_ONLINE_URL"):
        env.pop(name, None)
    return env


def feast_has_redis(python: Path) -> bool:
    """Whether Feast's venv can talk to Redis (installs ``feast[redis]`` of its version if need be)."""
    probe = [str(python), "-c", "import redis"]
    if subprocess.run(probe, capture_output=True).returncode == 0:
        return True
    version = subprocess.run(
        [str(python), "-c", "import feast; print(feast.__version__)"], capture_output=True, text=True
    ).stdout.strip()
    print(f"installing feast[redis]=={version} into {FEAST_VENV.name}", flush=True)
    pip = [str(FEAST_VENV / "bin" / "pip"), "install", "--quiet", f"feast[duckdb,redis]=={version}"]
    if subprocess.run(pip, capture_output=True).returncode != 0:
        return False
    return subprocess.run(probe, capture_output=True).returncode == 0


def make_feast_repo(work: Path, data: Path, name: str, project: str, online: str) -> Path:
    repo = work / name
    repo.mkdir()
    (repo / "feature_store.yaml").write_text(feast_yaml(project, repo, online))
    (repo / "definitions.py").write_text(feast_definitions(data))
    return repo


def run_feast(python: Path, work: Path, repo: Path, plan_path: Path, timeout_s: int) -> dict[str, Any]:
    out = repo / "result.json"
    log_path = repo / "feast.log"
    with log_path.open("w") as fh:
        try:
            proc = subprocess.run(
                [str(python), str(work / "run_feast.py"), str(repo), str(plan_path), str(out)],
                stdout=fh,
                stderr=subprocess.STDOUT,
                env=feast_env(),
                timeout=timeout_s,
                cwd=repo,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout_s} s"}
    if proc.returncode != 0:
        return {"error": f"exit status {proc.returncode}", "log_tail": log_path.read_text()[-3000:]}
    info: dict[str, Any] = json.loads(out.read_text())
    info["one"] = summarize(info.pop("one_ns"))
    info["hundred"] = summarize(info.pop("hundred_ns"))
    return info


# -- servers ----------------------------------------------------------------------------------------


class Process:
    """A server in a subprocess, ready once ``GET health`` answers 200."""

    def __init__(self, name: str, argv: list[str], port: int, health: str, env: dict[str, str], cwd: Path) -> None:
        self.name, self.port = name, port
        self.log = cwd / f"{name.replace(' ', '_')}.log"
        self._fh = self.log.open("w")
        self.process = subprocess.Popen(argv, stdout=self._fh, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        deadline = time.monotonic() + 120
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", health)
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{name} did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._fh.close()


def serve_online(home: Path, online_url: str | None, tmp: Path, label: str, threads: int | None) -> Process:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("RAISE_URL", "RAISE_TOKEN", "RAISE_ONLINE_URL")}
    if online_url:
        env["RAISE_ONLINE_URL"] = online_url
    argv = [sys.executable, "-m", "raise_.cli", "serve-online", "--port", str(port), "--home", str(home)]
    if threads is not None:
        argv += ["--threads", str(threads)]
    return Process(label, argv, port, "/health", env, tmp)


def feast_serve(repo: Path) -> Process:
    port = free_port()
    argv = [str(FEAST_VENV / "bin" / "feast"), "serve", "-h", "127.0.0.1", "-p", str(port), "--no-access-log"]
    argv += ["-w", "1", "--max-requests", "0"]
    return Process("feast serve", argv, port, "/health", feast_env(), repo)


class Endpoint:
    """One lookup route: its path, headers and the JSON body of a 1-row lookup of ``key``
    (``body`` None: a ``GET`` of the path, the transport floor)."""

    def __init__(
        self, name: str, port: int, path: str, headers: dict[str, str], body: Callable[[int], bytes] | None
    ) -> None:
        self.name, self.port, self.path, self.headers, self.body = name, port, path, headers, body
        self.method = "GET" if body is None else "POST"

    def raw(self, key: int) -> bytes:
        payload = b"" if self.body is None else self.body(key)
        head = (
            f"{self.method} {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
        )
        head += "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        return (head + f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload


def raise_endpoint(name: str, port: int, api_key: str) -> Endpoint:
    return Endpoint(
        name,
        port,
        "/v1/features:lookup",
        {"X-API-Key": api_key},
        lambda k: json.dumps({"entity_name": "g0", "keys": [k], "features": HTTP_FEATURES}).encode(),
    )


def feast_endpoint(port: int) -> Endpoint:
    return Endpoint(
        "Feast serve (SQLite)",
        port,
        "/get-online-features",
        {},
        lambda k: json.dumps({"features": FEAST_REFS, "entities": {"user_id": [k]}}).encode(),
    )


def http_values(endpoint: Endpoint, body: bytes) -> dict[str, Any]:
    """The features' values of a 1-row answer, by Raise reference."""
    data = json.loads(body)
    if endpoint.path == "/get-online-features":
        names = data["metadata"]["feature_names"]
        values = {n: r["values"][0] for n, r in zip(names, data["results"], strict=True)}
        return {ref: values.get(ref.split(".")[1]) for ref in REFS}
    feats = data["results"][0]["features"]
    return {ref: feats[h]["value"] for ref, h in zip(REFS, HTTP_FEATURES, strict=True)}


def http_latency(endpoints: list[Endpoint], keys: list[int], warmup: int) -> dict[str, Any]:
    """1-row lookups on one keep-alive connection per endpoint, interleaved; the answers of the last
    ``len(keys)`` rounds are kept for a check."""
    conns = {e.name: http.client.HTTPConnection("127.0.0.1", e.port, timeout=30) for e in endpoints}
    position = {"i": 0}
    answers: dict[str, list[tuple[int, bytes]]] = {e.name: [] for e in endpoints}

    def caller(e: Endpoint) -> Callable[[], None]:
        conn = conns[e.name]
        headers = {"Content-Type": "application/json", **e.headers}

        def call() -> None:
            key = keys[position["i"] % len(keys)]
            conn.request(e.method, e.path, None if e.body is None else e.body(key), headers)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"{e.name}: HTTP {response.status}: {body[:500]!r}")
            answers[e.name].append((key, body))

        return call

    calls = [caller(e) for e in endpoints]

    def advancing(i: int) -> Callable[[], None]:
        def call() -> None:
            calls[i]()
            if i == len(calls) - 1:
                position["i"] += 1

        return call

    durations = time_calls([advancing(i) for i in range(len(calls))], len(keys), warmup)
    for conn in conns.values():
        conn.close()
    return {
        e.name: {"stats": summarize(d), "answers": answers[e.name][warmup:]}
        for e, d in zip(endpoints, durations, strict=True)
    }


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return int(head[9:12])


async def _connections(port: int, n: int) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    return [await asyncio.open_connection("127.0.0.1", port) for _ in range(n)]


async def _close(conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]) -> None:
    for _, writer in conns:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def closed_loop(endpoint: Endpoint, raws: list[bytes], concurrency: int, seconds: float) -> dict[str, Any]:
    conns = await _connections(endpoint.port, concurrency)
    latencies: list[int] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        nonlocal errors
        reader, writer = conns[n]
        i = n
        while time.perf_counter() < deadline:
            t0 = time.perf_counter_ns()
            status = await _exchange(reader, writer, raws[i % len(raws)])
            latencies.append(time.perf_counter_ns() - t0)
            errors += status != 200
            i += concurrency

    start = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    elapsed = time.perf_counter() - start
    await _close(conns)
    s = summarize(latencies)
    return {"concurrency": concurrency, "rps": len(latencies) / elapsed, "p50": s.p50, "p99": s.p99, "errors": errors}


async def open_loop(endpoint: Endpoint, raws: list[bytes], rate: float, seconds: float) -> dict[str, Any]:
    """Requests at fixed intervals; latency from each request's scheduled time (queueing included)."""
    conns = await _connections(endpoint.port, OPEN_LOOP_CONNECTIONS)
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for c in conns:
        idle.put_nowait(c)
    from_schedule: list[int] = []
    service: list[int] = []
    errors = 0
    n = max(1, int(rate * seconds))

    async def one(i: int, scheduled: int) -> None:
        nonlocal errors
        reader, writer = await idle.get()
        sent = time.perf_counter_ns()
        try:
            errors += await _exchange(reader, writer, raws[i % len(raws)]) != 200
        finally:
            idle.put_nowait((reader, writer))
        done = time.perf_counter_ns()
        from_schedule.append(done - scheduled)
        service.append(done - sent)

    start = time.perf_counter_ns()
    interval = 1e9 / rate
    tasks = []
    for i in range(n):
        scheduled = start + int(i * interval)
        delay = (scheduled - time.perf_counter_ns()) / 1e9
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = (time.perf_counter_ns() - start) / 1e9
    await _close(conns)
    s, v = summarize(from_schedule), summarize(service)
    return {
        "rate": rate,
        "achieved_rps": n / elapsed,
        "requests": n,
        "p50": s.p50,
        "p99": s.p99,
        "service_p50": v.p50,
        "service_p99": v.p99,
        "errors": errors,
    }


def saturate(endpoint: Endpoint, keys: list[int], level_s: float, half_s: float) -> dict[str, Any]:
    raws = [endpoint.raw(k) for k in keys]

    async def run() -> dict[str, Any]:
        await closed_loop(endpoint, raws, 8, min(1.0, level_s))  # warm-up
        levels = []
        for c in CONCURRENCY:
            levels.append(await closed_loop(endpoint, raws, c, level_s))
        best = max(levels, key=lambda r: r["rps"])
        half = await open_loop(endpoint, raws, best["rps"] / 2, half_s)
        return {"levels": levels, "saturation_rps": best["rps"], "at_concurrency": best["concurrency"], "half": half}

    return asyncio.run(run())


def server_metrics(port: int, api_key: str) -> dict[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics", headers={"X-API-Key": api_key})
    text = conn.getresponse().read().decode()
    conn.close()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


# -- report -----------------------------------------------------------------------------------------


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f}" if v < 10 else f"{v:.1f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or not b else f"{a / b:.2f}×"


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else "met" if ok else "MISSED"


def other_pytest() -> int:
    with contextlib.suppress(OSError, FileNotFoundError):
        out = subprocess.run(["pgrep", "-f", "pytest"], capture_output=True, text=True).stdout.split()
        return len([p for p in out if int(p) != os.getpid()])
    return 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    rows, keys = SCALES[args.scale]
    counts = COUNTS[args.scale]
    http_n, level_s, half_s = counts[4:]
    res: dict[str, Any] = {
        "scale": args.scale,
        "rows_per_group": rows,
        "keys": keys,
        "groups": GROUPS,
        "serve_threads": args.serve_threads,
    }
    failures: list[str] = []
    plan = key_plan(keys, counts, args.seed)
    suffix = uuid.uuid4().hex[:10]
    raise_redis = f"{REDIS_URL}?prefix=bench-{suffix}:"
    feast_project = f"onlinebench_{suffix}"
    feast_python: Path | None = None
    feast_version = None
    if not args.skip_feast:
        feast_python, feast_version = ensure_feast_venv()
    feast_redis = feast_python is not None and not args.skip_feast_redis and feast_has_redis(feast_python)
    res["feast_version"] = feast_version

    print(
        f"\n== {args.scale}: {GROUPS} groups × {rows:,} rows × {FEATURES_PER_GROUP} float64 features "
        f"({GROUPS * rows:,} rows, {len(REFS)} features), {keys:,} keys",
        flush=True,
    )
    t = time.perf_counter()
    tables = [generate_group(i, rows, keys, args.seed) for i in range(GROUPS)]
    log(f"generated in {time.perf_counter() - t:.1f} s")
    servers: list[Process] = []
    with tempfile.TemporaryDirectory(prefix=f"raise_online_{args.scale}_", dir=args.tmp) as tmp_name:
        tmp = Path(tmp_name)
        home = tmp / "raise_home"
        plan_path = tmp / "plan.json"
        plan_path.write_text(json.dumps(plan))
        try:
            # -- Feast: parquet copies, apply + materialize + in-process lookups ----------------------
            feast: dict[str, Any] = {}
            feast_repo: Path | None = None
            if feast_python is not None:
                work = tmp / "feast"
                data = work / "data"
                data.mkdir(parents=True)
                for i, table in enumerate(tables):
                    pq.write_table(table, data / f"g{i}.parquet")
                (work / "run_feast.py").write_text(FEAST_RUNNER)
                stores = [("sqlite", make_feast_repo(work, data, "repo_sqlite", "onlinebench", "sqlite"))]
                if feast_redis:
                    stores.append(("redis", make_feast_repo(work, data, "repo_redis", feast_project, "redis")))
                for store, repo in stores:
                    log(f"Feast {feast_version} on {store}: apply, materialize, lookups ...")
                    info = run_feast(feast_python, work, repo, plan_path, args.feast_timeout)
                    if "error" in info:
                        print(f"  Feast on {store} failed: {info['error']}\n{info.get('log_tail', '')}", flush=True)
                        failures.append(f"Feast on {store} failed: {info['error']}")
                        continue
                    log(f"Feast on {store}: materialized in {info['materialize_s']:.1f} s")
                    feast[store] = info
                feast_repo = stores[0][1] if "sqlite" in feast else None

            # -- Raise: write, then each online store: full materialize + in-process lookups ----------
            log("Raise: writing the groups ...")
            fs = open_store(home, None)
            res["raise_write_s"] = write_groups(fs, tables)
            del tables
            log(f"Raise: wrote {GROUPS * rows:,} rows in {sum(res['raise_write_s']):.2f} s")
            stores_raise: dict[str, dict[str, Any]] = {}
            truth = reference(fs, plan["sample"])
            for store, url in (("sqlite", None), ("redis", raise_redis)):
                fs = open_store(home, url)
                log(f"Raise on {store}: full materialize ...")
                m = materialize(fs, "full")
                log(f"Raise on {store}: materialized {m['entities_written']:,} entities in {m['seconds']:.2f} s")
                look = raise_lookups(fs, plan)
                bad = mismatches(look.pop("sample"), truth)
                if bad:
                    failures.append(f"Raise on {store}: {bad} values differ from group.read() on the sample")
                stores_raise[store] = {"materialize": m, **look, "sample_mismatches_vs_read": bad}
            api_key = fs.create_api_key("bench").key
            http_checked = plan["http"][:200]
            truth_http = reference(fs, http_checked)
            for store, info in feast.items():
                bad = mismatches(info.pop("sample"), truth, {r: r.split(".")[1] for r in REFS})
                info["sample_mismatches_vs_read"] = bad
                if bad:
                    failures.append(f"Feast on {store}: {bad} values differ from Raise's group.read() on the sample")
            Engine.close_all()  # the servers open the store themselves; this process only drives them

            # -- HTTP: latency (interleaved), then saturation, one server at a time -------------------
            endpoints: list[Endpoint] = []
            log("starting raise serve-online (SQLite, Redis) and feast serve ...")
            for store, url in (("sqlite", None), ("redis", raise_redis)):
                p = serve_online(home, url, tmp, f"serve-online {store}", args.serve_threads)
                servers.append(p)
                endpoints.append(
                    raise_endpoint(
                        f"raise serve-online ({'SQLite' if store == 'sqlite' else 'Redis'})", p.port, api_key
                    )
                )
            if feast_repo is not None:
                try:
                    p = feast_serve(feast_repo)
                    servers.append(p)
                    endpoints.append(feast_endpoint(p.port))
                except RuntimeError as exc:
                    print(f"  feast serve did not start; its published {FEAST_ISSUE['http_p99']} ms stands in: {exc}")
            # the transport floor: serve-online's GET /health, answered on its event loop (no lookup)
            floor = Endpoint(FLOOR, endpoints[0].port, "/health", {}, None)
            log(f"HTTP: {http_n:,} 1-row lookups per server, interleaved ...")
            lat = http_latency([*endpoints, floor], plan["http"], min(200, http_n // 5))
            http_res: dict[str, Any] = {}
            want = {k: {ref: truth_http[ref][n] for ref in REFS} for n, k in enumerate(http_checked)}
            floor_stats = lat[FLOOR]["stats"]
            for e in endpoints:
                got = [(k, http_values(e, b)) for k, b in lat[e.name]["answers"] if k in want]
                bad = sum(1 for k, v in got if v != want[k])
                if bad or not got:
                    failures.append(f"{e.name}: {bad} of {len(got)} answers differ from group.read()")
                http_res[e.name] = {
                    "latency": lat[e.name]["stats"],
                    "answers_differing": bad,
                    "answers_checked": len(got),
                }
                if e.name.startswith("raise"):  # the lookup's own time in the server, during this phase
                    metrics = server_metrics(e.port, api_key)
                    count = metrics.get("raise_online_lookup_duration_seconds_count") or 0
                    seconds = metrics.get("raise_online_lookup_duration_seconds_sum") or 0.0
                    http_res[e.name]["server_lookup_mean_ms"] = 1000 * seconds / count if count else None
            for e in endpoints:
                log(f"saturating {e.name} ...")
                http_res[e.name]["saturation"] = saturate(e, plan["load"], level_s, half_s)
                if e.name.startswith("raise"):
                    metrics = server_metrics(e.port, api_key)
                    http_res[e.name]["near_cache_hits"] = metrics.get("raise_online_near_cache_hits_total")
                    http_res[e.name]["coalesced"] = metrics.get("raise_online_coalesced_total")
                    http_res[e.name]["lookups"] = metrics.get("raise_online_lookup_duration_seconds_count")
            for p in servers:
                p.stop()
            servers.clear()

            # -- 1% changed: upsert, incremental materialize on each store ---------------------------
            fs = open_store(home, raise_redis)
            changes = [changed_rows(i, rows, keys, args.seed) for i in range(GROUPS)]
            upsert_s = []
            for i, change in enumerate(changes):
                group = fs.feature_group(group_name(i))
                upsert_s.append(time_call(partial(group.write, change, mode="upsert")) / 1e9)
            changed_keys = sorted({int(k) for c in changes for k in c.column("user_id").to_pylist()})
            check_keys = changed_keys[:SAMPLE] if len(changed_keys) > SAMPLE else changed_keys
            truth_after = reference(fs, check_keys)
            incremental: dict[str, Any] = {"upsert_rows": sum(c.num_rows for c in changes), "upsert_s": upsert_s}
            for store, url in (("redis", raise_redis), ("sqlite", None)):
                fs = open_store(home, url)
                log(f"Raise on {store}: incremental materialize after 1% changed ...")
                m = materialize(fs, "incremental")
                after = fs.get_online_features(REFS, [{"user_id": k} for k in check_keys]).to_dict()
                bad = mismatches(after, truth_after)
                if bad:
                    failures.append(f"Raise on {store}: {bad} changed values differ from group.read() after 1%")
                if m["entities_written"] != sum(c.num_rows for c in changes):
                    failures.append(
                        f"Raise on {store}: incremental wrote {m['entities_written']:,} entities, "
                        f"expected {sum(c.num_rows for c in changes):,}"
                    )
                incremental[store] = {**m, "mismatches_vs_read": bad}
            Engine.close_all()
        finally:
            for p in servers:
                p.stop()
            Engine.close_all()
            cleanup_redis(f"bench-{suffix}:", feast_project if feast_redis else None)
    res.update(
        {
            "raise": stores_raise,
            "feast": feast,
            "http": http_res,
            "http_floor": floor_stats,
            "incremental": incremental,
            "failures": failures,
        }
    )
    res["near_cache_note"] = "near-cache hits among the 1-row lookups (random keys over the key space)"
    return res


def cleanup_redis(prefix: str, feast_project: str | None) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for pattern in [f"{prefix}*", *([f"*{feast_project}"] if feast_project else [])]:
        batch = []
        for key in client.scan_iter(match=pattern, count=10_000):
            batch.append(key)
            if len(batch) >= 10_000:
                client.unlink(*batch)
                batch = []
        if batch:
            client.unlink(*batch)
    client.close()


def report(res: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    r, f, h, inc = res["raise"], res["feast"], res["http"], res["incremental"]
    fsql = f.get("sqlite")
    fred = f.get("redis")
    total = GROUPS * res["rows_per_group"]
    lines.append(
        f"\n### {res['scale']}: {GROUPS} groups × {res['rows_per_group']:,} rows ({total:,}), "
        f"{res['keys']:,} keys, 1 row = {len(REFS)} features from {GROUPS} groups\n"
    )
    lines.append(
        f"Raise write (group.write, 3 groups): {sum(res['raise_write_s']):.2f} s "
        f"({' / '.join(f'{s:.2f}' for s in res['raise_write_s'])})"
    )

    # in-process lookups
    lines.append("\nIn-process lookups, 15 features (ms; ÷ Feast = Raise p99 ÷ Feast-SQLite p99 of this run):\n")
    header = ["engine", "1 row p50", "1 row p99", "100 rows p50", "100 rows p99", "1-row ÷ Feast", "100-row ÷ Feast"]
    body = []
    for name, data in (
        ("Raise SQLite", r.get("sqlite")),
        ("Raise Redis", r.get("redis")),
        ("Feast SQLite", fsql),
        ("Feast Redis", fred),
    ):
        if data is None:
            continue
        one, hundred = data["one"], data["hundred"]
        body.append(
            [
                name,
                _ms(one.p50),
                _ms(one.p99),
                _ms(hundred.p50),
                _ms(hundred.p99),
                _ratio(one.p99, fsql["one"].p99) if fsql else _ratio(one.p99, FEAST_ISSUE["one_p99"]) + "*",
                _ratio(hundred.p99, fsql["hundred"].p99)
                if fsql
                else _ratio(hundred.p99, FEAST_ISSUE["hundred_p99"]) + "*",
            ]
        )
    lines += table_lines(header, body)
    if not fsql:
        lines.append("* Feast not run: ÷ the issue's Feast-SQLite figures (p99 1.06 ms, 26.9 ms)")
    if fred:
        lines.append(
            f"Raise Redis ÷ Feast Redis, p99: 1 row {_ratio(r['redis']['one'].p99, fred['one'].p99)}, "
            f"100 rows {_ratio(r['redis']['hundred'].p99, fred['hundred'].p99)}"
        )
    lines.append(
        "near cache: "
        + ", ".join(
            f"{s} {r[s]['near_cache_hits']:,} hits of {r[s]['one'].n * GROUPS:,} single-key group reads "
            f"({r[s]['one'].n:,} 1-row lookups × {GROUPS} groups; {r[s]['store_reads_1row']:,} went to the store)"
            for s in r
        )
    )

    # HTTP
    threads = res["serve_threads"] if res["serve_threads"] is not None else "0 (default: the event loop)"
    lines.append(
        f"\nHTTP, 1 row × 15 features, one keep-alive connection, interleaved (ms); serve-online --threads {threads}; "
        "feast serve: 1 worker:\n"
    )
    header = ["server", "p50", "p99", "mean", "max", "saturation req/s", "at conns", "p99 at half load", "service p99"]
    body = []
    for name, d in h.items():
        s: Stats = d["latency"]
        sat = d["saturation"]
        body.append(
            [
                name,
                _ms(s.p50),
                _ms(s.p99),
                _ms(s.mean),
                _ms(s.max),
                f"{sat['saturation_rps']:,.0f}",
                str(sat["at_concurrency"]),
                f"{_ms(sat['half']['p99'])} @ {sat['half']['achieved_rps']:,.0f}/s",
                _ms(sat["half"]["service_p99"]),
            ]
        )
    fl: Stats = res["http_floor"]
    body.append([FLOOR, _ms(fl.p50), _ms(fl.p99), _ms(fl.mean), _ms(fl.max), "—", "—", "—", "—"])
    lines += table_lines(header, body)
    lines.append(
        "p99 at half load: open loop at half the saturation rate, from each request's scheduled time "
        "(service p99: from its send). The client shares the 2 cores with the server."
    )
    for name, d in h.items():
        if "near_cache_hits" in d:
            lines.append(
                f"{name}: mean time of the lookup itself in the server (get_online_features, /metrics) during "
                f"the latency run {_ms(d['server_lookup_mean_ms'])} ms; after saturation {d['lookups']:,.0f} "
                f"lookups served, near-cache hits {d['near_cache_hits']:,.0f}, coalesced {d['coalesced']:,.0f}"
            )
    lines.append("\nSaturation sweep (closed loop; req/s, p50/p99 ms):")
    for name, d in h.items():
        lines.append(
            f"  {name}: "
            + "; ".join(
                f"{lv['concurrency']}: {lv['rps']:,.0f} ({_ms(lv['p50'])}/{_ms(lv['p99'])})"
                + (f" {lv['errors']} errors" if lv["errors"] else "")
                for lv in d["saturation"]["levels"]
            )
        )

    # materialize
    lines.append("\nMaterialize (s):\n")
    header = ["engine", f"full ({total:,} rows)", "entities", "÷ Feast", "incremental (1% changed)", "entities"]
    body = []
    feast_m = fsql["materialize_s"] if fsql else None
    for name, key in (("Raise SQLite", "sqlite"), ("Raise Redis", "redis")):
        m = r[key]["materialize"]
        i = inc.get(key, {})
        body.append(
            [
                name,
                f"{m['seconds']:.2f}",
                f"{m['entities_written']:,}",
                _ratio(m["seconds"], feast_m)
                if feast_m
                else (_ratio(m["seconds"], FEAST_ISSUE["materialize_s"][0]) + "*" if res["scale"] == "small" else "—"),
                f"{i['seconds']:.3f} ({i['mode']})" if i else "—",
                f"{i['entities_written']:,}" if i else "—",
            ]
        )
    for name, d in (("Feast SQLite", fsql), ("Feast Redis", fred)):
        if d:
            body.append([name, f"{d['materialize_s']:.2f}", "—", "—", "—", "—"])
    lines += table_lines(header, body)
    lines.append(
        f"1% changed: {inc['upsert_rows']:,} rows upserted ({' / '.join(f'{s:.2f}' for s in inc['upsert_s'])} s), "
        "newer event times, distinct keys"
    )

    # aims
    lines.append("\nAims (issue 24, Speed):\n")
    feast_one = fsql["one"].p99 if fsql else FEAST_ISSUE["one_p99"]
    feast_hundred = fsql["hundred"].p99 if fsql else FEAST_ISSUE["hundred_p99"]
    src = "this run" if fsql else "issue"
    aims = []
    for key, name in (("sqlite", "SQLite"), ("redis", "Redis")):
        v = r[key]["one"].p99
        aims.append(
            [
                f"in-process 1 row p99, {name}",
                f"≤ {AIM_LOOKUP_RATIO}× Feast ({src} {feast_one:.3f} ms)",
                f"{v:.3f} ms = {v / feast_one:.2f}×",
                _verdict(v <= AIM_LOOKUP_RATIO * feast_one),
            ]
        )
        v = r[key]["hundred"].p99
        aims.append(
            [
                f"in-process 100 rows p99, {name}",
                f"≤ {AIM_LOOKUP_RATIO}× Feast ({src} {feast_hundred:.2f} ms)",
                f"{v:.3f} ms = {v / feast_hundred:.2f}×",
                _verdict(v <= AIM_LOOKUP_RATIO * feast_hundred),
            ]
        )
    feast_http = next((d["latency"].p99 for n, d in h.items() if n.startswith("Feast")), None)
    for name, d in h.items():
        if name.startswith("raise"):
            v = d["latency"].p99
            anchor = (
                f"Feast {feast_http:.2f} ms here" if feast_http else f"Feast publishes {FEAST_ISSUE['http_p99']} ms"
            )
            aims.append(
                [
                    f"HTTP 1 row p99, {name}",
                    f"< {AIM_HTTP_P99_MS} ms ({anchor})",
                    f"{v:.3f} ms",
                    _verdict(v < AIM_HTTP_P99_MS),
                ]
            )
    lo, hi = FEAST_ISSUE["materialize_s"]
    anchor = f"Feast {feast_m:.1f} s here" if feast_m else f"Feast {lo:.0f}–{hi:.0f} s in the issue"
    for key, name in (("sqlite", "SQLite"), ("redis", "Redis")):
        v = r[key]["materialize"]["seconds"]
        aims.append(
            [
                f"materialize {total:,} rows, {name}",
                f"< {AIM_MATERIALIZE_S:.0f} s ({anchor})",
                f"{v:.2f} s",
                _verdict(v < AIM_MATERIALIZE_S),
            ]
        )
    for key, name in (("sqlite", "SQLite"), ("redis", "Redis")):
        v = inc[key]["seconds"]
        aims.append(
            [
                f"incremental after 1% changed, {name}",
                f"< {AIM_INCREMENTAL_S} s",
                f"{v:.3f} s",
                _verdict(v < AIM_INCREMENTAL_S),
            ]
        )
    for name, d in h.items():
        if name.startswith("raise"):
            sat = d["saturation"]
            aims.append(
                [
                    f"saturation, {name}",
                    "(reported)",
                    f"{sat['saturation_rps']:,.0f} req/s; p99 {sat['half']['p99']:.2f} ms at half",
                    "—",
                ]
            )
    lines += table_lines(["aim", "target", "measured", "verdict"], aims)
    if res["scale"] != "small":
        lines.append(f"(scale {res['scale']}: the aims are set for S1, {3 * SCALES['small'][0]:,} rows)")

    # correctness
    lines.append("\nCorrectness:")
    for key in r:
        lines.append(
            f"  Raise {key}: {r[key]['sample_mismatches_vs_read']} sample values "
            f"({len(REFS)} features × {SAMPLE:,}+2 keys) differ from group.read()"
        )
    for key, d in f.items():
        lines.append(f"  Feast {key}: {d['sample_mismatches_vs_read']} sample values differ from Raise's group.read()")
    for name, d in h.items():
        lines.append(f"  {name}: {d['answers_differing']} of {d['answers_checked']:,} answers differ from group.read()")
    for key in ("sqlite", "redis"):
        lines.append(
            f"  after 1% changed, Raise {key}: {inc[key]['mismatches_vs_read']} changed values differ from group.read()"
        )
    for failure in res["failures"]:
        lines.append(f"FAIL: {failure}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scale", default="small", choices=list(SCALES), help="small = S1 of pit_join.py (default)")
    parser.add_argument("--json", type=Path, help="write the numbers to this file")
    parser.add_argument("--skip-feast", action="store_true", help="Raise only (the issue's Feast figures as anchors)")
    parser.add_argument("--skip-feast-redis", action="store_true", help="Feast on SQLite only")
    parser.add_argument("--feast-timeout", type=int, default=1_800, help="seconds per Feast run")
    parser.add_argument(
        "--serve-threads",
        type=int,
        default=None,
        help="raise serve-online --threads (default: its own, 0: the event loop)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tmp", default=None, help="directory for the temporary stores (default: the system's)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # temporary directories and Redis keys still go
    os.environ.setdefault("RAISE_USER", "alice@acme")
    os.environ.setdefault("TQDM_DISABLE", "1")
    for name in ("RAISE_URL", "RAISE_TOKEN", "RAISE_ONLINE_URL", "RAISE_CATALOG_URL", "RAISE_HOME"):
        os.environ.pop(name, None)

    import redis

    machine = machine_info(
        duckdb=duckdb.__version__,
        pyarrow=pa.__version__,
        numpy=np.__version__,
        raise_=raise_.__version__,
        redis_py=redis.__version__,
    )
    print("Raise online serving benchmark (issue 24)")
    print(machine_line(machine))
    busy = other_pytest()
    if busy:
        print(f"WARNING: {busy} pytest processes are running: the figures are noisy")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    started = datetime.now(UTC)
    res = run(args)
    res["machine"] = {**machine, "feast": res.get("feast_version"), "pytest_processes_at_start": busy}
    print(
        f"python {machine['python']}, duckdb {machine['duckdb']}, pyarrow {machine['pyarrow']}, "
        f"raise {machine['raise_']}, redis-py {machine['redis_py']}, "
        f"feast {res.get('feast_version') or 'skipped'} (own venv {FEAST_VENV.name}); "
        f"took {(datetime.now(UTC) - started).total_seconds():.0f} s"
    )
    for line in report(res):
        print(line)
    if args.json:
        args.json.write_text(
            json.dumps(res, indent=2, default=lambda o: o.to_dict() if isinstance(o, Stats) else str(o)) + "\n"
        )
        print(f"\nwrote {args.json}")
    return 1 if res["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
