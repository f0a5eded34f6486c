"""SQL benchmark: ``fs.sql`` (the query runs in the store, columns pruned, filters pushed down)
against what ``%%raise sql`` did before (read each group whole, then query it in a private DuckDB).

A script, not a test:

    .venv/bin/python bench/sql.py                 # 2M rows, embedded and through `raise serve`
    .venv/bin/python bench/sql.py --rows 200000 --no-server   # quick smoke run

The group holds ``--rows`` entities (one row each) × (``user_id``, ``event_time``, 4 float64, a
string). Each query is run ``--repeats`` times per approach, interleaved after a warm-up; the table
shows median seconds and old ÷ new. Both approaches must return the same rows (checked).

- **key filter**: ``WHERE user_id < rows/100`` (1% of the entities) and an aggregate per country;
- **value filter**: ``WHERE f0 > 2.3`` (about 1%) selecting three columns;
- **no filter**: an aggregate over every row (the old approach's best case: nothing to push down).
"""

from __future__ import annotations

import argparse
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
import pandas as pd
import pyarrow as pa
from _machine import machine_info, machine_line
from _timing import time_call
from server import Server, table

import raise_
from raise_ import FeatureStore

PROJECT = "bench/sql/run"
TS = pa.timestamp("us", tz="UTC")
T0_US = int(np.datetime64("2025-01-01T00:00:00", "us").astype(np.int64))
COUNTRIES = np.array(["fr", "de", "us", "jp", "br", "in"])


def events(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "user_id": np.arange(rows, dtype=np.int64),
            "event_time": pa.array(T0_US + rng.integers(0, 90 * 86_400_000_000, rows, dtype=np.int64), type=TS),
            **{f"f{j}": rng.standard_normal(rows) for j in range(4)},
            "country": COUNTRIES[rng.integers(0, len(COUNTRIES), rows)],
        }
    )


def fill(fs: FeatureStore, data: pa.Table) -> Any:
    group = fs.create_feature_group("events", entity_keys=["user_id"], event_time="event_time")
    group.create_features([{"name": f"f{j}", "dtype": "float64"} for j in range(4)])
    group.create_feature("country", "string")
    group.write(data)
    return group


def pulled(fs: FeatureStore, query: str, features: list[str]) -> pa.Table:
    """The approach ``%%raise sql`` had before ``fs.sql``: the group read whole (the columns the
    query names) into the kernel, registered in a private DuckDB, the query run there."""
    group = fs.feature_group("events")
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("events", group.read(features=features).to_arrow())
        return con.sql(query).to_arrow_table()
    finally:
        con.close()


QUERIES: list[tuple[str, str, list[str]]] = [
    (
        "key filter (1% of entities), aggregate",
        "SELECT country, count(*) AS n, avg(f0) AS f0 FROM events WHERE user_id < {cut} GROUP BY country "
        "ORDER BY country",
        ["f0", "country"],
    ),
    (
        "value filter (~1% of rows), 3 columns",
        "SELECT user_id, f0, f1 FROM events WHERE f0 > 2.3 ORDER BY user_id",
        ["f0", "f1"],
    ),
    (
        "no filter, aggregate over every row",
        "SELECT country, count(*) AS n, avg(f2) AS f2 FROM events GROUP BY country ORDER BY country",
        ["f2", "country"],
    ),
]


def measure(runs: dict[str, Callable[[], pa.Table]], repeats: int) -> dict[str, list[float]]:
    results = {name: run() for name, run in runs.items()}  # warm-up, and the same answer from each
    first, *others = (r.to_pandas() for r in results.values())
    for other in others:  # the same rows; sums of floats may differ in their last bits (parallel order)
        pd.testing.assert_frame_equal(other, first, check_dtype=False, rtol=1e-9)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            times[name].append(time_call(run) / 1e9)
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-server", action="store_true", help="embedded only")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ.setdefault("RAISE_USER", "bench@raise")
    os.environ.setdefault("TQDM_DISABLE", "1")
    machine = machine_info(duckdb=duckdb.__version__, pyarrow=pa.__version__, raise_=raise_.__version__)
    print("Raise SQL benchmark: fs.sql (pushdown in the store) vs pulling the group into the kernel")
    print(machine_line(machine))
    print(f"python {machine['python']}, duckdb {machine['duckdb']}, pyarrow {machine['pyarrow']}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    data = events(args.rows, args.seed)
    print(f"data: {args.rows:,} rows × (user_id, event_time, 4 float64, country)")

    with tempfile.TemporaryDirectory(prefix="raise_bench_sql_") as tmp:
        stores = {"embedded": FeatureStore(PROJECT, home=Path(tmp) / "embedded")}
        server = None
        if not args.no_server:
            server = Server(Path(tmp) / "served")
            os.environ["RAISE_URL"], os.environ["RAISE_TOKEN"] = server.url, server.token
            stores["remote (raise serve)"] = FeatureStore(PROJECT)
        try:
            for fs in stores.values():
                fill(fs, data)
            rows = []
            for side, fs in stores.items():
                for label, template, features in QUERIES:
                    query = template.format(cut=args.rows // 100)
                    quoted = query.replace("FROM events", 'FROM "events"')
                    times = measure(
                        {
                            "pull": lambda fs=fs, q=query, f=features: pulled(fs, q, f),
                            "fs.sql": lambda fs=fs, q=quoted: fs.sql(q).to_arrow(),
                        },
                        args.repeats,
                    )
                    old, new = statistics.median(times["pull"]), statistics.median(times["fs.sql"])
                    rows.append((side, label, f"{old:.3f}", f"{new:.3f}", f"{old / new:.1f}×"))
                    print(f"  {side}: {label}: pull {old:.3f} s, fs.sql {new:.3f} s, {old / new:.1f}×", flush=True)
        finally:
            if server is not None:
                server.stop()
    print()
    print(table(("backend", f"query over {args.rows:,} rows", "pull + DuckDB s", "fs.sql s", "pull ÷ fs.sql"), rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
