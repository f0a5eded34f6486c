"""Transformation jobs (issue 20): a full daily aggregation against the same query hand-written in
DuckDB and written with ``group.write``, an incremental run after 1% new events, and the fixed
cost of a run that has nothing to do, with the subprocess and the thread launcher.

A script, not a test: it prints one table per part and optionally writes the numbers as JSON.

    .venv/bin/python bench/jobs.py                     # 10M events
    .venv/bin/python bench/jobs.py --rows 200000       # quick smoke run
    .venv/bin/python bench/jobs.py --json out.json

Data: a fresh temporary store (``FeatureStore("bench/jobs/p", home=<tmp>)``, SQLite catalog in
the same directory, an embedded store) and, next to it, a folder ``events/`` of ``--files``
Parquet files (numpy, fixed seed): ``user_id`` int64 (``--users`` users, uniform),
``event_time`` timestamp[us, UTC] (file *i* covers its share of ``--days`` days, uniform within),
``revenue`` float64 (gamma(2, 10), rounded to cents). Every target is a group keyed by
``user_id`` with event time ``event_time`` and features ``daily_clicks`` (int64) and
``daily_revenue`` (float64), empty when its job first runs.

The job (the README's *SQL Transform*, without the ``WHERE`` since the engine filters
incremental sources itself)::

    SQLTransform(sql="SELECT user_id, DATE(event_time) AS date, COUNT(*) AS clicks,
                             SUM(revenue) AS revenue FROM source GROUP BY 1, 2")
    Target(feature_group=..., features={"clicks": "daily_clicks", "revenue": "daily_revenue"},
           write_mode="upsert", key_columns=["user_id", "date"])

1. **Full daily aggregation** (``IncrementalConfig.full()``): ``job.run()`` wall time, with the
   default subprocess launcher and with ``launcher="thread"``, each into a fresh group, split into
   phases that add up to it (see :func:`run_job`: the run's stage timings ``read``,
   ``transform``, ``quality``, ``write`` and, between them, the clock times the engine records).
   Anchor, in the same round: the same query hand-written in DuckDB over
   ``read_parquet('events/*.parquet')`` (``.arrow()``, ``TimeZone`` UTC as in the job's sandbox),
   its columns renamed to the features and ``date`` cast to the group's event time as the job
   does, then ``group.write(table, mode="upsert")`` into a third fresh group. Aim: job ÷ anchor
   ≤ 1.2×. ``--rounds`` rounds (fresh groups each, the order rotating); medians.
2. **Incremental after 1% new events**: a job with ``IncrementalConfig.incremental("event_time")``
   runs over the N events (subprocess launcher), then, ``--incremental-rounds`` times per
   launcher (alternating, ``job.update(launcher=...)`` between runs), a new file of N/100 events,
   all on a new day after the last (so every daily aggregate stays right), is added and the job
   runs again; each run must read exactly the new rows. Incremental ÷ first run (subprocess) and ÷
   part 1's full job with the same launcher; medians. Aim ≤ 0.1×.
3. **Fixed cost of an empty run**: the incremental job of part 2 right after its run (no new
   rows: nothing to transform, nothing written), ``--empty-runs`` ``job.run()`` calls per
   launcher, interleaved, after one warm-up each; median and p90 of the wall time, median of each
   phase. Aim < 200 ms.

Every target group is checked against the hand-written DuckDB result (same (user, day) rows, the
same click counts, revenue sums within 1e-9 relative): a wrong result stops the script.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from _machine import bytecode_line, machine_info, machine_line
from _timing import percentile, table_lines
from tqdm.auto import tqdm

import raise_
from raise_ import FeatureStore, FileSystem, IncrementalConfig, SQLTransform, Target
from raise_.engine import Engine
from raise_.service import DataService

PROJECT = "bench/jobs/p"
DAY_US = 86_400 * 1_000_000
T0_US = int(np.datetime64("2026-03-01T00:00:00", "us").astype(np.int64))
TS = pa.timestamp("us", tz="UTC")

SQL = "SELECT user_id, DATE(event_time) AS date, COUNT(*) AS clicks, SUM(revenue) AS revenue FROM source GROUP BY 1, 2"
FEATURES = {"clicks": "daily_clicks", "revenue": "daily_revenue"}

AIM_FULL_RATIO = 1.2  # job ÷ hand-written DuckDB + group.write
AIM_INCREMENTAL_RATIO = 0.1  # incremental run after 1% ÷ the full run
AIM_EMPTY_MS = 200.0  # one run with nothing to do
PHASES = ("trigger", "start", "setup", "read", "transform", "quality", "finish", "write", "wait")


# -- data -----------------------------------------------------------------------------------------


def events(rng: np.random.Generator, n: int, users: int, t_lo_us: int, t_hi_us: int) -> pa.Table:
    return pa.table(
        {
            "user_id": rng.integers(0, users, n, dtype=np.int64),
            "event_time": pa.array(rng.integers(t_lo_us, t_hi_us, n, dtype=np.int64), type=TS),
            "revenue": np.round(rng.gamma(2.0, 10.0, n), 2),
        }
    )


def write_events(folder: Path, rows: int, files: int, users: int, days: int, seed: int) -> None:
    """``rows`` events in ``files`` files, file ``i`` covering the ``i``-th share of ``days`` days."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    span = days * DAY_US
    with tqdm(total=rows, desc="events", unit="rows", unit_scale=True, file=sys.stderr) as bar:
        for i in range(files):
            n = rows // files + (1 if i < rows % files else 0)
            lo, hi = T0_US + span * i // files, T0_US + span * (i + 1) // files
            pq.write_table(events(rng, n, users, lo, hi), folder / f"part-{i:04d}.parquet")
            bar.update(n)


