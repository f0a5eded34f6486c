"""``AnalyticsAlert``: a condition on an analysis, checked on an interval, notifying on each
transition (README *Analytics Alerts*, PRD §14).

>>> alert = fs.create_alert(name="high-null-rate", analysis=Aggregation(...),
...                         condition=Condition.GREATER_THAN(0.05),
...                         notify=["data-quality@acme.com"], channels=["email"])  # doctest: +SKIP
>>> alert.test().deliveries                                                       # doctest: +SKIP
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING, Any

from raise_.alerts.conditions import Condition
from raise_.alerts.records import AlertEvaluationRecord, AlertRecord
from raise_.analytics.specs import AnalysisSpec, spec_from_dict
from raise_.client.html_table import key_value_table
from raise_.durations import format_duration

if TYPE_CHECKING:
    from raise_.api.protocol import Backend

__all__ = ["Alerts", "AnalyticsAlert"]


class AnalyticsAlert:
    def __init__(self, backend: Backend, record: AlertRecord, project: str) -> None:
        self._backend = backend
        self._record = record
        self._project = project

    @property
    def record(self) -> AlertRecord:
        return self._record

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def status(self) -> str:
        """``active`` or ``paused``."""
        return self._record.status

    @property
    def state(self) -> str:
        """``ok`` or ``firing`` (after the last check)."""
        return self._record.state

    @property
    def condition(self) -> Condition:
        return Condition.from_dict(self._record.condition)

    @property
    def analysis(self) -> AnalysisSpec:
        return spec_from_dict(self._record.analysis)

    @property
    def group(self) -> str:
        return self._record.group

    @property
    def notify(self) -> list[str]:
        return list(self._record.notify)

    @property
    def channels(self) -> list[str]:
        return list(self._record.channels)

    @property
    def check_interval(self) -> str:
        return format_duration(self._record.check_interval)

    @property
    def last_check(self) -> datetime | None:
        return self._record.last_check

    @property
    def last_value(self) -> float | None:
        return self._record.last_value

    @property
    def last_triggered(self) -> datetime | None:
        return self._record.last_triggered

    @property
    def trigger_count(self) -> int:
        return self._record.trigger_count

    def reload(self) -> AnalyticsAlert:
        self._record = self._backend.get_alert(self._project, self.name)
        return self

    def pause(self) -> AnalyticsAlert:
        self._record = self._backend.pause_alert(self._project, self.name)
        return self

    def resume(self) -> AnalyticsAlert:
        self._record = self._backend.resume_alert(self._project, self.name)
        return self

    def update(
        self,
        *,
        condition: Condition | dict[str, Any] | None = None,
        notify: list[str] | None = None,
        channels: list[str] | None = None,
        check_interval: str | int | None = None,
        check_on_change: bool | None = None,
        description: str | None = None,
    ) -> AnalyticsAlert:
        self._record = self._backend.update_alert(
            self._project,
            self.name,
            Condition.from_dict(condition).to_dict() if condition is not None else None,
            notify,
            channels,
            check_interval,
            check_on_change,
            description,
        )
        return self

    def delete(self) -> bool:
        return self._backend.delete_alert(self._project, self.name)

    def test(self) -> AlertEvaluationRecord:
        """Evaluate now and send a message marked as a test on every channel (the alert's state
        does not change); the evaluation, with each channel's delivery."""
        evaluation = self._backend.test_alert(self._project, self.name)
        self.reload()
        return evaluation

    def history(self, limit: int = 20) -> list[AlertEvaluationRecord]:
        """Its checks, newest first: the value found, the state after, the transition made."""
        return self._backend.alert_history(self._project, self.name, limit)

    def deliveries(self, limit: int = 50) -> list[dict[str, Any]]:
        """The notifications it sent, per channel (status, attempts, error), newest first."""
        return self._backend.alert_deliveries(self._project, self.name, limit)

    def __repr__(self) -> str:
        return f"AnalyticsAlert({self.name!r}, {self.condition!r}, status={self.status!r}, state={self.state!r})"

    def _repr_html_(self) -> str:
        r = self._record
        cells = [
            ("condition", repr(self.condition)),
            ("analysis", f"{r.analysis.get('type')} on {r.group}"),
            ("status", f"{r.status}, {r.state}" + (f" ({r.error_code}: {r.error_message})" if r.error_code else "")),
            ("channels", ", ".join(r.channels) + " → " + ", ".join(r.notify)),
            ("checked", f"every {self.check_interval}" + (" and on change" if r.check_on_change else "")),
            ("last value", "none" if r.last_value is None else f"{r.last_value:.6g}"),
        ]
        return f"<b>Alert {html.escape(r.name)}</b>" + key_value_table(cells)


class Alerts:
    """Mixed into ``FeatureStore``: the analytics alerts of its organization."""

    _backend: Backend

    @property
    def path(self) -> str:
        raise NotImplementedError

    def create_alert(
        self,
        name: str,
        analysis: AnalysisSpec | dict[str, Any],
        condition: Condition | dict[str, Any],
        notify: list[str],
        channels: list[str] | None = None,
        check_interval: str | int = "1h",
        *,
        check_on_change: bool = False,
        description: str | None = None,
        group: str | None = None,
    ) -> AnalyticsAlert:
        """Watch ``analysis`` (its features by name: the project's one group holding them, or
        ``group``): when ``condition`` starts to hold, notify ``notify`` over ``channels``
        (``email``, ``slack``, ``webhook``, ``pagerduty``, ``sms``; endpoints are the server's
        configuration), and again when it stops. Checked every ``check_interval`` and, with
        ``check_on_change=True``, right after each commit to what it reads."""
        record = self._backend.create_alert(
            self.path,
            name,
            spec_from_dict(analysis).to_dict(),
            Condition.from_dict(condition).to_dict(),
            notify,
            channels,
            check_interval,
            check_on_change,
            description,
            group,
        )
        return AnalyticsAlert(self._backend, record, self.path)

    def get_alert(self, name: str) -> AnalyticsAlert:
        return AnalyticsAlert(self._backend, self._backend.get_alert(self.path, name), self.path)

    def list_alerts(self) -> list[AnalyticsAlert]:
        return [AnalyticsAlert(self._backend, r, self.path) for r in self._backend.list_alerts(self.path)]

    def delete_alert(self, name: str) -> bool:
        return self._backend.delete_alert(self.path, name)
