"""Point-in-time training sets: Raise's ``get_training_data`` against a hand-written DuckDB ASOF join and Feast.

A script, not a test: it prints a table per scale and optionally writes the numbers as JSON.

    .venv/bin/python bench/pit_join.py                        # small and large (about 10 minutes + Feast's install)
    .venv/bin/python bench/pit_join.py --scale tiny           # quick smoke run (100k rows)
    .venv/bin/python bench/pit_join.py --scale small --json out.json
    .venv/bin/python bench/pit_join.py --scale tiny --skip-feast

Data (numpy, fixed seed): 3 feature groups of N rows each, 5 float64 features per group, keys ``user_id``
(int64) drawn from K keys, event times uniform over 90 days (microseconds, UTC); an entity frame of E rows
(``row_id``, ``user_id`` from the same K keys, ``event_time`` uniform from 5 days before the data to 45 days
after it, so some rows precede all data and about 20% per group find only rows older than the TTL). Every
group has a TTL of 30 days.

Engines, each timed as the median of 3 runs after 1 warm-up:

- Raise: the 3 groups written with ``group.write(pyarrow_table)`` into a fresh temporary ``RAISE_HOME``
  (write times reported too), then ``fs.get_training_data(entities, features=[15 features])``.
- anchor: the same result written by hand as SQL — 3 DuckDB ``ASOF LEFT JOIN``s on ``user_id`` and event
  time over Raise's own tables, the TTL as a ``CASE``, ordered by ``row_id`` — run on the same DuckDB
  connection Raise uses. Raise and anchor runs are interleaved.
- Feast (``file`` and ``duckdb`` offline stores): ``get_historical_features(...).to_df()`` in its own venv
  ``bench/.feast-venv`` (created if missing), as a subprocess over microsecond parquet copies of the same
  data (one FileSource per group, an Entity ``user_id``, 3 FeatureViews with ttl 30 days).

Correctness: Raise must return every entity row exactly once, in order (the script fails otherwise); the
anchor is compared with Raise on every row; each Feast store on a random sample of 10,000 entity rows
(values within 1e-12, same NULLs). Dropped and duplicated entity rows are counted for every engine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from _machine import machine_info, machine_line
from _timing import time_call, time_calls

import raise_
from raise_ import FeatureStore
from raise_.engine import Engine

BENCH_DIR = Path(__file__).resolve().parent
FEAST_VENV = BENCH_DIR / ".feast-venv"
FEAST_SPEC = "feast[duckdb]==0.67.*"
FEAST_FALLBACK_SPEC = "feast[duckdb]"

# name: (rows per group, keys, entity rows)
SCALES: dict[str, tuple[int, int, int]] = {
    "tiny": (100_000, 10_000, 10_000),
    "small": (1_000_000, 100_000, 100_000),
    "large": (10_000_000, 1_000_000, 1_000_000),
}
GROUPS = 3
FEATURES_PER_GROUP = 5
TTL_DAYS = 30
SPAN_DAYS = 90
BEFORE_DAYS, AFTER_DAYS = 5, 45  # entity times start this much before the data and end this much after
DAY_US = 86_400 * 1_000_000
T0_US = int(np.datetime64("2025-01-01T00:00:00", "us").astype(np.int64))
TS = pa.timestamp("us", tz="UTC")
SAMPLE = 10_000
RUNS, WARMUP = 3, 1
TOLERANCE = 1e-12
PROJECT = "bench/pit/run"
FEAST_TIMEOUT_S = 3_600

# Goals: Raise / anchor at most this; Feast / Raise at least these.
ANCHOR_GOAL = 1.2
FEAST_GOALS = {"feast-duckdb": 2.0, "feast-file": 8.0}


def group_name(i: int) -> str:
    return f"g{i}"


def feature_names(i: int) -> list[str]:
    return [f"g{i}_f{j}" for j in range(FEATURES_PER_GROUP)]


ALL_FEATURES = [f for i in range(GROUPS) for f in feature_names(i)]


# -- data ---------------------------------------------------------------------------------------


def generate_group(i: int, rows: int, keys: int, seed: int) -> pa.Table:
    rng = np.random.default_rng([seed, i])
    columns: dict[str, Any] = {
        "user_id": rng.integers(0, keys, rows, dtype=np.int64),
        "event_time": pa.array(T0_US + rng.integers(0, SPAN_DAYS * DAY_US, rows, dtype=np.int64), type=TS),
    }
    for name in feature_names(i):
        columns[name] = rng.standard_normal(rows)
    return pa.table(columns)


def generate_entities(rows: int, keys: int, seed: int) -> pa.Table:
    rng = np.random.default_rng([seed, 1_000])
    start = T0_US - BEFORE_DAYS * DAY_US
    span = (BEFORE_DAYS + SPAN_DAYS + AFTER_DAYS) * DAY_US
    return pa.table(
        {
            "row_id": np.arange(rows, dtype=np.int64),
            "user_id": rng.integers(0, keys, rows, dtype=np.int64),
            "event_time": pa.array(start + rng.integers(0, span, rows, dtype=np.int64), type=TS),
        }
    )


# -- the anchor: a hand-written ASOF join over Raise's tables -------------------------------------


def anchor_sql(tables: Sequence[str], entities: str) -> str:
    select = ["e.row_id", "e.user_id", "e.event_time"]
    joins = []
    for i, table in enumerate(tables):
        a = f"g{i}"
        for f in feature_names(i):
            select.append(
                f"CASE WHEN e.event_time - {a}.event_time <= INTERVAL {TTL_DAYS} DAY THEN {a}.{f}_v1 END AS {f}"
            )
        joins.append(f'ASOF LEFT JOIN "{table}" {a} ON e.user_id = {a}.user_id AND e.event_time >= {a}.event_time')
    return f"SELECT {', '.join(select)} FROM {entities} e {' '.join(joins)} ORDER BY e.row_id"


def coverage_sql(tables: Sequence[str], entities: str) -> str:
    """Per group: entity rows with no earlier row at all, and with only rows older than the TTL."""
    flags, joins, counts = [], [], []
    for i, table in enumerate(tables):
        a = f"g{i}"
        flags.append(f"{a}.event_time IS NULL AS none{i}")
        flags.append(f"e.event_time - {a}.event_time > INTERVAL {TTL_DAYS} DAY AS stale{i}")
        joins.append(
            f'ASOF LEFT JOIN (SELECT user_id, event_time FROM "{table}") {a} '
            f"ON e.user_id = {a}.user_id AND e.event_time >= {a}.event_time"
        )
        counts += [f"count(*) FILTER (WHERE none{i})", f"count(*) FILTER (WHERE stale{i})"]
    any_stale = " OR ".join(f"coalesce(stale{i}, false)" for i in range(len(tables)))
    any_none = " OR ".join(f"none{i}" for i in range(len(tables)))
    counts += [
        f"count(*) FILTER (WHERE {any_stale})",
        f"count(*) FILTER (WHERE {any_none})",
        f"count(*) FILTER (WHERE {any_stale} OR {any_none})",
    ]
    return f"SELECT {', '.join(counts)} FROM (SELECT {', '.join(flags)} FROM {entities} e {' '.join(joins)})"


# -- correctness --------------------------------------------------------------------------------


@dataclass
class Check:
    rows: int
    dropped: int
    duplicated: int
    out_of_order: bool
    compared_rows: int
    mismatched_rows: int
    mismatched_cells: int
    sample_dropped: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _missing_and_values(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    return missing, np.where(missing, 0.0, values)


def check_result(table: pa.Table, entities_rows: int, sample_ids: np.ndarray, reference: pa.Table) -> Check:
    """Row accounting over the whole result, values on the sampled row ids against ``reference``."""
    ids = table.column("row_id").to_numpy()
    uniq, first = np.unique(ids, return_index=True)
    in_order = len(ids) == entities_rows and bool(np.array_equal(ids, np.arange(entities_rows)))
    pos = np.minimum(np.searchsorted(uniq, sample_ids), max(len(uniq) - 1, 0))
    present = (uniq[pos] == sample_ids) if len(uniq) else np.zeros(len(sample_ids), dtype=bool)
    sub = table.take(pa.array(first[pos[present]]))
    ref = reference.filter(pa.array(present))
    bad_rows = np.zeros(int(present.sum()), dtype=bool)
    bad_cells = 0
    for f in ALL_FEATURES:
        m1, v1 = _missing_and_values(sub.column(f))
        m2, v2 = _missing_and_values(ref.column(f))
        bad = (m1 != m2) | (np.abs(v1 - v2) > TOLERANCE)
        bad_cells += int(bad.sum())
        bad_rows |= bad
    return Check(
        rows=len(ids),
        dropped=entities_rows - len(uniq),
        duplicated=len(ids) - len(uniq),
        out_of_order=not in_order,
        compared_rows=int(present.sum()),
        mismatched_rows=int(bad_rows.sum()),
        mismatched_cells=bad_cells,
        sample_dropped=int((~present).sum()),
    )


def full_compare(a: pa.Table, b: pa.Table) -> int:
    """Cells that differ between two results of the same rows in the same order."""
    bad = 0
    for f in ALL_FEATURES:
        m1, v1 = _missing_and_values(a.column(f))
        m2, v2 = _missing_and_values(b.column(f))
        bad += int(((m1 != m2) | (np.abs(v1 - v2) > TOLERANCE)).sum())
    return bad


# -- Raise and the anchor -----------------------------------------------------------------------


def run_raise(home: Path, groups: list[pa.Table], entities: pa.Table, sample_ids: np.ndarray) -> dict[str, Any]:
    fs = FeatureStore(PROJECT, home=home)
    writes = []
    tables = []
    for i in range(GROUPS):
        g = fs.create_feature_group(group_name(i), entity_keys=["user_id"], event_time="event_time", ttl=f"{TTL_DAYS}d")
        g.create_features([{"name": f, "dtype": "float64"} for f in feature_names(i)])
        data = groups[i]
        ns = time_call(lambda g=g, data=data: g.write(data))
        writes.append(
            {"group": g.name, "rows": data.num_rows, "seconds": ns / 1e9, "rows_per_s": data.num_rows / (ns / 1e9)}
        )
        tables.append(g.physical_table)
        print(f"  wrote {g.name}: {data.num_rows:,} rows in {ns / 1e9:.2f} s", flush=True)
    groups.clear()  # the generated tables are no longer needed (Feast reads its parquet copies)

    features = [f"{group_name(i)}.{f}" for i in range(GROUPS) for f in feature_names(i)]
    cur = fs._backend.store.cursor()  # the connection Raise itself uses
    cur.register("bench_entities", entities)
    sql = anchor_sql(tables, "bench_entities")
    out: dict[str, pa.Table] = {}

    def raise_run() -> None:
        out["raise"] = fs.get_training_data(entities, features=features).to_arrow()

    def anchor_run() -> None:
        out["anchor"] = cur.sql(sql).to_arrow_table()

    raise_ns, anchor_ns = time_calls([raise_run, anchor_run], RUNS, WARMUP)
    coverage = cur.sql(coverage_sql(tables, "bench_entities")).fetchall()[0]
    cur.unregister("bench_entities")

    result, anchor = out["raise"], out["anchor"]
    expected_cols = ["row_id", "user_id", "event_time", *ALL_FEATURES]
    if result.column_names != expected_cols:
        raise RuntimeError(f"Raise returned columns {result.column_names}, expected {expected_cols}")
    idx = pa.array(sample_ids)
    raise_sample = result.select(["row_id", *ALL_FEATURES]).take(idx)
    raise_check = check_result(result, entities.num_rows, sample_ids, raise_sample)
    if (
        raise_check.rows != entities.num_rows
        or raise_check.dropped
        or raise_check.duplicated
        or raise_check.out_of_order
    ):
        raise SystemExit(
            f"FAIL: Raise returned {raise_check.rows:,} rows for {entities.num_rows:,} entity rows "
            f"(dropped {raise_check.dropped:,}, duplicated {raise_check.duplicated:,}, "
            f"out of order: {raise_check.out_of_order})"
        )
    anchor_check = check_result(anchor, entities.num_rows, sample_ids, raise_sample)
    anchor_full = full_compare(result, anchor) if anchor.num_rows == result.num_rows else -1
    n = entities.num_rows
    cov = {
        **{f"g{i}_no_earlier_row": int(coverage[2 * i]) for i in range(GROUPS)},
        **{f"g{i}_only_older_than_ttl": int(coverage[2 * i + 1]) for i in range(GROUPS)},
        "any_group_only_older_than_ttl": int(coverage[2 * GROUPS]),
        "any_group_no_earlier_row": int(coverage[2 * GROUPS + 1]),
        "any_group_without_value": int(coverage[2 * GROUPS + 2]),
        "entity_rows": n,
    }
    # What a training set looks like: share of NULL feature values.
    nulls = sum(result.column(f).null_count for f in ALL_FEATURES) / (n * len(ALL_FEATURES))
    Engine.close_all()
    return {
        "writes": writes,
        "raise_s": [t / 1e9 for t in raise_ns],
        "anchor_s": [t / 1e9 for t in anchor_ns],
        "raise_check": raise_check,
        "anchor_check": anchor_check,
        "anchor_full_mismatched_cells": anchor_full,
        "coverage": cov,
        "null_share": nulls,
        "raise_sample": raise_sample,
        "db_bytes": (home / "features.duckdb").stat().st_size,
    }


# -- Feast --------------------------------------------------------------------------------------

FEAST_RUNNER = textwrap.dedent(
    '''
    """Run Feast's get_historical_features over a generated repo; written and started by bench/pit_join.py."""
    import importlib.util, json, statistics, sys, time, warnings
    from pathlib import Path

    warnings.filterwarnings("ignore")
    import feast
    import pandas as pd
    from feast import FeatureStore

    repo, entities_path, out_path = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    runs, warmup = int(sys.argv[4]), int(sys.argv[5])
    spec = importlib.util.spec_from_file_location("bench_definitions", repo / "definitions.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    store = FeatureStore(repo_path=str(repo))
    store.apply([mod.user, *mod.views])
    entity_df = pd.read_parquet(entities_path)

    def run():
        return store.get_historical_features(entity_df=entity_df, features=mod.FEATURE_REFS).to_df()

    for _ in range(warmup):
        df = run()
        del df
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        df = run()
        times.append(time.perf_counter() - start)
        if _ < runs - 1:
            del df
    df[["row_id", *mod.FEATURES]].to_parquet(out_path, index=False)
    info = {"times_s": times, "median_s": statistics.median(times), "feast": feast.__version__,
            "pandas": pd.__version__, "rows": len(df)}
    try:
        import duckdb
        info["duckdb"] = duckdb.__version__
    except ImportError:
        pass
    Path(out_path + ".json").write_text(json.dumps(info))
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
        views, FEATURE_REFS, FEATURES = [], [], []
        for i in range(GROUPS):
            names = [f"g{{i}}_f{{j}}" for j in range(PER_GROUP)]
            source = FileSource(name=f"g{{i}}_source", path=f"{{DATA}}/g{{i}}.parquet", timestamp_field="event_time")
            views.append(
                FeatureView(
                    name=f"g{{i}}",
                    entities=[user],
                    ttl=timedelta(days={TTL_DAYS}),
                    schema=[Field(name="user_id", dtype=Int64), *[Field(name=n, dtype=Float64) for n in names]],
                    source=source,
                    online=False,
                )
            )
            FEATURE_REFS += [f"g{{i}}:{{n}}" for n in names]
            FEATURES += names
        """
    ).lstrip()


def feast_yaml(store: str, repo: Path) -> str:
    return (
        "project: pitbench\n"
        f"registry: {repo / 'registry.db'}\n"
        "provider: local\n"
        f"online_store:\n  type: sqlite\n  path: {repo / 'online.db'}\n"
        f"offline_store:\n  type: {store}\n"
        "entity_key_serialization_version: 3\n"
    )


def ensure_feast_venv() -> tuple[Path, str]:
    """The Feast venv's python and the Feast version installed there (created on first use)."""
    python = FEAST_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {FEAST_VENV} and installing {FEAST_SPEC} (about 1–2 minutes)", flush=True)
        subprocess.run([shutil.which("python3") or sys.executable, "-m", "venv", str(FEAST_VENV)], check=True)
        pip = [str(FEAST_VENV / "bin" / "pip"), "install", "--quiet"]
        if subprocess.run([*pip, FEAST_SPEC]).returncode != 0:
            print(f"{FEAST_SPEC} is not available; installing the newest {FEAST_FALLBACK_SPEC}", flush=True)
            subprocess.run([*pip, FEAST_FALLBACK_SPEC], check=True)
    version = subprocess.run(
        [str(python), "-c", "import feast; print(feast.__version__)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return python, version


def write_feast_inputs(work: Path, groups: list[pa.Table], entities: pa.Table) -> Path:
    data = work / "data"
    data.mkdir(parents=True)
    for i, table in enumerate(groups):
        pq.write_table(table, data / f"g{i}.parquet", coerce_timestamps="us", allow_truncated_timestamps=True)
    feast_entities = entities.rename_columns(["row_id", "user_id", "event_timestamp"])
    pq.write_table(feast_entities, data / "entities.parquet", coerce_timestamps="us", allow_truncated_timestamps=True)
    (work / "run_feast.py").write_text(FEAST_RUNNER)
    for store in ("file", "duckdb"):
        repo = work / f"repo_{store}"
        repo.mkdir()
        (repo / "feature_store.yaml").write_text(feast_yaml(store, repo))
        (repo / "definitions.py").write_text(feast_definitions(data))
    return data


def run_feast(python: Path, work: Path, store: str, timeout_s: int) -> dict[str, Any]:
    out = work / f"result_{store}.parquet"
    log = work / f"feast_{store}.log"
    env = {**os.environ, "FEAST_USAGE": "False", "PYTHONWARNINGS": "ignore"}
    env.pop("VIRTUAL_ENV", None)
    cmd = [
        str(python),
        str(work / "run_feast.py"),
        str(work / f"repo_{store}"),
        str(work / "data" / "entities.parquet"),
        str(out),
        str(RUNS),
        str(WARMUP),
    ]
    start = time.perf_counter()
    with log.open("w") as fh:
        try:
            proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, timeout=timeout_s, cwd=work)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout_s} s"}
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        tail = log.read_text()[-3000:]
        return {"error": f"exit status {proc.returncode}", "log_tail": tail}
    info: dict[str, Any] = json.loads(Path(str(out) + ".json").read_text())
    info["process_wall_s"] = wall
    info["result_path"] = str(out)
    return info


# -- report -------------------------------------------------------------------------------------


def _s(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}" if v < 100 else f"{v:.0f}"


def _n(v: int | None) -> str:
    return "—" if v is None else f"{v:,}"


def format_table(rows: list[dict[str, Any]]) -> str:
    header = (
        "engine",
        "median s",
        "runs (s)",
        "÷ Raise",
        "rows returned",
        "dropped",
        "duplicated",
        "sample compared",
        "mismatched rows",
    )
    body = []
    for r in rows:
        if r.get("error"):
            body.append((r["engine"], "—", r["error"], "—", "—", "—", "—", "—", "—"))
            continue
        c: Check = r["check"]
        body.append(
            (
                r["engine"],
                _s(r["median_s"]),
                " / ".join(f"{t:.2f}" for t in r["runs_s"]),
                f"{r['vs_raise']:.2f}×",
                _n(c.rows),
                _n(c.dropped),
                _n(c.duplicated),
                _n(c.compared_rows),
                _n(c.mismatched_rows),
            )
        )
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(len(header))]

    def fmt(line: Sequence[str]) -> str:
        cells = [c.ljust(w) if i in (0, 2) else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))]
        return "| " + " | ".join(cells) + " |"

    rule = "|" + "|".join(("-" * (w + 2)) if i in (0, 2) else ("-" * (w + 1) + ":") for i, w in enumerate(widths)) + "|"
    return "\n".join([fmt(header), rule, *(fmt(line) for line in body)])


