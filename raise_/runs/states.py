"""The run state machine: which status may follow which.

Every status change is written as a conditional UPDATE (``WHERE status IN sources``), so two
processes racing (a cancel against a start, a parent recording a crash against a child recording
its own end) cannot both win, and no transition outside this table is ever stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from raise_.runs.errors import RunStateError
from raise_.runs.records import RUN_STATUSES

__all__ = ["TRANSITIONS", "can_move", "check_move", "sources_of"]

TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    # failed from pending: the launcher could not start it, or the process holding it is gone
    "pending": frozenset({"running", "cancelled", "failed"}),
    "running": frozenset({"completed", "failed", "cancelled", "timed_out"}),
    "completed": frozenset(),
    "failed": frozenset(),
    "cancelled": frozenset(),
    "timed_out": frozenset(),
}


def can_move(source: str, target: str) -> bool:
    return target in TRANSITIONS.get(source, frozenset())


def check_move(source: str, target: str) -> None:
    if not can_move(source, target):
        allowed = ", ".join(sorted(TRANSITIONS.get(source, ()))) or "nothing (it has ended)"
        raise RunStateError(
            f"A {source} run cannot become {target}; from {source} it can become {allowed}.",
            {"from": source, "to": target},
        )


def sources_of(target: str) -> tuple[str, ...]:
    """The statuses a run may be in to become ``target``."""
    return tuple(s for s in RUN_STATUSES if can_move(s, target))
