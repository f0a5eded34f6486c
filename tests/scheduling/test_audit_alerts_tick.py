"""Audit alerts are evaluated by the scheduler: a tick runs the ``audit-alerts`` item as a run
that matches every organization's alerts against the entries appended since its last check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from raise_ import AuditQuery, FeatureStore
from raise_.catalog.models import AuditAlertMatchModel
from raise_.governance import audit, current_user
from raise_.scheduling import ManualClock, store_scheduler
from raise_.scheduling.audit_alerts import organizations_with_alerts

GROUP = "acme/mlplatform/recommendation/user-signals"
EXTERNAL = AuditQuery(resource="user-signals/*", exclude_actor_orgs=["acme"])


def read_by(fs: FeatureStore, actor: str, n: int = 1) -> None:
    entries = [
        audit.entry(
            actor=actor,
            action="READ",
            resource_type="feature_group",
            resource_id=None,
            resource_path=GROUP,
            org_id=None,
            details={"rows": 10},
        )
        for _ in range(n)
    ]
    with fs._backend.db.transaction() as s:
        audit.write(s, entries)


def stored_matches(fs: FeatureStore) -> int:
    with fs._backend.db.reader() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(AuditAlertMatchModel)) or 0)


def test_a_tick_matches_new_audit_entries_against_every_organizations_alerts(fs: FeatureStore) -> None:
    fs.audit.create_alert("external-access", EXTERNAL, notify=["security@acme.com"])
    read_by(fs, "mallory@partner", n=2)
    read_by(fs, "bob@acme")  # an insider: no match
    backend = fs._backend
    clock = ManualClock(datetime.now(UTC))
    scheduler = store_scheduler(backend.db, actor=current_user, services=lambda: backend, clock=clock)
    try:
        assert organizations_with_alerts(backend.db) == ["acme"]
        assert stored_matches(fs) == 0
        [outcome] = scheduler.tick()
        assert (outcome.name, outcome.status) == ("audit-alerts", "completed"), outcome.error
        assert stored_matches(fs) == 2  # found by the tick, before anyone listed the alerts
        run = scheduler.runs.get(outcome.run_id or "", mine=False)  # type: ignore[union-attr]
        assert run.trigger == "schedule:audit-alerts" and run.actor == "alice@acme"
        assert run.metrics == {"organizations": 1, "new_matches": 2, "matches": {"acme": 2}}
        assert run.result == {"matches": {"acme": 2}}
        assert "external-access +2" in run.log

        assert scheduler.tick() == []  # checked a moment ago: due in a minute
        read_by(fs, "eve@partner")
        clock.advance(60)
        [outcome] = scheduler.tick()
        assert outcome.status == "completed" and stored_matches(fs) == 3
        assert outcome.next_due_at == scheduler.get("audit-alerts").next_due_at
        assert outcome.next_due_at - clock.now() == timedelta(seconds=60)
        assert fs.audit.alert("external-access").match_count == 3
    finally:
        scheduler.stop()
        if scheduler.runs is not None:
            scheduler.runs.shutdown()


def test_an_organization_the_scheduler_may_not_check_fails_the_run_with_the_reason(
    fs: FeatureStore, monkeypatch: object
) -> None:
    fs.audit.create_alert("external-access", EXTERNAL, notify=["security@acme.com"])
    backend = fs._backend
    clock = ManualClock(datetime.now(UTC))
    scheduler = store_scheduler(backend.db, actor=lambda: "mallory@partner", services=lambda: backend, clock=clock)
    try:
        # the engine acts as RAISE_USER: the worker's user, here not an admin of acme
        monkeypatch.setenv("RAISE_USER", "mallory@partner")  # type: ignore[attr-defined]
        [outcome] = scheduler.tick()
        assert outcome.status == "failed"
        assert outcome.error is not None and "Audit alerts of acme could not be checked" in outcome.error
        assert "PERMISSION_DENIED" in outcome.error
    finally:
        scheduler.stop()
