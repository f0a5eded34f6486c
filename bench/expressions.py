"""Derived features and lineage: reading derived features, validating an expression, walking a large lineage graph.

A script, not a test: it prints a section per measurement, a summary table, and optionally writes the numbers
as JSON.

    .venv/bin/python bench/expressions.py                          # 10M rows, 100,000 lineage nodes (~1.5 minutes)
    .venv/bin/python bench/expressions.py --rows 1000000 --nodes 10000   # quick smoke run
    .venv/bin/python bench/expressions.py --backends sqlite --json out.json

1. Reading derived features. A fresh temporary ``RAISE_HOME`` holds ``FeatureStore("bench/expr/p")`` with one
   group ``events`` (entity key ``user_id``) and base features ``clicks``, ``views`` (int64) and ``score``
   (float64). N rows (numpy, fixed seed; N/10 users drawn uniformly, so about 10 rows per user; event times
   uniform over 90 days, microseconds, UTC; ``views`` uniform in [0, 400), ``clicks`` ~ Binomial(views, 0.15))
   are written with ``group.write(pyarrow_table)`` in chunks of 2,000,000 rows. Then three derived features:
   ``ctr = clicks / NULLIF(views, 0)``, ``log_clicks = LN(clicks + 1)`` and ``tier = CASE WHEN clicks > 50 THEN
   'high' WHEN clicks > 10 THEN 'mid' ELSE 'low' END``. ``group.read(["ctr", "log_clicks", "tier"])`` (latest
   row per entity) and ``read(..., history=True)`` (every row) are timed against the same query written by hand
   in DuckDB SQL over the group's table (``QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY event_time
   DESC) = 1`` for the latest row, nothing for history; ``ORDER BY user_id, event_time``; Arrow out), run on the
   connection Raise itself uses. Raise and hand-written runs are interleaved; best of 3. The two results must be
   identical, cell for cell.
2. Validating one expression: ``group.validate_feature("x", "float64", derived_from="(clicks - AVG(clicks)) /
   NULLIF(STDDEV(clicks), 0) + ctr + <i>")`` 300 times, each text different (whitespace and the trailing
   literal change), so the parse cache never answers; after 10 untimed warm-up calls with other texts. For
   context, the same text 300 times (parse cache hits).
3. Lineage. A catalog (SQLite in a temporary directory; PostgreSQL in a fresh database ``raise_bench_<random>``
   created with psycopg and dropped at the end) holds one group ``g`` made through the SDK, into which a graph
   of ``--nodes`` features is bulk-inserted with SQLAlchemy Core into ``features`` and ``feature_lineage``
   (the SDK would take far too long): 2% base features and the rest derived, in 20 layers; each derived feature
   reads 2–3 features (``random.Random`` / numpy, fixed seed): one from the layer just below it (so the graph
   really is 20 deep; ``--shape uniform`` drops that rule) and the others from any lower layer. Then
   ``lineage_store.all_upstream_ids(session, id)`` for 20 features of the top layer, 3 rounds, after 3 warm-up
   calls on other top-layer features, on one reader session; every answer is checked against the closure
   computed in Python. For context, the SDK path ``fs.feature("g/<name>").get_lineage().all_upstream()`` once.

Before the timed loops of 2 and 3 the script runs ``gc.collect()`` and ``gc.freeze()``: its own objects (the
generated graph, the expected answers: about a million) then stay out of the garbage collector's scans. Without
that, a full collection over them (100–370 ms each, measured) lands in one or two timed calls per loop and sets
the p99. Full collections that still happen inside the timed loops are counted and printed; ``--no-gc-freeze``
measures without the freeze.

Goals: Raise / hand-written ≤ 1.2× (reads, best of 3); validation p99 < 5 ms; ``all_upstream`` p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import sqlalchemy as sa
from _machine import machine_info, machine_line
from _timing import summarize, time_call, time_calls

import raise_
from raise_ import FeatureStore
from raise_.catalog.lineage_store import all_upstream_ids
from raise_.catalog.models import FeatureLineageModel, FeatureModel
from raise_.engine import Engine
from raise_.storage.offline_store import quote

DEFAULT_PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/postgres"

# -- 1: reads -----------------------------------------------------------------------------------
READ_PROJECT, READ_GROUP = "bench/expr/p", "events"
CHUNK_ROWS = 2_000_000
ROWS_PER_USER = 10
SPAN_DAYS = 90
DAY_US = 86_400 * 1_000_000
T0_US = int(np.datetime64("2025-01-01T00:00:00", "us").astype(np.int64))
TS = pa.timestamp("us", tz="UTC")
READ_RUNS = 3
DERIVED = {
    "ctr": ("float64", "clicks / NULLIF(views, 0)"),
    "log_clicks": ("float64", "LN(clicks + 1)"),
    "tier": ("string", "CASE WHEN clicks > 50 THEN 'high' WHEN clicks > 10 THEN 'mid' ELSE 'low' END"),
}
READ_GOAL = 1.2  # Raise / hand-written, at most

# -- 2: validation ------------------------------------------------------------------------------
VALIDATE_CALLS, VALIDATE_WARMUP = 300, 10
VALIDATE_EXPR = "(clicks - AVG(clicks)) / NULLIF(STDDEV(clicks), 0) + ctr"
VALIDATE_GOAL_MS = 5.0  # p99, below

# -- 3: lineage ---------------------------------------------------------------------------------
LINEAGE_PROJECT, LINEAGE_GROUP = "bench/lineage/p", "g"
BASE_SHARE = 0.02
LAYERS = 20
LINEAGE_SAMPLE, LINEAGE_ROUNDS, LINEAGE_WARMUP = 20, 3, 3
INSERT_BATCH = 5_000
LINEAGE_GOAL_MS = 100.0  # p99, below


# -- garbage collection ----------------------------------------------------------------------------


class GcWatch:
    """Full (generation 2) garbage collections while active, with their pauses in ms."""

    def __init__(self) -> None:
        self.pauses_ms: list[float] = []
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses_ms.append((time.perf_counter() - self._start) * 1e3)

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def to_dict(self) -> dict[str, Any]:
        return {"full_collections": len(self.pauses_ms), "pauses_ms": [round(p, 1) for p in self.pauses_ms]}


@contextlib.contextmanager
def timed_section(freeze: bool) -> Iterator[GcWatch]:
    """Around a loop of timed calls: with ``freeze``, the objects alive now (the script's own data: the
    generated graph, the expected answers) are moved out of the garbage collector's reach, so a full
    collection does not scan them inside a timed call; full collections that still happen are recorded."""
    if freeze:
        gc.collect()
        gc.freeze()
    try:
        with GcWatch() as watch:
            yield watch
    finally:
        if freeze:
            gc.unfreeze()


def gc_note(watch: dict[str, Any]) -> str:
    n = watch["full_collections"]
    if not n:
        return "no full garbage collection during the timed calls"
    return f"{n} full garbage collection(s) during the timed calls, pauses {', '.join(map(str, watch['pauses_ms']))} ms"


# -- 1: reading derived features ------------------------------------------------------------------


def generate_chunk(rng: np.random.Generator, rows: int, users: int) -> pa.Table:
    views = rng.integers(0, 400, rows, dtype=np.int64)
    return pa.table(
        {
            "user_id": rng.integers(0, users, rows, dtype=np.int64),
            "event_time": pa.array(T0_US + rng.integers(0, SPAN_DAYS * DAY_US, rows, dtype=np.int64), type=TS),
            "clicks": rng.binomial(views, 0.15).astype(np.int64),
            "views": views,
            "score": rng.standard_normal(rows),
        }
    )


def hand_sql(table: str, cols: dict[str, str], history: bool) -> str:
    """The three derived features written by hand over the group's own table."""
    q = quote
    clicks, views = q(cols["clicks"]), q(cols["views"])
    sql = (
        f"SELECT user_id, event_time, {clicks} / NULLIF({views}, 0) AS ctr, LN({clicks} + 1) AS log_clicks, "
        f"CASE WHEN {clicks} > 50 THEN 'high' WHEN {clicks} > 10 THEN 'mid' ELSE 'low' END AS tier "
        f"FROM {q(table)}"
    )
    if not history:
        sql += " QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY event_time DESC) = 1"
    return sql + " ORDER BY user_id, event_time"


