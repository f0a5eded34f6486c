"""What the analytics service returns: plain records that travel as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["AnalysisJobRecord", "AnalysisRecord"]


@dataclass(frozen=True)
class AnalysisRecord:
    """One computed analysis. ``data`` is the payload of its type (see ``raise_.analytics``);
    ``data_version`` names the commits it read (``group@commit``); ``stale`` says that newer
    commits exist (only a ``Freshness.CACHED`` or ``WITHIN`` result can be stale)."""

    id: str
    type: str
    scope: str  # the group analysed
    spec: dict[str, Any]
    spec_hash: str
    data: dict[str, Any]
    data_version: str
    computed_at: datetime
    computed_by: str | None
    duration_ms: float
    from_cache: bool
    stale: bool


@dataclass(frozen=True)
class AnalysisJobRecord:
    id: str
    status: str  # pending, running, completed, failed, cancelled
    scope: str
    spec: dict[str, Any]
    freshness: str
    submitted_by: str
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    result_id: str | None
    error_code: str | None
    error_message: str | None
