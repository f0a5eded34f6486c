"""What the live-table doors return: plain frozen values (the codec sends them over REST)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["LiveTableRecord", "RefreshEventRecord"]


@dataclass(frozen=True)
class LiveTableRecord:
    """A live table (PRD §3 ``live_tables``): ``group`` is the path of the group it belongs to;
    ``status`` is ``active``, ``paused`` or ``failed`` (its last refresh failed: ``error_code``
    and ``error_message`` say why, and the data of the last good refresh is still queried)."""

    id: str
    group: str
    name: str
    description: str | None
    analysis: dict[str, Any]
    refresh_policy: dict[str, Any]
    status: str
    last_refresh: datetime | None
    row_count: int
    storage_path: str | None
    owner: str
    created_at: datetime
    updated_at: datetime
    error_code: str | None = None
    error_message: str | None = None
    sources: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RefreshEventRecord:
    """One refresh (PRD §3 ``live_table_refresh_history``): ``trigger`` is ``created``,
    ``manual``, ``cdc`` (a commit to a group it reads) or ``scheduled``; ``mode`` is ``full``
    (the analysis recomputed) or ``incremental`` (merged from the appended rows alone)."""

    id: str
    live_table_id: str
    status: str  # running, completed, failed
    trigger: str | None
    started_at: datetime
    completed_at: datetime | None
    rows_processed: int | None
    error_code: str | None = None
    error_message: str | None = None
    mode: str | None = None
    duration_ms: float | None = None
    run_id: str | None = None
