"""Audit alerts are delivered: the scheduled check sends each alert's new matches (one message
per alert per batch), marks them delivered, retries failed ones, and gives up after
MAX_FAILED_BATCHES failed batches."""

from __future__ import annotations

import types
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from notification_receivers import (
    Mailbox,
    Sleeps,
    SmtpServer,
    closed_port,
    email_section,
    settings,
)
from pytest_httpserver import HTTPServer

from raise_ import AuditQuery, FeatureStore
from raise_.governance import audit, current_user
from raise_.notifications import NotificationService
from raise_.notifications.audit_delivery import MAX_FAILED_BATCHES, deliver_audit_matches
from raise_.scheduling import ManualClock, store_scheduler
from raise_.scheduling.scheduler import Scheduler

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


def audit_rows(fs: FeatureStore) -> list[str]:
    with fs._backend.db.engine.connect() as conn:
        return [str(dict(r)) for r in conn.execute(sa.text("SELECT * FROM audit_log ORDER BY seq")).mappings()]


@pytest.fixture
def backend(fs: FeatureStore) -> object:
    return fs._backend


@pytest.fixture
def scheduler(backend: object) -> Iterator[tuple[Scheduler, ManualClock]]:
    clock = ManualClock(datetime.now(UTC))
    made = store_scheduler(backend.db, actor=current_user, services=lambda: backend, clock=clock)  # type: ignore[attr-defined]
    try:
        yield made, clock
    finally:
        made.stop()
        if made.runs is not None:
            made.runs.shutdown()


def test_the_scheduled_check_emails_new_matches_once_and_marks_them_delivered(
    fs: FeatureStore,
    backend: object,
    scheduler: tuple[Scheduler, ManualClock],
    smtp: SmtpServer,
    mailbox: Mailbox,
) -> None:
    backend.notifications = NotificationService(  # type: ignore[attr-defined]
        backend.db,  # type: ignore[attr-defined]
        settings(email=email_section(smtp, username="raise-mailer", password="smtp-pa55-Secret!")),
        sleep=Sleeps(),
    )
    fs.audit.create_alert("external-access", EXTERNAL, notify=["security@acme.com", "+15550100200"])
    read_by(fs, "mallory@partner")
    read_by(fs, "bob@acme")  # an insider: no match
    sched, clock = scheduler

    [outcome] = sched.tick()
    assert outcome.status == "completed", outcome.error
    [mail] = mailbox.wait_for(1)
    assert mail.rcpt_tos == ["security@acme.com"]
    assert mail.message["Subject"] == "[MATCH] Audit alert external-access: 1 new matching entry in acme"
    assert mail.message["X-Raise-Source"] == "audit_alert/external-access"
    body = mail.message.get_content().replace("\r\n", "\n")
    assert body.startswith("The audit alert 'external-access' of acme matched 1 new entry:\n\n")
    [entry] = fs.audit.query(actors=["mallory@partner"])
    line = f"{entry.timestamp:%Y-%m-%d %H:%M:%S} UTC  mallory@partner  READ  feature_group {GROUP}"
    assert line in body.splitlines()
    assert "bob@acme" not in body
    assert 'fs.audit.alert("external-access").matches()' in body

    [match] = fs.audit.alert("external-access").matches()
    assert match.delivered_at is not None
    run = sched.runs.get(outcome.run_id or "", mine=False)  # type: ignore[union-attr]
    assert "delivery: acme/external-access: 1 matches via email" in run.log
    assert run.metrics == {"organizations": 1, "new_matches": 1, "matches": {"acme": 1}}
    [delivery] = backend.notifications.deliveries(source_kind="audit_alert")  # type: ignore[attr-defined]
    assert (delivery.channel, delivery.status, delivery.event, delivery.source_name) == (
        "email",
        "delivered",
        "match",
        "external-access",
    )

    # The next check has nothing new to send.
    clock.advance(60)
    [outcome] = sched.tick()
    assert outcome.status == "completed"
    assert len(mailbox.messages) == 1
    assert len(backend.notifications.deliveries(source_kind="audit_alert")) == 1  # type: ignore[attr-defined]

    # A new match is sent on its own.
    read_by(fs, "eve@partner", n=2)
    clock.advance(60)
    sched.tick()
    _, second = mailbox.wait_for(2)
    assert second.message["Subject"] == "[MATCH] Audit alert external-access: 2 new matching entries in acme"
    assert "eve@partner" in second.message.get_content() and "mallory@partner" not in second.message.get_content()
    assert all(m.delivered_at is not None for m in fs.audit.alert("external-access").matches())
    assert not any("smtp-pa55-Secret!" in row for row in audit_rows(fs))


