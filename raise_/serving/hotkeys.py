"""Hot keys (FR-016): concurrent lookups of one entity share one store read, and a near cache
answers repeats for at most a second.

A model server under load asks for the same popular entity many times at once. The first
lookup of a (table, key, features) reads the store; lookups of the same while it reads wait for
its answer instead of reading too (*coalescing*); for ``ttl`` seconds after, the answer is
served from memory (the *near cache*). A materialization in this process drops its table's
cached entries at once; one in another process is seen within ``ttl`` (at most one second).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Final, Generic, TypeVar

__all__ = ["MAX_NEAR_CACHE_TTL", "HotKeyReader"]

T = TypeVar("T")
MAX_NEAR_CACHE_TTL: Final = 1.0


class _Flight(Generic[T]):
    """A store read under way: its leader holds ``lock`` until the answer is set (a plain lock, not
    an Event: a flight nobody waits for, the usual case, costs next to nothing)."""

    __slots__ = ("error", "lock", "value")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()
        self.value: T | None = None
        self.error: BaseException | None = None


class HotKeyReader(Generic[T]):
    def __init__(self, ttl: float = 0.5, capacity: int = 10_000) -> None:
        self.ttl = min(max(0.0, float(ttl)), MAX_NEAR_CACHE_TTL)
        self.capacity = capacity
        self._lock = threading.Lock()
        self._cache: OrderedDict[Hashable, tuple[float, Hashable, T]] = OrderedDict()
        self._flights: dict[Hashable, _Flight[T]] = {}
        self._generation: dict[Hashable, int] = {}  # per table: bumped by invalidate()
        self.reads = 0  # store reads made
        self.coalesced = 0  # lookups that waited for another's read
        self.cached = 0  # lookups answered from the near cache

    def get(self, table: Hashable, key: Hashable, read: Callable[[], T]) -> T:
        """The value of ``key`` in ``table``: from the near cache, another lookup's read in
        flight, or ``read()``."""
        full = (table, key)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(full)
            if hit is not None and hit[0] > now and hit[1] == self._generation.get(table, 0):
                self.cached += 1
                return hit[2]
            flight = self._flights.get(full)
            if flight is not None:
                self.coalesced += 1
                leader = False
            else:
                flight = self._flights[full] = _Flight()
                leader = True
                generation = self._generation.get(table, 0)
        if not leader:
            flight.lock.acquire()  # released by the leader once the answer is in
            flight.lock.release()
            if flight.error is not None:
                raise flight.error
            return flight.value  # type: ignore[return-value]
        try:
            value = read()
        except BaseException as exc:
            flight.error = exc
            with self._lock:
                self._flights.pop(full, None)
            flight.lock.release()
            raise
        flight.value = value
        with self._lock:
            self.reads += 1
            self._flights.pop(full, None)
            if self.ttl > 0 and generation == self._generation.get(table, 0):
                self._cache[full] = (time.monotonic() + self.ttl, generation, value)
                self._cache.move_to_end(full)
                while len(self._cache) > self.capacity:
                    self._cache.popitem(last=False)
        flight.lock.release()
        return value

    def invalidate(self, table: Hashable) -> None:
        """Forget what is cached of ``table`` (it was just written)."""
        with self._lock:
            self._generation[table] = self._generation.get(table, 0) + 1
