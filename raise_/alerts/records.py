"""What the alert doors return: plain frozen values (the codec sends them over REST)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["AlertEvaluationRecord", "AlertRecord"]


@dataclass(frozen=True)
class AlertRecord:
    """An analytics alert (PRD §3 ``analytics_alerts``). ``status`` is ``active`` or ``paused``;
    ``state`` is ``ok`` or ``firing`` (notifications go out when it changes); ``check_interval``
    is in seconds; ``group`` is the group its analysis reads."""

    id: str
    org: str
    scope: str
    group: str
    name: str
    description: str | None
    analysis: dict[str, Any]
    condition: dict[str, Any]
    notify: list[str]
    channels: list[str]
    check_interval: int
    check_on_change: bool
    status: str
    state: str
    owner: str
    last_check: datetime | None
    last_triggered: datetime | None
    last_value: float | None
    trigger_count: int
    error_code: str | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AlertEvaluationRecord:
    """One check of an alert: the value it found, whether the condition held, the state after
    it and the transition it made (``fired``, ``resolved`` or None), whether it notified, and the
    coded error of a check that could not run. ``test``: made by ``alert.test()``."""

    id: str
    alert: str
    evaluated_at: datetime
    trigger: str
    value: float | None
    triggered: bool | None
    state: str
    transition: str | None
    notified: bool
    test: bool
    error_code: str | None
    error_message: str | None
    duration_ms: float | None
    deliveries: list[dict[str, Any]] | None = None
