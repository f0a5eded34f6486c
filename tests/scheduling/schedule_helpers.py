"""What the scheduling tests share: the start of their clock, and a direct handler that counts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from raise_.scheduling import ScheduledItem

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class Calls:
    """What a direct handler saw, thread-safe (schedulers run items on worker threads)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, item: ScheduledItem) -> dict[str, str]:
        with self._lock:
            self.names.append(item.name)
        return {"ran": item.name}
