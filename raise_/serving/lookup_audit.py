"""Lookups are audited in batches: one entry per caller, group and minute, with the count.

A model server may look features up thousands of times a second; one audit entry per call would
make the audit log the bottleneck and drown everything else in it. Each lookup adds to a counter
in memory; counters of a minute that has ended are written as one ``READ`` entry each
(``details.kind = "online_lookup"``, with ``lookups``, ``keys`` and the features), on the next
lookup after the minute or by a flush (every few seconds from a background thread, and at close).
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from raise_.governance import audit
from raise_.metadata.database import CatalogDatabase

__all__ = ["LookupAuditor"]


@dataclass
class _Count:
    group_id: str
    lookups: int = 0
    keys: int = 0
    denied: int = 0
    features: set[str] = field(default_factory=set)


class LookupAuditor:
    def __init__(self, db: CatalogDatabase, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self.clock = clock
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, str], _Count] = {}  # (minute, actor, group path)
        self._minute = ""
        self._stamp = -1
        self._label = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _minute_of(when: datetime) -> str:
        return when.strftime("%Y-%m-%dT%H:%MZ")

    def _minute_now(self) -> str:
        """This minute's label, formatted once per minute (a lookup must not pay for strftime)."""
        now = self.clock()
        stamp = int(now.timestamp()) // 60
        if stamp != self._stamp:
            self._stamp, self._label = stamp, self._minute_of(now)
        return self._label

    def record(
        self, actor: str, group_path: str, group_id: str, keys: int, features: list[str], denied: int = 0
    ) -> None:
        minute = self._minute_now()
        with self._lock:
            count = self._counts.get((minute, actor, group_path))
            if count is None:
                count = self._counts[(minute, actor, group_path)] = _Count(group_id)
            count.lookups += 1
            count.keys += keys
            count.denied += denied
            count.features.update(features)
            rolled = minute != self._minute
            self._minute = minute
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="raise-lookup-audit", daemon=True)
                self._thread.start()
        if rolled:
            self.flush(only_ended=True)

    def flush(self, *, only_ended: bool = False) -> int:
        """Write the counted minutes (only those that have ended, with ``only_ended``); returns
        how many entries were written."""
        current = self._minute_of(self.clock())
        with self._lock:
            due = {k: v for k, v in self._counts.items() if not only_ended or k[0] != current}
            for k in due:
                del self._counts[k]
        if not due:
            return 0
        entries = [
            audit.entry(
                actor=actor,
                action="READ",
                resource_type="feature_group",
                resource_id=uuid.UUID(count.group_id),
                resource_path=group_path,
                org_id=None,
                details={
                    "kind": "online_lookup",
                    "minute": minute,
                    "lookups": count.lookups,
                    "keys": count.keys,
                    "rows_accessed": count.keys,
                    "denied": count.denied,
                    "features": sorted(count.features),
                },
            )
            for (minute, actor, group_path), count in sorted(due.items())
        ]
        with self.db.transaction() as s:
            audit.write(s, entries)
        return len(entries)

    def _loop(self) -> None:
        while not self._stop.wait(5.0):
            with contextlib.suppress(Exception):  # the catalog is closing or blinked: counts wait for the next flush
                self.flush(only_ended=True)

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(Exception):  # closing after the catalog: nothing to write them to
            self.flush()
