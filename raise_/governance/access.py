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
from typing import Final

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from raise_.catalog.models import ACLModel, ExternalGrantModel, FeatureModel

__all__ = ["EffectiveACL", "GroupACLs", "can_read", "effective_acl", "live_grant"]


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


Chain = list[tuple[str, str | uuid.UUID]]


def effective_acl(session: Session, chain: Chain) -> EffectiveACL:
    """``chain``: (resource_type, id) from the resource itself up to its organization."""
    ids = [_uuid(i) for _, i in chain]
    rows = {
        (r.resource_type, r.resource_id): r
        for r in session.scalars(select(ACLModel).where(ACLModel.resource_id.in_(ids)))
    }
    return _merge(rows, chain)


def _merge(rows: dict[tuple[str, uuid.UUID], ACLModel], chain: Chain) -> EffectiveACL:
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


def can_read(session: Session, user: str, chain: Chain) -> bool:
    return effective_acl(session, chain).allows_read(user)


# Every ACL that can apply to a group or one of its features, in one round trip (built once).
_GROUP_ACLS: Final = select(ACLModel).where(
    or_(
        and_(ACLModel.resource_type == "feature_group", ACLModel.resource_id == bindparam("group")),
        and_(ACLModel.resource_type == "project", ACLModel.resource_id == bindparam("project")),
        and_(ACLModel.resource_type == "domain", ACLModel.resource_id == bindparam("domain")),
        and_(ACLModel.resource_type == "organization", ACLModel.resource_id == bindparam("org")),
        and_(
            ACLModel.resource_type == "feature",
            ACLModel.resource_id.in_(select(FeatureModel.id).where(FeatureModel.group_id == bindparam("group"))),
        ),
    )
)


class GroupACLs:
    """The ACLs above a group and on its features, loaded once, so checking many features of one
    group (an expression's references, a plan) costs one query rather than one per feature."""

    def __init__(self, rows: dict[tuple[str, uuid.UUID], ACLModel]) -> None:
        self._rows = rows

    @classmethod
    def load(
        cls,
        session: Session,
        group_id: str | uuid.UUID,
        project_id: str | uuid.UUID,
        domain_id: str | uuid.UUID,
        org_id: str | uuid.UUID,
    ) -> GroupACLs:
        params = {
            "group": _uuid(group_id),
            "project": _uuid(project_id),
            "domain": _uuid(domain_id),
            "org": _uuid(org_id),
        }
        return cls({(r.resource_type, r.resource_id): r for r in session.scalars(_GROUP_ACLS, params)})

    def effective(self, chain: Chain) -> EffectiveACL:
        """``chain`` must run from a feature or the group itself up to the organization."""
        return _merge(self._rows, chain)


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
