"""Dashboards and analytics alerts (issue 19): render time, a parameter change, an alert check
against the bare analysis, and how soon a commit reaches a webhook receiver.

A script, not a test: it prints one table and optionally writes the numbers as JSON.

    .venv/bin/python bench/dashboards.py                     # 10M rows
    .venv/bin/python bench/dashboards.py --rows 200000       # quick smoke run
    .venv/bin/python bench/dashboards.py --json out.json

Data: a fresh temporary store (``FeatureStore("bench/dash/p", home=<tmp>)``, SQLite catalog in
the same directory) holds the README's group ``user-signals`` (entity ``user_id``, one row per
user; ``click_count`` int64 0..99, ``impression_count`` = 3 × clicks + 0..49, ``revenue`` float64
gamma(2, 10) with 10% nulls, ``user_tier`` one of five strings; event times uniform over 40 days;
numpy, fixed seed), written in chunks of 2,000,000, and the on-change live table
``daily_engagement`` (the tests' ``dashboard_data.engagement_group``).

Before the store opens, a ``notifications.yaml`` with a ``webhook`` section (URL of a
``http.server`` receiver on loopback started here, an HMAC secret) is written and named by
``RAISE_NOTIFICATIONS_CONFIG``; the receiver checks each body's ``X-Raise-Signature``.

1. **Render** the README's five-chart dashboard (daily click trend, revenue by tier, click
   histogram, correlation heatmap, the live table) with ``render(format="html")``: *cold* is the
   first render after a small append (every analysis recomputed), *warm* the same data again (the
   analytics cache). ``--renders`` rounds each. Target PRD §21.1 < 2 s; aim < 0.5 s warm.
2. **Parameter change** ``view({"tier": "gold"})``, cold (after an append), ``--renders`` rounds.
3. **Alert check** (the alert service's ``check_alert``: analysis as the owner, value, state,
   the evaluation row) against the bare ``group.analyze(spec, Freshness.REAL_TIME)``, both on
   ``Aggregation("click_count", ["max"])``; ``--checks`` rounds, interleaved, each after a
   one-row append (the check reuses only a result computed on exactly the current data,
   ``Freshness.SAME_DATA``: without the append it would reuse the previous round's analysis) and
   the on-change live table's refresh of it (not timed). Aim ≤ 1.1×.
4. **Commit → notification**: an alert ``max(click_count) > 1000`` with ``check_on_change=True``
   and channel ``webhook``; ``--commits`` upserts of one row that alternately set a user's
   ``click_count`` to 5000 (the alert fires) and back to 1 (it resolves): each transition sends
   one notification. Latency = receipt at the receiver minus the moment ``group.write()``
   returned (and minus the moment before it was called); p50/p99. Each commit waits for the
   previous one's notification, then ``--pause`` (0.3 s): the check is judged on the data of the
   commit that woke it, so every commit is a transition however close they come.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.server
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from _machine import machine_info, machine_line
from _timing import percentile

import raise_
from raise_ import Aggregation, Chart, ChartType, Correlation, DashboardParameter, Distribution, FeatureStore, Freshness
from raise_.alerts.conditions import Condition
from raise_.engine import Engine
from raise_.service import DataService

PROJECT, GROUP = "bench/dash/p", "user-signals"
CHUNK_ROWS = 2_000_000
DAYS = 40
TIERS = ["bronze", "silver", "gold", "platinum", "it's"]
START = pd.Timestamp("2026-09-01", tz="UTC")
SECRET = "bench-secret"
WATCHED = Aggregation(feature="click_count", metrics=["max"])

PRD_RENDER_S = 2.0
AIM_WARM_S = 0.5
AIM_RATIO = 1.1


def rows_frame(n: int, first_user: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    clicks = rng.integers(0, 100, n)
    return pd.DataFrame(
        {
            "user_id": np.arange(first_user, first_user + n, dtype=np.int64),
            "event_time": START + pd.to_timedelta(rng.integers(0, DAYS * 86_400, n), unit="s"),
            "click_count": clicks,
            "impression_count": clicks * 3 + rng.integers(0, 50, n),
            "revenue": np.where(rng.random(n) < 0.1, np.nan, rng.gamma(2.0, 10.0, n)),
            "user_tier": pd.array(np.array(TIERS)[rng.integers(0, len(TIERS), n)], dtype="string"),
        }
    )


class Receiver:
    """A webhook receiver on loopback: checks the signature, keeps (arrival, payload)."""

    def __init__(self) -> None:
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.bad_signatures = 0
        self.cond = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                arrived = time.perf_counter()
                want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(want, self.headers.get("X-Raise-Signature", ""))
                self.send_response(200 if ok else 401)
                self.end_headers()
                with outer.cond:
                    if ok:
                        outer.received.append((arrived, json.loads(body)))
                    else:
                        outer.bad_signatures += 1
                    outer.cond.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 120.0) -> tuple[float, dict[str, Any]]:
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.received) >= count, timeout):
                raise SystemExit(f"no notification {count} within {timeout} s")
            return self.received[count - 1]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return (time.perf_counter() - start) * 1000.0, out


def stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p99": percentile(values, 99),
        "min": min(values),
        "max": max(values),
    }


def build_dashboard(fs: FeatureStore) -> Any:
    """The README's dashboard, as written there."""
    dashboard = fs.create_dashboard(name="engagement-overview", description="User engagement metrics dashboard")
    dashboard.add_parameter(DashboardParameter.date_range(name="date_range", label="Date Range"))
    dashboard.add_parameter(
        DashboardParameter.dropdown(
            name="tier", label="User Tier", options=["all", "bronze", "silver", "gold", "platinum"], default="all"
        )
    )
    dashboard.add_chart(
        Chart(
            title="Daily Click Trend",
            analysis=Aggregation(feature="click_count", metrics=["sum"], window="1d", rolling=True, periods=30),
            chart_type=ChartType.LINE,
            x="date",
            y="sum",
        )
    )
    dashboard.add_chart(
        Chart(
            title="Revenue by Tier",
            analysis=Aggregation(feature="revenue", metrics=["sum"], group_by="user_tier"),
            chart_type=ChartType.BAR,
            x="user_tier",
            y="sum",
        )
    )
    dashboard.add_chart(
        Chart(
            title="Click Distribution",
            analysis=Distribution(feature="click_count", metrics=["histogram"]),
            chart_type=ChartType.HISTOGRAM,
        )
    )
    dashboard.add_chart(
        Chart(
            title="Feature Correlations",
            analysis=Correlation(features=["click_count", "impression_count", "revenue"]),
            chart_type=ChartType.HEATMAP,
        )
    )
    dashboard.add_chart(
        Chart(title="Live Engagement Metrics", live_table="daily_engagement", chart_type=ChartType.TABLE)
    )
    return dashboard


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--renders", type=int, default=5, help="cold/warm render rounds")
    parser.add_argument("--checks", type=int, default=10, help="alert check / analyze rounds")
    parser.add_argument("--commits", type=int, default=20, help="commits flipping the alert")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between commits")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    machine = machine_info(raise_=raise_.__version__, duckdb=duckdb.__version__, pyarrow=pa.__version__)
    print(machine_line(machine))
    print(f"python {machine['python']}, duckdb {duckdb.__version__}, pyarrow {pa.__version__}, numpy {np.__version__}")
    print(f"command: python bench/dashboards.py {' '.join(sys.argv[1:])}".rstrip(), flush=True)
    os.environ.setdefault("RAISE_USER", "bench@bench")
    report: dict[str, Any] = {"machine": machine, "args": {k: str(v) for k, v in vars(args).items()}}
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        config = home / "notifications.yaml"
        config.write_text(
            f"webhook:\n  url: {receiver.url}\n  secret: {SECRET}\n  timeout: 5\nretry:\n  attempts: 1\n",
            encoding="utf-8",
        )
        os.environ["RAISE_NOTIFICATIONS_CONFIG"] = str(config)
        fs = FeatureStore(PROJECT, home=home, catalog_url=f"sqlite:///{home / 'catalog.db'}")
        svc = fs._backend
        assert isinstance(svc, DataService)
        group = fs.create_feature_group(GROUP, entity_keys=["user_id"], event_time="event_time")
        group.create_features_from_schema(
            {"click_count": "int64", "impression_count": "int64", "revenue": "float64", "user_tier": "string"}
        )
        start = time.perf_counter()
        written = 0
        while written < args.rows:
            n = min(CHUNK_ROWS, args.rows - written)
            group.write(rows_frame(n, written, seed=written + 1))
            written += n
        write_s = time.perf_counter() - start
        group.create_live_table(
            name="daily_engagement",
            analysis=Aggregation(
                feature="click_count", metrics=["sum", "avg", "count"], window="1d", group_by="user_tier"
            ),
            refresh="on_change",
        )
        print(f"wrote {args.rows:,} rows in {write_s:.1f} s", flush=True)
        next_user = args.rows

        def append(n: int = 100) -> None:
            nonlocal next_user
            group.write(rows_frame(n, next_user, seed=next_user))
            next_user += n

        build_ms, dashboard = timed(lambda: build_dashboard(fs))
        print(f"built the dashboard (each chart drawn once) in {build_ms:.0f} ms", flush=True)

        # 1 + 2: render cold / warm, parameter change cold.
        cold, warm, param = [], [], []
        size = 0
        for _ in range(args.renders):
            append()
            ms, page = timed(lambda: dashboard.render(format="html"))
            cold.append(ms)
            size = len(page)
            ms, _ = timed(lambda: dashboard.render(format="html"))
            warm.append(ms)
        for _ in range(args.renders):
            append()
            ms, view = timed(lambda: dashboard.view({"tier": "gold"}))
            param.append(ms)
            assert all(c.get("spec") is not None for c in view.charts), "a chart failed to draw"
        report["render"] = {"cold": stats(cold), "warm": stats(warm), "param_cold": stats(param), "html_bytes": size}
        print(f"rendered ({size:,} bytes of HTML)", flush=True)

        # 3: alert check vs bare analysis.
        alert = fs.create_alert(
            name="max-clicks",
            analysis=WATCHED,
            condition=Condition.GREATER_THAN(1000),
            notify=["oncall@bench"],
            channels=["webhook"],
            check_interval="1h",
            check_on_change=False,
        )
        engine = next(e for e in Engine._instances.values() if e.service is svc)
        follower = engine.follower
        assert follower is not None
        checks, bare = [], []
        for _ in range(args.checks):
            append(1)
            follower.wait_idle(timeout=600)
            ms, evaluation = timed(lambda: svc.alerts.check_alert(alert.id, "scheduled"))
            assert evaluation.error_code is None, evaluation
            checks.append(ms)
            ms, _ = timed(lambda: group.analyze(WATCHED, Freshness.REAL_TIME))
            bare.append(ms)
        report["alert_check"] = {"check": stats(checks), "analyze": stats(bare)}
        alert.delete()
        print("alert checks done", flush=True)

        # 4: commit → notification, on change.
        alert = fs.create_alert(
            name="max-clicks-on-change",
            analysis=WATCHED,
            condition=Condition.GREATER_THAN(1000),
            notify=["oncall@bench"],
            channels=["webhook"],
            check_interval="1h",
            check_on_change=True,
        )
        base = len(receiver.received)
        flip_user = int(next_user)
        template = rows_frame(1, flip_user, seed=1)
        after_return, after_call, events = [], [], []
        for i in range(args.commits):
            frame = template.copy()
            frame["click_count"] = 5000 if i % 2 == 0 else 1
            if i:
                time.sleep(args.pause)
            before = time.perf_counter()
            group.write(frame, mode="upsert")
            returned = time.perf_counter()
            try:
                arrived, payload = receiver.wait_for(base + i + 1, timeout=30.0)
            except SystemExit:
                for e in alert.history(5):
                    print(e, file=sys.stderr)
                raise
            after_return.append((arrived - returned) * 1000.0)
            after_call.append((arrived - before) * 1000.0)
            events.append(payload.get("event"))
        expected = ["firing" if i % 2 == 0 else "resolved" for i in range(args.commits)]
        report["notify"] = {
            "after_return": stats(after_return),
            "after_call": stats(after_call),
            "events_as_expected": events == expected,
            "bad_signatures": receiver.bad_signatures,
        }
        time.sleep(1.0)
        report["notify"]["extra_notifications"] = len(receiver.received) - base - args.commits
        Engine.close_all()
    receiver.server.shutdown()

    r, a, n = report["render"], report["alert_check"], report["notify"]
    ratio = a["check"]["p50"] / a["analyze"]["p50"]
    lines = [
        f"summary ({args.rows:,} rows; p50 / p99 / worst, ms)",
        "",
        f"{'case':44} {'p50':>9} {'p99':>9} {'max':>9}  goal",
    ]

    def row(label: str, s: dict[str, float], goal: str = "") -> None:
        lines.append(f"{label:44} {s['p50']:9.1f} {s['p99']:9.1f} {s['max']:9.1f}  {goal}")

    row("1. render html, cold (after a write)", r["cold"], f"PRD < {PRD_RENDER_S * 1000:.0f}")
    row("1. render html, warm (same data)", r["warm"], f"aim < {AIM_WARM_S * 1000:.0f}")
    row("2. view({'tier': 'gold'}), cold", r["param_cold"], f"PRD < {PRD_RENDER_S * 1000:.0f}")
    row("3. alert check (check_alert)", a["check"])
    row("3. group.analyze(REAL_TIME), same spec", a["analyze"])
    lines.append(f"{'3. check ÷ analyze (p50)':44} {ratio:9.2f}×{'':20} aim ≤ {AIM_RATIO}×")
    row("4. commit → webhook received (after return)", n["after_return"])
    row("4. commit → webhook received (before call)", n["after_call"])
    lines.append(
        f"4. transitions as expected: {n['events_as_expected']}; bad signatures: {n['bad_signatures']}; "
        f"extra notifications: {n['extra_notifications']}"
    )
    report["ratio"] = ratio
    print("\n" + "\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0 if n["events_as_expected"] and n["bad_signatures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
