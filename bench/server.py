"""Server benchmark: what a call costs through a Raise server against the embedded engine.

A script, not a test: it prints two tables and optionally writes the numbers as JSON.

    .venv/bin/python bench/server.py                        # 1M rows × 10 features, 3,000 metadata calls
    .venv/bin/python bench/server.py --rows 100000 --calls 500   # quick smoke run
    .venv/bin/python bench/server.py --json out.json

The server is a real ``raise serve`` in its own process (token auth, loopback, a temporary store);
the remote side is ``FeatureStore(...)`` with ``RAISE_URL``/``RAISE_TOKEN`` pointing at it, exactly
as in a notebook. The embedded side is ``FeatureStore(..., home=...)`` on a second temporary
store in this process. Both stores hold the same data, written through the SDK.

1. **Metadata read**: ``group.feature("f0")`` (``get_feature``), ``--calls`` times on each side,
   interleaved (embedded, remote, embedded, ...) after a warm-up; p50/p99 per side and the
   difference, the overhead the server adds (goal: < 3 ms at p99 on loopback). For reference, the
   transport floor: ``GET /raise/v1/health`` (authenticated, answered on the event loop, no store)
   on a keep-alive connection.
2. **Bulk read**: ``group.read().to_arrow()`` of ``--rows`` rows × (``user_id``, ``event_time``,
   10 float64 features), ``--repeats`` runs per side interleaved after one warm-up; median
   seconds and rows/s, and remote ÷ embedded throughput (goal: ≥ 0.5×).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from _machine import machine_info, machine_line
from _timing import Stats, summarize, time_call, time_calls

import raise_
from raise_ import FeatureStore
from raise_.client.remote import RemoteBackend

PROJECT = "bench/server/run"
FEATURES = [f"f{j}" for j in range(10)]
TS = pa.timestamp("us", tz="UTC")
T0_US = int(np.datetime64("2025-01-01T00:00:00", "us").astype(np.int64))
OVERHEAD_GOAL_MS = 3.0  # p99 added by the server to a metadata read
THROUGHPUT_GOAL = 0.5  # remote rows/s ÷ embedded rows/s for a bulk read


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``raise serve`` in a subprocess on a temporary store."""

    def __init__(self, home: Path) -> None:
        self.port = free_port()
        argv = [sys.executable, "-m", "raise_.cli", "serve", "--port", str(self.port), "--home", str(home)]
        argv += ["--log-level", "WARN"]
        if os.geteuid() == 0:
            argv.append("--allow-root")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RAISE_URL", "RAISE_TOKEN"))}
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
        self.url = self.token = ""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("export RAISE_URL="):
                self.url = line.split("=", 1)[1].strip()
            elif line.startswith("export RAISE_TOKEN="):
                self.token = line.split("=", 1)[1].strip()
                break
        if not self.token:
            raise RuntimeError("raise serve printed no RAISE_TOKEN line")
        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(f"{self.url}raise/v1/ready")
                request.add_header("Authorization", f"token {self.token}")
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("raise serve did not become ready") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def wide_table(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {
        "user_id": np.arange(rows, dtype=np.int64),
        "event_time": pa.array(T0_US + rng.integers(0, 90 * 86_400_000_000, rows, dtype=np.int64), type=TS),
    }
    for f in FEATURES:
        columns[f] = rng.standard_normal(rows)
    return pa.table(columns)


def fill(fs: FeatureStore, table: pa.Table) -> tuple[Any, float]:
    """The benchmark's group in ``fs``'s project, with ``table`` written to it; the write's seconds."""
    group = fs.create_feature_group("wide", entity_keys=["user_id"], event_time="event_time")
    group.create_features([{"name": f, "dtype": "float64"} for f in FEATURES])
    seconds = time_call(lambda: group.write(table)) / 1e9
    return group, seconds


def stats_row(label: str, s: Stats) -> tuple[str, ...]:
    return (label, f"{s.p50:.3f}", f"{s.p99:.3f}", f"{s.mean:.3f}", f"{s.max:.2f}")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def fmt(line: Sequence[str]) -> str:
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))]
        return "| " + " | ".join(cells) + " |"

    rule = "|" + "|".join(("-" * (w + 2)) if i == 0 else ("-" * (w + 1) + ":") for i, w in enumerate(widths)) + "|"
    return "\n".join([fmt(header), rule, *(fmt(r) for r in rows)])


