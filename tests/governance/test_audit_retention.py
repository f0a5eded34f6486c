"""Retention (PRD §10.4): an organization's audit settings, the purge of entries past retention
(archived first, recorded in the chain so ``verify()`` stays green), and immutable logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from raise_ import AuditQuery, FeatureStore
from raise_.errors import AuditLogImmutableError, InvalidArgumentError
from raise_.governance import audit, audit_guard
from raise_.models.audit import AuditConfig


def write(fs: FeatureStore, n: int, days_ago: int, path: str = "acme/mlplatform/recommendation/user-signals") -> None:
    when = datetime.now(UTC) - timedelta(days=days_ago)
    entries = []
    for i in range(n):
        e = audit.entry(
            actor="bob@acme",
            action="READ",
            resource_type="feature_group",
            resource_id=None,
            resource_path=path,
            org_id=None,
            details={"rows": i},
        )
        e["timestamp"] = when + timedelta(seconds=i)
        entries.append(e)
    with fs._backend.db.transaction() as s:
        audit.write(s, entries)


def test_audit_config(fs: FeatureStore) -> None:
    org = fs.organization()
    assert org.get_audit_config() == AuditConfig(365, False, None, "parquet")
    assert org.set_audit_config(retention_days=90) == AuditConfig(90, False, None, "parquet")
    assert org.set_audit_config(export_destination="memory://archive/", export_format="jsonl") == AuditConfig(
        90, False, "memory://archive/", "jsonl"
    )
    assert org.set_audit_config(export_destination="").export_destination is None
    assert fs.organization().settings["audit"]["retention_days"] == 90
    for bad in (0, -5, True, "30"):
        with pytest.raises(InvalidArgumentError, match="retention_days must be a positive number"):
            org.set_audit_config(retention_days=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="Invalid export format"):
        org.set_audit_config(export_format="xml")
    org.set_audit_config(immutable=True)
    with pytest.raises(AuditLogImmutableError, match="cannot be undone"):
        org.set_audit_config(immutable=False)
    assert org.get_audit_config().immutable is True
    changes = fs.audit.query(actions=["UPDATE_METADATA"], resource_types=["organization"])
    assert [e.metadata["audit_config"] for e in changes] == [
        {"immutable": True},
        {"export_destination": None},
        {"export_destination": "memory://archive/", "export_format": "jsonl"},
        {"retention_days": 90},
    ]


def test_purge_archives_deletes_and_keeps_the_chain_verifiable(fs: FeatureStore, tmp_path: Path) -> None:
    fs.create_organization("partner")
    fs.audit.create_alert("bob", AuditQuery(actors=["bob@acme"]), notify=["security@acme.com"])
    write(fs, 5, days_ago=400)
    write(fs, 4, days_ago=400, path="partner/ml/rec/user-signals")  # another organization's: kept
    write(fs, 3, days_ago=380)
    write(fs, 6, days_ago=10)
    old = [e for e in fs.audit.query(limit=10_000) if e.timestamp < datetime.now(UTC) - timedelta(days=365)]
    assert len(old) == 8
    fs.organization().set_audit_config(retention_days=365, export_destination=str(tmp_path / "archive") + "/")
    assert fs.audit.check_alerts() == {"bob": 14}

    result = fs.audit.apply_retention()

    assert (result.org, result.purged, result.skipped) == ("acme", 8, None)
    assert result.exported is not None and result.exported.rows == 8
    archived = pq.read_table(result.exported.path).to_pylist()
    assert [r["seq"] for r in archived] == sorted(e.seq for e in old)
    assert [r["entry_hash"] for r in archived] == [e.entry_hash for e in sorted(old, key=lambda e: e.seq or 0)]
    left = fs.audit.query(limit=10_000)
    assert not {e.seq for e in left} & {o.seq for o in old}
    assert fs.organization("partner").audit.count(actions=["READ"]) == 4
    purge = fs.audit.query(actions=["PURGE"])
    assert len(purge) == 1 and purge[0].seq == result.purge_seq
    assert purge[0].metadata["purged"] == 8 and purge[0].metadata["exported_to"] == result.exported.path
    ranges = purge[0].metadata["purged_seqs"]
    assert sum(b - a + 1 for a, b in ranges) == 8

    report = fs.audit.verify()
    assert report.ok and report.purged == 8, report
    assert fs.audit.apply_retention().purged == 0  # nothing left to purge, and nothing recorded
    assert len(fs.audit.query(actions=["PURGE"])) == 1
    matches = fs.audit.alert_matches("bob")  # kept; the purged entries are gone from them
    assert len(matches) == 14 and sorted(m.entry_seq for m in matches if m.entry is None) == sorted(e.seq for e in old)


def test_a_deletion_after_a_purge_is_still_found(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    write(fs, 4, days_ago=400)
    write(fs, 4, days_ago=1)
    fs.audit.apply_retention()
    victim = fs.audit.query(actors=["bob@acme"], limit=1)[0].seq
    with catalog_engine.begin() as conn:
        audit_guard.uninstall(conn)
        conn.execute(sa.text("DELETE FROM audit_log WHERE seq = :s"), {"s": victim})
        audit_guard.install(conn)
    assert [(p.kind, p.seq) for p in fs.audit.verify().problems] == [("deleted", victim)]


def test_an_immutable_log_is_never_purged(fs: FeatureStore) -> None:
    write(fs, 3, days_ago=800)
    fs.organization().set_audit_config(retention_days=365, immutable=True)
    result = fs.audit.apply_retention()
    assert (result.purged, result.purge_seq) == (0, None)
    assert result.skipped == "the audit log of 'acme' is immutable"
    assert fs.audit.count(actors=["bob@acme"]) == 3


def test_entries_cannot_be_deleted_outside_a_purge(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    write(fs, 2, days_ago=400)
    with pytest.raises(sa.exc.DatabaseError, match="only by the retention purge"), catalog_engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE actor = 'bob@acme'"))
    assert fs.audit.count(actors=["bob@acme"]) == 2
    # the purge marker never outlives the purge's transaction
    fs.audit.apply_retention()
    with catalog_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT id FROM audit_chain ORDER BY id")).scalars().all() == [1]
