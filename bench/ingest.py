"""Ingest benchmark: rows/s of ``group.write(arrow_table)`` against raw DuckDB inserts of the same Arrow table.

A script, not a test: it prints a table per size and optionally writes the numbers as JSON.

    .venv/bin/python bench/ingest.py                          # 1M and 10M rows (about 2 minutes)
    .venv/bin/python bench/ingest.py --rows 100000            # quick smoke run
    .venv/bin/python bench/ingest.py --rows 1000000 --json out.json

Data (numpy, fixed seed): N rows of ``user_id`` (int64), ``event_time`` (microsecond UTC timestamps over 90
days) and 5 float64 features, as one pyarrow Table per batch. Three writes, in this order, on one group:

1. append into an empty group (N rows, keys drawn from [0, K), K = N / 10);
2. append of new keys (N rows, keys from [K, 2K)) into the group now holding N rows;
3. upsert (``mode="upsert"``) of N rows of which 10% carry the (key, event time) of existing rows with new
   values and 90% are new rows (keys from [2K, 3K)), into the group now holding 2N rows.

Anchor for each, in a fresh DuckDB file with a plain table of the same column types (``BIGINT``,
``TIMESTAMPTZ``, 5 × ``DOUBLE``): 1 and 2 are ``INSERT INTO t SELECT * FROM arrow_table``; 3 is the
hand-written upsert ``DELETE FROM t USING batch`` on (key, event time) + ``INSERT``, in one transaction.
Raise also stages, deduplicates, keeps superseded rows in a history table and logs the commit, which the
anchor does not: the ratio is what that bookkeeping costs.

Each size runs ``--repeats`` times (fresh store and fresh DuckDB file each time, Raise and anchor interleaved)
after one untimed warm-up at 10,000 rows; the tables show the median. The store's DuckDB file is opened and
the table created before the timed writes, on both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from _machine import machine_info, machine_line
from _timing import time_call

import raise_
from raise_ import FeatureStore
from raise_.engine import Engine

FEATURES = [f"f{j}" for j in range(5)]
DAY_US = 86_400 * 1_000_000
T0_US = int(np.datetime64("2025-01-01T00:00:00", "us").astype(np.int64))
TS = pa.timestamp("us", tz="UTC")
UPSERT_EXISTING = 0.10
APPEND_GOAL = 0.7  # Raise rows/s ÷ raw INSERT rows/s, append into an empty group
OPERATIONS = (
    ("append into an empty group", "raw INSERT into an empty table"),
    ("append of new keys into a non-empty group (N rows)", "raw INSERT into a table of N rows"),
    ("upsert, 10% existing (key, time), group of 2N rows", "hand-written DELETE USING + INSERT, 2N rows"),
)


def batch(rows: int, key_lo: int, key_hi: int, rng: np.random.Generator) -> pa.Table:
    columns: dict[str, Any] = {
        "user_id": rng.integers(key_lo, key_hi, rows, dtype=np.int64),
        "event_time": pa.array(T0_US + rng.integers(0, 90 * DAY_US, rows, dtype=np.int64), type=TS),
    }
    for f in FEATURES:
        columns[f] = rng.standard_normal(rows)
    return pa.table(columns)


def make_batches(rows: int, seed: int) -> list[pa.Table]:
    rng = np.random.default_rng(seed)
    keys = max(rows // 10, 1)
    first = batch(rows, 0, keys, rng)
    second = batch(rows, keys, 2 * keys, rng)
    existing = int(rows * UPSERT_EXISTING)
    picked = first.take(pa.array(np.sort(rng.choice(rows, existing, replace=False))))
    updated = pa.table(
        {
            "user_id": picked.column("user_id"),
            "event_time": picked.column("event_time"),
            **{f: rng.standard_normal(existing) for f in FEATURES},
        }
    )
    fresh = batch(rows - existing, 2 * keys, 3 * keys, rng)
    third = pa.concat_tables([updated, fresh]).combine_chunks()
    return [first, second, third]


def raise_round(home: Path, batches: list[pa.Table]) -> list[int]:
    """The three writes through the SDK into a fresh store; durations in ns."""
    fs = FeatureStore("bench/ingest/run", home=home)
    g = fs.create_feature_group("events", entity_keys=["user_id"], event_time="event_time")
    g.create_features([{"name": f, "dtype": "float64"} for f in FEATURES])
    fs._backend.store  # noqa: B018 — open the DuckDB file before timing, as the anchor connects first
    modes = ("append", "append", "upsert")
    times = [time_call(lambda b=b, m=m: g.write(b, mode=m)) for b, m in zip(batches, modes, strict=True)]
    rows = g._backend.store.cursor().sql(f'SELECT count(*) FROM "{g.physical_table}"').fetchall()[0][0]
    expected = 3 * batches[0].num_rows - int(batches[0].num_rows * UPSERT_EXISTING)
    if rows != expected:
        raise RuntimeError(f"Raise holds {rows:,} visible rows after the three writes, expected {expected:,}")
    Engine.close_all()
    return times


def anchor_round(path: Path, batches: list[pa.Table]) -> list[int]:
    """The same three writes as raw DuckDB SQL on a plain table in a fresh file; durations in ns."""
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    cols = ", ".join(f"{f} DOUBLE" for f in FEATURES)
    con.execute(f"CREATE TABLE t (user_id BIGINT, event_time TIMESTAMPTZ, {cols})")
    b1, b2, b3 = batches

    def upsert() -> None:
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM t USING b3 s WHERE t.user_id = s.user_id AND t.event_time = s.event_time")
        con.execute("INSERT INTO t SELECT * FROM b3")
        con.execute("COMMIT")

    con.register("b1", b1)
    con.register("b2", b2)
    con.register("b3", b3)
    steps: list[Callable[[], object]] = [
        lambda: con.execute("INSERT INTO t SELECT * FROM b1"),
        lambda: con.execute("INSERT INTO t SELECT * FROM b2"),
        upsert,
    ]
    times = [time_call(step) for step in steps]
    rows = con.sql("SELECT count(*) FROM t").fetchall()[0][0]
    con.close()
    expected = 3 * b1.num_rows - int(b1.num_rows * UPSERT_EXISTING)
    if rows != expected:
        raise RuntimeError(f"the anchor holds {rows:,} rows after the three writes, expected {expected:,}")
    return times


def run_size(rows: int, repeats: int, seed: int, tmp_dir: str | None) -> dict[str, Any]:
    print(f"\n== {rows:,} rows × (key, time, {len(FEATURES)} float64), {repeats} rounds", flush=True)
    batches = make_batches(rows, seed)
    raise_ns: list[list[int]] = [[] for _ in OPERATIONS]
    anchor_ns: list[list[int]] = [[] for _ in OPERATIONS]
    for r in range(repeats):
        with tempfile.TemporaryDirectory(prefix="raise_ingest_", dir=tmp_dir) as tmp:
            # Alternate which side goes first, so neither always meets a cold page cache.
            sides = [("raise", Path(tmp) / "home"), ("anchor", Path(tmp) / "anchor.duckdb")]
            for side, path in sides if r % 2 == 0 else sides[::-1]:
                times = raise_round(path, batches) if side == "raise" else anchor_round(path, batches)
                for series, t in zip(raise_ns if side == "raise" else anchor_ns, times, strict=True):
                    series.append(t)
        print(
            f"  round {r + 1}: Raise "
            + " / ".join(f"{s[-1] / 1e9:.2f}" for s in raise_ns)
            + " s, anchor "
            + " / ".join(f"{s[-1] / 1e9:.2f}" for s in anchor_ns)
            + " s",
            flush=True,
        )
    out = []
    for (op, anchor_op), r_ns, a_ns in zip(OPERATIONS, raise_ns, anchor_ns, strict=True):
        r_s = statistics.median(r_ns) / 1e9
        a_s = statistics.median(a_ns) / 1e9
        out.append(
            {
                "operation": op,
                "anchor": anchor_op,
                "rows": rows,
                "raise_s": [t / 1e9 for t in r_ns],
                "anchor_s": [t / 1e9 for t in a_ns],
                "raise_median_s": r_s,
                "anchor_median_s": a_s,
                "raise_rows_per_s": rows / r_s,
                "anchor_rows_per_s": rows / a_s,
                "throughput_ratio": a_s / r_s,  # Raise rows/s ÷ anchor rows/s
            }
        )
    return {"rows": rows, "repeats": repeats, "operations": out, "table": format_table(out)}


def format_table(ops: list[dict[str, Any]]) -> str:
    header = ("operation", "Raise s", "Raise rows/s", "anchor", "anchor s", "anchor rows/s", "Raise ÷ anchor")
    body = [
        (
            o["operation"],
            f"{o['raise_median_s']:.2f}",
            f"{o['raise_rows_per_s']:,.0f}",
            o["anchor"],
            f"{o['anchor_median_s']:.2f}",
            f"{o['anchor_rows_per_s']:,.0f}",
            f"{o['throughput_ratio']:.2f}×",
        )
        for o in ops
    ]
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(len(header))]
    left = (0, 3)

    def fmt(line: Sequence[str]) -> str:
        cells = [c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))]
        return "| " + " | ".join(cells) + " |"

    rule = "|" + "|".join(("-" * (w + 2)) if i in left else ("-" * (w + 1) + ":") for i, w in enumerate(widths)) + "|"
    return "\n".join([fmt(header), rule, *(fmt(line) for line in body)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", default="1000000,10000000", help="comma-separated batch sizes")
    parser.add_argument("--repeats", type=int, default=3, help="rounds per size (median reported)")
    parser.add_argument("--json", type=Path, help="write the numbers to this file")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tmp", default=None, help="directory for the temporary stores (default: the system's)")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.rows.split(",") if s.strip()]
    if not sizes or min(sizes) < 10 or args.repeats < 1:
        parser.error("--rows needs sizes of at least 10 and --repeats at least 1")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # temporary directories are still removed
    os.environ.setdefault("RAISE_USER", "bench@raise")
    os.environ.setdefault("TQDM_DISABLE", "1")

    machine = machine_info(duckdb=duckdb.__version__, pyarrow=pa.__version__, raise_=raise_.__version__)
    print("Raise ingest benchmark")
    print(machine_line(machine))
    print(
        f"python {machine['python']}, duckdb {machine['duckdb']}, pyarrow {machine['pyarrow']}, "
        f"raise {machine['raise_']}"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print("times: median over rounds, seconds; Raise ÷ anchor = Raise rows/s ÷ anchor rows/s (higher is better)")

    with tempfile.TemporaryDirectory(prefix="raise_ingest_warmup_", dir=args.tmp) as tmp:
        warm = make_batches(10_000, args.seed + 1)
        raise_round(Path(tmp) / "home", warm)
        anchor_round(Path(tmp) / "anchor.duckdb", warm)

    results = []
    for rows in sizes:
        res = run_size(rows, args.repeats, args.seed, args.tmp)
        results.append(res)
        print(f"\n### {rows:,} rows\n\n{res['table']}\n")
        first = res["operations"][0]
        ratio = first["throughput_ratio"]
        verdict = "meets" if ratio >= APPEND_GOAL else "MISSES"
        print(f"append into an empty group: Raise ÷ raw INSERT = {ratio:.2f}× (goal ≥ {APPEND_GOAL}×): {verdict}")
        if args.json:
            args.json.write_text(json.dumps({"machine": machine, "sizes": results}, indent=2) + "\n")
    if args.json:
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