def write_new_day(folder: Path, rows: int, users: int, days: int, seed: int, index: int) -> None:
    """``rows`` events, all on the day after the ``days`` days: every (user, day) they touch is new."""
    rng = np.random.default_rng(seed)
    lo = T0_US + days * DAY_US
    with tqdm(total=rows, desc="new events", unit="rows", unit_scale=True, file=sys.stderr) as bar:
        pq.write_table(events(rng, rows, users, lo, lo + DAY_US), folder / f"part-{index:04d}.parquet")
        bar.update(rows)


# -- the store ------------------------------------------------------------------------------------


def daily_group(fs: FeatureStore, name: str) -> Any:
    group = fs.create_feature_group(name, entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"daily_clicks": "int64", "daily_revenue": "float64"})
    return group


def daily_job(fs: FeatureStore, name: str, folder: Path, group: str, launcher: str, incremental: Any) -> Any:
    return fs.create_job(
        name=name,
        sources=[FileSystem(path=str(folder), format="parquet", name="events")],
        transform=SQLTransform(name="daily", sql=SQL),
        target=Target(feature_group=group, features=FEATURES, write_mode="upsert", key_columns=["user_id", "date"]),
        incremental=incremental,
        launcher=launcher,
    )


def epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()


def run_job(svc: DataService, job: Any) -> dict[str, Any]:
    """``job.run()`` (it must succeed): wall time, stages and the phases between them.

    The phases come from the clock times the engine records (the job run's, and those of its
    compute run in the runs core) and the stage timings; they add up to the wall time:
    ``trigger`` (the call to the compute run's creation: the trigger's transaction, the driver
    thread, the checkpoint's reconciliation), ``start`` (the compute run created to started: the
    child process's start, its imports and catalog; ~0 in a thread), ``setup`` (the compute run
    less its stages: the handler's import, the sandbox), ``read``, ``transform``, ``quality``,
    ``finish`` (the compute run's end to the job run's end, less ``write``: the child's exit, the
    owner noticing, reading the output, the catalog), ``write``, ``wait`` (the job run's end to
    ``run()`` returning: the client polls).
    """
    called = time.time()
    run = job.run()
    returned = time.time()
    if run.status != "succeeded":
        raise SystemExit(f"job {job.name}: run {run.status}: {run.error_code}: {run.error}\n{run.log[-3000:]}")
    compute = svc.runs.get(run.compute_run_id, mine=False)
    timings = {k: float(v) for k, v in run.timings.items()}
    stages = sum(timings.get(k, 0.0) for k in ("read", "transform", "quality"))
    phases = {
        "trigger": epoch(compute.created_at) - called - timings.get("stage_inputs", 0.0),
        "start": epoch(compute.started_at) - epoch(compute.created_at),
        "setup": epoch(compute.ended_at) - epoch(compute.started_at) - stages,
        "read": timings.get("read", 0.0),
        "transform": timings.get("transform", 0.0),
        "quality": timings.get("quality", 0.0),
        "finish": epoch(run.completed_at) - epoch(compute.ended_at) - timings.get("write", 0.0),
        "write": timings.get("write", 0.0),
        "wait": returned - epoch(run.completed_at),
    }
    return {
        "wall_s": returned - called,
        "phases_s": phases,
        "timings_s": timings,
        "rows_read": run.rows_read,
        "rows_written": run.rows_written,
    }


