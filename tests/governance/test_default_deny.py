"""Deny by default (PRD §8.4, issue 16): a chain without an ACL is its creators' alone; an
organization opens itself explicitly; migration 0008 keeps the access everyone had before."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic import command

from raise_ import ACL, FeatureStore
from raise_.catalog.database import CatalogDatabase, _alembic_config
from raise_.engine import Engine
from raise_.errors import PermissionDeniedError
from raise_.governance.guard import Target
from raise_.service import DataService

PROJECT = "acme/mlplatform/recommendation"
SIGNALS = f"{PROJECT}/user-signals"
PROFILE = f"{PROJECT}/profile"
GLOBEX = "globex/sales/crm/accounts"
LEVELS = ("read", "write", "admin")

# What the open default (before issue 16) gave, written out by hand from its rule: "a chain without
# any ACL is open to every member for read and write; once an ACL applies, only those it names (and
# the creators up the chain, as admins)". (actor, group path, feature or None) → levels held.
BEFORE: dict[tuple[str, str, str | None], set[str]] = {
    ("alice@acme", SIGNALS, None): {"read", "write", "admin"},
    ("bob@acme", SIGNALS, None): {"read", "write"},
    ("carol@acme", SIGNALS, None): {"read", "write"},
    ("bob@acme", SIGNALS, "clicks"): {"read", "write"},
    ("alice@acme", SIGNALS, "secret"): {"read", "write", "admin"},
    ("bob@acme", SIGNALS, "secret"): set(),
    ("carol@acme", SIGNALS, "secret"): {"read"},
    ("alice@acme", PROFILE, None): {"read", "write", "admin"},
    ("bob@acme", PROFILE, None): set(),
    ("carol@acme", PROFILE, None): {"read"},
    ("bob@acme", PROFILE, "income"): set(),
    ("carol@acme", PROFILE, "income"): {"read"},
    ("dan@acme", PROFILE, "income"): {"read", "write", "admin"},  # admin named on the feature
    ("gina@globex", GLOBEX, None): {"read", "write", "admin"},
    ("hal@globex", GLOBEX, None): {"read", "write"},
    ("bob@acme", GLOBEX, None): set(),
    ("gina@globex", SIGNALS, None): set(),
}


def _json(value: object) -> object:
    """A JSON column read by raw SQL: text on SQLite, decoded already on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def service(fs: FeatureStore) -> DataService:
    svc = fs._backend
    assert isinstance(svc, DataService)
    return svc


def held(svc: DataService, monkeypatch: pytest.MonkeyPatch, actor: str, group: str, feature: str | None) -> set[str]:
    monkeypatch.setenv("RAISE_USER", actor)
    return {level for level in LEVELS if svc.can(level, Target.path(group, feature))}  # type: ignore[arg-type]


def build_store(monkeypatch: pytest.MonkeyPatch) -> FeatureStore:
    """The store of BEFORE, as the old code left it: no organization ACL anywhere."""
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    fs = FeatureStore(PROJECT)
    signals = fs.create_feature_group("user-signals", entity_keys=["user_id"])
    signals.create_feature("clicks", "int64")
    signals.create_feature("secret", "float64")
    signals.feature("secret").set_acl(ACL(readers=["carol@acme"]))  # inherit=True: the old way to restrict
    profile = fs.create_feature_group("profile", entity_keys=["user_id"])
    profile.create_feature("income", "float64")
    profile.set_acl(ACL(readers=["carol@acme"]))
    profile.feature("income").set_acl(ACL(admins=["dan@acme"]))
    monkeypatch.setenv("RAISE_USER", "gina@globex")
    FeatureStore("globex/sales/crm").create_feature_group("accounts", entity_keys=["account_id"])
    return fs


def test_a_chain_without_acl_is_its_creators_alone(fs: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> None:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"])
    group.create_feature("clicks", "int64")
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    with pytest.raises(PermissionDeniedError) as err:
        fs.feature_group("user-signals").read()
    assert err.value.code == "PERMISSION_DENIED" and "alice@acme" in err.value.message  # names whom to ask
    with pytest.raises(PermissionDeniedError):
        fs.create_feature_group("mine", entity_keys=["user_id"])
    with pytest.raises(PermissionDeniedError):  # nor may he see what the project holds
        fs.list_feature_groups()
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    assert [g.name for g in fs.list_feature_groups()] == ["user-signals"]


def test_an_organization_opens_itself_to_its_members(fs: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> None:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"])
    group.create_feature("clicks", "int64")
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    group.write([{"user_id": 1, "event_time": datetime(2026, 1, 1), "clicks": 3}])
    assert group.read().to_pandas()["clicks"].tolist() == [3]
    with pytest.raises(PermissionDeniedError):  # members read and write; admin stays the creator's
        group.set_acl(ACL(readers=["bob@acme"]))
    monkeypatch.setenv("RAISE_USER", "oscar@partner")
    with pytest.raises(PermissionDeniedError):  # *@acme is acme's members, nobody else
        FeatureStore(PROJECT).feature_group("user-signals").read()


def test_the_migration_keeps_everyones_access(
    store_env: object, catalog_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs = build_store(monkeypatch)
    svc = service(fs)
    # Under the new rule alone bob would lose what the old default gave him: that is what 0008 is for.
    assert held(svc, monkeypatch, "bob@acme", SIGNALS, None) == set()
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    restricted = ((PROFILE, None), (SIGNALS, "secret"))
    effective_before = {(path, feature): svc.get_effective_acl(path, feature) for path, feature in restricted}
    Engine.close_all()
    cfg = _alembic_config()
    db = CatalogDatabase(catalog_url)
    with db.engine.connect() as conn:  # the catalog as revision 0007 left it (0008 changes no table)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007_analytics")
        conn.commit()
    db.migrate()
    with db.engine.connect() as conn:
        org_acls = conn.execute(
            sa.text(
                "SELECT o.name, a.readers, a.writers, a.admins, a.inherit FROM acls a "
                "JOIN organizations o ON a.resource_type = 'organization' AND a.resource_id = o.id ORDER BY o.name"
            )
        ).all()
    db.dispose()
    assert [(n, _json(r), _json(w), _json(a), bool(i)) for n, r, w, a, i in org_acls] == [
        ("acme", ["*@acme"], ["*@acme"], [], True),
        ("globex", ["*@globex"], ["*@globex"], [], True),
    ]

    monkeypatch.setenv("RAISE_USER", "alice@acme")
    svc = service(FeatureStore(PROJECT))
    got = {key: held(svc, monkeypatch, *key) for key in BEFORE}
    assert got == BEFORE
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    for (path, feature), before in effective_before.items():
        after = svc.get_effective_acl(path, feature)
        assert (after.readers, after.writers, after.admins) == (before.readers, before.writers, before.admins)
