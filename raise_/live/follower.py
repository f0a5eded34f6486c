"""Live tables on the change feed: each commit to a source group wakes its on-change tables.

Bursts coalesce (DESIGN §8): a table is idle, scheduled once, running, or running with one
follow-up pending; commits that arrive while it refreshes set the follow-up, never a queue. A
refresh reads every commit up to its start, and two refreshes of a table on change start at
least ``min_interval`` (0.25 s) apart, so 100 commits in one second make about five refreshes,
while a lone commit is refreshed at once. A woken table whose cursors already hold every commit of its sources (another
process refreshed it, or a notice came twice) does nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, Protocol

from raise_.changes.feed import ChangeFeed
from raise_.governance.identity import acting_as
from raise_.storage.records import CommitEvent

__all__ = ["ChangeConsumer", "LiveFollower"]

log = logging.getLogger(__name__)

_SCHEDULED: Final = "scheduled"
_RUNNING: Final = "running"
_PENDING: Final = "running+pending"


class ChangeConsumer(Protocol):
    """What the follower drives: live tables, and alerts checked on change (the same coalescing)."""

    on_tables_changed: list[Callable[[], None]]

    def following(self) -> list[tuple[str, str, list[str]]]: ...
    def behind(self, item_id: str) -> bool: ...
    def refresh_now(self, item_id: str, trigger: str) -> Any: ...


class LiveFollower:
    def __init__(
        self,
        live: ChangeConsumer,
        feed: ChangeFeed,
        *,
        workers: int = 2,
        min_interval: float = 0.25,
    ) -> None:
        """``min_interval``: the least time between the starts of two refreshes of one table on
        change: a burst of commits makes at most one refresh per interval (plus the first, at
        once), so a table under a steady stream of writes refreshes about 1/``min_interval`` times
        a second and is never more than that behind."""
        self.live = live
        self.feed = feed
        self._workers = workers
        self.min_interval = min_interval
        self._states: dict[str, str] = {}
        self._last_start: dict[str, float] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._tables: list[tuple[str, str, list[str]]] | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._unsubscribe: list[object] = []

    def start(self) -> None:
        if self._pool is not None:
            return
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="raise-live")
        self._unsubscribe.append(self.feed.subscribe(self._on_commits))
        self.live.on_tables_changed.append(self.tables_changed)
        self.feed.start()
        self.catch_up()

    def stop(self) -> None:
        for undo in self._unsubscribe:
            undo()  # type: ignore[operator]
        self._unsubscribe.clear()
        if self.tables_changed in self.live.on_tables_changed:
            self.live.on_tables_changed.remove(self.tables_changed)
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    # -- what to follow ---------------------------------------------------------------------------

    def _following(self) -> list[tuple[str, str, list[str]]]:
        with self._lock:
            tables = self._tables
        if tables is None:
            tables = self.live.following()
            with self._lock:
                self._tables = tables
        return tables

    def tables_changed(self) -> None:
        """A table was created, paused, resumed or deleted: re-read them, and catch up."""
        with self._lock:
            self._tables = None
        self.catch_up()

    def catch_up(self) -> None:
        """Wake every on-change table (each refreshes only if a source moved past its cursors):
        at start, commits made while nothing followed are consumed once."""
        for table_id, owner, _sources in self._following():
            self.request(table_id, owner)

    def _on_commits(self, events: list[CommitEvent]) -> None:
        groups = {e.group_path for e in events}
        for table_id, owner, sources in self._following():
            if groups.intersection(sources):
                self.request(table_id, owner)

    # -- coalescing -------------------------------------------------------------------------------

    def request(self, table_id: str, owner: str) -> None:
        with self._lock:
            pool = self._pool
            state = self._states.get(table_id)
            if pool is None:
                return
            if state is None:
                self._states[table_id] = _SCHEDULED
            elif state == _RUNNING:
                self._states[table_id] = _PENDING
                return
            else:  # scheduled, or a follow-up is pending already
                return
        try:
            pool.submit(self._run, table_id, owner)
        except RuntimeError:  # stopping
            with self._lock:
                self._states.pop(table_id, None)

    def _run(self, table_id: str, owner: str) -> None:
        while True:
            with self._lock:
                wait = self._last_start.get(table_id, -1e9) + self.min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # commits arriving meanwhile join this refresh
            with self._lock:
                self._states[table_id] = _RUNNING
                self._last_start[table_id] = time.monotonic()
            try:
                with acting_as(owner):
                    if self.live.behind(table_id):
                        self.live.refresh_now(table_id, "cdc")
            except Exception:  # the table was deleted, or the store is closing
                log.debug("live table %s: refresh on change failed", table_id, exc_info=True)
            with self._lock:
                if self._states.get(table_id) == _PENDING:
                    continue
                self._states.pop(table_id, None)
                self._idle.notify_all()
                return

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no table is scheduled or refreshing (True) or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._states:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True
