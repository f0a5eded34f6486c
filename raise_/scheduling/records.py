"""What the scheduler tells about its items and its ticks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ItemOutcome", "ScheduledItem"]


@dataclass(frozen=True)
class ScheduledItem:
    id: str
    name: str
    kind: str
    every: float | None
    cron: str | None
    payload: dict[str, Any]
    enabled: bool
    next_due_at: datetime
    last_run_at: datetime | None = None
    last_run_id: str | None = None
    last_status: str | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None


@dataclass(frozen=True)
class ItemOutcome:
    """One due item a tick ran: how it ended, the run that recorded it (for run kinds), and
    when it is due next."""

    name: str
    kind: str
    status: str  # "completed" / "failed" / a run's end status
    next_due_at: datetime
    run_id: str | None = None
    error: str | None = None
    result: Any = field(default=None, compare=False)