# -- the anchor: the same query by hand ------------------------------------------------------------


def reference(folder: Path) -> pa.Table:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # as the job's sandbox: a day is a UTC day
    try:
        out = con.sql(SQL.replace("FROM source", f"FROM read_parquet('{folder}/*.parquet')")).arrow()
        return out.read_all() if isinstance(out, pa.RecordBatchReader) else out  # a reader in some DuckDBs
    finally:
        con.close()


def as_group_rows(table: pa.Table) -> pa.Table:
    """The DuckDB result as the job hands it to the group: features named, ``date`` the event time
    (midnight UTC)."""
    table = table.rename_columns(["user_id", "event_time", *FEATURES.values()])
    day = table.column("event_time").cast(pa.timestamp("s")).cast(TS)
    return table.set_column(1, "event_time", day)


def anchor(fs: FeatureStore, folder: Path, name: str) -> tuple[dict[str, Any], Any]:
    group = daily_group(fs, name)
    t0 = time.perf_counter()
    table = reference(folder)
    t1 = time.perf_counter()
    rows = as_group_rows(table)
    t2 = time.perf_counter()
    result = group.write(rows, mode="upsert")
    t3 = time.perf_counter()
    return {
        "wall_s": t3 - t0,
        "query_s": t1 - t0,
        "rename_cast_s": t2 - t1,
        "write_s": t3 - t2,
        "rows_written": result.rows_written,
    }, group


# -- checks ---------------------------------------------------------------------------------------


def check_group(label: str, group: Any, want: pa.Table) -> dict[str, Any]:
    """The group's rows (every version: history) against the hand-written result."""
    got = group.read(history=True).to_arrow()
    want_rows = as_group_rows(want)
    con = duckdb.connect()
    con.register("got", got)
    con.register("want", want_rows)
    missing, extra, clicks_off, worst_rel, got_n, got_clicks = con.execute(
        """
        SELECT count(*) FILTER (WHERE g.user_id IS NULL),
               count(*) FILTER (WHERE w.user_id IS NULL),
               count(*) FILTER (WHERE g.daily_clicks IS DISTINCT FROM w.daily_clicks),
               coalesce(max(abs(g.daily_revenue - w.daily_revenue) / greatest(abs(w.daily_revenue), 1e-9)), 0),
               count(g.user_id), coalesce(sum(g.daily_clicks), 0)
        FROM got g FULL OUTER JOIN want w ON g.user_id = w.user_id AND g.event_time = w.event_time
        """
    ).fetchone()
    con.close()
    ok = missing == 0 and extra == 0 and clicks_off == 0 and worst_rel <= 1e-9 and got_n == want.num_rows
    verdict = {
        "ok": ok,
        "rows": got_n,
        "expected_rows": want.num_rows,
        "clicks": got_clicks,
        "missing": missing,
        "extra": extra,
        "clicks_differ": clicks_off,
        "worst_revenue_rel_diff": worst_rel,
    }
    if not ok:
        raise SystemExit(f"{label}: the group differs from the hand-written DuckDB result: {verdict}")
    return verdict


# -- printing -------------------------------------------------------------------------------------


def sec(x: float) -> str:
    return f"{x:.2f}"


def msec(x: float) -> str:
    return f"{x * 1e3:.0f}"


