"""The permission check keeps what it loaded until the catalog's access generation moves, and
the generation moves on every change that can decide access, whoever makes it: this process,
another process, or a hand-written SQL statement."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from raise_ import ACL, FeatureStore
from raise_.config import Settings
from raise_.engine import Engine
from raise_.errors import PermissionDeniedError
from raise_.governance.guard import Target
from raise_.service import DataService

GROUP = "acme/mlplatform/recommendation/user-signals"


def generation(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT n FROM access_generation WHERE id = 1")).scalar_one())


@pytest.fixture
def store(fs: FeatureStore) -> FeatureStore:
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))  # acme opens itself to its members
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"])
    group.create_feature("clicks", "int64")
    return fs


@pytest.fixture
def other_process(store: FeatureStore) -> Engine:
    """A second engine on the same catalog, as another process would open it."""
    engine = Engine(Settings.from_env())
    yield engine  # type: ignore[misc]
    engine.close()


def service(fs: FeatureStore) -> DataService:
    svc = fs._backend
    assert isinstance(svc, DataService)
    return svc


def test_repeated_checks_are_answered_from_the_cache(store: FeatureStore, catalog_engine: sa.Engine) -> None:
    svc = service(store)
    target = Target.path(GROUP, "clicks")
    svc.authorize("read", target, "read")
    with svc.db.reader() as s:
        entries = svc.access_cache.entries(s)
    assert entries is not None and entries.generation == generation(catalog_engine)
    assert ("acme", "mlplatform", "recommendation", "user-signals") in entries.contexts
    assert len(entries.features) == 1
    svc.authorize("read", target, "read")  # same generation: no reload
    with svc.db.reader() as s:
        assert svc.access_cache.entries(s) is entries


def test_an_acl_set_by_another_process_applies_at_once(
    store: FeatureStore, other_process: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = service(store)
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    svc.authorize("read", Target.path(GROUP, "clicks"), "read")  # acme is open to members: bob reads, cached
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    other_process.catalog.set_acl(GROUP, ACL(readers=["carol@acme"], inherit=False), "clicks")
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    with pytest.raises(PermissionDeniedError):
        svc.authorize("read", Target.path(GROUP, "clicks"), "read")


def test_a_hand_written_change_moves_the_generation(store: FeatureStore, catalog_engine: sa.Engine) -> None:
    svc = service(store)
    svc.authorize("read", Target.path(GROUP, "clicks"), "read")
    before = generation(catalog_engine)
    with catalog_engine.begin() as conn:
        group_id = conn.execute(
            sa.text("SELECT id FROM feature_groups WHERE name = 'user-signals'").columns(id=sa.Uuid())
        ).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO acls (id, resource_type, resource_id, readers, writers, admins, inherit, "
                "created_at, updated_at) VALUES (:id, 'feature_group', :rid, :r, '[]', '[]', :inh, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ).bindparams(
                sa.bindparam("id", type_=sa.Uuid()),
                sa.bindparam("rid", type_=sa.Uuid()),
                sa.bindparam("r", type_=sa.JSON()),
            ),
            {"id": uuid.uuid4(), "rid": group_id, "r": ["carol@acme"], "inh": False},
        )
    assert generation(catalog_engine) > before
    with pytest.raises(PermissionDeniedError), pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAISE_USER", "bob@acme")
        svc.authorize("read", Target.path(GROUP, "clicks"), "read")


@pytest.mark.parametrize(
    "change",
    [
        "create_feature",
        "update_feature",
        "set_acl",
        "principal_group",
        "alias",
        "grant",
        "create_domain",
    ],
)
def test_every_change_that_decides_access_moves_the_generation(
    store: FeatureStore, catalog_engine: sa.Engine, change: str
) -> None:
    group = store.feature_group("user-signals")
    org = store.organization()
    act = {
        "create_feature": lambda: group.create_feature("views", "int64"),
        "update_feature": lambda: group.feature("clicks").update(description="clicks per day"),
        "set_acl": lambda: group.set_acl(ACL(readers=["bob@acme"])),
        "principal_group": lambda: org.set_group("analysts", ["bob@acme"]),
        "alias": lambda: org.add_alias("acme.com"),
        "grant": lambda: group.grant_external_access(org="partner", features=["*"], permission="read"),
        "create_domain": lambda: store.create_domain("search"),
    }[change]
    before = generation(catalog_engine)
    act()
    assert generation(catalog_engine) > before


def test_data_access_and_audit_entries_leave_the_generation_alone(
    store: FeatureStore, catalog_engine: sa.Engine
) -> None:
    group = store.feature_group("user-signals")
    group.write([{"user_id": 1, "event_time": "2026-01-01", "clicks": 3}])
    before = generation(catalog_engine)
    for _ in range(3):
        assert group.read(["clicks"]).to_pandas()["clicks"].tolist() == [3]
    store.audit.query(limit=10)
    assert generation(catalog_engine) == before
