"""``raise worker``: the scheduler of an embedded store, in a process of its own (DESIGN §8).

A store served by ``raise serve`` or a Jupyter server has its scheduler there; a store used
only embedded (scripts, Airflow tasks, CI) has no process that lives on, so ``raise worker``
is that process: it opens the store, runs due items until SIGINT or SIGTERM, then stops the
loop (waiting a bounded time for items in progress) and closes the store (its runs with it).
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import TextIO

from sqlalchemy.engine import make_url

from raise_.config import Settings
from raise_.governance import current_user

__all__ = ["worker_command"]


def worker_command(poll_seconds: float = 5.0, out: TextIO = sys.stdout) -> int:
    settings = Settings.from_env()
    if settings.url:
        print(
            f"raise worker: RAISE_URL points at a server ({settings.url}), which runs its store's schedules "
            "itself; raise worker is for an embedded store (unset RAISE_URL).",
            file=sys.stderr,
        )
        return 2
    from raise_.engine import Engine

    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    engine = Engine.shared(settings)
    try:
        scheduler = engine.scheduler  # the store's, running items as runs of engine.runs
        scheduler.poll_seconds = poll_seconds
        scheduler.start()
        where = make_url(settings.catalog_url).render_as_string(hide_password=True)
        print(
            f"raise worker: running the schedules of {where} as {current_user()} every {poll_seconds:g} s "
            "(stop with Ctrl-C or SIGTERM)",
            file=out,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
        print("raise worker: stopping (waiting for items in progress)", file=out, flush=True)
        scheduler.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        engine.close()
    print("raise worker: stopped", file=out, flush=True)
    return 0
