"""``raise run RUN_ID``: the one entry point every out-of-process launcher executes (DESIGN §8).

A local subprocess, an Airflow task and a Kubernetes pod all run this, so they run identical
code and report the same way: open the catalog (``RAISE_CATALOG_URL`` / ``RAISE_HOME``), load the
run, execute the handler of its kind, record the outcome in the run's row. Handlers that need
the store get the embedded engine, or the server at ``RAISE_URL`` when one owns the store.

SIGTERM (a cancel or a timeout from the launcher) and SIGINT stop the run: its cancel hooks run
and the handler is unwound with :class:`~raise_.runs.control.RunStopped`; the row says why.
Exit status: 0 completed, 1 ended otherwise, 2 nothing to run.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any, TextIO

from raise_.config import Settings
from raise_.governance import current_user
from raise_.metadata.database import CatalogDatabase
from raise_.runs.control import RunControl, RunStopped
from raise_.runs.errors import RunNotFoundError
from raise_.runs.launchers.subprocess import ENV_MEMORY_LIMIT
from raise_.runs.registry import RunKinds
from raise_.runs.service import RunService

__all__ = ["close_opened_engines", "run_command"]


def close_opened_engines() -> None:
    """Close the stores this process opened, if it opened any: importing the engine just to close
    nothing cost a job's child 0.6 s of its exit."""
    engine = sys.modules.get("raise_.engine")
    if engine is not None:
        engine.Engine.close_all()


def _limit_memory() -> None:
    limit = os.environ.get(ENV_MEMORY_LIMIT, "").strip()
    if limit.isdigit():
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))


def _services(settings: Settings) -> Callable[[], Any]:
    def open_services() -> Any:
        from raise_.client.backend import open_backend

        return open_backend(settings)

    return open_services


def run_command(run_id: str, out: TextIO = sys.stdout) -> int:
    settings = Settings.from_env()
    # A run's process does its run: the store's change feed and schedules stay with its owner.
    os.environ["RAISE_BACKGROUND"] = "0"
    db = CatalogDatabase(settings.catalog_url)
    control = RunControl()

    def stop(signum: int, _frame: FrameType | None) -> None:
        control.stop("cancelled")  # the row's stop_requested, if set, says whether it was a timeout
        raise RunStopped(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        db.migrate()
        _limit_memory()
        runs = RunService(
            db,
            current_user,
            kinds=RunKinds.from_env(),
            launchers={},
            services=_services(settings),
            environment={"RAISE_HOME": str(settings.home)},
        )
        try:
            record = runs.execute(run_id, control)
            if record is None:
                now = runs.get(run_id, mine=False)
                print(f"raise run: run {run_id} is {now.status}, not pending: nothing to run.", file=sys.stderr)
                return 2
        except RunNotFoundError as exc:
            print(f"raise run: {exc.message}", file=sys.stderr)
            return 2
        error = f" [{record.error.code}] {record.error.message}" if record.error else ""
        print(f"run {record.id} {record.status}{error}", file=out)
        return 0 if record.status == "completed" else 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        close_opened_engines()
        db.dispose()
