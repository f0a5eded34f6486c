"""The audit hash chain: entries numbered and chained in commit order (also under concurrent
writers), the database refusing changes, and ``verify()`` naming every tampered entry."""

from __future__ import annotations

import contextlib
import itertools
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from raise_ import FeatureStore
from raise_.catalog.database import CatalogDatabase, _alembic_config, head_revision
from raise_.catalog.models import AuditLogModel
from raise_.governance import audit, audit_guard
from raise_.service import DataService

GENESIS = "0" * 64


def rows(engine: sa.Engine, sql: str = "SELECT * FROM audit_log ORDER BY seq") -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(sql)).mappings()]


def append(backend: DataService, n: int, actor: str = "alice@acme") -> None:
    """``n`` entries, each in its own transaction, as the data calls write them."""
    for i in range(n):
        with backend.db.transaction() as s:
            audit.record(
                s,
                actor=actor,
                action="READ",
                resource_type="feature_group",
                resource_id=None,
                resource_path="acme/mlplatform/recommendation/user-signals",
                org_id=None,
                details={"rows": i, "rows_accessed": i, "ratio": 0.5 * i, "big": 1e16},
            )


@contextlib.contextmanager
def tampering(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection without the append-only triggers, which come back afterwards."""
    with engine.begin() as conn:
        audit_guard.uninstall(conn)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        with engine.begin() as conn:
            audit_guard.install(conn)


def problems(fs: FeatureStore) -> list[tuple[str, int | None]]:
    return [(p.kind, p.seq) for p in fs.audit.verify().problems]


# -- the chain as written -------------------------------------------------------------------


def test_entries_are_numbered_and_chained(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    append(fs._backend, 5)
    log = rows(catalog_engine)
    assert [r["seq"] for r in log] == list(range(1, len(log) + 1))
    prev = GENESIS
    for r, e in zip(log, sorted(fs.audit.query(), key=lambda e: e.seq or 0), strict=True):
        assert r["prev_hash"] == prev
        # the stored hash is the hash of the entry as read back, chained to its predecessor
        assert r["entry_hash"] == audit.chain_hash(prev, {**e.to_dict(), "timestamp": e.timestamp})
        prev = r["entry_hash"]
    head = rows(catalog_engine, "SELECT last_seq, last_hash FROM audit_chain WHERE id = 1")
    assert head == [{"last_seq": len(log), "last_hash": prev}]


def test_the_hash_covers_every_field_and_the_predecessor(fs: FeatureStore) -> None:
    e = audit.entry(
        actor="alice@acme",
        action="READ",
        resource_type="feature_group",
        resource_id=None,
        resource_path="acme/a/b/c",
        org_id=None,
        details={"rows": 1},
    )
    fields = {**e, "metadata": e["details"]}
    base = audit.chain_hash(GENESIS, fields)
    assert base == audit.chain_hash(GENESIS, dict(fields))
    assert audit.chain_hash("1" * 64, fields) != base
    for name, value in [
        ("actor", "mallory@acme"),
        ("action", "WRITE"),
        ("resource_path", "acme/a/b/d"),
        ("metadata", {"rows": 2}),
        ("actor_org", "evil"),
        ("ip_address", "10.0.0.1"),
        ("id", uuid.uuid4()),
    ]:
        assert audit.chain_hash(GENESIS, {**fields, name: value}) != base, name
    # integral floats hash as the ints PostgreSQL's JSONB gives back
    assert audit.chain_hash(GENESIS, {**fields, "metadata": {"rows": 1.0}}) == base


def test_resource_org_is_filled_from_the_path(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    append(fs._backend, 1)
    (org_id,) = [r["id"] for r in rows(catalog_engine, "SELECT id FROM organizations WHERE name = 'acme'")]
    last = rows(catalog_engine)[-1]
    assert str(last["org_id"]).replace("-", "") == str(org_id).replace("-", "")
    assert last["actor_org"] == "acme"


def test_concurrent_writers_make_one_unbroken_chain(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    threads = 4
    before = len(rows(catalog_engine))
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(k: int) -> None:
        try:
            start.wait()
            append(fs._backend, 25, actor=f"user{k}@acme")
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    log = rows(catalog_engine)
    assert len(log) == before + threads * 25
    assert [r["seq"] for r in log] == list(range(1, len(log) + 1))
    assert all(b["prev_hash"] == a["entry_hash"] for a, b in itertools.pairwise(log))
    if catalog_engine.dialect.name == "postgresql":
        # the writers really ran at once there (they queue on the chain head's row lock)
        actors = [r["actor"] for r in log[before:]]
        assert sum(1 for a, b in itertools.pairwise(actors) if a != b) > 2 * threads
    report = fs.audit.verify()
    assert report.ok and report.checked == len(log) and report.head_seq == len(log), report


def test_a_lost_chain_head_is_rebuilt_from_the_log(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    append(fs._backend, 2)
    with catalog_engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_chain"))
    append(fs._backend, 2)
    log = rows(catalog_engine)
    assert [r["seq"] for r in log] == list(range(1, len(log) + 1))
    assert fs.audit.verify().ok


# -- append-only ----------------------------------------------------------------------------


def test_the_database_refuses_updates_and_deletes(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    append(fs._backend, 2)
    for sql in ("UPDATE audit_log SET actor = 'mallory@acme' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 1"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), catalog_engine.begin() as conn:
            conn.execute(sa.text(sql))
    assert rows(catalog_engine)[0]["actor"] == "alice@acme"
    assert fs.audit.verify().ok


# -- verify: tampering is found and located ------------------------------------------------

TAMPERING = [
    ("edit a field", ["UPDATE audit_log SET actor = 'mallory@acme' WHERE seq = 5"], [("edited", 5)]),
    ("edit metadata", ["UPDATE audit_log SET metadata = '{\"rows\": 0}' WHERE seq = 7"], [("edited", 7)]),
    ("delete one", ["DELETE FROM audit_log WHERE seq = 5"], [("deleted", 5)]),
    ("delete a run", ["DELETE FROM audit_log WHERE seq BETWEEN 4 AND 6"], [("deleted", 4)]),
    (
        "swap two",
        [
            "UPDATE audit_log SET seq = -1 WHERE seq = 4",
            "UPDATE audit_log SET seq = 4 WHERE seq = 5",
            "UPDATE audit_log SET seq = 5 WHERE seq = -1",
        ],
        [("reordered", 4)],
    ),
    (
        "move one later",
        [
            "UPDATE audit_log SET seq = -1 WHERE seq = 3",
            "UPDATE audit_log SET seq = seq - 1 WHERE seq BETWEEN 4 AND 6",
            "UPDATE audit_log SET seq = 6 WHERE seq = -1",
        ],
        [("reordered", 3)],
    ),
    ("delete the newest", ["DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)"], [("deleted", 10)]),
]


@pytest.mark.parametrize(("case", "statements", "expected"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_verify_names_the_tampered_entry(
    fs: FeatureStore, catalog_engine: sa.Engine, case: str, statements: list[str], expected: list[tuple[str, int]]
) -> None:
    append(fs._backend, 10 - len(rows(catalog_engine)))
    assert rows(catalog_engine)[-1]["seq"] == 10
    assert fs.audit.verify().ok
    with tampering(catalog_engine) as conn:
        for sql in statements:
            conn.execute(sa.text(sql))
    report = fs.audit.verify()
    assert not report.ok
    assert problems(fs) == expected
    assert report.summary.startswith("Audit chain BROKEN") and expected[0][0] in report.summary


def test_verify_finds_an_entry_rewritten_and_rehashed(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    append(fs._backend, 10 - len(rows(catalog_engine)))
    entry = next(e for e in fs.audit.query() if e.seq == 6)
    fields = {**entry.to_dict(), "actor": "mallory@acme", "timestamp": entry.timestamp}
    with tampering(catalog_engine) as conn:
        conn.execute(
            sa.text("UPDATE audit_log SET actor = 'mallory@acme', entry_hash = :h WHERE seq = 6"),
            {"h": audit.chain_hash(entry.prev_hash or "", fields)},
        )
    # its own hash checks out now; the link from entry 7 does not
    assert problems(fs) == [("edited", 6)]


def test_verify_finds_an_entry_added_past_the_head(fs: FeatureStore, catalog_engine: sa.Engine) -> None:
    append(fs._backend, 3)
    last = fs.audit.query(limit=1)[0]
    forged = audit.entry(
        actor="mallory@acme",
        action="READ",
        resource_type="feature_group",
        resource_id=None,
        resource_path="acme/mlplatform/recommendation/user-signals",
        org_id=None,
    )
    row = {**forged, "seq": (last.seq or 0) + 1, "prev_hash": last.entry_hash}
    row["metadata"] = row.pop("details")
    row["entry_hash"] = audit.chain_hash(last.entry_hash or "", row)
    with tampering(catalog_engine) as conn:
        conn.execute(sa.insert(AuditLogModel.__table__), row)
    assert problems(fs) == [("inserted", (last.seq or 0) + 1)]


# -- the migration --------------------------------------------------------------------------


def test_migration_chains_entries_written_before_the_chain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = CatalogDatabase(url)
    cfg = _alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003_governance")
        for i, ts in enumerate(["2026-01-03 10:00:00.000001", "2026-01-01 09:00:00", "2026-01-02 08:30:00.5"]):
            conn.execute(
                sa.text(
                    "INSERT INTO audit_log (id, timestamp, actor, action, resource_type, resource_path, metadata) "
                    "VALUES (:id, :ts, 'alice@acme', 'CREATE', 'organization', :path, :meta)"
                ),
                {"id": uuid.uuid4().hex, "ts": ts, "path": f"org{i}", "meta": f'{{"n": {i}}}'},
            )
    db.migrate()
    assert db.current_revision() == head_revision()
    log = rows(db.engine)
    assert [(r["seq"], r["resource_path"]) for r in log] == [(1, "org1"), (2, "org2"), (3, "org0")]
    assert log[0]["prev_hash"] == GENESIS and log[1]["prev_hash"] == log[0]["entry_hash"]
    backend = DataService(db, lambda: "alice@acme", tmp_path / "features.duckdb")
    backend.create_organization("org0")
    report = backend.audit_verify("org0")
    assert report.ok and report.checked == 4 and report.head_seq == 4  # with the CREATE of org0
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log"))
    db.dispose()
