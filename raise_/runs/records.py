"""What a run is, as the SDK, the REST routes and the launchers see it (DESIGN §8 "Runs")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

__all__ = ["RUN_STATUSES", "TERMINAL_STATUSES", "RunError", "RunRecord", "RunStatus", "StopReason"]

RunStatus = Literal["pending", "running", "completed", "failed", "cancelled", "timed_out"]
#: Why a run was asked to stop before it finished by itself.
StopReason = Literal["cancelled", "timed_out"]

RUN_STATUSES: Final[tuple[RunStatus, ...]] = ("pending", "running", "completed", "failed", "cancelled", "timed_out")
TERMINAL_STATUSES: Final[frozenset[str]] = frozenset({"completed", "failed", "cancelled", "timed_out"})


@dataclass(frozen=True)
class RunError:
    """Why a run did not complete: a coded error (``RUN_CRASHED``, ``RUN_ORPHANED``, a
    ``RaiseError`` code, or the Python exception's class name) and a message a person can act on."""

    code: str
    message: str


@dataclass(frozen=True)
class RunRecord:
    """One run of user work: a job, a refresh, an evaluation, an asynchronous analysis.

    ``timings`` are seconds per named stage (``ctx.stage("read")``), ``metrics`` what the handler
    reported, ``result`` what it returned. ``runner`` is ``host:pid`` of the process that holds
    the run (the launcher while pending, the executing process once running)."""

    id: str
    kind: str
    status: RunStatus
    trigger: str
    actor: str
    spec: dict[str, Any]
    launcher: str
    created_at: datetime
    timings: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: RunError | None = None
    log: str = ""
    runner: str | None = None
    timeout_seconds: float | None = None
    stop_requested: StopReason | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()
