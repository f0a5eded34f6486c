"""Analytics: four analyses on 10M rows, each against the same computation written by hand.

A script, not a test: it prints one section per analysis, a summary table, and optionally writes the
numbers as JSON.

    .venv/bin/python bench/analytics.py                     # 10M rows (~2 minutes on 2 cores)
    .venv/bin/python bench/analytics.py --rows 1000000      # quick smoke run
    .venv/bin/python bench/analytics.py --json out.json

Data: a fresh temporary ``RAISE_HOME`` holds ``FeatureStore("bench/analytics/p")`` with one group
``events`` (entity key ``user_id``, N/10 users) and ten numeric features plus one string: ``clicks``,
``views`` (int64), ``revenue``, ``score``, ``f1`` ... ``f6`` (float64, correlated with each other
through a shared factor, 1% nulls in ``revenue``) and ``tier`` (4 values). N rows (numpy, fixed
seed; event times uniform over 90 days) are written with ``group.write`` in chunks of 2,000,000.

Analyses, each timed end to end through the SDK with ``Freshness.REAL_TIME`` (catalog lookups,
permission checks, the query, storing the result, the audit entry), against a hand-written
anchor on the same DuckDB connection (and, for two of them, numpy on arrays already in memory):

1. simple aggregation: ``Aggregation("revenue", [count, sum, avg, min, max, null_rate])``;
2. grouped, windowed: ``Aggregation("revenue", [count, sum, avg], window="7d", group_by="tier")``;
3. distribution: ``Distribution("revenue", bins=50, percentiles=[50, 75, 90, 95, 99])`` against
   DuckDB SQL (min/max, then the binning) and ``numpy.histogram`` + ``numpy.percentile``;
4. correlation of the 10 numeric features (pearson) against DuckDB ``corr()`` over the 45 pairs
   and ``numpy.corrcoef``.

Raise and anchors are interleaved, ``--runs`` times (default 5); the report gives the median and the
worst run. Every Raise answer is checked against its anchor (relative tolerance 1e-9).

Goals: Raise / hand-written ≤ 1.5× (median); PRD §21.1 p99: simple aggregation < 500 ms,
correlation matrix of 10 features < 10 s (aim: 10× under both).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from _machine import machine_info, machine_line

import raise_
from raise_ import Aggregation, Correlation, Distribution, FeatureStore, Freshness
from raise_.config import Settings
from raise_.engine import Engine
from raise_.storage.offline_store import quote

PROJECT, GROUP = "bench/analytics/p", "events"
CHUNK_ROWS = 2_000_000
SPAN_DAYS = 90
DAY_US = 86_400 * 1_000_000
T0_US = int(np.datetime64("2025-01-01T00:00:00", "us").astype(np.int64))
TS = pa.timestamp("us", tz="UTC")
FLOATS = ["revenue", "score", "f1", "f2", "f3", "f4", "f5", "f6"]
NUMERIC = ["clicks", "views", *FLOATS]
PERCENTILES = [50.0, 75.0, 90.0, 95.0, 99.0]
BINS = 50
RATIO_GOAL = 1.5
PRD_MS = {"simple aggregation": 500.0, "correlation (10 features)": 10_000.0}


def generate_chunk(rng: np.random.Generator, rows: int, users: int) -> pa.Table:
    views = rng.integers(0, 400, rows, dtype=np.int64)
    factor = rng.standard_normal(rows)
    cols: dict[str, Any] = {
        "user_id": rng.integers(0, users, rows, dtype=np.int64),
        "event_time": pa.array(T0_US + rng.integers(0, SPAN_DAYS * DAY_US, rows, dtype=np.int64), type=TS),
        "clicks": rng.binomial(views, 0.15).astype(np.int64),
        "views": views,
        "tier": pa.array(rng.choice(np.array(["bronze", "silver", "gold", "platinum"]), rows)),
    }
    for i, name in enumerate(FLOATS):
        values = factor * (0.2 + 0.1 * i) + rng.standard_normal(rows)
        if name == "revenue":
            mask = rng.random(rows) < 0.01
            cols[name] = pa.array(np.abs(values) * 30.0, mask=mask)
        else:
            cols[name] = values
    return pa.table(cols)


def setup(rows: int) -> tuple[FeatureStore, Any, dict[str, str], str]:
    fs = FeatureStore(PROJECT)
    group = fs.create_feature_group(GROUP, entity_keys=["user_id"], event_time="event_time")
    group.create_features(
        [{"name": n, "dtype": "int64"} for n in ("clicks", "views")]
        + [{"name": n, "dtype": "float64"} for n in FLOATS]
        + [{"name": "tier", "dtype": "string"}]
    )
    rng = np.random.default_rng(42)
    users = max(rows // 10, 1)
    written = 0
    while written < rows:
        n = min(CHUNK_ROWS, rows - written)
        group.write(generate_chunk(rng, n, users))
        written += n
    service = Engine.shared(Settings.from_env()).catalog
    layout = service.layout(group.path)
    cols = {f.name: f.physical for f in layout.latest()}
    return fs, group, cols, layout.table


def close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


# -- the anchors ----------------------------------------------------------------------------------


def hand_simple(cur: duckdb.DuckDBPyConnection, table: str, c: dict[str, str]) -> dict[str, Any]:
    r = quote(c["revenue"])
    row = cur.sql(
        f"SELECT count({r}), sum({r}), avg({r}), min({r}), max({r}), 1.0 - count({r}) / count(*) FROM {quote(table)}"
    ).fetchall()[0]
    return dict(zip(["count", "sum", "avg", "min", "max", "null_rate"], row, strict=True))


def hand_grouped(cur: duckdb.DuckDBPyConnection, table: str, c: dict[str, str]) -> list[tuple[Any, ...]]:
    r, tier, t = quote(c["revenue"]), quote(c["tier"]), quote("event_time")
    return cur.sql(
        f"WITH b AS (SELECT max({t}) AS e FROM {quote(table)}) SELECT {tier}, count({r}), sum({r}), avg({r}) "
        f"FROM {quote(table)}, b WHERE {t} > e - INTERVAL 7 DAY AND {t} <= e GROUP BY 1 ORDER BY 1"
    ).fetchall()


def hand_distribution(cur: duckdb.DuckDBPyConnection, table: str, c: dict[str, str]) -> dict[str, Any]:
    r = quote(c["revenue"])
    fractions = ", ".join(repr(p / 100) for p in PERCENTILES)
    lo, hi, qs = cur.sql(
        f"SELECT min({r}), max({r}), quantile_cont({r}, [{fractions}]) FROM {quote(table)}"
    ).fetchall()[0]
    width = (hi - lo) / BINS
    counts = [0] * BINS
    binned = cur.sql(
        f"SELECT LEAST(CAST(floor(({r} - {lo!r}) / {width!r}) AS BIGINT), {BINS - 1}) AS b, count(*) "
        f"FROM {quote(table)} WHERE {r} IS NOT NULL GROUP BY 1"
    ).fetchall()
    for b, n in binned:
        counts[int(b)] = int(n)
    return {"counts": counts, "percentiles": list(qs)}


def numpy_distribution(values: np.ndarray) -> dict[str, Any]:
    counts, _ = np.histogram(values, bins=BINS)
    return {"counts": counts.tolist(), "percentiles": np.percentile(values, PERCENTILES).tolist()}


def hand_correlation(cur: duckdb.DuckDBPyConnection, table: str, c: dict[str, str]) -> list[list[float]]:
    n = len(NUMERIC)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    exprs = ", ".join(f"corr({quote(c[NUMERIC[i]])}, {quote(c[NUMERIC[j]])})" for i, j in pairs)
    row = cur.sql(f"SELECT {exprs} FROM {quote(table)}").fetchall()[0]
    m = [[1.0] * n for _ in range(n)]
    for (i, j), v in zip(pairs, row, strict=True):
        m[i][j] = m[j][i] = v
    return m


# -- timing -----------------------------------------------------------------------------------------


def interleaved(fns: dict[str, Callable[[], Any]], runs: int) -> tuple[dict[str, list[float]], dict[str, Any]]:
    times: dict[str, list[float]] = {k: [] for k in fns}
    answers: dict[str, Any] = {}
    for name, fn in fns.items():  # one untimed warm-up each (file cache, plans)
        answers[name] = fn()
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            answers[name] = fn()
            times[name].append((time.perf_counter() - start) * 1e3)
    return times, answers


def summary(ms: list[float]) -> dict[str, float]:
    return {"median_ms": statistics.median(ms), "worst_ms": max(ms), "best_ms": min(ms)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    machine = machine_info(raise_=raise_.__version__, duckdb=duckdb.__version__, numpy=np.__version__)
    print(machine_line(machine))
    with tempfile.TemporaryDirectory() as home:
        os.environ["RAISE_HOME"] = home
        os.environ.setdefault("RAISE_USER", "bench@bench")
        started = time.perf_counter()
        _fs, group, cols, table = setup(args.rows)
        print(f"wrote {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
        cur = Engine.shared(Settings.from_env()).catalog.store.cursor()
        fresh = Freshness.REAL_TIME
        revenue = cur.sql(
            f"SELECT {quote(cols['revenue'])} FROM {quote(table)} WHERE {quote(cols['revenue'])} IS NOT NULL"
        ).fetchnumpy()
        revenue_np = np.asarray(next(iter(revenue.values())), dtype="float64")
        matrix_np = np.column_stack(
            [
                np.asarray(
                    next(iter(cur.sql(f"SELECT {quote(cols[n])} FROM {quote(table)}").fetchnumpy().values())),
                    dtype="float64",
                )
                for n in NUMERIC
            ]
        )

        simple = Aggregation(feature="revenue", metrics=["count", "sum", "avg", "min", "max", "null_rate"])
        grouped = Aggregation(feature="revenue", metrics=["count", "sum", "avg"], window="7d", group_by="tier")
        dist = Distribution(feature="revenue", bins=BINS, percentiles=PERCENTILES)
        corr = Correlation(features=NUMERIC, method="pearson")
        cases: list[tuple[str, dict[str, Callable[[], Any]], Callable[[dict[str, Any]], bool]]] = [
            (
                "simple aggregation",
                {
                    "raise": lambda: group.analyze(simple, fresh).metrics,
                    "duckdb": lambda: hand_simple(cur, table, cols),
                },
                lambda a: all(close(a["raise"][k], a["duckdb"][k]) for k in a["duckdb"]),
            ),
            (
                "grouped 7d aggregation",
                {"raise": lambda: group.analyze(grouped, fresh).rows, "duckdb": lambda: hand_grouped(cur, table, cols)},
                lambda a: close(
                    [[r["tier"], r["count"], r["sum"], r["avg"]] for r in a["raise"]], [list(x) for x in a["duckdb"]]
                ),
            ),
            (
                "distribution (50 bins, 5 percentiles)",
                {
                    "raise": lambda: group.analyze(dist, fresh).data,
                    "duckdb": lambda: hand_distribution(cur, table, cols),
                    "numpy": lambda: numpy_distribution(revenue_np),
                },
                lambda a: (
                    a["raise"]["histogram"]["counts"] == a["numpy"]["counts"]
                    and close(list(a["raise"]["percentiles"].values()), a["numpy"]["percentiles"])
                    and close(list(a["raise"]["percentiles"].values()), a["duckdb"]["percentiles"])
                ),
            ),
            (
                "correlation (10 features)",
                {
                    "raise": lambda: group.analyze(corr, fresh).correlation_matrix,
                    "duckdb": lambda: hand_correlation(cur, table, cols),
                    "numpy": lambda: np.corrcoef(matrix_np, rowvar=False).tolist(),
                },
                lambda a: all(
                    math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
                    for rx, ry in zip(a["raise"], a["duckdb"], strict=True)
                    for x, y in zip(rx, ry, strict=True)
                ),
            ),
        ]
        report: dict[str, Any] = {"machine": machine, "rows": args.rows, "runs": args.runs, "analyses": {}}
        for name, fns, check in cases:
            times, answers = interleaved(fns, args.runs)
            same = check(answers)
            stats = {k: summary(v) for k, v in times.items()}
            raise_ms = stats["raise"]["median_ms"]
            entry: dict[str, Any] = {"timings": stats, "same_answer": same}
            print(f"\n{name}: answers agree: {same}")
            for k, s in stats.items():
                ratio = raise_ms / s["median_ms"] if k != "raise" else 1.0
                entry[f"ratio_vs_{k}"] = ratio
                print(f"  {k:7s} median {s['median_ms']:9.1f} ms  worst {s['worst_ms']:9.1f} ms  ratio {ratio:5.2f}×")
            if name in PRD_MS:
                goal = PRD_MS[name]
                entry["prd_goal_ms"] = goal
                print(
                    f"  PRD §21.1: worst {stats['raise']['worst_ms']:.0f} ms against < {goal:.0f} ms "
                    f"({goal / stats['raise']['worst_ms']:.1f}× under)"
                )
            report["analyses"][name] = entry
        Engine.close_all()
    print("\nsummary (median; ratio = Raise / hand-written DuckDB; goal ≤ 1.5×)")
    ok = True
    for name, entry in report["analyses"].items():
        r = entry["ratio_vs_duckdb"]
        ok = ok and entry["same_answer"]
        print(
            f"  {name:40s} {entry['timings']['raise']['median_ms']:9.1f} ms  {r:5.2f}×  "
            f"{'met' if r <= RATIO_GOAL else 'NOT met'}"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
