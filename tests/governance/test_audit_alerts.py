"""Audit alerts: stored, validated, matched against the entries appended after they were made
(incrementally, each entry once), listed and deleted."""

from __future__ import annotations

import pytest

from raise_ import AuditQuery, FeatureStore
from raise_.errors import AuditAlertExistsError, AuditAlertNotFoundError, InvalidArgumentError, InvalidNameError
from raise_.governance import audit

GROUP = "acme/mlplatform/recommendation/user-signals"


def read_by(fs: FeatureStore, actor: str, path: str = GROUP, n: int = 1) -> None:
    entries = [
        audit.entry(
            actor=actor,
            action="READ",
            resource_type="feature_group",
            resource_id=None,
            resource_path=path,
            org_id=None,
            details={"rows": 10},
        )
        for _ in range(n)
    ]
    with fs._backend.db.transaction() as s:
        audit.write(s, entries)


EXTERNAL = AuditQuery(resource="user-signals/*", exclude_actor_orgs=["acme"])


def test_alerts_are_stored_listed_and_deleted(fs: FeatureStore) -> None:
    alert = fs.audit.create_alert(
        name="external-access-alert",
        query=EXTERNAL,
        notify=["security@acme.com"],
        channels=["email", "slack"],
    )
    assert (alert.name, alert.query, alert.notify, alert.channels, alert.enabled) == (
        "external-access-alert",
        EXTERNAL,
        ["security@acme.com"],
        ["email", "slack"],
        True,
    )
    assert alert.created_by == "alice@acme" and alert.match_count == 0
    fs.audit.create_alert("schema-changes", AuditQuery(categories=["schema"]), notify=["#ml-alerts"], channels="slack")
    assert [a.name for a in fs.audit.list_alerts()] == ["external-access-alert", "schema-changes"]
    assert fs.audit.alert("schema-changes").channels == ["slack"]

    fs.audit.delete_alert("external-access-alert")
    assert [a.name for a in fs.audit.list_alerts()] == ["schema-changes"]
    with pytest.raises(AuditAlertNotFoundError, match="the alerts are schema-changes"):
        fs.audit.delete_alert("external-access-alert")
    changes = fs.audit.query(resource_types=["audit_alert"])
    assert [(e.action, e.metadata["alert"]) for e in changes] == [
        ("DELETE", "external-access-alert"),
        ("CREATE", "schema-changes"),
        ("CREATE", "external-access-alert"),
    ]


def test_alert_arguments_are_checked(fs: FeatureStore) -> None:
    fs.audit.create_alert("a1", EXTERNAL, notify=["security@acme.com"], channels=["email"])
    with pytest.raises(AuditAlertExistsError, match="'a1' already exists"):
        fs.audit.create_alert("a1", EXTERNAL, notify=["x@acme.com"])
    with pytest.raises(InvalidArgumentError, match="Unknown alert channel 'pager'"):
        fs.audit.create_alert("a2", EXTERNAL, notify=["x@acme.com"], channels=["email", "pager"])
    with pytest.raises(InvalidArgumentError, match="notify must name at least one recipient"):
        fs.audit.create_alert("a2", EXTERNAL, notify=[])
    with pytest.raises(InvalidArgumentError, match="notify must be a list of non-empty strings"):
        fs.audit.create_alert("a2", EXTERNAL, notify=[""])
    with pytest.raises(InvalidNameError):
        fs.audit.create_alert("no spaces", EXTERNAL, notify=["x@acme.com"])
    with pytest.raises(InvalidArgumentError, match="Unknown audit action"):
        fs.audit.create_alert("a2", {"actions": ["STEAL"]}, notify=["x@acme.com"])  # type: ignore[arg-type]
    assert [a.name for a in fs.audit.list_alerts()] == ["a1"]


def test_alerts_match_new_entries_once(fs: FeatureStore) -> None:
    read_by(fs, "pat@partner")  # before the alert: not a match
    alert = fs.audit.create_alert("external", EXTERNAL, notify=["security@acme.com"])
    read_by(fs, "bob@acme", n=2)  # insiders
    read_by(fs, "pat@partner", n=2)
    read_by(fs, "eve@other", path="acme/mlplatform/recommendation/item-signals")  # another group
    read_by(fs, "local-user")  # no organization: not known to be an insider
    expected = [e.seq for e in fs.audit.query(EXTERNAL) if e.seq and e.seq > alert.record.last_checked_seq]
    assert len(expected) == 3

    assert fs.audit.check_alerts() == {"external": 3}
    assert fs.audit.check_alerts() == {}  # nothing new
    matches = alert.matches()
    assert [m.entry_seq for m in matches] == expected
    assert [m.entry.actor for m in matches if m.entry] == ["local-user", "pat@partner", "pat@partner"]
    assert all(m.alert == "external" and m.delivered_at is None for m in matches)

    read_by(fs, "pat@partner")
    assert fs.audit.list_alerts()[0].match_count == 4  # listing checks first
    assert len(fs.audit.alert_matches("external", limit=2)) == 2


def test_disabled_alerts_do_not_match(fs: FeatureStore) -> None:
    fs.audit.create_alert("off", EXTERNAL, notify=["security@acme.com"], enabled=False)
    read_by(fs, "pat@partner")
    assert fs.audit.check_alerts() == {}
    assert fs.audit.alert("off").match_count == 0


def test_an_alert_sees_only_its_organization(fs: FeatureStore) -> None:
    fs.create_organization("partner")
    fs.audit.create_alert("any-read", AuditQuery(actions=["READ"]), notify=["security@acme.com"])
    read_by(fs, "pat@partner", path="partner/ml/rec/user-signals")
    read_by(fs, "pat@partner")
    assert fs.audit.check_alerts() == {"any-read": 1}
    assert [m.entry.resource_path for m in fs.audit.alert_matches("any-read") if m.entry] == [GROUP]
