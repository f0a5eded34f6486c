"""Deny by default (PRD §8.4): every organization that relied on the old open default gets an
explicit ACL saying so, and nobody's access changes.

Until this revision a chain without any ACL was open to every member of the organization (read
and write). Now only the principals an effective ACL names, and the creators up the chain, have
access. So that nobody loses access silently, each organization without an ACL of its own gets
``ACL(readers=["*@org"], writers=["*@org"])``: what the old default gave.

That alone would *open* what was restricted: under the old rule an ACL anywhere in a chain made
it closed, and an ACL with ``inherit=True`` below the new organization ACL would now merge
``*@org`` in. So every ACL that was the topmost one of its chain (no ACL above it) and inherited
is made ``inherit=False``, with the creators above it (admins through the cascade before) written
into its admins: its effective ACL is exactly what it was.

Revision ID: 0008_explicit_org_acls
Revises: 0007_analytics
Create Date: 2026-12-06
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008_explicit_org_acls"
down_revision = "0007_analytics"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")

_acls = sa.table(
    "acls",
    sa.column("id", sa.Uuid()),
    sa.column("resource_type", sa.String()),
    sa.column("resource_id", sa.Uuid()),
    sa.column("readers", JSON),
    sa.column("writers", JSON),
    sa.column("admins", JSON),
    sa.column("inherit", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)

# (kind, table, column naming the parent, the parent's kind): the levels below an organization.
_LEVELS = (
    ("domain", "domains", "org_id", "organization"),
    ("project", "projects", "domain_id", "domain"),
    ("feature_group", "feature_groups", "project_id", "project"),
    ("feature", "features", "group_id", "feature_group"),
)
_PARENT_KIND = {kind: parent_kind for kind, _, _, parent_kind in _LEVELS}


def open_acl(org_name: str) -> dict[str, Any]:
    """What the old default gave an organization's members: read and write, admin to creators."""
    return {"readers": [f"*@{org_name}"], "writers": [f"*@{org_name}"], "admins": [], "inherit": True}


def _uuid(value: Any) -> uuid.UUID:
    """Ids as raw SQL returns them: a UUID on PostgreSQL, 32 hex digits on SQLite."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def plan(
    orgs: Iterable[tuple[Any, str, str | None]],
    children: Iterable[tuple[str, Any, Any, str | None]],
    acls: Iterable[tuple[str, Any, list[str], bool]],
) -> tuple[list[tuple[Any, dict[str, Any]]], list[tuple[str, Any, list[str]]]]:
    """The ACLs to write: ``(org id, acl)`` to insert, and ``(kind, id, admins)`` of the ACLs
    to cut (``inherit=False``) with those admins.

    ``orgs``: (id, name, created_by); ``children``: (kind, id, parent id, created_by) of every
    domain, project, group and feature; ``acls``: (resource kind, resource id, admins, inherit).
    """
    parent: dict[tuple[str, uuid.UUID], tuple[str, uuid.UUID] | None] = {}
    creator: dict[tuple[str, uuid.UUID], str | None] = {}
    org_rows = list(orgs)
    for oid, _, created_by in org_rows:
        parent[("organization", _uuid(oid))] = None
        creator[("organization", _uuid(oid))] = created_by
    for kind, rid, pid, created_by in children:
        parent[(kind, _uuid(rid))] = (_PARENT_KIND[kind], _uuid(pid))
        creator[(kind, _uuid(rid))] = created_by
    acl_rows = {(kind, _uuid(rid)): (list(admins or []), bool(inherit)) for kind, rid, admins, inherit in acls}

    def ancestors(key: tuple[str, uuid.UUID]) -> list[tuple[str, uuid.UUID]]:
        out = []
        up = parent.get(key)
        while up is not None:
            out.append(up)
            up = parent.get(up)
        return out

    inserts: list[tuple[Any, dict[str, Any]]] = []
    opened: set[uuid.UUID] = set()
    for oid, name, _ in org_rows:
        if ("organization", _uuid(oid)) not in acl_rows:
            inserts.append((oid, open_acl(name)))
            opened.add(_uuid(oid))
    cuts: list[tuple[str, Any, list[str]]] = []
    for key, (admins, inherit) in acl_rows.items():
        if key[0] == "organization" or not inherit:
            continue
        above = ancestors(key)
        if not above or above[-1][0] != "organization" or above[-1][1] not in opened:
            continue  # its organization keeps its own ACL: nothing changes for this chain
        if any(a in acl_rows for a in above):
            continue  # not the topmost ACL: it merges into the one above, which is cut
        merged = list(admins)
        for a in above:  # the creators above were its admins through the cascade
            who = creator.get(a)
            if who and who not in merged:
                merged.append(who)
        cuts.append((key[0], key[1], merged))
    return inserts, cuts


def upgrade() -> None:
    bind = op.get_bind()
    orgs = bind.execute(sa.text("SELECT id, name, created_by FROM organizations")).all()
    if not orgs:
        return
    children: list[tuple[str, Any, Any, str | None]] = []
    for kind, table, parent_column, _ in _LEVELS:  # names from the constant above, never input
        rows = bind.execute(sa.text(f"SELECT id, {parent_column}, created_by FROM {table}")).all()
        children.extend((kind, _uuid(r[0]), _uuid(r[1]), r[2]) for r in rows)
    acl_rows = bind.execute(
        sa.select(_acls.c.resource_type, _acls.c.resource_id, _acls.c.admins, _acls.c.inherit)
    ).all()
    inserts, cuts = plan(((_uuid(o[0]), o[1], o[2]) for o in orgs), children, acl_rows)
    now = datetime.now(UTC)
    for oid, acl in inserts:
        bind.execute(
            _acls.insert().values(
                id=uuid.uuid4(), resource_type="organization", resource_id=oid, created_at=now, updated_at=now, **acl
            )
        )
    for kind, rid, admins in cuts:
        bind.execute(
            _acls.update()
            .where(_acls.c.resource_type == kind, _acls.c.resource_id == rid)
            .values(inherit=False, admins=admins, updated_at=now)
        )


def downgrade() -> None:
    # The explicit ACLs are ordinary ACLs now: an admin may have changed them since; keep them.
    pass