def health_floor(server: Server, calls: int) -> Stats:
    conn = http.client.HTTPConnection("127.0.0.1", server.port)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the SDK's own connection
    headers = {"Authorization": f"token {server.token}"}

    def once() -> None:
        conn.request("GET", "/raise/v1/health", headers=headers)
        conn.getresponse().read()

    (series,) = time_calls([once], calls, warmup=min(200, calls))
    conn.close()
    return summarize(series)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the bulk read")
    parser.add_argument("--calls", type=int, default=3000, help="metadata reads per side")
    parser.add_argument("--repeats", type=int, default=5, help="bulk reads per side (median reported)")
    parser.add_argument("--json", type=Path, help="write the numbers to this file")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the server and temporary stores still go
    os.environ.setdefault("RAISE_USER", "bench@raise")
    os.environ.setdefault("TQDM_DISABLE", "1")

    machine = machine_info(duckdb=duckdb.__version__, pyarrow=pa.__version__, raise_=raise_.__version__)
    print("Raise server benchmark")
    print(machine_line(machine))
    print(
        f"python {machine['python']}, duckdb {machine['duckdb']}, pyarrow {machine['pyarrow']}, "
        f"raise {machine['raise_']}"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")

    with tempfile.TemporaryDirectory(prefix="raise_bench_server_") as tmp:
        server = Server(Path(tmp) / "served")
        try:
            os.environ["RAISE_URL"], os.environ["RAISE_TOKEN"] = server.url, server.token
            remote = FeatureStore(PROJECT)
            embedded = FeatureStore(PROJECT, home=Path(tmp) / "embedded")
            assert isinstance(remote._backend, RemoteBackend) and not isinstance(embedded._backend, RemoteBackend)
            data = wide_table(args.rows, args.seed)
            mb = data.nbytes / 1e6
            print(f"server: raise serve, pid {server.process.pid}, {server.url}")
            print(f"data: {args.rows:,} rows × (user_id, event_time, {len(FEATURES)} float64) = {mb:,.0f} MB in Arrow")
            groups = {}
            writes = {}
            for side, fs in (("embedded", embedded), ("remote", remote)):
                groups[side], writes[side] = fill(fs, data)
            print(f"writes: embedded {writes['embedded']:.2f} s, remote {writes['remote']:.2f} s (one write each)")

            # 1. metadata read
            emb_g, rem_g = groups["embedded"], groups["remote"]
            emb_ns, rem_ns = time_calls(
                [lambda: emb_g.feature("f0"), lambda: rem_g.feature("f0")], args.calls, warmup=min(300, args.calls)
            )
            emb, rem = summarize(emb_ns), summarize(rem_ns)
            floor = health_floor(server, args.calls)
            added_p50, added_p99 = rem.p50 - emb.p50, rem.p99 - emb.p99
            meta_table = table(
                ("group.feature('f0')", "p50 ms", "p99 ms", "mean ms", "max ms"),
                [
                    stats_row("embedded", emb),
                    stats_row("remote (raise serve)", rem),
                    ("added by the server", f"{added_p50:.3f}", f"{added_p99:.3f}", f"{rem.mean - emb.mean:.3f}", ""),
                    stats_row("floor: GET /raise/v1/health", floor),
                ],
            )
            print(f"\n### Metadata read, {args.calls:,} calls per side (interleaved)\n\n{meta_table}\n")
            verdict = "meets" if added_p99 < OVERHEAD_GOAL_MS else "MISSES"
            print(f"added at p99: {added_p99:.3f} ms (goal < {OVERHEAD_GOAL_MS:g} ms): {verdict}")

            # 2. bulk read
            reads: dict[str, list[float]] = {"embedded": [], "remote": []}
            for side in ("embedded", "remote"):  # warm-up
                got = groups[side].read().to_arrow()
                if got.num_rows != args.rows:
                    raise RuntimeError(f"{side} read {got.num_rows:,} rows, expected {args.rows:,}")
                del got
            for _ in range(args.repeats):
                for side in ("embedded", "remote"):
                    reads[side].append(time_call(lambda s=side: groups[s].read().to_arrow()) / 1e9)
            emb_s, rem_s = statistics.median(reads["embedded"]), statistics.median(reads["remote"])
            ratio = emb_s / rem_s
            bulk_table = table(
                ("group.read().to_arrow()", "median s", "runs (s)", "rows/s", "MB/s"),
                [
                    (
                        side,
                        f"{statistics.median(reads[side]):.3f}",
                        " / ".join(f"{t:.2f}" for t in reads[side]),
                        f"{args.rows / statistics.median(reads[side]):,.0f}",
                        f"{mb / statistics.median(reads[side]):,.0f}",
                    )
                    for side in ("embedded", "remote")
                ],
            )
            print(f"\n### Bulk read, {args.rows:,} rows × {len(FEATURES) + 2} columns\n\n{bulk_table}\n")
            verdict = "meets" if ratio >= THROUGHPUT_GOAL else "MISSES"
            print(f"remote ÷ embedded throughput: {ratio:.2f}× (goal ≥ {THROUGHPUT_GOAL}×): {verdict}")

            if args.json:
                args.json.write_text(
                    json.dumps(
                        {
                            "machine": machine,
                            "rows": args.rows,
                            "calls": args.calls,
                            "metadata": {
                                "embedded": emb.to_dict(),
                                "remote": rem.to_dict(),
                                "health_floor": floor.to_dict(),
                                "added_p50_ms": added_p50,
                                "added_p99_ms": added_p99,
                            },
                            "writes_s": writes,
                            "bulk_read_s": reads,
                            "throughput_ratio": ratio,
                        },
                        indent=2,
                    )
                    + "\n"
                )
                print(f"\nwrote {args.json}")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
