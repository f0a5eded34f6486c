"""``fs.audit.query``: every filter against a hand-written reference over the raw rows, the
glob rules case by case, scopes (organization, feature), and the query object itself."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

import pytest
import sqlalchemy as sa

from raise_ import AuditQuery, FeatureStore
from raise_.catalog.models import AuditLogModel
from raise_.errors import InvalidArgumentError, OrganizationNotFoundError
from raise_.governance import audit
from raise_.models.audit import ACTION_CATEGORIES, ACTIONS, AuditEntries

NOW = datetime.now(UTC)
PATHS = [
    "acme",
    "acme/ml",
    "acme/ml/rec",
    "acme/ml/rec/user-signals",
    "acme/ml/rec/user-signals/ctr@v1",
    "acme/ml/rec/user-signals/ctr@v2",
    "acme/ml/rec/user-signals/clicks@v1",
    "acme/ml/rec/user-signals-v2/ctr@v1",
    "acme/ml/rec/User-Signals/ctr@v1",
    "acme/ml/rec/user_signals/ctr@v1",
    "acme/ml/rec/item_signals/price@v1",
    "acme/ml/fraud/user-signals/score@v3",
    "partner/ml/rec/user-signals/ctr@v1",
]
ACTORS = ["alice@acme", "bob@acme", "pat@partner", "eve@other", "local-user"]
KIND = {1: "organization", 2: "domain", 3: "project", 4: "feature_group", 5: "feature"}


def _kind(path: str) -> str:
    return KIND[path.count("/") + 1]


@pytest.fixture
def log(fs: FeatureStore) -> list[AuditLogModel]:
    """300 synthetic entries over 30 days, in two organizations, plus the store's own; returns
    every row of the log as stored."""
    fs.create_organization("partner")
    rng = random.Random(7)
    actions = sorted(ACTIONS)
    entries = []
    for _ in range(300):
        path = rng.choice(PATHS)
        e = audit.entry(
            actor=rng.choice(ACTORS),
            action=rng.choice(actions),
            resource_type=_kind(path),
            resource_id=None,
            resource_path=path,
            org_id=None,
            details={"rows": rng.randint(0, 100)},
        )
        e["timestamp"] = NOW - timedelta(minutes=rng.randint(0, 30 * 24 * 60))
        entries.append(e)
    with fs._backend.db.transaction() as s:
        audit.write(s, entries)
    with fs._backend.db.reader() as s:
        return list(s.scalars(sa.select(AuditLogModel)).all())


# -- the reference: the README's rules, in plain Python ------------------------------------


def ref_glob(pattern: str, path: str | None) -> bool:
    if path is None:
        return False
    pattern = pattern.replace("[", "[[]")  # only '*' and '?' are wildcards
    # every tail of the path that starts at a segment boundary
    tails = [path] + [path[i + 1 :] for i, ch in enumerate(path) if ch == "/"]
    if any(fnmatchcase(t, pattern) for t in tails):
        return True
    if pattern.endswith("/*") and any(fnmatchcase(t, pattern[:-2]) for t in tails):
        return True  # the resource itself
    last = pattern.rsplit("/", 1)[-1]
    if "@" not in last and not last.endswith("*"):  # any version
        return any(fnmatchcase(t.rsplit("@", 1)[0], pattern) for t in tails if "@" in t.rsplit("/", 1)[-1])
    return False


def reference(rows: list[AuditLogModel], org_id: Any, q: dict[str, Any]) -> list[int]:
    def keep(r: AuditLogModel) -> bool:
        if r.org_id != org_id:
            return False
        if "resource" in q and not ref_glob(q["resource"], r.resource_path):
            return False
        if "actions" in q and r.action not in q["actions"]:
            return False
        if "categories" in q and r.action not in {a for c in q["categories"] for a in ACTION_CATEGORIES[c]}:
            return False
        if "since" in q and r.timestamp < q["since"]:
            return False
        if "until" in q and r.timestamp >= q["until"]:
            return False
        if "actors" in q and r.actor not in q["actors"]:
            return False
        if "actor_orgs" in q and r.actor_org not in q["actor_orgs"]:
            return False
        if "exclude_actor_orgs" in q and r.actor_org in q["exclude_actor_orgs"]:
            return False
        return not ("resource_types" in q and r.resource_type not in q["resource_types"])

    kept = sorted((r for r in rows if keep(r)), key=lambda r: (r.timestamp, r.seq), reverse=True)
    return [r.seq for r in kept][: q.get("limit", 1000)]  # type: ignore[misc]


QUERIES: list[dict[str, Any]] = [
    {},
    {"resource": "user-signals/*"},
    {"resource": "user-signals/*", "exclude_actor_orgs": ["acme"]},
    {"resource": "acme/ml/*", "actions": ["READ", "WRITE"]},
    {"resource": "user-signals/ctr"},
    {"resource": "rec/user-signals"},
    {"resource": "ctr@v?"},
    {"resource": "*signals*", "actor_orgs": ["partner", "other"]},
    {"resource": "user_signals/*"},  # '_' is a literal, not LIKE's any-character
    {"resource": "User-Signals/*"},  # names are case-sensitive
    {"resource": "user%"},
    {"resource": "fraud/*", "resource_types": ["feature"]},
    {"actors": ["bob@acme"], "since": NOW - timedelta(days=10), "until": NOW - timedelta(days=2)},
    {"categories": ["schema"]},
    {"categories": ["access", "lineage"], "actions": ["READ", "LINEAGE_BREAK", "CREATE"]},
    {"exclude_actor_orgs": ["acme", "partner"], "limit": 7},
    {"resource_types": ["organization", "domain"], "since": NOW - timedelta(days=15)},
    {"resource": "ml/rec/*", "categories": ["acl"], "limit": 3},
]


@pytest.mark.parametrize("q", QUERIES, ids=[str(i) for i in range(len(QUERIES))])
def test_query_matches_the_reference(fs: FeatureStore, log: list[AuditLogModel], q: dict[str, Any]) -> None:
    acme = next(r.org_id for r in log if r.resource_path == "acme/ml/rec/user-signals" and r.org_id)
    expected = reference(log, acme, q)
    got = fs.audit.query(**q)
    assert [e.seq for e in got] == expected
    assert fs.audit.query(AuditQuery(**q)) == got
    assert fs.audit.count(**{k: v for k, v in q.items() if k != "limit"}) == len(
        reference(log, acme, {**q, "limit": 10**9})
    )


def test_reference_has_something_to_find(fs: FeatureStore, log: list[AuditLogModel]) -> None:
    """The synthetic log is rich enough that the reference tests above compare non-trivial sets."""
    acme = next(r.org_id for r in log if r.resource_path == "acme" and r.org_id)
    sizes = [len(reference(log, acme, {**q, "limit": 10**9})) for q in QUERIES]
    assert sum(1 for n in sizes if n > 0) >= len(QUERIES) - 2
    assert sizes[QUERIES.index({"resource": "user%"})] == 0


GLOBS = [
    ("user-signals/*", "acme/ml/rec/user-signals/ctr@v1", True),
    ("user-signals/*", "acme/ml/rec/user-signals", True),
    ("user-signals/*", "acme/ml/rec/user-signals-v2/ctr@v1", False),
    ("user-signals/*", "acme/ml/rec/xuser-signals/ctr@v1", False),
    ("acme/*", "acme/ml/rec/user-signals/ctr@v1", True),
    ("acme/*", "acme", True),
    ("ml/rec", "acme/ml/rec", True),
    ("ml/rec", "acme/ml/rec/user-signals", False),
    ("user-signals/ctr", "acme/ml/rec/user-signals/ctr@v2", True),
    ("user-signals/ctr", "acme/ml/rec/user-signals/ctr_rate@v1", False),
    ("user-signals/ctr@v1", "acme/ml/rec/user-signals/ctr@v2", False),
    ("ctr@v?", "acme/ml/rec/user-signals/ctr@v1", True),
    ("ctr@v?", "acme/ml/rec/user-signals/ctr@v10", False),
    ("rec/*/ctr@v1", "acme/ml/rec/user-signals/ctr@v1", True),
    ("c_r", "acme/ml/rec/g/ctr@v1", False),
    ("User-Signals/*", "acme/ml/rec/user-signals/ctr@v1", False),
    ("item_signals/*", "acme/ml/rec/item_signals/price@v1", True),
    ("item_signals/*", "acme/ml/rec/itemXsignals/price@v1", False),
    ("[ab]", "acme/ml/rec/a", False),
    ("[ab]", "acme/ml/rec/[ab]", True),
]


@pytest.mark.parametrize(("pattern", "path", "hit"), GLOBS)
def test_globs(fs: FeatureStore, pattern: str, path: str, hit: bool) -> None:
    e = audit.entry(
        actor="alice@acme",
        action="READ",
        resource_type="feature",
        resource_id=None,
        resource_path=path,
        org_id=None,
    )
    with fs._backend.db.transaction() as s:
        audit.write(s, [e])
    found = [x.resource_path for x in fs.audit.query(resource=pattern, actions=["READ"])]
    assert (path in found) is hit
    assert ref_glob(pattern, path) is hit


# -- scopes ---------------------------------------------------------------------------------


def test_a_store_sees_only_its_organization(fs: FeatureStore, log: list[AuditLogModel]) -> None:
    got = fs.audit.query(limit=10_000)
    assert got and all(not (e.resource_path or "").startswith("partner") for e in got)
    partner_rows = [r for r in log if (r.resource_path or "").startswith("partner/")]
    assert partner_rows
    assert fs.organization("partner").audit.count() == len(partner_rows) + 1  # + its creation


def test_unknown_organization(fs: FeatureStore) -> None:
    with pytest.raises(OrganizationNotFoundError):
        fs._backend.audit_query("nowhere", {})


def test_feature_audit_log(fs: FeatureStore) -> None:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    ctr = group.create_feature("ctr", "float64")
    group.create_feature("clicks", "int64")
    group.write([{"user_id": 1, "event_time": datetime(2026, 1, 1), "ctr": 0.5, "clicks": 3}])
    group.read(["ctr"])
    group.read(["clicks"])
    ctr.update(description="click-through rate")
    fs.create_feature("user-signals/ctr", "float32", version="v2")
    ctr.deprecate("use v2")

    log = ctr.audit_log()
    assert [(e.action, e.resource_path) for e in log] == [
        ("DEPRECATE", "acme/mlplatform/recommendation/user-signals/ctr@v1"),
        ("CREATE_VERSION", "acme/mlplatform/recommendation/user-signals/ctr@v2"),
        ("UPDATE_METADATA", "acme/mlplatform/recommendation/user-signals/ctr@v1"),
        ("READ", "acme/mlplatform/recommendation/user-signals"),  # the read of ctr, not of clicks
        ("WRITE", "acme/mlplatform/recommendation/user-signals"),
        ("CREATE", "acme/mlplatform/recommendation/user-signals/ctr@v1"),
    ]
    assert [e.action for e in ctr.audit_log(category="schema")] == [
        "DEPRECATE",
        "CREATE_VERSION",
        "UPDATE_METADATA",
        "CREATE",
    ]
    access = ctr.audit_log(category="access")
    assert [(e.action, e.metadata["features"], e.metadata["rows_accessed"]) for e in access] == [
        ("READ", ["ctr@v1"], 1),
        ("WRITE", ["ctr@v1", "clicks@v1"], 1),
    ]
    assert ctr.audit_log(category="schema", limit=1)[0].action == "DEPRECATE"
    assert ctr.audit_log(since=datetime.now() + timedelta(hours=1)) == []
    # one version's scope, through the service
    v2 = fs._backend.audit_query("acme/mlplatform/recommendation/user-signals/ctr@v2", {})
    assert [e.action for e in v2] == ["CREATE_VERSION"]


# -- results and the query object -----------------------------------------------------------


def test_entries_carry_the_prd_fields_and_convert(fs: FeatureStore) -> None:
    entries = fs.audit.query()
    assert isinstance(entries, AuditEntries) and len(entries) == 3  # the store's org, domain, project
    e = entries[-1]
    assert (e.action, e.resource_type, e.resource_path, e.actor, e.actor_org) == (
        "CREATE",
        "organization",
        "acme",
        "alice@acme",
        "acme",
    )
    assert e.user_agent and e.user_agent.startswith("raise-sdk/") and e.timestamp.tzinfo is not None
    assert e.org_id == e.resource_id and len(e.entry_hash or "") == 64
    frame = entries.to_dataframe()
    assert list(frame["seq"]) == [x.seq for x in entries]
    assert list(frame["resource_path"]) == [x.resource_path for x in entries]
    assert list(frame["metadata"]) == [x.metadata for x in entries]
    assert entries.to_arrow().num_rows == 3
    assert entries.to_dicts()[0]["timestamp"] == entries[0].timestamp.isoformat()
    assert "AuditEntry(#" in repr(entries) and "<table>" in entries._repr_html_()


def test_query_object_round_trips_and_validates() -> None:
    q = AuditQuery(
        resource="user-signals/*",
        actions=["read", "WRITE"],
        since=datetime(2026, 1, 1, tzinfo=UTC),
        exclude_actor_orgs="acme",
        categories=["Access"],
        limit=5,
    )
    assert q.actions == ("READ", "WRITE") and q.exclude_actor_orgs == ("acme",) and q.categories == ("access",)
    assert AuditQuery.from_dict(q.to_dict()) == q
    assert q.to_dict()["since"] == "2026-01-01T00:00:00+00:00"
    assert AuditQuery(actions=[]).actions is None
    naive = datetime(2026, 1, 1, 12, 0)
    assert AuditQuery(since=naive).since == naive.astimezone(UTC)  # naive times are local time
    cases = [
        ({"actions": ["READS"]}, "Did you mean 'READ'"),
        ({"categories": ["acls"]}, "Did you mean 'acl'"),
        ({"limit": 0}, "limit must be a positive integer"),
        ({"resource": ""}, "resource must be a non-empty glob"),
        ({"since": "yesterday"}, "not an ISO date"),
        ({"since": datetime(2026, 2, 1), "until": datetime(2026, 1, 1)}, "must be after since"),
        ({"actors": [1]}, "non-empty strings"),
    ]
    for kwargs, message in cases:
        with pytest.raises(InvalidArgumentError, match=message):
            AuditQuery(**kwargs)
    with pytest.raises(InvalidArgumentError, match="Unknown audit query field 'resources'"):
        AuditQuery.from_dict({"resources": "x"})
