"""Recording audit entries (PRD §10) in the same transaction as the change they describe.

Every catalog mutation calls :func:`record` with the session it writes through, so an entry
exists exactly when its change was committed. The governance issue adds hash chaining, queries,
alerts and export on top of this one entry point.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from raise_.catalog.models import AuditLogModel

__all__ = ["record"]


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | None,
    resource_path: str,
    org_id: uuid.UUID | None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditLogModel(
            org_id=org_id,
            actor=actor,
            actor_org=actor.partition("@")[2] or None,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            resource_path=resource_path,
            details=details or {},
            user_agent="raise-sdk/0.1",
        )
    )
