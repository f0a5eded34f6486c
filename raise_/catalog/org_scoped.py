"""Things named once per organization and kept with the project they were made in (dashboards,
analytics alerts: PRD §3's ``UNIQUE(org_id, name)``): finding one by name and auditing a change
to it, the same way for each kind."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from raise_.catalog.lookup import find_organization
from raise_.catalog.paths import parse_project_path
from raise_.errors import InvalidArgumentError, RaiseError
from raise_.governance import audit

__all__ = ["audit_org_scoped", "find_org_scoped"]

M = TypeVar("M")


def find_org_scoped(
    session: Session,
    model: type[M],
    project_path: str,
    name: object,
    *,
    what: str,
    missing: type[RaiseError],
    lister: str,
) -> M:
    """The ``model`` row named ``name`` in the organization of ``project_path`` (``missing``, its
    message pointing to ``lister``, when there is none). The caller checks access to its scope."""
    context = parse_project_path(project_path)
    if not isinstance(name, str):
        raise InvalidArgumentError(f"A{'n' if what[0] in 'aeiou' else ''} {what}'s name is text, got {name!r}.", {})
    org = find_organization(session, context.org)
    table: Any = model  # an org-scoped model: it has org_id and name columns
    row: M | None = session.scalar(select(model).where(table.org_id == org.id, table.name == name))
    if row is None:
        raise missing(
            f"No {what} {name!r} in {context.org}; {lister} lists them.", {"organization": context.org, "name": name}
        )
    return row


def audit_org_scoped(
    session: Session, actor: str, action: str, row: Any, resource_type: str, segment: str, **details: Any
) -> None:
    """One audit entry on ``row`` (``{scope}/{segment}/{name}``), naming it in its details."""
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=row.id,
        resource_path=f"{row.scope}/{segment}/{row.name}",
        org_id=row.org_id,
        details={resource_type.split("_")[-1]: row.name, **details},
    )
