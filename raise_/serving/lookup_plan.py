"""What a lookup of a list of features needs, resolved once and reused while nothing changed.

Resolving ``["user-signals.click_count", "user-signals.ctr@v1"]`` costs catalog queries (the
group, its features, the caller's access to each). A model server asks for the same list again
and again, so the resolved :class:`LookupPlan` is kept per (caller, project, feature list) and
trusted while the access generation (:mod:`raise_.governance.access_cache`: bumped by every change
to namespaces, features, ACLs, grants) has not moved. The generation is read at most every
``recheck`` seconds (a quarter of a second by default) and the plan rebuilt every ``max_age``
seconds whatever happens (grants expire with time, not with a write): a check costs microseconds,
and a revoked reader is refused within a quarter of a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

__all__ = ["GroupPlan", "LookupPlan", "PlanCache", "PlannedFeature", "arrow_type_of"]


@dataclass(frozen=True)
class PlannedFeature:
    position: int  # where it is in the caller's list
    ref: str  # as the caller wrote it
    label: str  # name@version
    version: str
    dtype: str
    decode: Callable[[Any], Any]
    denied: bool


@dataclass(frozen=True)
class GroupPlan:
    path: str
    group_id: str
    name: str
    table: str
    entity_keys: tuple[str, ...]
    ttl_seconds: int | None
    features: tuple[PlannedFeature, ...]
    key_types: tuple[pa.DataType, ...] = ()

    @property
    def labels(self) -> list[str]:
        return [f.label for f in self.features if not f.denied]


@dataclass
class LookupPlan:
    features: list[str]
    dtypes: list[str]
    groups: list[GroupPlan]
    generation: int
    built_at: float = field(default_factory=time.monotonic)
    checked_at: float = field(default_factory=time.monotonic)


def arrow_type_of(text: str) -> pa.DataType:
    """An entity key's Arrow type from its text (``int64``, ``string``, ...), as the materializer wrote it."""
    try:
        return pa.type_for_alias(text)
    except ValueError:
        return pa.string()


class PlanCache:
    def __init__(self, generation: Callable[[], int], *, recheck: float = 0.25, max_age: float = 5.0) -> None:
        self._generation = generation
        self.recheck = recheck
        self.max_age = max_age
        self._plans: dict[tuple[Any, ...], LookupPlan] = {}
        self._lock = threading.Lock()
        self._known_generation: int | None = None
        self._generation_read_at = 0.0

    def current_generation(self) -> int:
        """The access generation, read from the catalog at most every ``recheck`` seconds."""
        now = time.monotonic()
        with self._lock:
            if self._known_generation is not None and now - self._generation_read_at < self.recheck:
                return self._known_generation
        generation = self._generation()
        with self._lock:
            if generation != self._known_generation:
                self._plans.clear()
            self._known_generation, self._generation_read_at = generation, now
        return generation

    def get(self, key: tuple[Any, ...], build: Callable[[int], LookupPlan]) -> LookupPlan:
        generation = self.current_generation()
        with self._lock:
            plan = self._plans.get(key)
        if plan is not None and plan.generation == generation and time.monotonic() - plan.built_at < self.max_age:
            return plan
        plan = build(generation)
        with self._lock:
            if len(self._plans) > 10_000:
                self._plans.clear()
            self._plans[key] = plan
        return plan

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()
            self._known_generation = None
