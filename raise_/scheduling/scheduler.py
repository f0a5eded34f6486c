"""The one scheduler (DESIGN §8): due items in the catalog, claimed under a lease, run once.

``tick()`` claims the items that are due (:mod:`.leases`), runs each — through a callable
registered for its kind, or as a run of the runs core (recorded in ``runs``, started by the
launcher its payload names, ``"thread"`` by default) — and stores when it is due next, with the
run's outcome, as it gives the lease back. ``start()``/``stop()`` run ticks on a background
thread every ``poll_seconds``; the server extension calls ``tick(wait=False)`` from its own
periodic task instead, and ``raise worker`` runs the loop.

Why a restart neither loses nor repeats work: the next due time is a column, written when a
run of the item ends. A scheduler that stops (or dies) before an item's run ends leaves the
item due and leased; when the lease expires another scheduler (or the restarted one) runs it.
A run that ended has moved its item's due time on, so nobody runs that slot again.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from raise_.errors import InvalidArgumentError
from raise_.metadata.database import CatalogDatabase
from raise_.runs.runner import runner_id
from raise_.runs.service import RunService
from raise_.scheduling.clock import Clock, SystemClock
from raise_.scheduling.leases import claim_due, item_of, release, renew
from raise_.scheduling.models import ScheduledItemModel as Item
from raise_.scheduling.records import ItemOutcome, ScheduledItem
from raise_.scheduling.schedule import Schedule

__all__ = ["RUN_OPTIONS", "DirectHandler", "Scheduler"]

log = logging.getLogger(__name__)

DirectHandler = Callable[[ScheduledItem], Any]
#: Payload keys that say how to run the item, not what: the rest is the run's spec.
RUN_OPTIONS: Final = ("launcher", "timeout")


class Scheduler:
    def __init__(
        self,
        db: CatalogDatabase,
        *,
        runs: RunService | None = None,
        clock: Clock | None = None,
        owner: str | None = None,
        lease_seconds: float = 300.0,
        workers: int = 4,
        poll_seconds: float = 5.0,
    ) -> None:
        self.db = db
        self.runs = runs
        self.clock: Clock = clock or SystemClock()
        # Unique per scheduler, not per process: two schedulers of one process must not share leases.
        self.owner = owner or f"{runner_id()}:{uuid.uuid4().hex[:8]}"
        self.lease_seconds = lease_seconds
        self.workers = workers
        self.poll_seconds = poll_seconds
        self._direct: dict[str, DirectHandler] = {}
        self._running: dict[str, Future[ItemOutcome]] = {}
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._loop: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- what is scheduled ------------------------------------------------------------------------

    def register(self, kind: str, handler: DirectHandler) -> None:
        """Run items of ``kind`` by calling ``handler(item)`` in this process, without a run row
        (cheap housekeeping); every other kind runs as a run of the runs core."""
        self._direct[kind] = handler

    def ensure(
        self,
        name: str,
        kind: str,
        *,
        every: float | None = None,
        cron: str | None = None,
        payload: Mapping[str, Any] | None = None,
        enabled: bool = True,
        first_due: datetime | None = None,
        create_only: bool = False,
    ) -> ScheduledItem:
        """Create the item, or bring an existing one to this schedule and payload. Its next due
        time is kept unless its schedule changed (a restart re-ensuring its items moves nothing).
        ``create_only``: an existing item is left as it is (built-in items an admin may have
        disabled or rescheduled)."""
        if not isinstance(name, str) or not 0 < len(name) <= 256:
            raise InvalidArgumentError(f"A scheduled item's name has 1 to 256 characters, got {name!r}.", {})
        schedule = Schedule(every=float(every) if every is not None else None, cron=cron)
        now = self.clock.now()
        try:
            with self.db.transaction() as s:
                row = s.scalar(select(Item).where(Item.name == name).with_for_update())
                if row is None:
                    row = Item(
                        id=uuid.uuid4(),
                        name=name,
                        kind=kind,
                        interval_seconds=schedule.every,
                        cron=schedule.cron,
                        payload=dict(payload or {}),
                        enabled=enabled,
                        next_due_at=first_due or schedule.first_after(now),
                    )
                    s.add(row)
                elif not create_only:
                    if (row.interval_seconds, row.cron) != (schedule.every, schedule.cron):
                        row.next_due_at = first_due or schedule.first_after(now)
                    row.kind, row.interval_seconds, row.cron = kind, schedule.every, schedule.cron
                    row.payload, row.enabled = dict(payload or {}), enabled
                s.flush()
                return item_of(row)
        except IntegrityError:  # another process created it at the same moment: theirs stands
            return self.get(name)

    def get(self, name: str) -> ScheduledItem:
        with self.db.reader() as s:
            row = s.scalar(select(Item).where(Item.name == name))
            if row is None:
                raise InvalidArgumentError(f"No scheduled item {name!r}.", {"name": name})
            return item_of(row)

    def items(self) -> list[ScheduledItem]:
        with self.db.reader() as s:
            return [item_of(r) for r in s.scalars(select(Item).order_by(Item.name)).all()]

    def remove(self, name: str) -> bool:
        with self.db.transaction() as s:
            done = s.execute(delete(Item).where(Item.name == name))
        return bool(getattr(done, "rowcount", 0))

    # -- ticking ----------------------------------------------------------------------------------

    def tick(self, *, wait: bool = True, limit: int = 100) -> list[ItemOutcome]:
        """Claim the due items and run them. ``wait=True`` runs them to their end and returns
        their outcomes; ``wait=False`` (the loop) claims only as many as there are free workers
        and returns at once."""
        now = self.clock.now()
        with self._lock:
            pool = self._executor()
            held = list(self._running)
            free = self.workers - len(held)
        renew(self.db, held, self.owner, now, self.lease_seconds)
        items = claim_due(self.db, self.owner, now, self.lease_seconds, limit if wait else free)
        futures = []
        for item in items:
            with self._lock:  # registered before its callback can run, so that it is always removed
                future = self._running[item.id] = pool.submit(self._run_item, item)
            future.add_done_callback(functools.partial(self._done, item.id))
            futures.append(future)
        return [f.result() for f in futures] if wait else []

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="raise-schedule")
        return self._pool

    def _done(self, item_id: str, _future: Future[ItemOutcome]) -> None:
        with self._lock:
            self._running.pop(item_id, None)

    def _run_item(self, item: ScheduledItem) -> ItemOutcome:
        run_id: str | None = None
        error: str | None = None
        result: Any = None
        try:
            direct = self._direct.get(item.kind)
            if direct is not None:
                result = direct(item)
                status = "completed"
            elif self.runs is not None and item.kind in self.runs.kinds:
                spec = {k: v for k, v in item.payload.items() if k not in RUN_OPTIONS}
                run = self.runs.submit(
                    item.kind,
                    spec,
                    trigger=f"schedule:{item.name}",
                    launcher=str(item.payload.get("launcher", "thread")),
                    timeout=item.payload.get("timeout"),
                )
                run = self.runs.wait(run.id)
                run_id, status, result = run.id, run.status, run.result
                error = f"[{run.error.code}] {run.error.message}" if run.error else None
            else:
                status, error = "failed", f"Nothing runs items of kind {item.kind!r} in this scheduler."
        except Exception as exc:  # one item's failure never stops the others or the loop
            log.exception("scheduled item %s failed", item.name)
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        ended = self.clock.now()
        next_due = Schedule(every=item.every, cron=item.cron).next_after(item.next_due_at, ended)
        kept = release(
            self.db,
            item.id,
            self.owner,
            next_due_at=next_due,
            last_run_at=ended,
            last_run_id=uuid.UUID(run_id) if run_id else None,
            last_status=status,
        )
        if not kept:
            log.warning("scheduled item %s: its lease expired during the run; another scheduler took it", item.name)
        if status != "completed":
            log.warning("scheduled item %s ended %s: %s", item.name, status, error)
        return ItemOutcome(item.name, item.kind, status, next_due, run_id, error, result)

    # -- the background loop ----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._loop is not None and self._loop.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stopping.clear()
        self._loop = threading.Thread(target=self._run_loop, name="raise-scheduler", daemon=True)
        self._loop.start()

    def _run_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick(wait=False)
            except Exception:  # the catalog blinked: try again next round
                log.exception("scheduler tick failed; trying again in %g s", self.poll_seconds)
            self._stopping.wait(self.poll_seconds)

    def stop(self, timeout: float = 10.0) -> None:
        """End the loop and wait up to ``timeout`` s for the items it runs; an item still running
        then keeps its lease until it expires, and runs again elsewhere."""
        self._stopping.set()
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.join(timeout)
        with self._lock:
            pending = list(self._running.values())
            pool, self._pool = self._pool, None
        deadline = time.monotonic() + timeout
        for future in pending:
            # an item's failure is logged by the item; one still running keeps its lease
            with contextlib.suppress(Exception):
                future.result(max(0.0, deadline - time.monotonic()))
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
