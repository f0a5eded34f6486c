"""Run handlers the runs tests launch, importable by path in a child process (``raise run``)."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

from raise_.runs import RunContext, RunRecord

ACTOR = "alice@acme"  # who submits the runs of these tests


def echo(run: RunRecord, ctx: RunContext) -> dict[str, Any]:
    with ctx.stage("think"):
        total = sum(int(x) for x in run.spec.get("numbers", []))
    ctx.metric("total", total)
    ctx.log(f"summed {len(run.spec.get('numbers', []))} numbers")
    return {"total": total, "pid": os.getpid(), "user": os.environ.get("RAISE_USER")}


def exit_3(run: RunRecord, ctx: RunContext) -> None:
    print("about to crash", flush=True)
    os._exit(3)


def bad_input(run: RunRecord, ctx: RunContext) -> None:
    raise ValueError("bad input 42")


def sleep_long(run: RunRecord, ctx: RunContext) -> None:
    ctx.log("sleeping")
    time.sleep(120)


def ignore_sigterm(run: RunRecord, ctx: RunContext) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(120)


def wait_for_interrupt(run: RunRecord, ctx: RunContext) -> dict[str, Any]:
    """Blocks like a DuckDB query until its cancel hook interrupts it."""
    interrupted = threading.Event()
    ctx.on_cancel(interrupted.set)
    if not interrupted.wait(30):
        return {"interrupted": False}
    ctx.raise_if_cancelled()
    return {"interrupted": True}


def allocate(run: RunRecord, ctx: RunContext) -> None:
    blocks = [bytearray(64 * 1024 * 1024) for _ in range(64)]  # 4 GiB: over the memory limit
    ctx.metric("blocks", len(blocks))
