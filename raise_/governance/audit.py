"""Recording audit entries (PRD §10) in the same transaction as the change they describe.

Every catalog mutation writes its entries through the session of that change, so an entry
exists exactly when its change was committed. Bulk operations build entries with :func:`entry`
and insert them in one statement with :func:`write`. The governance issue adds hash chaining,
queries, alerts and export on top of these entry points.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from sqlalchemy import insert
from sqlalchemy.orm import Session

from raise_.catalog.models import AuditLogModel, utcnow

__all__ = ["USER_AGENT", "entry", "record", "write"]

USER_AGENT: Final = "raise-sdk/0.1"


def entry(
    *,
    actor: str,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | None,
    resource_path: str,
    org_id: uuid.UUID | None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "timestamp": utcnow(),
        "org_id": org_id,
        "actor": actor,
        "actor_org": actor.partition("@")[2] or None,
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "resource_path": resource_path,
        "details": details or {},
        "ip_address": None,
        "user_agent": USER_AGENT,
    }


def write(session: Session, entries: list[dict[str, Any]]) -> None:
    if entries:
        session.execute(insert(AuditLogModel), entries)


def record(session: Session, **fields: Any) -> None:
    """Write one entry (the fields of :func:`entry`)."""
    write(session, [entry(**fields)])
