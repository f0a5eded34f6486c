"""A store's scheduler with its runs core and built-in items, as the composition root puts them
together (``Engine.scheduler``, which the server extension and ``raise worker`` run)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from raise_.metadata.database import CatalogDatabase
from raise_.runs.assembly import store_runs
from raise_.runs.launchers import Launcher
from raise_.runs.service import RunService
from raise_.scheduling import audit_alerts
from raise_.scheduling.clock import Clock
from raise_.scheduling.scheduler import Scheduler

__all__ = ["install_builtin_items", "store_scheduler"]


def install_builtin_items(scheduler: Scheduler) -> None:
    """The items every store has; created once (an admin may reschedule or disable them)."""
    scheduler.ensure(
        audit_alerts.ITEM,
        audit_alerts.KIND,
        every=audit_alerts.EVERY_SECONDS,
        first_due=scheduler.clock.now(),
        create_only=True,
    )


def store_scheduler(
    db: CatalogDatabase,
    *,
    actor: Callable[[], str],
    services: Callable[[], Any],
    home: Path | None = None,
    clock: Clock | None = None,
    launchers: Mapping[str, Launcher] | None = None,
    poll_seconds: float = 5.0,
    runs: RunService | None = None,
) -> Scheduler:
    """The scheduler of a store, running its items as runs of ``runs`` (the store's runs
    service; a new one with the standard launchers when none is given)."""
    if runs is None:
        runs = store_runs(db, actor=actor, services=services, home=home, launchers=launchers)
    scheduler = Scheduler(db, runs=runs, clock=clock, poll_seconds=poll_seconds)
    install_builtin_items(scheduler)
    return scheduler
