"""The analytics-alert service (PRD §14): an analysis, a condition on one value of its result,
checked on an interval by the scheduler (and, with ``check_on_change``, right after a commit to
the data it reads), notifying through :mod:`raise_.notifications` on each transition.

An alert belongs to an organization (names unique there) and to the project it was made in:
creating, changing and deleting it need write on that project, and read on every feature its
analysis reads (checked when it is made; its checks then run **as its owner**, as a live table
refreshes). Each check is an evaluation row with the value it found. The alert's ``state`` is
``ok`` or ``firing``: a notification goes out when the condition starts to hold (``firing``)
and again when it stops (``resolved``), never at every check while it holds. ``alert.test()``
evaluates now and sends a message marked as a test on every channel, without changing state.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from raise_.alerts.conditions import Condition, extract_value
from raise_.alerts.models import AlertEvaluationModel, AnalyticsAlertModel
from raise_.alerts.records import AlertEvaluationRecord, AlertRecord
from raise_.analytics.service import AnalyticsService
from raise_.catalog.lookup import find_organization, find_project
from raise_.catalog.org_scoped import audit_org_scoped, find_org_scoped
from raise_.catalog.paths import parse_project_path
from raise_.durations import parse_duration
from raise_.errors import AlertExistsError, AlertNotFoundError, InvalidArgumentError, RaiseError
from raise_.governance.access import Level
from raise_.governance.context import Service, ServiceContext
from raise_.governance.guard import Target, filtered, guarded, internal
from raise_.governance.identity import acting_as
from raise_.metadata.models import OrganizationModel
from raise_.metadata.naming import validate_namespace_name
from raise_.notifications.records import Notification
from raise_.notifications.service import NotificationService
from raise_.storage.service import StorageService

if TYPE_CHECKING:
    from raise_.scheduling.scheduler import Scheduler

__all__ = ["ALERT_CHECK_KIND", "AlertService", "register_alert_schedules"]

#: The scheduler's item kind that checks one alert on its interval.
ALERT_CHECK_KIND: Final = "analytics-alert-check"
MIN_INTERVAL_SECONDS: Final = 60
#: Results reused by a check: only those computed on exactly the data there is now.
_SAME_DATA: Final = "same_data"


def _item_name(alert_id: uuid.UUID | str) -> str:
    return f"alert:{alert_id}"


def _record(row: AnalyticsAlertModel, org: str) -> AlertRecord:
    return AlertRecord(
        id=str(row.id),
        org=org,
        scope=row.scope,
        group=row.group_path,
        name=row.name,
        description=row.description,
        analysis=dict(row.analysis_spec),
        condition=dict(row.condition_spec),
        notify=list(row.notify or []),
        channels=list(row.channels or []),
        check_interval=int(row.check_interval),
        check_on_change=bool(row.check_on_change),
        status=row.status,
        state=row.state,
        owner=row.owner,
        last_check=row.last_check,
        last_triggered=row.last_triggered,
        last_value=row.last_value,
        trigger_count=int(row.trigger_count or 0),
        error_code=row.error_code,
        error_message=row.error_message,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _evaluation(
    row: AlertEvaluationModel, name: str, deliveries: list[dict[str, Any]] | None = None
) -> AlertEvaluationRecord:
    return AlertEvaluationRecord(
        id=str(row.id),
        alert=name,
        evaluated_at=row.evaluated_at,
        trigger=row.trigger,
        value=row.value,
        triggered=row.triggered,
        state=row.state,
        transition=row.transition,
        notified=bool(row.notified),
        test=bool(row.test),
        error_code=row.error_code,
        error_message=row.error_message,
        duration_ms=row.duration_ms,
        deliveries=deliveries,
    )


def _interval(value: object) -> int:
    seconds = parse_duration(value, "check_interval")
    if seconds < MIN_INTERVAL_SECONDS:
        raise InvalidArgumentError(
            f"An alert is checked at most once a minute (check_interval >= '1m'), got {value!r}; "
            "use check_on_change=True to check right after each commit.",
            {"check_interval": repr(value)},
        )
    return seconds


def _recipients(notify: object) -> list[str]:
    if isinstance(notify, str):
        notify = [notify]
    if not isinstance(notify, list | tuple) or not notify:
        raise InvalidArgumentError("notify must name at least one recipient, e.g. notify=['ml-team@acme.com'].", {})
    out = []
    for who in notify:
        if not isinstance(who, str) or not who.strip() or len(who) > 256:
            raise InvalidArgumentError(f"A recipient is an e-mail address or a phone number, got {who!r}.", {})
        out.append(who.strip())
    return out


class AlertService(Service):
    def __init__(
        self,
        context: ServiceContext,
        analytics: AnalyticsService,
        storage: StorageService,
        notifications: NotificationService,
        *,
        schedules: Callable[[], Scheduler] | None = None,
    ) -> None:
        super().__init__(context)
        self.analytics = analytics
        self.storage = storage
        self.notifications = notifications
        self._schedules = schedules
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        #: Called after an alert is created, changed or deleted (the change follower re-reads).
        self.on_tables_changed: list[Callable[[], None]] = []

    # -- rows -------------------------------------------------------------------------------------

    def _row(self, s: Any, project_path: str, name: object, level: Level = "read") -> AnalyticsAlertModel:
        row = find_org_scoped(
            s,
            AnalyticsAlertModel,
            project_path,
            name,
            what="alert",
            missing=AlertNotFoundError,
            lister="fs.list_alerts()",
        )
        self.authorize(level, Target.path(row.scope), f"{'read' if level == 'read' else 'change'} the alerts of")
        return row

    def _audit(self, s: Any, action: str, row: AnalyticsAlertModel, **details: Any) -> None:
        audit_org_scoped(s, self.actor(), action, row, "analytics_alert", "alerts", **details)

    # -- the doors --------------------------------------------------------------------------------

    @guarded("write", lambda a: Target.path(a["project_path"]), "create alerts in")
    def create_alert(
        self,
        project_path: str,
        name: str,
        analysis: dict[str, Any],
        condition: dict[str, Any],
        notify: list[str],
        channels: list[str] | None = None,
        check_interval: str | int = "1h",
        check_on_change: bool = False,
        description: str | None = None,
        group: str | None = None,
    ) -> AlertRecord:
        """An alert on ``analysis`` (a spec's ``to_dict()``, its features by name in the project
        or in ``group``) when ``condition`` holds, notifying ``notify`` over ``channels``
        (``email``, ``slack``, ``webhook``, ``pagerduty``, ``sms``), checked every
        ``check_interval`` and, with ``check_on_change``, after each commit to what it reads."""
        validate_namespace_name("alert", name)
        context = parse_project_path(project_path)
        cond = Condition.from_dict(condition)
        targets = _recipients(notify)
        chans = self.notifications.check_channels(list(channels) if channels is not None else ["email"])
        seconds = _interval(check_interval)
        if not isinstance(check_on_change, bool):
            raise InvalidArgumentError(f"check_on_change is True or False, got {check_on_change!r}.", {})
        if description is not None and not isinstance(description, str):
            raise InvalidArgumentError(f"description must be text, got {description!r}.", {})
        where = project_path if group is None else (group if group.count("/") == 3 else f"{project_path}/{group}")
        prepared = self.analytics.prepare(where, analysis)  # a bad spec or a denied feature fails now
        spec = prepared.spec.to_dict()
        cond.check_fits(spec)
        try:
            with self.db.transaction() as s:
                org = find_organization(s, context.org)
                find_project(s, context.org, context.domain, context.project)
                taken = s.scalar(
                    select(AnalyticsAlertModel.id).where(
                        AnalyticsAlertModel.org_id == org.id, AnalyticsAlertModel.name == name
                    )
                )
                if taken is not None:
                    raise AlertExistsError(
                        f"Alert {name!r} already exists in {context.org}; open it with fs.get_alert({name!r}) "
                        "or delete it first.",
                        {"organization": context.org, "name": name},
                    )
                row = AnalyticsAlertModel(
                    id=uuid.uuid4(),
                    org_id=org.id,
                    scope=str(context),
                    group_path=prepared.layout.path,
                    name=name,
                    description=description,
                    analysis_spec=spec,
                    condition_spec=cond.to_dict(),
                    notify=targets,
                    channels=chans,
                    check_interval=seconds,
                    check_on_change=check_on_change,
                    enabled=True,
                    status="active",
                    state="ok",
                    owner=self.actor(),
                    trigger_count=0,
                    cursors={},
                )
                s.add(row)
                s.flush()
                # Recipients are people's addresses, not secrets; endpoints never reach the catalog.
                self._audit(s, "CREATE", row, condition=cond.to_dict(), channels=chans, analysis=spec["type"])
                record = _record(row, context.org)
        except IntegrityError:
            raise AlertExistsError(
                f"Alert {name!r} already exists in {context.org}.", {"organization": context.org, "name": name}
            ) from None
        self._schedule(record, enabled=True)
        self._changed()
        return record

    @filtered("checks read on the alert's project")
    def get_alert(self, project_path: str, name: str) -> AlertRecord:
        with self.db.reader() as s:
            return _record(self._row(s, project_path, name), parse_project_path(project_path).org)

    @filtered("lists the alerts of the organization whose project the caller may read")
    def list_alerts(self, project_path: str) -> list[AlertRecord]:
        context = parse_project_path(project_path)
        with self.db.reader() as s:
            org = find_organization(s, context.org)
            rows = s.scalars(
                select(AnalyticsAlertModel)
                .where(AnalyticsAlertModel.org_id == org.id)
                .order_by(AnalyticsAlertModel.name)
            ).all()
            return [_record(r, context.org) for r in rows if self.access.can("read", Target.path(r.scope))]

    @filtered("checks write on the alert's project")
    def update_alert(
        self,
        project_path: str,
        name: str,
        condition: dict[str, Any] | None = None,
        notify: list[str] | None = None,
        channels: list[str] | None = None,
        check_interval: str | int | None = None,
        check_on_change: bool | None = None,
        description: str | None = None,
    ) -> AlertRecord:
        """Change what is given (PATCH); a changed condition starts again from ``ok``."""
        with self.db.reader() as s:
            spec = dict(self._row(s, project_path, name, "write").analysis_spec)
        cond = Condition.from_dict(condition) if condition is not None else None
        if cond is not None:
            cond.check_fits(spec)
        targets = _recipients(notify) if notify is not None else None
        chans = self.notifications.check_channels(list(channels)) if channels is not None else None
        seconds = _interval(check_interval) if check_interval is not None else None
        if check_on_change is not None and not isinstance(check_on_change, bool):
            raise InvalidArgumentError(f"check_on_change is True or False, got {check_on_change!r}.", {})
        with self.db.transaction() as s:
            row = self._row(s, project_path, name, "write")
            if cond is not None:
                row.condition_spec, row.state = cond.to_dict(), "ok"
            if targets is not None:
                row.notify = targets
            if chans is not None:
                row.channels = chans
            if seconds is not None:
                row.check_interval = seconds
            if check_on_change is not None:
                row.check_on_change = check_on_change
            if description is not None:
                row.description = description
            self._audit(
                s,
                "UPDATE_METADATA",
                row,
                changed=[
                    k
                    for k, v in (
                        ("condition", cond),
                        ("notify", targets),
                        ("channels", chans),
                        ("check_interval", seconds),
                        ("check_on_change", check_on_change),
                        ("description", description),
                    )
                    if v is not None
                ],
            )
            record = _record(row, parse_project_path(project_path).org)
        self._schedule(record, enabled=record.status != "paused")
        self._changed()
        return record

    @filtered("checks write on the alert's project")
    def pause_alert(self, project_path: str, name: str) -> AlertRecord:
        """Stop checking (the history stays); ``resume_alert`` starts again."""
        return self._set_paused(project_path, name, True)

    @filtered("checks write on the alert's project")
    def resume_alert(self, project_path: str, name: str) -> AlertRecord:
        return self._set_paused(project_path, name, False)

    def _set_paused(self, project_path: str, name: str, paused: bool) -> AlertRecord:
        with self.db.transaction() as s:
            row = self._row(s, project_path, name, "write")
            row.status, row.enabled = ("paused", False) if paused else ("active", True)
            self._audit(s, "UPDATE_METADATA", row, status=row.status)
            record = _record(row, parse_project_path(project_path).org)
        self._schedule(record, enabled=not paused)
        self._changed()
        return record

    @filtered("checks write on the alert's project")
    def delete_alert(self, project_path: str, name: str) -> bool:
        """Delete the alert and its evaluations (its deliveries stay on record)."""
        with self.db.transaction() as s:
            row = self._row(s, project_path, name, "write")
            self._audit(s, "DELETE", row)
            alert_id = row.id
            s.execute(delete(AlertEvaluationModel).where(AlertEvaluationModel.alert_id == alert_id))
            s.execute(delete(AnalyticsAlertModel).where(AnalyticsAlertModel.id == alert_id))
        self._scheduler().remove(_item_name(alert_id))
        self._changed()
        return True

    @filtered("checks write on the alert's project")
    def test_alert(self, project_path: str, name: str) -> AlertEvaluationRecord:
        """Evaluate now and send a message marked as a test on every channel (state unchanged)."""
        with self.db.reader() as s:
            alert_id = str(self._row(s, project_path, name, "write").id)
        return self.check_alert(alert_id, "test")

    @filtered("checks read on the alert's project")
    def alert_history(self, project_path: str, name: str, limit: int = 20) -> list[AlertEvaluationRecord]:
        """The alert's checks, newest first."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise InvalidArgumentError(f"limit must be a positive whole number, got {limit!r}.", {})
        with self.db.reader() as s:
            row = self._row(s, project_path, name)
            rows = s.scalars(
                select(AlertEvaluationModel)
                .where(AlertEvaluationModel.alert_id == row.id)
                .order_by(AlertEvaluationModel.evaluated_at.desc(), AlertEvaluationModel.id)
                .limit(limit)
            ).all()
            return [_evaluation(r, name) for r in rows]

    @filtered("checks read on the alert's project")
    def alert_deliveries(self, project_path: str, name: str, limit: int = 50) -> list[dict[str, Any]]:
        """The notifications the alert sent, per channel, newest first (no endpoint or secret)."""
        with self.db.reader() as s:
            alert_id = str(self._row(s, project_path, name).id)
        return [_delivery(d) for d in self.notifications.deliveries("analytics_alert", alert_id, limit)]

    # -- checking ---------------------------------------------------------------------------------

    def _lock(self, alert_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(alert_id, threading.Lock())

    @internal
    def check_alert(self, alert_id: str, trigger: str) -> AlertEvaluationRecord:
        """Evaluate the alert now, as its owner: record the check and notify on a transition
        (``trigger="test"``: notify with a test message, whatever the value, state unchanged)."""
        with self._lock(alert_id):
            return self._check(alert_id, trigger)

    def _check(self, alert_id: str, trigger: str) -> AlertEvaluationRecord:
        key = uuid.UUID(alert_id)
        with self.db.reader() as s:
            row = s.get(AnalyticsAlertModel, key)
            if row is None:
                raise AlertNotFoundError(f"No alert {alert_id}.", {"id": alert_id})
            org = s.get(OrganizationModel, row.org_id)
            assert org is not None
            alert = _record(row, org.name)
            row_cursors = dict(row.cursors or {})
            seen = int(row_cursors.get(row.group_path, 0))
        test = trigger == "test"
        cond = Condition.from_dict(alert.condition)
        clock = time.perf_counter()
        value: float | None = None
        error: tuple[str, str] | None = None
        result_id = None
        # What the check saw, for the change follower (read before the analysis: a later commit wakes it again)
        cursors = self._newest_cursors(alert.group, seen) if alert.check_on_change else dict(row_cursors)
        try:
            with acting_as(alert.owner):
                result = self.analytics.analyze(alert.group, alert.analysis, _SAME_DATA)
            result_id = result.id
            value = extract_value(alert.analysis, result.data, cond)
        except RaiseError as exc:
            error = (exc.code, exc.message)
        except Exception as exc:  # a store failure: recorded on the alert, never lost
            error = ("ALERT_CHECK_FAILED", f"{type(exc).__name__}: {exc}")
        holds = None if value is None else cond.holds(value)
        state, transition = alert.state, None
        if not test and holds is not None:
            if holds and alert.state != "firing":
                state, transition = "firing", "fired"
            elif not holds and alert.state == "firing":
                state, transition = "ok", "resolved"
        now = datetime.now(UTC)
        # The check and the alert's new state are committed first, then the message goes out: a
        # receiver that looks at the alert on receipt sees the state the message announces.
        with self.db.transaction() as s:
            evaluation = AlertEvaluationModel(
                id=uuid.uuid4(),
                alert_id=key,
                evaluated_at=now,
                trigger=trigger,
                value=value,
                triggered=holds,
                state=state,
                transition=transition,
                notified=False,
                test=test,
                error_code=error[0] if error else None,
                error_message=error[1] if error else None,
                analysis_result_id=result_id,
                duration_ms=(time.perf_counter() - clock) * 1000.0,
            )
            s.add(evaluation)
            row = s.get(AnalyticsAlertModel, key)
            if row is not None and not test:
                row.last_check = now
                row.last_value = value
                row.state = state
                row.error_code, row.error_message = error if error else (None, None)
                row.cursors = cursors
                if transition == "fired":
                    row.last_triggered = now
                    row.trigger_count = int(row.trigger_count or 0) + 1
            s.flush()
            evaluation_id = evaluation.id
            s.expunge(evaluation)
        deliveries: list[dict[str, Any]] = []
        if test or transition is not None:
            event = "test" if test else ("firing" if transition == "fired" else "resolved")
            note = self._notification(alert, cond, event, value, error, now)
            deliveries = [_delivery(d) for d in self.notifications.deliver(note, alert.channels)]
            sent = any(d["status"] == "delivered" for d in deliveries)
            with self.db.transaction() as s:
                stored = s.get(AlertEvaluationModel, evaluation_id)
                assert stored is not None
                stored.notified = sent
                s.flush()
                return _evaluation(stored, alert.name, deliveries)
        return _evaluation(evaluation, alert.name, deliveries)

    def _notification(
        self,
        alert: AlertRecord,
        cond: Condition,
        event: str,
        value: float | None,
        error: tuple[str, str] | None,
        at: datetime,
    ) -> Notification:
        shown = "no value" if value is None else f"{value:.6g}"
        words = {"firing": "is firing", "resolved": "resolved", "test": "test message"}[event]
        subject = f"Raise alert {alert.name} {words}: {cond.describe()} (now {shown})"
        lines = [
            f"Alert {alert.name} ({alert.org}) {words}.",
            f"Condition: {cond.describe()}",
            f"Value: {shown}",
            f"Analysis: {alert.analysis.get('type')} on {alert.group}",
            f"Checked at: {at.isoformat()}",
        ]
        if error is not None:
            lines.append(f"The check failed: [{error[0]}] {error[1]}")
        if event == "test":
            lines.insert(0, "This is a test of the alert, sent by alert.test(); its state is unchanged.")
        details = {
            "alert": alert.name,
            "organization": alert.org,
            "group": alert.group,
            "condition": cond.to_dict(),
            "value": value,
            "state": alert.state if event == "test" else ("firing" if event == "firing" else "ok"),
            "analysis": alert.analysis,
            "checked_at": at.isoformat(),
        }
        return Notification(
            source_kind="analytics_alert",
            source_id=alert.id,
            source_name=alert.name,
            event=event,
            subject=subject,
            body="\n".join(lines),
            recipients=list(alert.notify),
            details=details,
            test=event == "test",
            dedup_key=f"raise-alert-{alert.id}",
        )

    # -- the change feed and the scheduler ---------------------------------------------------------

    def _newest_cursors(self, group: str, seen: int) -> dict[str, int]:
        """The group's newest commit (read from the alert's last cursor on: cheap)."""
        newest = seen
        for event in self.storage.offline.commits_after(seen, None):
            if event.group_path == group:
                newest = max(newest, event.commit_id)
        return {group: newest}

    @internal
    def following(self) -> list[tuple[str, str, list[str]]]:
        """(id, owner, [group]) of every active alert checked on change."""
        with self.db.reader() as s:
            rows = s.execute(
                select(AnalyticsAlertModel.id, AnalyticsAlertModel.owner, AnalyticsAlertModel.group_path).where(
                    AnalyticsAlertModel.enabled.is_(True), AnalyticsAlertModel.check_on_change.is_(True)
                )
            ).all()
        return [(str(i), o, [g]) for i, o, g in rows]

    @internal
    def behind(self, alert_id: str) -> bool:
        """Whether its group has commits the alert's last check did not see."""
        with self.db.reader() as s:
            row = s.get(AnalyticsAlertModel, uuid.UUID(alert_id))
            if row is None or not row.enabled:
                return False
            group, seen = row.group_path, int((row.cursors or {}).get(row.group_path, 0))
        return any(e.group_path == group for e in self.storage.offline.commits_after(seen))

    @internal
    def refresh_now(self, alert_id: str, trigger: str) -> AlertEvaluationRecord:
        """The change follower's call: a check after a commit."""
        return self.check_alert(alert_id, "change" if trigger == "cdc" else trigger)

    @internal
    def any_alerts(self) -> bool:
        with self.db.reader() as s:
            return s.scalar(select(AnalyticsAlertModel.id).limit(1)) is not None

    @internal
    def run_scheduled(self, alert_id: str) -> dict[str, Any]:
        """A scheduled check (the scheduler's item for the alert)."""
        with self.db.reader() as s:
            row = s.get(AnalyticsAlertModel, uuid.UUID(alert_id))
            paused = row is None or not row.enabled
        if paused:
            return {"skipped": "paused or deleted"}
        evaluation = self.check_alert(alert_id, "scheduled")
        return {"evaluation": evaluation.id, "state": evaluation.state, "value": evaluation.value}

    def _scheduler(self) -> Scheduler:
        if self._schedules is not None:
            return self._schedules()
        from raise_.scheduling.scheduler import Scheduler

        return Scheduler(self.db)

    def _schedule(self, record: AlertRecord, *, enabled: bool) -> None:
        self._scheduler().ensure(
            _item_name(record.id),
            ALERT_CHECK_KIND,
            every=float(record.check_interval),
            payload={"alert_id": record.id},
            enabled=enabled,
        )

    def _changed(self) -> None:
        for hook in list(self.on_tables_changed):
            hook()


def _delivery(d: Any) -> dict[str, Any]:
    return {
        "channel": d.channel,
        "status": d.status,
        "attempts": d.attempts,
        "error": d.error,
        "event": d.event,
        "test": d.test,
        "recipients": list(d.recipients),
        "created_at": d.created_at,
        "delivered_at": d.delivered_at,
    }


def register_alert_schedules(scheduler: Scheduler, alerts: AlertService) -> None:
    """Teach ``scheduler`` to check analytics alerts on their intervals."""
    scheduler.register(ALERT_CHECK_KIND, lambda item: alerts.run_scheduled(str(item.payload["alert_id"])))