def differing_cells(a: pa.Table, b: pa.Table) -> int | str:
    """Cells that differ between two results of the same shape (NULLs equal), or why they cannot be compared."""
    if a.num_rows != b.num_rows or a.column_names != b.column_names:
        return f"shape differs: {a.num_rows:,} rows {a.column_names} vs {b.num_rows:,} rows {b.column_names}"
    bad = 0
    for name in a.column_names:
        x, y = a.column(name), b.column(name)
        if x.type != y.type:
            return f"column {name}: {x.type} vs {y.type}"
        if x.equals(y):
            continue
        xs, ys = x.to_pylist(), y.to_pylist()
        bad += sum(1 for u, v in zip(xs, ys, strict=True) if u != v)
    return bad


def bench_reads(home: Path, rows: int, seed: int) -> tuple[dict[str, Any], FeatureStore, Any]:
    os.environ["RAISE_HOME"] = str(home)
    fs = FeatureStore(READ_PROJECT)
    g = fs.create_feature_group(READ_GROUP, entity_keys=["user_id"])
    g.create_features(
        [
            {"name": "clicks", "dtype": "int64"},
            {"name": "views", "dtype": "int64"},
            {"name": "score", "dtype": "float64"},
        ]
    )
    users = max(1, rows // ROWS_PER_USER)
    rng = np.random.default_rng(seed)
    write_ns = gen_ns = 0
    done = 0
    while done < rows:
        n = min(CHUNK_ROWS, rows - done)
        start = time.perf_counter_ns()
        chunk = generate_chunk(rng, n, users)
        gen_ns += time.perf_counter_ns() - start
        write_ns += time_call(lambda chunk=chunk: g.write(chunk))
        done += n
    print(
        f"  wrote {rows:,} rows ({users:,} users) in {write_ns / 1e9:.1f} s "
        f"({rows / (write_ns / 1e9):,.0f} rows/s, chunks of {CHUNK_ROWS:,}); generated in {gen_ns / 1e9:.1f} s",
        flush=True,
    )
    g.create_features([{"name": n, "dtype": d, "derived_from": e} for n, (d, e) in DERIVED.items()])
    cols = {name: g.feature(name).physical_column for name in ("clicks", "views")}
    store = fs._backend.store  # the DuckDB connection Raise itself uses
    features = list(DERIVED)
    result: dict[str, Any] = {
        "rows": rows,
        "users": users,
        "write_s": write_ns / 1e9,
        "db_bytes": (home / "features.duckdb").stat().st_size,
    }
    for label, history in (("latest", False), ("history", True)):
        sql = hand_sql(g.physical_table, cols, history)
        out: dict[str, pa.Table] = {}

        def run_raise(history: bool = history, out: dict[str, pa.Table] = out) -> None:
            out["raise"] = g.read(features, history=history).to_arrow()

        def run_hand(sql: str = sql, out: dict[str, pa.Table] = out) -> None:
            out["hand"] = store.query_arrow(sql)

        raise_ns, hand_ns = time_calls([run_raise, run_hand], READ_RUNS)
        diff = differing_cells(out["raise"], out["hand"])
        raise_s = [t / 1e9 for t in raise_ns]
        hand_s = [t / 1e9 for t in hand_ns]
        result[label] = {
            "rows_returned": out["raise"].num_rows,
            "raise_s": raise_s,
            "hand_s": hand_s,
            "raise_best_s": min(raise_s),
            "hand_best_s": min(hand_s),
            "ratio": min(raise_s) / min(hand_s),
            "differing_cells": diff,
            "sql": sql,
        }
        if label == "latest":
            tiers = out["raise"].column("tier").value_counts().to_pylist()
            result["tier_counts"] = {d["values"]: d["counts"] for d in tiers}
            result["ctr_nulls"] = out["raise"].column("ctr").null_count
        out.clear()
        print(f"  read {label} done", flush=True)
    return result, fs, g


def print_reads(r: dict[str, Any]) -> None:
    print(f"\n### 1. Reading 3 derived features over {r['rows']:,} rows ({r['users']:,} users)\n")
    print(
        f"write: {r['rows']:,} rows in {r['write_s']:.1f} s = {r['rows'] / r['write_s']:,.0f} rows/s; "
        f"features.duckdb {r['db_bytes'] / 2**20:,.0f} MiB; latest rows per tier: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(r["tier_counts"].items()))
        + f"; ctr NULL (views = 0) in {r['ctr_nulls']:,} latest rows"
    )
    header = ("read", "rows returned", "Raise best s", "Raise runs (s)", "hand best s", "hand runs (s)", "ratio")
    body = []
    for label, what in (("latest", "g.read([...]) (latest per entity)"), ("history", "g.read([...], history=True)")):
        x = r[label]
        body.append(
            (
                what,
                f"{x['rows_returned']:,}",
                _s(x["raise_best_s"]),
                " / ".join(_s(t) for t in x["raise_s"]),
                _s(x["hand_best_s"]),
                " / ".join(_s(t) for t in x["hand_s"]),
                f"{x['ratio']:.2f}×",
            )
        )
    print(markdown_table(header, body, left={0, 3, 5}))
    print()
    for label in ("latest", "history"):
        x = r[label]
        ok = verdict(x["ratio"] <= READ_GOAL)
        print(f"{label}: Raise / hand-written = {x['ratio']:.2f}× (goal ≤ {READ_GOAL}×): {ok}")
        diff = x["differing_cells"]
        print(f"  Raise vs hand-written, every cell: {'identical' if diff == 0 else f'DIFFERENT ({diff})'}")
    print(f"hand-written (latest): {r['latest']['sql']}")


# -- 2: validation --------------------------------------------------------------------------------


def expression_variant(i: int) -> str:
    """A different text each time: spacing and the trailing literal change."""
    pad = " " * (1 + i % 4)
    return f"({pad}clicks - AVG(clicks)){pad}/ NULLIF(STDDEV(clicks), 0) + ctr + {i}"


def bench_validate(g: Any, freeze: bool) -> dict[str, Any]:
    first_ns = time_call(lambda: g.validate_feature("x", "float64", derived_from=expression_variant(-1)))
    for i in range(VALIDATE_WARMUP):
        g.validate_feature("x", "float64", derived_from=expression_variant(100_000 + i))
    results = []
    fresh = []
    with timed_section(freeze) as watch:
        for i in range(VALIDATE_CALLS):
            text = expression_variant(i)
            start = time.perf_counter_ns()
            res = g.validate_feature("x", "float64", derived_from=text)
            fresh.append(time.perf_counter_ns() - start)
            results.append(res)
    invalid = [r for r in results if not r.valid]
    with timed_section(freeze) as watch_cached:
        (cached,) = time_calls(
            [lambda: g.validate_feature("x", "float64", derived_from=VALIDATE_EXPR)], VALIDATE_CALLS, warmup=1
        )
    return {
        "first_call_ms": first_ns / 1e6,
        "fresh": summarize(fresh).to_dict(),
        "cached": summarize(cached).to_dict(),
        "invalid": len(invalid),
        "gc": watch.to_dict(),
        "gc_cached": watch_cached.to_dict(),
        "example": expression_variant(7),
        "result": repr(results[0]),
    }


def print_validate(r: dict[str, Any]) -> None:
    print(f"\n### 2. validate_feature, {VALIDATE_CALLS} calls\n")
    header = ("expression texts", "n", "p50 ms", "p99 ms", "mean ms", "max ms")
    body = []
    for key, what in (("fresh", "all different (parse cache misses)"), ("cached", "the same text (parse cache hits)")):
        s = r[key]
        body.append((what, str(s["n"]), _ms(s["p50"]), _ms(s["p99"]), _ms(s["mean"]), _ms(s["max"])))
    print(markdown_table(header, body, left={0}))
    p99 = r["fresh"]["p99"]
    print(
        f"\nfirst (cold) call: {r['first_call_ms']:.1f} ms; results: {r['result']}; invalid: {r['invalid']}\n"
        f"example text: {r['example']!r}\n"
        f"different texts: {gc_note(r['gc'])}; same text: {gc_note(r['gc_cached'])}\n"
        f"validation p99 = {p99:.2f} ms (goal < {VALIDATE_GOAL_MS:g} ms): {verdict(p99 < VALIDATE_GOAL_MS)}"
    )


# -- 3: lineage -----------------------------------------------------------------------------------


class Graph:
    """Features 0..n-1: layer 0 is base; every derived feature lists its upstream features."""

    def __init__(self, nodes: int, seed: int, shape: str) -> None:
        rng = np.random.default_rng([seed, 3])
        base = max(2, round(nodes * BASE_SHARE))
        derived = nodes - base
        sizes = [derived // LAYERS + (1 if i < derived % LAYERS else 0) for i in range(LAYERS)]
        self.starts = [0, base]
        for s in sizes:
            self.starts.append(self.starts[-1] + s)
        self.names = [f"b{i:05d}" for i in range(base)]
        self.parents: list[list[int]] = [[] for _ in range(base)]
        for layer in range(1, LAYERS + 1):
            lo, hi = self.starts[layer], self.starts[layer + 1]
            prev_lo, prev_hi = self.starts[layer - 1], lo
            for j, _ in enumerate(range(lo, hi)):
                k = int(rng.integers(2, 4))
                chosen: list[int] = []
                if shape == "layered":
                    chosen.append(int(rng.integers(prev_lo, prev_hi)))
                while len(chosen) < k:
                    p = int(rng.integers(0, lo))
                    if p not in chosen:
                        chosen.append(p)
                self.parents.append(chosen)
                self.names.append(f"d{layer:02d}_{j:05d}")
        self.base = base
        self.edges = sum(len(p) for p in self.parents)

    def layer(self, i: int) -> range:
        return range(self.starts[i], self.starts[i + 1])

    def expression(self, i: int) -> str | None:
        ps = [self.names[p] for p in self.parents[i]]
        if not ps:
            return None
        return f"{ps[0]} * 0.5 + {ps[1]}" + "".join(f" - {p}" for p in ps[2:])

    def ancestors(self, i: int) -> set[int]:
        seen: set[int] = set()
        stack = [i]
        while stack:
            for p in self.parents[stack.pop()]:
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        return seen


def insert_graph(db: Any, group_id: uuid.UUID, graph: Graph, seed: int) -> tuple[list[uuid.UUID], float]:
    """The graph as rows of ``features`` and ``feature_lineage``, in one transaction (Core executemany)."""
    r = random.Random(seed)
    ids = [uuid.UUID(int=r.getrandbits(128), version=4) for _ in graph.names]
    now = datetime.now(UTC)
    features = [
        {
            "id": ids[i],
            "group_id": group_id,
            "name": name,
            "version": "v1",
            "version_number": 1,
            "dtype": "float64",
            "description": None,
            "owner": "bench",
            "tags": [],
            "nullable": True,
            "derived_from": graph.expression(i),
            "status": "active",
            "deprecation_message": None,
            "physical_column": f"{name}_v1",
            "created_by": "bench@raise",
            "search_text": name,
            "created_at": now,
            "updated_at": now,
        }
        for i, name in enumerate(graph.names)
    ]
    edges = [
        {
            "id": uuid.UUID(int=r.getrandbits(128), version=4),
            "feature_id": ids[i],
            "upstream_feature_id": ids[p],
            "expression_context": graph.expression(i),
            "created_at": now,
        }
        for i, ps in enumerate(graph.parents)
        for p in ps
    ]
    start = time.perf_counter()
    with db.engine.begin() as conn:
        for table, rows in ((FeatureModel.__table__, features), (FeatureLineageModel.__table__, edges)):
            for k in range(0, len(rows), INSERT_BATCH):
                conn.execute(sa.insert(table), rows[k : k + INSERT_BATCH])
    return ids, time.perf_counter() - start


def bench_lineage(backend: str, url: str, home: Path, graph: Graph, seed: int, freeze: bool) -> dict[str, Any]:
    print(f"\n== lineage on {backend}: {sa.engine.make_url(url).render_as_string(hide_password=True)}", flush=True)
    fs = FeatureStore(LINEAGE_PROJECT, home=home, catalog_url=url)
    try:
        g = fs.create_feature_group(LINEAGE_GROUP)
        db = fs._backend.db  # the CatalogDatabase the store itself uses
        ids, insert_s = insert_graph(db, uuid.UUID(g.id), graph, seed)
        print(f"  inserted {len(ids):,} features and {graph.edges:,} edges in {insert_s:.1f} s", flush=True)
        if db.dialect == "postgresql":
            # What autovacuum does on its own in steady state; fresh tables have no statistics yet.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE"))
        top = list(graph.layer(LAYERS))
        rng = random.Random(seed + 1)
        picked = rng.sample(top, LINEAGE_SAMPLE + LINEAGE_WARMUP)
        sample, warm = picked[:LINEAGE_SAMPLE], picked[LINEAGE_SAMPLE:]
        expected = {i: {ids[a] for a in graph.ancestors(i)} for i in sample}
        per_feature: dict[int, list[int]] = {i: [] for i in sample}
        wrong = 0
        with db.reader() as s, timed_section(freeze) as watch:
            for i in warm:
                all_upstream_ids(s, ids[i])
            for _ in range(LINEAGE_ROUNDS):
                for i in sample:
                    start = time.perf_counter_ns()
                    got = all_upstream_ids(s, ids[i])
                    per_feature[i].append(time.perf_counter_ns() - start)
                    if set(got) != expected[i] or len(got) != len(expected[i]):
                        wrong += 1
        durations = [t for ts in per_feature.values() for t in ts]
        counts = [len(expected[i]) for i in sample]
        stats = summarize(durations)
        by_size = sorted(sample, key=lambda i: len(expected[i]))
        rounds = [summarize([per_feature[i][k] for i in sample]).to_dict() for k in range(LINEAGE_ROUNDS)]
        extremes = {
            label: {"ancestors": len(expected[i]), "p50_ms": summarize(per_feature[i]).p50}
            for label, i in (("smallest", by_size[0]), ("largest", by_size[-1]))
        }
        print(f"  all_upstream_ids: p50 {stats.p50:.1f} ms, p99 {stats.p99:.1f} ms", flush=True)
        sdk = sdk_path(fs, graph, sample[0], len(expected[sample[0]]))
    finally:
        Engine.close_all()
    return {
        "url": sa.engine.make_url(url).render_as_string(hide_password=True),
        "insert_s": insert_s,
        "stats": stats.to_dict(),
        "ancestors_mean": sum(counts) / len(counts),
        "ancestors_min": min(counts),
        "ancestors_max": max(counts),
        "wrong_answers": wrong,
        "extremes": extremes,
        "rounds": rounds,
        "gc": watch.to_dict(),
        "per_feature": [{"ancestors": len(expected[i]), "ms": [t / 1e6 for t in per_feature[i]]} for i in sample],
        "sdk": sdk,
    }


def sdk_path(fs: FeatureStore, graph: Graph, i: int, expected: int) -> dict[str, Any]:
    """``fs.feature("g/name").get_lineage().all_upstream()`` once, each step timed."""
    name = f"{LINEAGE_GROUP}/{graph.names[i]}"
    try:
        t0 = time.perf_counter_ns()
        feature = fs.feature(name)
        t1 = time.perf_counter_ns()
        lineage = feature.get_lineage()
        t2 = time.perf_counter_ns()
        upstream = lineage.all_upstream()
        t3 = time.perf_counter_ns()
    except Exception as exc:  # reported, not fatal: the figure is context only
        return {"feature": name, "error": f"{exc.__class__.__name__}: {str(exc)[:300]}"}
    return {
        "feature": name,
        "feature_ms": (t1 - t0) / 1e6,
        "get_lineage_ms": (t2 - t1) / 1e6,
        "all_upstream_ms": (t3 - t2) / 1e6,
        "total_ms": (t3 - t0) / 1e6,
        "returned": len(upstream),
        "expected": expected,
        "graph_nodes": len(lineage.as_graph().nodes),
    }


def print_lineage(results: dict[str, Any], graph: Graph, shape: str) -> None:
    print(
        f"\n### 3. all_upstream on a {len(graph.names):,}-node lineage graph ({graph.base:,} base + "
        f"{len(graph.names) - graph.base:,} derived in {LAYERS} layers, {graph.edges:,} edges, shape {shape})\n"
    )
    header = ("backend", "n", "p50 ms", "p99 ms", "mean ms", "max ms", "ancestors mean (min–max)", "graph insert s")
    body = []
    for backend, r in results.items():
        if "skipped" in r:
            body.append((backend, "—", "—", "—", "—", "—", "skipped", "—"))
            continue
        s = r["stats"]
        body.append(
            (
                backend,
                str(s["n"]),
                _ms(s["p50"]),
                _ms(s["p99"]),
                _ms(s["mean"]),
                _ms(s["max"]),
                f"{r['ancestors_mean']:,.0f} ({r['ancestors_min']:,}–{r['ancestors_max']:,})",
                f"{r['insert_s']:.1f}",
            )
        )
    print(markdown_table(header, body, left={0}))
    print()
    for backend, r in results.items():
        if "skipped" in r:
            print(f"{backend}: skipped: {r['skipped']}")
            continue
        p99 = r["stats"]["p99"]
        print(
            f"{backend}: all_upstream_ids p99 = {p99:.1f} ms (goal < {LINEAGE_GOAL_MS:g} ms): "
            f"{verdict(p99 < LINEAGE_GOAL_MS)}; answers differing from the Python closure: {r['wrong_answers']}"
        )
        lo, hi = r["extremes"]["smallest"], r["extremes"]["largest"]
        print(
            f"  by closure size (p50 of {LINEAGE_ROUNDS}): smallest sampled closure {lo['ancestors']:,} ancestors, "
            f"{lo['p50_ms']:.1f} ms; largest {hi['ancestors']:,} ancestors, {hi['p50_ms']:.1f} ms"
        )
        print(
            "  by round (each round walks the same 20 features): "
            + "; ".join(f"{k + 1}: p50 {x['p50']:.1f} / max {x['max']:.1f} ms" for k, x in enumerate(r["rounds"]))
        )
        print(f"  {gc_note(r['gc'])}")
        sdk = r["sdk"]
        if "error" in sdk:
            print(f"  SDK fs.feature({sdk['feature']!r}).get_lineage().all_upstream(): FAILED: {sdk['error']}")
        else:
            print(
                f"  SDK fs.feature({sdk['feature']!r}).get_lineage().all_upstream(), once: {sdk['total_ms']:,.0f} ms "
                f"(feature {sdk['feature_ms']:.1f} ms, get_lineage {sdk['get_lineage_ms']:,.0f} ms for a graph of "
                f"{sdk['graph_nodes']:,} nodes, all_upstream {sdk['all_upstream_ms']:.0f} ms); "
                f"{sdk['returned']:,} ancestors returned, {sdk['expected']:,} expected"
            )


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database on the server of ``admin_url`` (made with psycopg, autocommit), dropped on the way out."""
    import psycopg

    name = f"raise_bench_{uuid.uuid4().hex[:10]}"
    conninfo = sa.engine.make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        Engine.close_all()
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"  dropped database {name}", flush=True)


def postgres_version(admin_url: str) -> tuple[str | None, str | None]:
    """(server version, None) or (None, why it is unreachable)."""
    try:
        import psycopg

        conninfo = sa.engine.make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return (str(row[0]) if row else "?"), None
    except Exception as exc:  # the reason is printed, the half skipped
        return None, f"PostgreSQL at {admin_url} is not reachable: {exc.__class__.__name__}: {exc}".strip()


# -- report ---------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _s(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def markdown_table(header: Sequence[str], body: Sequence[Sequence[str]], left: set[int]) -> str:
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(len(header))]

    def fmt(line: Sequence[str]) -> str:
        cells = [c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))]
        return "| " + " | ".join(cells) + " |"

    rule = "|" + "|".join(("-" * (w + 2)) if i in left else ("-" * (w + 1) + ":") for i, w in enumerate(widths)) + "|"
    return "\n".join([fmt(header), rule, *(fmt(line) for line in body)])


def summary_rows(res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    reads = res["reads"]
    for label, what in (("latest", "read 3 derived features, latest per entity"), ("history", "… history=True")):
        x = reads[label]
        rows.append(
            (
                f"{what} ({x['rows_returned']:,} rows)",
                f"{_s(x['raise_best_s'])} s vs {_s(x['hand_best_s'])} s hand-written = {x['ratio']:.2f}×",
                f"≤ {READ_GOAL}×",
                verdict(x["ratio"] <= READ_GOAL),
            )
        )
    v = res["validate"]["fresh"]
    rows.append(
        (
            f"validate_feature, {VALIDATE_CALLS} different texts",
            f"p50 {v['p50']:.2f} ms, p99 {v['p99']:.2f} ms",
            f"p99 < {VALIDATE_GOAL_MS:g} ms",
            verdict(v["p99"] < VALIDATE_GOAL_MS),
        )
    )
    nodes = res["nodes"]
    for backend, r in res["lineage"].items():
        what = f"all_upstream_ids, {nodes:,} nodes, {backend}"
        if "skipped" in r:
            rows.append((what, "skipped", f"p99 < {LINEAGE_GOAL_MS:g} ms", "—"))
            continue
        s = r["stats"]
        rows.append(
            (
                what,
                f"p50 {s['p50']:.1f} ms, p99 {s['p99']:.1f} ms, {r['ancestors_mean']:,.0f} ancestors",
                f"p99 < {LINEAGE_GOAL_MS:g} ms",
                verdict(s["p99"] < LINEAGE_GOAL_MS),
            )
        )
        sdk = r["sdk"]
        rows.append(
            (
                f"SDK get_lineage().all_upstream(), {backend} (once)",
                f"FAILED: {sdk['error'][:60]}" if "error" in sdk else f"{sdk['total_ms']:,.0f} ms",
                "— (context)",
                "—",
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows written for the read benchmark")
    parser.add_argument("--nodes", type=int, default=100_000, help="features in the lineage graph")
    parser.add_argument("--backends", default="sqlite,postgresql", help="catalogs for lineage: sqlite,postgresql")
    parser.add_argument("--shape", default="layered", choices=["layered", "uniform"], help="lineage graph shape")
    parser.add_argument("--pg-url", default=os.environ.get("RAISE_BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--json", type=Path, help="write the numbers to this file")
    parser.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="leave the script's own objects to the garbage collector during timed loops (see the docstring)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tmp", default=None, help="directory for the temporary stores (default: the system's)")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    freeze = not args.no_gc_freeze
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown or not backends:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown)) or '(none)'}")
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    if args.nodes < 50 * LAYERS:
        parser.error(f"--nodes must be at least {50 * LAYERS}")
    # A terminated run still removes its temporary directories and drops its database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ.setdefault("RAISE_USER", "bench@raise")
    os.environ.setdefault("TQDM_DISABLE", "1")

    pg_version, pg_reason = postgres_version(args.pg_url) if "postgresql" in backends else (None, None)
    machine = machine_info(
        duckdb=duckdb.__version__,
        pyarrow=pa.__version__,
        numpy=np.__version__,
        sqlite=sqlite3.sqlite_version,
        postgresql=pg_version,
        sqlalchemy=sa.__version__,
        raise_=raise_.__version__,
    )
    machine["raise"] = machine.pop("raise_")
    print("Raise derived features and lineage benchmark")
    print(machine_line(machine))
    print(
        f"python {machine['python']}, duckdb {machine['duckdb']}, pyarrow {machine['pyarrow']}, "
        f"numpy {machine['numpy']}, sqlite {machine['sqlite']}, PostgreSQL {pg_version or 'n/a'}, "
        f"sqlalchemy {machine['sqlalchemy']}, raise {machine['raise']}"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"rows: {args.rows:,}; lineage nodes: {args.nodes:,} ({args.shape}); seed {args.seed}; "
        f"gc.freeze() before timed loops: {'yes' if freeze else 'no'}",
        flush=True,
    )
    wall = time.perf_counter()

    res: dict[str, Any] = {
        "machine": machine,
        "rows": args.rows,
        "nodes": args.nodes,
        "shape": args.shape,
        "gc_freeze": freeze,
    }
    with tempfile.TemporaryDirectory(prefix="raise_bench_expr_", dir=args.tmp) as tmp:
        print("\n== reads and validation", flush=True)
        reads, _fs, group = bench_reads(Path(tmp) / "home", args.rows, args.seed)
        res["reads"] = reads
        res["validate"] = bench_validate(group, freeze)
        print("  validation done", flush=True)
        Engine.close_all()
    print_reads(res["reads"])
    print_validate(res["validate"])

    start = time.perf_counter()
    graph = Graph(args.nodes, args.seed, args.shape)
    print(f"\n== lineage graph built in {time.perf_counter() - start:.1f} s", flush=True)
    lineage: dict[str, Any] = {}
    run: dict[str, Callable[[], dict[str, Any]]] = {}
    for backend in backends:
        if backend == "sqlite":

            def run_sqlite() -> dict[str, Any]:
                with tempfile.TemporaryDirectory(prefix="raise_bench_lineage_", dir=args.tmp) as tmp:
                    home = Path(tmp) / "home"
                    url = f"sqlite:///{home / 'catalog.db'}"
                    return bench_lineage("sqlite", url, home, graph, args.seed, freeze)

            run[backend] = run_sqlite
        elif pg_reason is not None:
            print(f"\n== lineage on postgresql: skipped: {pg_reason}", flush=True)
            lineage[backend] = {"skipped": pg_reason}
        else:

            def run_pg() -> dict[str, Any]:
                with (
                    tempfile.TemporaryDirectory(prefix="raise_bench_lineage_", dir=args.tmp) as tmp,
                    postgres_database(args.pg_url) as url,
                ):
                    return bench_lineage("postgresql", url, Path(tmp) / "home", graph, args.seed, freeze)

            run[backend] = run_pg
    for backend in backends:
        if backend in run:
            lineage[backend] = run[backend]()
    res["lineage"] = {b: lineage[b] for b in backends}
    print_lineage(res["lineage"], graph, args.shape)

    print("\n### Summary\n")
    print(markdown_table(("measurement", "figure", "goal", "verdict"), summary_rows(res), left={0, 1, 2, 3}))
    print(f"\nwall time: {time.perf_counter() - wall:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, default=str) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
