"""Read checks for what an expression references (PRD §8.3–8.4 and §9.3).

Effective ACL: a resource's own ACL merged with its parent's, up the chain feature → group →
project → domain → organization, until an ACL with ``inherit=False`` cuts it. A chain with no
ACL at all is open: a fresh store works for everyone until someone restricts it.

Cross-organization: a feature of another organization is readable only through a live grant
(not expired) from its organization to the reader's, covering the feature (or ``*``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from raise_.catalog.models import ACLModel, ExternalGrantModel

__all__ = ["EffectiveACL", "can_read", "effective_acl", "live_grant"]


@dataclass(frozen=True)
class EffectiveACL:
    readers: frozenset[str]
    writers: frozenset[str]
    admins: frozenset[str]
    restricted: bool  # False when no ACL applies anywhere in the chain

    def allows_read(self, user: str) -> bool:
        return not self.restricted or user in (self.readers | self.writers | self.admins)


def _uuid(value: str | uuid.UUID) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def effective_acl(session: Session, chain: list[tuple[str, str | uuid.UUID]]) -> EffectiveACL:
    """``chain``: (resource_type, id) from the resource itself up to its organization."""
    ids = [_uuid(i) for _, i in chain]
    rows = {
        (r.resource_type, r.resource_id): r
        for r in session.scalars(select(ACLModel).where(ACLModel.resource_id.in_(ids)))
    }
    readers: set[str] = set()
    writers: set[str] = set()
    admins: set[str] = set()
    restricted = False
    for kind, rid in chain:
        acl = rows.get((kind, _uuid(rid)))
        if acl is None:
            continue
        restricted = True
        readers |= set(acl.readers or [])
        writers |= set(acl.writers or [])
        admins |= set(acl.admins or [])
        if not acl.inherit:
            break
    return EffectiveACL(frozenset(readers), frozenset(writers), frozenset(admins), restricted)


def can_read(session: Session, user: str, chain: list[tuple[str, str | uuid.UUID]]) -> bool:
    return effective_acl(session, chain).allows_read(user)


def live_grant(
    session: Session, granting_org_id: str | uuid.UUID, grantee_org: str, group_id: str | uuid.UUID, feature: str
) -> ExternalGrantModel | None:
    """The grant letting ``grantee_org`` read ``feature`` of the group, if one is live now."""
    now = datetime.now(UTC)
    rows = session.scalars(
        select(ExternalGrantModel).where(
            ExternalGrantModel.granting_org_id == _uuid(granting_org_id),
            ExternalGrantModel.grantee_org == grantee_org,
            ExternalGrantModel.resource_id == _uuid(group_id),
        )
    ).all()
    for grant in rows:
        expires = grant.expires_at
        if expires is not None and (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) <= now:
            continue
        if grant.permission not in {"read", "write", "admin"}:
            continue
        names = list(grant.features or [])
        if not names or "*" in names or feature in names:
            return grant
    return None