def run_scale(scale: str, args: argparse.Namespace, feast_python: Path | None) -> dict[str, Any]:
    rows, keys, entity_rows = SCALES[scale]
    print(
        f"\n== {scale}: {GROUPS} groups × {rows:,} rows × {FEATURES_PER_GROUP} float64 features, {keys:,} keys, "
        f"{entity_rows:,} entity rows, TTL {TTL_DAYS} days",
        flush=True,
    )
    t = time.perf_counter()
    groups = [generate_group(i, rows, keys, args.seed) for i in range(GROUPS)]
    entities = generate_entities(entity_rows, keys, args.seed)
    sample_ids = np.sort(
        np.random.default_rng([args.seed, 2_000]).choice(entity_rows, min(SAMPLE, entity_rows), replace=False)
    )
    print(f"  generated in {time.perf_counter() - t:.1f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix=f"raise_pit_{scale}_", dir=args.tmp) as tmp_name:
        tmp = Path(tmp_name)
        if feast_python is not None:
            t = time.perf_counter()
            write_feast_inputs(tmp / "feast", groups, entities)
            print(f"  wrote Feast's parquet inputs in {time.perf_counter() - t:.1f} s", flush=True)
        r = run_raise(tmp / "raise_home", groups, entities, sample_ids)
        del groups
        raise_med = statistics.median(r["raise_s"])
        anchor_med = statistics.median(r["anchor_s"])
        table_rows: list[dict[str, Any]] = [
            {
                "engine": "Raise get_training_data",
                "median_s": raise_med,
                "runs_s": r["raise_s"],
                "vs_raise": 1.0,
                "check": r["raise_check"],
            },
            {
                "engine": "anchor: hand-written ASOF (DuckDB)",
                "median_s": anchor_med,
                "runs_s": r["anchor_s"],
                "vs_raise": anchor_med / raise_med,
                "check": r["anchor_check"],
            },
        ]
        feast_info: dict[str, Any] = {}
        if feast_python is not None:
            for store in ("duckdb", "file"):
                print(f"  Feast {store} offline store ...", flush=True)
                info = run_feast(feast_python, tmp / "feast", store, args.feast_timeout)
                feast_info[store] = {k: v for k, v in info.items() if k != "result_path"}
                engine = f"Feast {store} offline store"
                if "error" in info:
                    print(f"  Feast {store} failed: {info['error']}\n{info.get('log_tail', '')}", flush=True)
                    table_rows.append({"engine": engine, "error": info["error"]})
                    continue
                result = pq.read_table(info["result_path"])
                check = check_result(result, entity_rows, sample_ids, r["raise_sample"])
                del result
                table_rows.append(
                    {
                        "engine": engine,
                        "key": f"feast-{store}",
                        "median_s": info["median_s"],
                        "runs_s": info["times_s"],
                        "vs_raise": info["median_s"] / raise_med,
                        "check": check,
                    }
                )
    verdicts = [
        (
            f"Raise / anchor = {raise_med / anchor_med:.2f}× (goal ≤ {ANCHOR_GOAL}×): "
            + ("meets" if raise_med / anchor_med <= ANCHOR_GOAL else "MISSES")
        )
    ]
    for row in table_rows:
        goal = FEAST_GOALS.get(row.get("key", ""))
        if goal is not None:
            verdicts.append(
                f"{row['engine']} / Raise = {row['vs_raise']:.2f}× (goal ≥ {goal}×): "
                + ("meets" if row["vs_raise"] >= goal else "MISSES")
            )
    return {
        "scale": scale,
        "rows_per_group": rows,
        "keys": keys,
        "entity_rows": entity_rows,
        "writes": r["writes"],
        "db_bytes": r["db_bytes"],
        "coverage": r["coverage"],
        "null_share": r["null_share"],
        "anchor_full_mismatched_cells": r["anchor_full_mismatched_cells"],
        "engines": [
            {
                **{k: v for k, v in row.items() if k != "check"},
                "check": row["check"].to_dict() if "check" in row else None,
            }
            for row in table_rows
        ],
        "feast": feast_info,
        "verdicts": verdicts,
        "table": format_table(table_rows),
    }


def print_scale(res: dict[str, Any]) -> None:
    print(
        f"\n### {res['scale']}: {GROUPS} groups × {res['rows_per_group']:,} rows, {res['keys']:,} keys, "
        f"{res['entity_rows']:,} entity rows\n"
    )
    writes = res["writes"]
    total_rows = sum(w["rows"] for w in writes)
    total_s = sum(w["seconds"] for w in writes)
    print(
        "writes (group.write(pyarrow_table), append into an empty group): "
        + ", ".join(f"{w['group']} {w['seconds']:.2f} s" for w in writes)
        + f"; {total_rows:,} rows in {total_s:.2f} s = {total_rows / total_s:,.0f} rows/s; "
        f"features.duckdb {res['db_bytes'] / 2**20:,.0f} MiB"
    )
    cov = res["coverage"]
    n = cov["entity_rows"]
    print(
        "entity rows per group with no earlier row / only rows older than the TTL: "
        + ", ".join(
            f"g{i} {cov[f'g{i}_no_earlier_row'] / n:.1%} / {cov[f'g{i}_only_older_than_ttl'] / n:.1%}"
            for i in range(GROUPS)
        )
        + f"; in at least one group: {cov['any_group_no_earlier_row'] / n:.1%} / "
        f"{cov['any_group_only_older_than_ttl'] / n:.1%}"
        f"; entity rows lacking a value in at least one group: {cov['any_group_without_value']:,} "
        f"({cov['any_group_without_value'] / n:.1%}); NULL feature values: {res['null_share']:.1%}"
    )
    print(
        f"Raise vs anchor on every row: {res['anchor_full_mismatched_cells']:,} differing cells "
        f"(-1: different row counts)\n"
    )
    print(res["table"])
    print()
    for v in res["verdicts"]:
        print(v)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scale", default="both", choices=[*SCALES, "both"], help="both = small, then large")
    parser.add_argument("--json", type=Path, help="write the numbers to this file")
    parser.add_argument("--skip-feast", action="store_true", help="Raise and the anchor only")
    parser.add_argument("--feast-timeout", type=int, default=FEAST_TIMEOUT_S, help="seconds per Feast store")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tmp", default=None, help="directory for the temporary stores (default: the system's)")
    args = parser.parse_args(argv)
    scales = ["small", "large"] if args.scale == "both" else [args.scale]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # temporary directories are still removed
    os.environ.setdefault("RAISE_USER", "bench@raise")
    os.environ.setdefault("TQDM_DISABLE", "1")

    feast_python, feast_version = (None, None) if args.skip_feast else ensure_feast_venv()
    machine = machine_info(
        duckdb=duckdb.__version__,
        pyarrow=pa.__version__,
        numpy=np.__version__,
        raise_=raise_.__version__,
        feast=feast_version,
    )
    print("Raise point-in-time training-set benchmark")
    print(machine_line(machine))
    print(
        f"python {machine['python']}, duckdb {machine['duckdb']}, pyarrow {machine['pyarrow']}, "
        f"numpy {machine['numpy']}, "
        f"raise {machine['raise_']}, feast {feast_version or 'skipped'} (own venv {FEAST_VENV.name})"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"times: median of {RUNS} runs after {WARMUP} warm-up; ÷ Raise = engine time / Raise time")

    results = []
    for scale in scales:
        res = run_scale(scale, args, feast_python)
        print_scale(res)
        results.append(res)
        if args.json:  # after each scale, so a long run keeps what it has
            args.json.write_text(json.dumps({"machine": machine, "scales": results}, indent=2, default=str) + "\n")
    if args.json:
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
