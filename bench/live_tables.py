"""Live tables (issue 18): query latency, incremental refresh against a full one, and how soon an
on-change table reflects a commit.

A script, not a test: it prints one table per part and optionally writes the numbers as JSON.

    .venv/bin/python bench/live_tables.py                     # 10M rows (about 10 minutes on 2 cores)
    .venv/bin/python bench/live_tables.py --rows 200000       # quick smoke run
    .venv/bin/python bench/live_tables.py --json out.json

Data: a fresh temporary store (``FeatureStore("bench/live/p", home=<tmp>, catalog_url=<url>)``,
SQLite catalog in the same directory unless ``--catalog-url`` names another) holds one group
``events`` (entity key ``user_id``, N/10 users) with ``user_tier`` (string, 4 values),
``segment`` (int64, 1,000 values) and ``click_count`` (int64, Poisson(3)); N rows (numpy, fixed
seed; event times uniform over 365 days) written with ``group.write(pyarrow_table)`` in chunks of
2,000,000. Every later write uses user ids never written before, so each append only adds rows.

Live tables (made through the SDK, timed; creating one is its first, full, refresh):

- ``daily_by_tier``: ``Aggregation("click_count", [count, sum, avg, min, max], window="1d",
  rolling=True, periods=30, group_by="user_tier")``, refresh ``manual``: 4 tiers × 30 days = 120 rows;
- ``by_segment``: ``Aggregation("click_count", [sum, avg], group_by="segment")``, refresh
  ``manual``: 1,000 rows;
- ``daily_on_change``: the same spec as ``daily_by_tier``, refresh ``on_change`` (made for part 3 only,
  so that it does not refresh during parts 1 and 2).

1. **Query**: ``live_table.query()`` (the whole table, as a pandas DataFrame),
   ``query(filter="user_tier = 'gold'")`` (30 rows) and the 1,000-row ``by_segment.query()``,
   ``--calls`` times each, interleaved after 10 warm-up calls; p50/p99. Anchor: ``SELECT *`` of the
   same materialized table on the store's own DuckDB connection, ``.to_pandas()`` (the floor: what
   a query costs without the catalog look-up, the permission check and the audit entry). Targets:
   PRD §21.1 < 200 ms; aim < 5 ms for the 1,000-row result.
2. **Refresh after appending 1% new rows**: ``daily_by_tier.refresh()`` after a 1% append (must
   report ``mode == "incremental"``) against ``refresh()`` after a 1% **upsert** of the same size
   (the upsert commit forces ``mode == "full"``: the whole analysis recomputed from every row),
   and ``group.analyze(spec, Freshness.REAL_TIME)``, the analysis a user would otherwise run;
   ``--refreshes`` rounds, interleaved; median and worst of the wall time of the SDK call (the
   event's own ``duration_ms`` is shown too). After the last round the live table is checked
   against ``group.analyze`` (same rows, values within 1e-9). Aim: incremental ÷ full ≤ 0.1×.
3. **Commit → refreshed** (``daily_on_change``): ``--commits`` appends of ``--commit-rows`` rows,
   each after the previous refresh finished and a pause, so they do not coalesce; the latency is
   the refresh's ``completed_at`` (its history row, polled every ``--poll-ms``) minus the moment
   ``group.write()`` returned, and minus the moment before it was called; p50/p99. Aim < 1 s.
   (The poll shares the GIL with the refresh: polling every 2 ms made each refresh about 1.5×
   slower in a trial, hence 20 ms; the time the poll saw it is shown too.)
   Then a **burst**: ``--burst`` appends as fast as possible, and how many refreshes with trigger
   ``cdc`` the follower ran for them (they must coalesce into a handful), and how long after the
   last write returned the table had consumed every commit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from _machine import machine_info, machine_line
from _timing import percentile, summarize, table_lines, time_calls

import raise_
from raise_ import Aggregation, FeatureStore, Freshness
from raise_.engine import Engine
from raise_.live.records import RefreshEventRecord
from raise_.service import DataService

PROJECT, GROUP = "bench/live/p", "events"
CHUNK_ROWS = 2_000_000
SPAN_DAYS = 365
SEGMENTS = 1_000
TIERS = ["bronze", "silver", "gold", "platinum"]
DAY_US = 86_400 * 1_000_000
T0_US = int(np.datetime64("2025-01-01T00:00:00", "us").astype(np.int64))
TS = pa.timestamp("us", tz="UTC")

DAILY = Aggregation(
    feature="click_count",
    metrics=["count", "sum", "avg", "min", "max"],
    window="1d",
    rolling=True,
    periods=30,
    group_by="user_tier",
)
BY_SEGMENT = Aggregation(feature="click_count", metrics=["sum", "avg"], group_by="segment")

PRD_QUERY_MS = 200.0  # PRD §21.1: a live table's query
AIM_QUERY_1000_MS = 5.0  # our aim for a 1,000-row result
AIM_RATIO = 0.1  # incremental refresh ÷ full refresh
AIM_LATENCY_S = 1.0  # commit → refreshed, on-change


class Rows:
    """Generates rows; every call takes user ids never used before (so appends replace nothing)."""

    def __init__(self, seed: int, users_per_row: float = 0.1) -> None:
        self.rng = np.random.default_rng(seed)
        self.next_user = 0
        self.users_per_row = users_per_row
        self.tiers = pa.array(TIERS)

    def table(self, rows: int, t_lo_us: int, t_hi_us: int) -> pa.Table:
        rng = self.rng
        users = max(int(rows * self.users_per_row), 1)
        first, self.next_user = self.next_user, self.next_user + users
        return pa.table(
            {
                "user_id": rng.integers(first, first + users, rows, dtype=np.int64),
                "event_time": pa.array(rng.integers(t_lo_us, t_hi_us, rows, dtype=np.int64), type=TS),
                "user_tier": self.tiers.take(pa.array(rng.integers(0, len(TIERS), rows))),
                "segment": rng.integers(0, SEGMENTS, rows, dtype=np.int64),
                "click_count": rng.poisson(3.0, rows).astype(np.int64),
            }
        )


def end_us() -> int:
    return T0_US + SPAN_DAYS * DAY_US


def recent(rows: Rows, n: int) -> pa.Table:
    """``n`` new rows in the last day of the data (the newest period, as live events would be)."""
    return rows.table(n, end_us() - DAY_US, end_us())


def aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def stats_ms(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def fmt(ms: float) -> str:
    return f"{ms:,.3f}" if ms < 10 else f"{ms:,.1f}"


# -- part 1: query ----------------------------------------------------------------------------------


def bench_query(svc: DataService, daily: Any, segments: Any, calls: int) -> dict[str, Any]:
    def anchor(lt: Any) -> Callable[[], pd.DataFrame]:
        relation = svc.storage.offline.materialized_relation(uuid.UUID(lt.id).hex)
        assert relation is not None
        return lambda: svc.store.query_arrow(f"SELECT * FROM {relation}").to_pandas()

    cases: dict[str, Callable[[], pd.DataFrame]] = {
        "daily_by_tier.query() (120 rows)": daily.query,
        "daily_by_tier.query(filter=\"user_tier = 'gold'\") (30 rows)": lambda: daily.query(
            filter="user_tier = 'gold'"
        ),
        "by_segment.query() (1,000 rows)": segments.query,
        "anchor: SELECT * of daily_by_tier (120 rows)": anchor(daily),
        "anchor: SELECT * of by_segment (1,000 rows)": anchor(segments),
    }
    sizes = {name: len(fn()) for name, fn in cases.items()}
    assert list(sizes.values()) == [120, 30, 1000, 120, 1000], sizes
    series = time_calls(list(cases.values()), calls, warmup=10)
    out = {}
    for (name, _), durations in zip(cases.items(), series, strict=True):
        s = summarize(durations)
        out[name] = {"rows": sizes[name], **s.to_dict()}
    return out


def print_query(result: dict[str, Any]) -> list[str]:
    anchors = {120: "anchor: SELECT * of daily_by_tier (120 rows)", 1000: "anchor: SELECT * of by_segment (1,000 rows)"}
    rows = []
    for name, s in result.items():
        anchor = anchors.get(s["rows"]) if not name.startswith("anchor") and "filter" not in name else None
        ratio = f"{s['p50'] / result[anchor]['p50']:.1f}×" if anchor else "—"
        if name.startswith("anchor"):
            verdict = "—"
        else:
            goal = f"PRD < {PRD_QUERY_MS:.0f} ms " + ("met" if s["p99"] < PRD_QUERY_MS else "NOT met")
            if s["rows"] == 1000:
                goal += f"; aim < {AIM_QUERY_1000_MS:.0f} ms " + ("met" if s["p99"] < AIM_QUERY_1000_MS else "NOT met")
            verdict = goal
        rows.append([name, str(s["n"]), fmt(s["p50"]), fmt(s["p99"]), fmt(s["max"]), ratio, verdict])
    return table_lines(["query", "n", "p50 ms", "p99 ms", "max ms", "÷ anchor (p50)", "goal (p99)"], rows)


# -- part 2: refresh --------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return (time.perf_counter() - start) * 1e3, value


def bench_refresh(
    group: Any, daily: Any, rows: Rows, n_rows: int, rounds: int, spec: Aggregation = DAILY
) -> dict[str, Any]:
    batch = max(n_rows // 100, 1)
    out: dict[str, Any] = {"batch_rows": batch, "incremental": [], "full": [], "analyze": [], "writes": {}}
    append_ms: list[float] = []
    upsert_ms: list[float] = []
    for i in range(rounds):
        w, _ = timed(lambda: group.write(recent(rows, batch)))
        append_ms.append(w)
        ms, event = timed(daily.refresh)
        check_event(event, "incremental")
        out["incremental"].append(
            {"wall_ms": ms, "duration_ms": event.duration_ms, "rows_processed": event.rows_processed}
        )
        w, _ = timed(lambda: group.write(recent(rows, batch), mode="upsert"))
        upsert_ms.append(w)
        ms, event = timed(daily.refresh)
        check_event(event, "full")
        out["full"].append({"wall_ms": ms, "duration_ms": event.duration_ms, "rows_processed": event.rows_processed})
        ms, _ = timed(lambda: group.analyze(spec, Freshness.REAL_TIME))
        out["analyze"].append({"wall_ms": ms})
        print(
            f"  round {i + 1}: incremental {out['incremental'][-1]['wall_ms']:.0f} ms, "
            f"full {out['full'][-1]['wall_ms']:.0f} ms, analyze {ms:.0f} ms",
            flush=True,
        )
    # The last refresh was full: one more append and incremental refresh, then compare with analyze.
    group.write(recent(rows, batch))
    event = daily.refresh()
    check_event(event, "incremental")
    out["writes"] = {"append_ms": statistics.median(append_ms), "upsert_ms": statistics.median(upsert_ms)}
    out["same_answer"] = same_rows(daily.query(), group.analyze(spec, Freshness.REAL_TIME).to_dataframe())
    for kind in ("incremental", "full", "analyze"):
        out[f"{kind}_summary"] = stats_ms([r["wall_ms"] for r in out[kind]])
    out["ratio_incremental_full"] = out["incremental_summary"]["median"] / out["full_summary"]["median"]
    out["ratio_incremental_analyze"] = out["incremental_summary"]["median"] / out["analyze_summary"]["median"]
    return out


def check_event(event: RefreshEventRecord, mode: str) -> None:
    if event.status != "completed" or event.mode != mode:
        raise SystemExit(
            f"refresh: expected a completed {mode} refresh, got status={event.status!r} mode={event.mode!r} "
            f"({event.error_code}: {event.error_message})"
        )


def same_rows(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        print(f"  columns or lengths differ: {list(a.columns)} {len(a)} / {list(b.columns)} {len(b)}")
        return False
    for col in a.columns:
        x, y = a[col].reset_index(drop=True), b[col].reset_index(drop=True)
        if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
            if not np.allclose(x.astype(float), y.astype(float), rtol=1e-9, atol=1e-12, equal_nan=True):
                print(f"  column {col} differs")
                return False
        elif not x.equals(y) and list(x) != list(y):
            print(f"  column {col} differs")
            return False
    return True


def print_refresh(r: dict[str, Any], n_rows: int, create_ms: float) -> list[str]:
    def row(label: str, key: str) -> list[str]:
        s = r[f"{key}_summary"]
        own = [x["duration_ms"] for x in r[key] if x.get("duration_ms") is not None]
        processed = [x["rows_processed"] for x in r[key] if x.get("rows_processed") is not None]
        return [
            label,
            str(s["n"]),
            fmt(s["median"]),
            fmt(s["max"]),
            fmt(statistics.median(own)) if own else "—",
            f"{processed[-1]:,}" if processed else "—",
        ]

    lines = table_lines(
        ["operation", "n", "median ms", "worst ms", "event duration_ms", "rows processed"],
        [
            row(f"refresh() after appending {r['batch_rows']:,} rows (incremental)", "incremental"),
            row(f"refresh() after upserting {r['batch_rows']:,} rows (full)", "full"),
            row("group.analyze(spec, Freshness.REAL_TIME)", "analyze"),
            ["create_live_table(spec) (its first refresh is full)", "1", fmt(create_ms), fmt(create_ms), "—", "—"],
        ],
    )
    ratio = r["ratio_incremental_full"]
    lines += [
        "",
        f"incremental ÷ full refresh: {ratio:.3f}× (aim ≤ {AIM_RATIO}×: {'met' if ratio <= AIM_RATIO else 'NOT met'}); "
        f"incremental ÷ analyze: {r['ratio_incremental_analyze']:.3f}×",
        f"write of {r['batch_rows']:,} rows into ~{n_rows:,}: append {r['writes']['append_ms']:.0f} ms, "
        f"upsert {r['writes']['upsert_ms']:.0f} ms (median)",
        f"live table after an incremental refresh = group.analyze: {r['same_answer']}",
    ]
    return lines


# -- part 3: commit → refreshed -------------------------------------------------------------------


def newest_event(lt: Any) -> RefreshEventRecord | None:
    events = lt.refresh_history(limit=1)
    return events[0] if events else None


def wait_for_event(lt: Any, after: datetime, poll_s: float, timeout: float = 60.0) -> tuple[RefreshEventRecord, float]:
    """The first finished refresh that started after ``after``, and when (perf_counter) it was seen."""
    deadline = time.monotonic() + timeout
    while True:
        event = newest_event(lt)
        if event is not None and aware(event.started_at) >= after and event.status != "running":
            return event, time.perf_counter()
        if time.monotonic() > deadline:
            raise SystemExit(f"no refresh of {lt.name} within {timeout:.0f} s of a commit")
        time.sleep(poll_s)


def bench_latency(
    group: Any,
    live: Any,
    rows: Rows,
    commits: int,
    commit_rows: int,
    pause: float,
    poll_s: float,
    burst: int,
    caught_up: Any,
) -> dict[str, Any]:
    from_return: list[float] = []
    from_call: list[float] = []
    seen: list[float] = []
    write_ms: list[float] = []
    durations: list[float] = []
    modes: dict[str, int] = {}
    for _ in range(commits):
        data = recent(rows, commit_rows)
        time.sleep(pause)
        called = datetime.now(UTC)
        p0 = time.perf_counter()
        group.write(data)
        p1 = time.perf_counter()
        returned = datetime.now(UTC)
        event, p2 = wait_for_event(live, called, poll_s)
        if event.status != "completed":
            raise SystemExit(f"on-change refresh failed: {event.error_code}: {event.error_message}")
        assert event.trigger == "cdc", event.trigger
        done = aware(event.completed_at or event.started_at)
        from_return.append((done - returned).total_seconds() * 1e3)
        from_call.append((done - called).total_seconds() * 1e3)
        seen.append((p2 - p1) * 1e3)
        write_ms.append((p1 - p0) * 1e3)
        durations.append(event.duration_ms or 0.0)
        modes[event.mode or "?"] = modes.get(event.mode or "?", 0) + 1
    out: dict[str, Any] = {
        "commits": commits,
        "commit_rows": commit_rows,
        "pause_s": pause,
        "poll_s": poll_s,
        "from_write_return_ms": stats_ms(from_return),
        "from_write_call_ms": stats_ms(from_call),
        "seen_by_polling_ms": stats_ms(seen),
        "write_ms": stats_ms(write_ms),
        "refresh_duration_ms": stats_ms(durations),
        "modes": modes,
    }
    # The burst: as fast as possible, then wait until the table consumed every commit.
    time.sleep(pause)
    batches = [recent(rows, commit_rows) for _ in range(burst)]
    before = datetime.now(UTC)
    p0 = time.perf_counter()
    for data in batches:
        group.write(data)
    p1 = time.perf_counter()
    caught_up()
    p2 = time.perf_counter()
    events = [e for e in live.refresh_history(limit=1000) if aware(e.started_at) >= before]
    cdc = [e for e in events if e.trigger == "cdc"]
    out["burst"] = {
        "writes": burst,
        "rows_each": commit_rows,
        "writes_s": p1 - p0,
        "writes_per_s": burst / (p1 - p0),
        "caught_up_after_last_write_ms": (p2 - p1) * 1e3,
        "refreshes_cdc": len(cdc),
        "refresh_modes": sorted({e.mode or "?" for e in cdc}),
        "failed": sum(e.status != "completed" for e in events),
    }
    return out


def print_latency(r: dict[str, Any]) -> list[str]:
    def row(label: str, s: dict[str, float], goal: bool = False) -> list[str]:
        verdict = ("met" if s["p99"] < AIM_LATENCY_S * 1e3 else "NOT met") if goal else "—"
        return [label, str(s["n"]), fmt(s["p50"]), fmt(s["p99"]), fmt(s["max"]), verdict]

    lines = table_lines(
        ["commit → refreshed (on_change)", "n", "p50 ms", "p99 ms", "max ms", f"aim < {AIM_LATENCY_S:.0f} s (p99)"],
        [
            row("from group.write() returning to completed_at", r["from_write_return_ms"], True),
            row("from before group.write() to completed_at", r["from_write_call_ms"], True),
            row("from group.write() returning to seen in the history", r["seen_by_polling_ms"]),
            row(f"group.write() of {r['commit_rows']:,} rows", r["write_ms"]),
            row("the refresh itself (event duration_ms)", r["refresh_duration_ms"]),
        ],
    )
    b = r["burst"]
    lines += [
        "",
        f"refresh modes over the {r['commits']} commits: {r['modes']} ({r['pause_s']} s pause before each write, "
        f"history polled every {r['poll_s'] * 1e3:.0f} ms)",
        f"burst: {b['writes']} writes of {b['rows_each']:,} rows in {b['writes_s']:.2f} s ({b['writes_per_s']:.1f} "
        f"writes/s) -> {b['refreshes_cdc']} refreshes with trigger 'cdc' (modes {b['refresh_modes']}, failed "
        f"{b['failed']}); every commit consumed {b['caught_up_after_last_write_ms']:.0f} ms after the last write",
    ]
    return lines


# -- main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--calls", type=int, default=200, help="query calls per case")
    parser.add_argument("--refreshes", type=int, default=3, help="rounds of incremental / full / analyze")
    parser.add_argument("--commits", type=int, default=30, help="spaced appends to the on-change table")
    parser.add_argument("--commit-rows", type=int, default=1_000)
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between spaced appends")
    parser.add_argument("--poll-ms", type=float, default=20.0, help="history polling interval (part 3)")
    parser.add_argument("--burst", type=int, default=100, help="appends as fast as possible")
    parser.add_argument("--catalog-url", help="default: SQLite in the temporary store")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    machine = machine_info(raise_=raise_.__version__, duckdb=duckdb.__version__, pyarrow=pa.__version__)
    print(machine_line(machine))
    print(f"python {machine['python']}, duckdb {duckdb.__version__}, pyarrow {pa.__version__}, numpy {np.__version__}")
    print(f"command: python bench/live_tables.py {' '.join(sys.argv[1:])}".rstrip(), flush=True)
    os.environ.setdefault("RAISE_USER", "bench@bench")
    report: dict[str, Any] = {"machine": machine, "args": {k: str(v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        url = args.catalog_url or f"sqlite:///{home / 'catalog.db'}"
        fs = FeatureStore(PROJECT, home=home, catalog_url=url)
        svc = fs._backend
        assert isinstance(svc, DataService)
        engine = next(e for e in Engine._instances.values() if e.service is svc)
        group = fs.create_feature_group(GROUP, entity_keys=["user_id"], event_time="event_time")
        group.create_features(
            [
                {"name": "user_tier", "dtype": "string"},
                {"name": "segment", "dtype": "int64"},
                {"name": "click_count", "dtype": "int64"},
            ]
        )
        rows = Rows(42)
        start = time.perf_counter()
        written = 0
        while written < args.rows:
            n = min(CHUNK_ROWS, args.rows - written)
            group.write(rows.table(n, T0_US, end_us()))
            written += n
        write_s = time.perf_counter() - start
        print(f"wrote {args.rows:,} rows in {write_s:.1f} s", flush=True)
        report["setup"] = {"rows": args.rows, "write_s": write_s}

        create_ms, daily = timed(lambda: group.create_live_table("daily_by_tier", DAILY, refresh="manual"))
        seg_ms, segments = timed(lambda: group.create_live_table("by_segment", BY_SEGMENT, refresh="manual"))
        report["create_ms"] = {"daily_by_tier": create_ms, "by_segment": seg_ms}
        print(f"created daily_by_tier in {create_ms:.0f} ms, by_segment in {seg_ms:.0f} ms", flush=True)

        print("\n1. query latency", flush=True)
        report["query"] = bench_query(svc, daily, segments, args.calls)
        query_lines = print_query(report["query"])
        print("\n".join(query_lines), flush=True)

        print(f"\n2. refresh after appending 1% ({max(args.rows // 100, 1):,} rows)", flush=True)
        report["refresh"] = bench_refresh(group, daily, rows, args.rows, args.refreshes)
        refresh_lines = print_refresh(report["refresh"], args.rows, create_ms)
        print("\n".join(refresh_lines), flush=True)
        # The same for a table whose full recompute reads every row (no window): by_segment.
        print(f"\n2b. by_segment: refresh after appending 1% ({max(args.rows // 100, 1):,} rows)", flush=True)
        segments.refresh()  # catch up with part 2's upserts (a full refresh), so the rounds start even
        report["refresh_segments"] = bench_refresh(group, segments, rows, args.rows, args.refreshes, BY_SEGMENT)
        refresh_lines += ["", "by_segment (every row in its full recompute):"]
        refresh_lines += print_refresh(report["refresh_segments"], args.rows, seg_ms)
        print("\n".join(refresh_lines[-8:]), flush=True)

        print("\n3. commit → refreshed (on_change)", flush=True)
        oc_ms, live = timed(lambda: group.create_live_table("daily_on_change", DAILY, refresh="on_change"))
        report["create_ms"]["daily_on_change"] = oc_ms
        follower = engine.follower
        assert follower is not None

        def caught_up() -> None:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                time.sleep(0.005)
                if follower.wait_idle(timeout=600) and not svc.live.behind(live.id):
                    return
            raise SystemExit("the on-change table did not catch up within 600 s")

        caught_up()
        report["latency"] = bench_latency(
            group, live, rows, args.commits, args.commit_rows, args.pause, args.poll_ms / 1e3, args.burst, caught_up
        )
        latency_lines = print_latency(report["latency"])
        print("\n".join(latency_lines), flush=True)
        Engine.close_all()

    ok = report["refresh"]["same_answer"] and report["latency"]["burst"]["failed"] == 0
    print(f"\nsummary ({args.rows:,} rows)\n")
    print("\n".join([*query_lines, "", *refresh_lines, "", *latency_lines]))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