def test_failed_batches_are_retried_then_given_up_on(
    fs: FeatureStore, backend: object, smtp: SmtpServer, mailbox: Mailbox
) -> None:
    db = backend.db  # type: ignore[attr-defined]
    dead = NotificationService(
        db,
        settings(email={"host": "127.0.0.1", "port": closed_port(), "sender": "raise@acme.com"}, retry={"attempts": 1}),
        sleep=Sleeps(),
    )
    fs.audit.create_alert("external-access", EXTERNAL, notify=["security@acme.com"])
    read_by(fs, "mallory@partner")
    fs.audit.check_alerts()
    entries_before = len(audit_rows(fs))

    logs: list[list[str]] = []
    for _ in range(MAX_FAILED_BATCHES + 1):
        lines: list[str] = []
        assert deliver_audit_matches(db, dead, log=lines.append) == 0
        logs.append(lines)
    assert all("1 matches not delivered (email: [DELIVERY_FAILED] email: cannot reach" in run[0] for run in logs[:5])
    assert not any("gave up" in line for run in logs[:4] for line in run)
    assert logs[4][1].startswith(f"delivery: acme/external-access: gave up on 1 matches after {MAX_FAILED_BATCHES}")
    assert logs[5] == []  # given up on: not sent again
    assert len(dead.deliveries(source_kind="audit_alert")) == MAX_FAILED_BATCHES
    assert fs.audit.alert("external-access").matches()[0].delivered_at is None
    assert len(audit_rows(fs)) == entries_before  # deliveries write no audit entries

    # A later match goes out once the channel works; the given-up one stays undelivered.
    working = NotificationService(db, settings(email=email_section(smtp)), sleep=Sleeps())
    read_by(fs, "eve@partner")
    fs.audit.check_alerts()
    assert deliver_audit_matches(db, working) == 1
    [mail] = mailbox.wait_for(1)
    assert "eve@partner" in mail.message.get_content() and "mallory" not in mail.message.get_content()
    newest, oldest = fs.audit.alert("external-access").matches()
    assert newest.delivered_at is not None and oldest.delivered_at is None


def test_one_channel_delivering_is_enough_to_mark_the_matches_delivered(
    fs: FeatureStore, backend: object, smtp: SmtpServer, mailbox: Mailbox, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/slack").respond_with_data("no_service", status=404)
    db = backend.db  # type: ignore[attr-defined]
    svc = NotificationService(
        db, settings(email=email_section(smtp), slack={"webhook_url": httpserver.url_for("/slack")}), sleep=Sleeps()
    )
    fs.audit.create_alert("external-access", EXTERNAL, notify=["security@acme.com"], channels=["slack", "email"])
    read_by(fs, "mallory@partner", n=3)
    fs.audit.check_alerts()
    lines: list[str] = []
    assert deliver_audit_matches(db, svc, log=lines.append) == 3
    assert lines[0] == "delivery: acme/external-access: 3 matches via email"
    assert lines[1].startswith("delivery: acme/external-access: slack failed: [DELIVERY_FAILED] slack: the receiver")
    assert all(m.delivered_at is not None for m in fs.audit.alert("external-access").matches())
    assert len(mailbox.wait_for(1)) == 1
    assert deliver_audit_matches(db, svc) == 0


def test_a_check_whose_services_have_no_notification_service_leaves_the_matches_pending(
    fs: FeatureStore, backend: object
) -> None:
    fs.audit.create_alert("external-access", EXTERNAL, notify=["security@acme.com"])
    read_by(fs, "mallory@partner")
    services = types.SimpleNamespace(check_audit_alerts=backend.check_audit_alerts)  # type: ignore[attr-defined]
    clock = ManualClock(datetime.now(UTC))
    sched = store_scheduler(backend.db, actor=current_user, services=lambda: services, clock=clock)  # type: ignore[attr-defined]
    try:
        [outcome] = sched.tick()
        assert outcome.status == "completed", outcome.error
        run = sched.runs.get(outcome.run_id or "", mine=False)  # type: ignore[union-attr]
        assert "delivery: this process has no notification service; matches stay pending" in run.log
    finally:
        sched.stop()
        sched.runs.shutdown()  # type: ignore[union-attr]
    assert fs.audit.alert("external-access").matches()[0].delivered_at is None