def median_entry(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over the entries (rows from the last)."""
    return {
        "n": len(entries),
        "wall_s": statistics.median(e["wall_s"] for e in entries),
        "phases_s": {k: statistics.median(e["phases_s"][k] for e in entries) for k in PHASES},
        "rows_read": entries[-1]["rows_read"],
        "rows_written": entries[-1]["rows_written"],
    }


def phase_line(entry: dict[str, Any], fmt: Any = sec) -> list[str]:
    return [fmt(entry["phases_s"][k]) for k in PHASES]


def progress(label: str, entry: dict[str, Any]) -> None:
    phases = ", ".join(f"{k} {v:.2f}" for k, v in entry["phases_s"].items())
    print(f"  {label}: {entry['wall_s']:.2f} s ({phases})", flush=True)


# -- part 1 ---------------------------------------------------------------------------------------


def bench_full(svc: DataService, fs: FeatureStore, folder: Path, want: pa.Table, rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {"anchor": [], "subprocess": [], "thread": [], "checks": {}}
    cases = ["anchor", "subprocess", "thread"]
    for r in range(rounds):
        for case in cases[r % 3 :] + cases[: r % 3]:
            name = f"daily_{case}_{r}"
            if case == "anchor":
                entry, group = anchor(fs, folder, name)
                print(
                    f"  round {r + 1}: anchor {entry['wall_s']:.2f} s (query {entry['query_s']:.2f}, "
                    f"rename and cast {entry['rename_cast_s']:.2f}, write {entry['write_s']:.2f})",
                    flush=True,
                )
            else:
                group = daily_group(fs, name)
                job = daily_job(fs, f"full_{case}_{r}", folder, name, case, IncrementalConfig.full())
                entry = run_job(svc, job)
                progress(f"round {r + 1}: job ({case})", entry)
            out[case].append(entry)
            out["checks"][name] = check_group(name, group, want)
    for case in ("subprocess", "thread"):
        out[f"{case}_median"] = median_entry(out[case])
    out["anchor_median"] = {
        k: statistics.median(e[k] for e in out["anchor"]) for k in ("wall_s", "query_s", "rename_cast_s", "write_s")
    }
    base = out["anchor_median"]["wall_s"]
    out["ratio_subprocess"] = out["subprocess_median"]["wall_s"] / base
    out["ratio_thread"] = out["thread_median"]["wall_s"] / base
    return out


def print_full(r: dict[str, Any], n_rows: int) -> list[str]:
    a = r["anchor_median"]
    rows = []
    for case in ("subprocess", "thread"):
        e = r[f"{case}_median"]
        ratio = r[f"ratio_{case}"]
        verdict = "met" if ratio <= AIM_FULL_RATIO else "NOT met"
        rows.append([f"job.run(), launcher={case}", sec(e["wall_s"]), *phase_line(e), f"{ratio:.2f}× ({verdict})"])
    rows.append(["anchor: DuckDB query + group.write", sec(a["wall_s"]), *["—"] * len(PHASES), "1.00×"])
    header = ["full daily aggregation (s)", "wall", *PHASES, f"÷ anchor (aim ≤ {AIM_FULL_RATIO}×)"]
    lines = table_lines(header, rows)
    e = r["subprocess_median"]
    lines += [
        "",
        f"anchor: DuckDB query {a['query_s']:.2f} s + rename and cast {a['rename_cast_s']:.2f} s + "
        f"group.write(upsert) {a['write_s']:.2f} s = {a['wall_s']:.2f} s",
        f"job (thread) ÷ anchor, by part: transform ÷ query "
        f"{r['thread_median']['phases_s']['transform'] / a['query_s']:.2f}×, write ÷ group.write "
        f"{r['thread_median']['phases_s']['write'] / a['write_s']:.2f}×",
        f"{n_rows:,} events → {e['rows_written']:,} (user, day) rows; median of {e['n']} round(s); every group equals "
        f"the hand-written DuckDB result: {all(c['ok'] for c in r['checks'].values())}",
    ]
    return lines


# -- part 2 ---------------------------------------------------------------------------------------


def bench_incremental(
    svc: DataService, fs: FeatureStore, folder: Path, args: argparse.Namespace, full: dict[str, Any]
) -> tuple[dict[str, Any], Any]:
    group = daily_group(fs, "daily_incremental")
    config = IncrementalConfig.incremental("event_time")
    job = daily_job(fs, "incremental", folder, "daily_incremental", "subprocess", config)
    first = run_job(svc, job)
    if first["rows_read"] != args.rows:
        raise SystemExit(f"the first incremental run read {first['rows_read']:,} rows, not {args.rows:,}")
    progress(f"first run (all {args.rows:,} events, subprocess)", first)
    new_rows = max(args.rows // 100, 1)
    runs: dict[str, list[dict[str, Any]]] = {"subprocess": [], "thread": []}
    added = 0
    for r in range(args.incremental_rounds):
        for launcher in ("subprocess", "thread"):
            # A new day each time: the new events make (user, day) rows of their own.
            write_new_day(folder, new_rows, args.users, args.days + added, args.seed + 1 + added, args.files + added)
            added += 1
            job.update(launcher=launcher)
            entry = run_job(svc, job)
            progress(f"round {r + 1}: after {new_rows:,} new events ({launcher})", entry)
            if entry["rows_read"] != new_rows:
                raise SystemExit(f"the incremental run read {entry['rows_read']:,} rows, not the {new_rows:,} new ones")
            runs[launcher].append(entry)
    job.update(launcher="subprocess")
    out: dict[str, Any] = {"new_rows": new_rows, "new_days": added, "first": first, "runs": runs}
    for launcher, entries in runs.items():
        out[launcher] = median_entry(entries)
        out[f"ratio_{launcher}_full"] = out[launcher]["wall_s"] / full[f"{launcher}_median"]["wall_s"]
    out["ratio_first"] = out["subprocess"]["wall_s"] / first["wall_s"]
    out["check"] = check_group("daily_incremental", group, reference(folder))
    return out, job


def print_incremental(r: dict[str, Any], n_rows: int) -> list[str]:
    def row(label: str, e: dict[str, Any]) -> list[str]:
        return [label, sec(e["wall_s"]), *phase_line(e), f"{e['rows_read']:,}", f"{e['rows_written']:,}"]

    n = r["new_rows"]
    rows = [
        row(f"first run ({n_rows:,} events), subprocess", r["first"]),
        row(f"after {n:,} new events (1%), subprocess", r["subprocess"]),
        row(f"after {n:,} new events (1%), thread", r["thread"]),
    ]
    lines = table_lines(["incremental job (s)", "wall", *PHASES, "rows read", "rows written"], rows)
    ratio = r["ratio_first"]
    lines += [
        "",
        f"incremental ÷ first run (subprocess): {ratio:.3f}× (aim ≤ {AIM_INCREMENTAL_RATIO}×: "
        f"{'met' if ratio <= AIM_INCREMENTAL_RATIO else 'NOT met'}); ÷ part 1's full job with the same launcher: "
        f"subprocess {r['ratio_subprocess_full']:.3f}×, thread {r['ratio_thread_full']:.3f}×",
        f"incremental runs: median of {r['subprocess']['n']} per launcher, each after a new day of {n:,} events; "
        f"each read exactly the new rows; the group equals the hand-written result over every file: "
        f"{r['check']['ok']}",
    ]
    return lines


# -- part 3 ---------------------------------------------------------------------------------------


def bench_empty(svc: DataService, job: Any, calls: int) -> dict[str, Any]:
    launchers = ("subprocess", "thread")
    series: dict[str, list[dict[str, Any]]] = {k: [] for k in launchers}
    with tqdm(total=(calls + 1) * len(launchers), desc="empty runs", unit="run", file=sys.stderr) as bar:
        for i in range(calls + 1):
            for launcher in launchers:
                job.update(launcher=launcher)
                entry = run_job(svc, job)
                if entry["rows_read"] != 0 or entry["rows_written"] != 0:
                    raise SystemExit(f"an empty run read {entry['rows_read']} and wrote {entry['rows_written']} rows")
                if i > 0:  # the first of each is a warm-up
                    series[launcher].append(entry)
                bar.update()
    job.update(launcher="subprocess")
    out: dict[str, Any] = {"calls": calls}
    for launcher, entries in series.items():
        walls = [e["wall_s"] * 1e3 for e in entries]
        out[launcher] = {
            "wall_ms": {
                "median": statistics.median(walls),
                "p90": percentile(walls, 90),
                "min": min(walls),
                "max": max(walls),
            },
            "median": median_entry(entries),
            "runs": entries,
        }
    return out


def print_empty(r: dict[str, Any]) -> list[str]:
    rows = []
    for launcher in ("subprocess", "thread"):
        e = r[launcher]
        w = e["wall_ms"]
        verdict = "met" if w["p90"] < AIM_EMPTY_MS else "NOT met"
        rows.append(
            [
                f"job.run(), launcher={launcher}",
                str(r["calls"]),
                f"{w['median']:.0f}",
                f"{w['p90']:.0f}",
                f"{w['max']:.0f}",
                *phase_line(e["median"], msec),
                verdict,
            ]
        )
    header = ["empty run (nothing new; ms)", "n", "median", "p90", "max", *PHASES, f"aim < {AIM_EMPTY_MS:.0f} (p90)"]
    return [*table_lines(header, rows), "", "phases: the median of each over the runs"]


# -- main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="events in the source")
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of part 1 (fresh groups each)")
    parser.add_argument(
        "--incremental-rounds", type=int, default=3, help="incremental runs per launcher (part 2), a new day each"
    )
    parser.add_argument("--empty-runs", type=int, default=15, help="timed empty runs per launcher (part 3)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    machine = machine_info(raise_=raise_.__version__, duckdb=duckdb.__version__, pyarrow=pa.__version__)
    print(machine_line(machine))
    print(f"python {machine['python']}, duckdb {duckdb.__version__}, pyarrow {pa.__version__}, numpy {np.__version__}")
    print(bytecode_line("every run's process"))
    print(f"command: python bench/jobs.py {' '.join(sys.argv[1:])}".rstrip(), flush=True)
    os.environ.setdefault("RAISE_USER", "bench@bench")
    report: dict[str, Any] = {"machine": machine, "args": {k: str(v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["RAISE_HOME"] = str(home)
        folder = home / "events"
        start = time.perf_counter()
        write_events(folder, args.rows, args.files, args.users, args.days, args.seed)
        report["setup"] = {"write_events_s": time.perf_counter() - start}
        fs = FeatureStore(PROJECT, home=home, catalog_url=f"sqlite:///{home / 'catalog.db'}")
        svc = fs._backend
        assert isinstance(svc, DataService)
        want = reference(folder)
        clicks = pc.sum(want.column("clicks")).as_py()
        if clicks != args.rows:
            raise SystemExit(f"the reference counts {clicks:,} events, not {args.rows:,}")
        print(
            f"wrote {args.rows:,} events in {args.files} files ({report['setup']['write_events_s']:.1f} s): "
            f"{want.num_rows:,} (user, day) rows",
            flush=True,
        )

        print(f"\n1. full daily aggregation ({args.rows:,} events)", flush=True)
        report["full"] = bench_full(svc, fs, folder, want, args.rounds)
        full_lines = print_full(report["full"], args.rows)
        print("\n".join(full_lines), flush=True)

        print(f"\n2. incremental after 1% new events ({max(args.rows // 100, 1):,})", flush=True)
        report["incremental"], job = bench_incremental(svc, fs, folder, args, report["full"])
        incremental_lines = print_incremental(report["incremental"], args.rows)
        print("\n".join(incremental_lines), flush=True)

        print(f"\n3. fixed cost of an empty run ({args.empty_runs} per launcher)", flush=True)
        report["empty"] = bench_empty(svc, job, args.empty_runs)
        empty_lines = print_empty(report["empty"])
        print("\n".join(empty_lines), flush=True)
        Engine.close_all()

    print(f"\nsummary ({args.rows:,} events)\n")
    print("\n".join([*full_lines, "", *incremental_lines, "", *empty_lines]))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
