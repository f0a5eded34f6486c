"""The permission matrix of issue 5: every public operation of the service × who calls it × how
the ACL reaches the group, against the real services (SQLite and PostgreSQL).

Who (all but alice, who created everything):
- ``nobody@acme``: a member of the organization named in no ACL;
- ``rita@acme`` reader, ``will@acme`` writer, ``adam@acme`` admin;
- ``oscar@partner``: another organization without a grant;
- ``gina@globex``: another organization with a live read grant on the group (all features);
- ``eve@initech``: another organization whose read grant has expired.

How: ``inherited``: the ACL is on the project and cascades to the group; ``overridden``: the
project's ACL names ``nobody@acme`` admin, and the group's own ACL (``inherit=False``) names the
others, so the project's ACL must not reach the group. And the defaults (PRD §8.4, issue 16):
``no ACL``: no ACL anywhere, so no member but the creator has any access (deny by default), and
grants still give what they give; ``open org``: the organization opened itself to its members with
``ACL(readers=["*@acme"], writers=["*@acme"])``, so every member reads and writes, none administers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from raise_ import ACL, FeatureStore, PermissionDeniedError
from raise_.catalog.models import ExternalGrantModel

PRINCIPALS: dict[str, tuple[str, set[str]]] = {
    # role: (identity, levels it holds on the group)
    "no access": ("nobody@acme", set()),
    "reader": ("rita@acme", {"read"}),
    "writer": ("will@acme", {"read", "write"}),
    "admin": ("adam@acme", {"read", "write", "admin"}),
    "other org, no grant": ("oscar@partner", set()),
    "other org, grant": ("gina@globex", {"read"}),
    "other org, expired grant": ("eve@initech", set()),
}
VARIANTS = ("inherited", "overridden", "no ACL", "open org")

ENTITIES = pd.DataFrame({"user_id": [1, 2], "event_time": pd.to_datetime(["2026-01-05", "2026-01-05"], utc=True)})
ROWS = pd.DataFrame(
    {
        "user_id": [1, 2],
        "event_time": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
        "x": [10, 20],
        "t_dep": [1, 2],
        "t_del": [1, 2],
    }
)

Op = Callable[[Any, str, str], Any]  # (service, group path, project path) → anything

# (operation, level it needs, call). Order matters only in that admin calls come last.
OPERATIONS: list[tuple[str, str, Op]] = [
    ("get_feature_group", "read", lambda s, g, p: s.get_feature_group(g)),
    ("list_features", "read", lambda s, g, p: s.list_features(g)),
    ("get_feature", "read", lambda s, g, p: s.get_feature(g, "x")),
    ("list_versions", "read", lambda s, g, p: s.list_versions(g, "x")),
    ("validate_feature", "read", lambda s, g, p: s.validate_feature(g, "z", "int64", "x + 1")),
    ("read", "read", lambda s, g, p: s.read(g, ["x", "y"])),
    ("changes", "read", lambda s, g, p: s.changes(g, 0)),
    ("commits", "read", lambda s, g, p: s.commits(g)),
    ("list_snapshots", "read", lambda s, g, p: s.list_snapshots(g)),
    ("get_training_data", "read", lambda s, g, p: s.get_training_data(p, ENTITIES, [f"{g}/x", f"{g}/y"])),
    ("get_lineage", "read", lambda s, g, p: s.get_lineage(g, "y")),
    ("impact", "read", lambda s, g, p: s.impact(g, "x")),
    ("get_acl", "read", lambda s, g, p: s.get_acl(g)),
    ("get_effective_acl", "read", lambda s, g, p: s.get_effective_acl(g, "x")),
    ("get_acl_chain", "read", lambda s, g, p: s.get_acl_chain(g, "x")),
    ("write", "write", lambda s, g, p: s.write(g, ROWS.assign(x=[11, 21]))),
    ("create_features", "write", lambda s, g, p: s.create_features(g, [{"name": "n", "dtype": "int64"}])),
    ("update_feature", "write", lambda s, g, p: s.update_feature(g, "x", "v1", {"description": "clicks"})),
    ("deprecate_feature", "write", lambda s, g, p: s.deprecate_feature(g, "t_dep", "v1", "old")),
    ("create_snapshot", "write", lambda s, g, p: s.create_snapshot(g, "snap")),
    ("create_feature_group", "write", lambda s, g, p: s.create_feature_group(p, "new-group")),
    ("set_acl (feature)", "admin", lambda s, g, p: s.set_acl(g, {"readers": ["rita@acme"]}, "t_del", "v1")),
    ("grant_external_access", "admin", lambda s, g, p: s.grant_external_access(g, "tmp-org", ["x"])),
    ("list_external_grants", "admin", lambda s, g, p: s.list_external_grants(g)),
    ("revoke_external_access", "admin", lambda s, g, p: s.revoke_external_access(g, "globex")),
    ("compact", "admin", lambda s, g, p: s.compact(g, older_than=0)),
    ("delete_feature", "admin", lambda s, g, p: s.delete_feature(g, "t_del", "v1")),
]
# Creating a group is a write on the project: only the "inherited" ACL (on the project) names
# the reader/writer/admin there; in "overridden" the project names nobody@acme admin instead.
PROJECT_LEVEL = {"create_feature_group"}


def expected(role: str, variant: str, operation: str, level: str) -> bool:
    _, levels = PRINCIPALS[role]
    member = not role.startswith("other org")
    if member and variant == "no ACL":
        levels = set()  # named nowhere: denied, whatever the role's name says
    elif member and variant == "open org":
        levels = {"read", "write"}  # *@acme reads and writes; admin stays the creators'
    if operation in PROJECT_LEVEL:
        if not member:
            return False  # grants cover groups, never the project above them
        if variant == "overridden":
            return role == "no access"  # the project's own admin
        return level in levels
    return level in levels


def build(fs: FeatureStore, variant: str, catalog_engine: sa.Engine) -> tuple[str, str]:
    g = fs.create_feature_group("g", entity_keys=["user_id"], event_time="event_time")
    for name in ("x", "t_dep", "t_del"):
        g.create_feature(name, "int64")
    g.write(ROWS)
    g.create_feature("y", "int64", derived_from="x * 2")
    people = ACL(readers=["rita@acme"], writers=["will@acme"], admins=["adam@acme"])
    if variant == "inherited":
        fs.project().set_acl(people)
    elif variant == "open org":
        fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    elif variant == "overridden":
        fs.project().set_acl(ACL(admins=["nobody@acme"]))
        g.set_acl(ACL(readers=people.readers, writers=people.writers, admins=people.admins, inherit=False))
    g.grant_external_access(org="globex", features=["*"], permission="read")
    g.grant_external_access(
        org="initech", features=["*"], permission="read", expires_at=datetime.now(UTC) + timedelta(days=1)
    )
    with catalog_engine.begin() as conn:  # the grant has since expired
        conn.execute(
            sa.update(ExternalGrantModel)
            .where(ExternalGrantModel.grantee_org == "initech")
            .values(expires_at=datetime.now(UTC) - timedelta(hours=1))
        )
    return g.path, fs.path


@pytest.mark.parametrize(("variant", "role"), list(itertools.product(VARIANTS, PRINCIPALS)))
def test_permission_matrix(
    fs: FeatureStore, catalog_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, variant: str, role: str
) -> None:
    group, project = build(fs, variant, catalog_engine)
    identity, _ = PRINCIPALS[role]
    monkeypatch.setenv("RAISE_USER", identity)
    rows = []
    for operation, level, call in OPERATIONS:
        want = expected(role, variant, operation, level)
        try:
            call(fs._backend, group, project)
            got = True
        except PermissionDeniedError as exc:
            got = False
            assert exc.details["actor"] == identity and exc.details["required"] in {"reader", "writer", "admin"}
            assert identity in exc.message and "may not" in exc.message
        rows.append((operation, level, role, variant, "allowed" if want else "PERMISSION_DENIED", got == want))
    print(f"\n{variant} × {role} ({identity}): {len(rows)} cases")
    for operation, level, _, _, outcome, ok in rows:
        print(f"  {operation:24} needs {level:5} → {outcome:17} {'ok' if ok else 'WRONG'}")
    wrong = [r for r in rows if not r[-1]]
    assert not wrong, f"{len(wrong)} of {len(rows)} cases differ: {wrong}"


def test_matrix_size() -> None:
    cases = len(VARIANTS) * len(PRINCIPALS) * len(OPERATIONS)
    print(
        f"\npermission matrix: {len(OPERATIONS)} operations × {len(PRINCIPALS)} callers × "
        f"{len(VARIANTS)} ACL placements = {cases} cases per backend"
    )
    assert cases == 4 * 7 * len(OPERATIONS) and len(OPERATIONS) >= 25
