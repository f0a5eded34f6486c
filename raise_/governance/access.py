"""Permission checks (PRD §8–§9): who may read, write or administer a resource.

Effective ACL: a resource's own ACL merged with its parent's, up the chain feature → group →
project → domain → organization, until an ACL with ``inherit=False`` cuts it. The creator of each
level is an admin of that level (and, through the cascade, of what lies below it). A resource
keeps its own creator as admin even under ``inherit=False``, so nobody locks themselves out.

Access is denied by default (PRD §8.4): only the principals the effective ACL names (identities,
named groups of the organization, or ``*@org`` for every member) and the creators up the chain
have the levels it gives. A chain without any ACL is its creators' alone; an organization opens
itself to its members explicitly, with ``org.set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))``
(migration 0008 wrote that ACL for every organization that existed before this rule).

Across organizations nothing is visible except through a live grant (not expired, not revoked)
from the resource's organization to the caller's, on the feature's group, covering the feature
(or ``*``), with at least the level asked for.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from raise_.governance.access_cache import CacheEntries
from raise_.governance.identity import Identity, parse_identity
from raise_.metadata.models import (
    ACLModel,
    DomainModel,
    ExternalGrantModel,
    FeatureGroupModel,
    FeatureModel,
    OrgAliasModel,
    OrganizationModel,
    PrincipalGroupModel,
    ProjectModel,
)

__all__ = [
    "KINDS",
    "LEVELS",
    "ROLE_OF",
    "ACLRule",
    "AccessContext",
    "Chain",
    "ChainLevel",
    "EffectiveACL",
    "GroupACLs",
    "Level",
    "OrgDirectory",
    "live_grant",
]

Level = Literal["read", "write", "admin"]
LEVELS: Final[tuple[Level, ...]] = ("read", "write", "admin")
ROLE_OF: Final = {"read": "reader", "write": "writer", "admin": "admin"}
KINDS: Final = ("organization", "domain", "project", "feature_group", "feature")
Chain = list[tuple[str, str | uuid.UUID]]


def _uuid(value: str | uuid.UUID) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


@dataclass(frozen=True)
class ACLRule:
    """One ACL row as plain values (what the cascade reads), safe to keep after its session."""

    readers: tuple[str, ...]
    writers: tuple[str, ...]
    admins: tuple[str, ...]
    inherit: bool

    @classmethod
    def of(
        cls,
        readers: Iterable[str] | None,
        writers: Iterable[str] | None,
        admins: Iterable[str] | None,
        inherit: bool | None,
    ) -> ACLRule:
        return cls(tuple(readers or ()), tuple(writers or ()), tuple(admins or ()), bool(inherit))


@dataclass(frozen=True)
class EffectiveACL:
    readers: frozenset[str]
    writers: frozenset[str]
    admins: frozenset[str]
    restricted: bool  # False when no ACL applies anywhere in the chain (then only the creators have access)

    def principals(self, level: str) -> frozenset[str]:
        if level == "admin":
            return self.admins
        if level == "write":
            return self.writers | self.admins
        return self.readers | self.writers | self.admins


def _merge(
    rows: Mapping[tuple[str, uuid.UUID], ACLRule], chain: Chain, creators: Mapping[uuid.UUID, str | None] | None = None
) -> EffectiveACL:
    readers: set[str] = set()
    writers: set[str] = set()
    admins: set[str] = set()
    restricted = False
    for kind, rid in chain:
        key = _uuid(rid)
        creator = (creators or {}).get(key)
        if creator:
            admins.add(creator)
        acl = rows.get((kind, key))
        if acl is None:
            continue
        restricted = True
        readers.update(acl.readers)
        writers.update(acl.writers)
        admins.update(acl.admins)
        if not acl.inherit:
            break
    return EffectiveACL(frozenset(readers), frozenset(writers), frozenset(admins), restricted)


# -- organizations: names, aliases and principal groups ------------------------------------------


class OrgDirectory:
    """Organization names and aliases, and the principal groups of organizations, loaded lazily
    once per check (most checks need neither)."""

    def __init__(self, session: Session, cache: CacheEntries | None = None) -> None:
        self.session = session
        self.cache = cache
        self._aliases: dict[str, str] | None = cache.aliases if cache is not None else None
        self._groups: dict[uuid.UUID, dict[str, list[str]]] = cache.groups if cache is not None else {}

    def org_of(self, written: str) -> str | None:
        if self._aliases is None:
            rows = self.session.execute(
                select(OrgAliasModel.alias, OrganizationModel.name).join(
                    OrganizationModel, OrgAliasModel.org_id == OrganizationModel.id
                )
            ).all()
            self._aliases = {alias: name for alias, name in rows}
            if self.cache is not None:
                self.cache.aliases = self._aliases
        return self._aliases.get(written)

    def identity(self, raw: str, known_org: str | None = None) -> Identity:
        """``known_org``: an organization name known to exist (the one being accessed): an
        identity written with it needs no alias lookup, which is most calls."""
        return parse_identity(raw, lambda written: written if written == known_org else self.org_of(written))

    def groups(self, org_id: uuid.UUID) -> dict[str, list[str]]:
        key = _uuid(org_id)
        if key not in self._groups:
            rows = self.session.execute(
                select(PrincipalGroupModel.name, PrincipalGroupModel.members).where(
                    PrincipalGroupModel.org_id == org_id
                )
            ).all()
            self._groups[key] = {name: list(members or []) for name, members in rows}
        return self._groups[key]


# -- the chain of one resource ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChainLevel:
    kind: str
    id: uuid.UUID
    path: str
    created_by: str | None


_CHAIN: Final = (
    select(
        OrganizationModel.id,
        OrganizationModel.created_by,
        DomainModel.id,
        DomainModel.created_by,
        ProjectModel.id,
        ProjectModel.created_by,
        FeatureGroupModel.id,
        FeatureGroupModel.created_by,
    )
    .select_from(OrganizationModel)
    .outerjoin(DomainModel, and_(DomainModel.org_id == OrganizationModel.id, DomainModel.name == bindparam("domain")))
    .outerjoin(ProjectModel, and_(ProjectModel.domain_id == DomainModel.id, ProjectModel.name == bindparam("project")))
    .outerjoin(
        FeatureGroupModel,
        and_(FeatureGroupModel.project_id == ProjectModel.id, FeatureGroupModel.name == bindparam("group")),
    )
    .where(OrganizationModel.name == bindparam("org"))
)

# Every ACL on the levels above a group (or above any level), and on the group's features.
_ACLS_OF_CHAIN: Final = (
    select(
        ACLModel.resource_type,
        ACLModel.resource_id,
        ACLModel.readers,
        ACLModel.writers,
        ACLModel.admins,
        ACLModel.inherit,
        FeatureModel.created_by,
    )
    .outerjoin(FeatureModel, and_(ACLModel.resource_type == "feature", FeatureModel.id == ACLModel.resource_id))
    .where(
        or_(
            ACLModel.resource_id.in_(bindparam("ids", expanding=True)),
            and_(
                ACLModel.resource_type == "feature",
                ACLModel.resource_id.in_(select(FeatureModel.id).where(FeatureModel.group_id == bindparam("group_id"))),
            ),
        )
    )
)


# A chain as loaded: its levels, the ACLs on them and on the group's features, those features' creators.
_Loaded = tuple[tuple[ChainLevel, ...], dict[tuple[str, uuid.UUID], ACLRule], dict[uuid.UUID, str | None]]


@dataclass
class AccessContext:
    """What decides access to one namespace path and everything under it: the levels that exist
    (from the organization down), their creators, every ACL on them and on the group's features."""

    session: Session
    directory: OrgDirectory
    org: str
    levels: list[ChainLevel]  # organization first; stops at the deepest level that exists
    acls: dict[tuple[str, uuid.UUID], ACLRule] = field(default_factory=dict)
    # Creators of resources below ``levels`` that a check has met (features, listed children).
    child_creators: dict[uuid.UUID, str | None] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        session: Session,
        directory: OrgDirectory,
        org: str,
        domain: str | None = None,
        project: str | None = None,
        group: str | None = None,
        cache: CacheEntries | None = None,
    ) -> AccessContext | None:
        """None when the organization does not exist. ``cache``: the access cache's entries of the
        generation ``session`` sees (only for sessions reading committed data)."""
        key = (org, domain, project, group)
        if cache is not None and key in cache.contexts:
            loaded = cache.contexts[key]
        else:
            loaded = cls._query(session, key)
            if cache is not None:
                cache.contexts[key] = loaded
        if loaded is None:
            return None
        levels, acls, creators = loaded
        # Copies: a check adds the creators (and a listing the ACLs) of what it meets below.
        return cls(session, directory, org, list(levels), dict(acls), dict(creators))

    @staticmethod
    def _query(session: Session, key: tuple[str | None, ...]) -> _Loaded | None:
        row = session.execute(_CHAIN, dict(zip(("org", "domain", "project", "group"), key, strict=True))).first()
        if row is None:
            return None
        levels: list[ChainLevel] = []
        for i, kind in enumerate(KINDS[:4]):
            rid, creator = row[2 * i], row[2 * i + 1]
            if rid is None:
                break
            path = "/".join(str(n) for n in key[: i + 1])
            levels.append(ChainLevel(kind, _uuid(rid), path, str(creator) if creator is not None else None))
        group_id = levels[3].id if len(levels) == 4 else None
        acls: dict[tuple[str, uuid.UUID], ACLRule] = {}
        creators: dict[uuid.UUID, str | None] = {}
        params = {"ids": [lv.id for lv in levels], "group_id": group_id}
        for kind, rid, readers, writers, admins, inherit, feature_creator in session.execute(_ACLS_OF_CHAIN, params):
            acls[(kind, _uuid(rid))] = ACLRule.of(readers, writers, admins, inherit)
            if kind == "feature":
                creators[_uuid(rid)] = feature_creator
        return tuple(levels), acls, creators

    @property
    def org_id(self) -> uuid.UUID:
        return self.levels[0].id

    @property
    def deepest(self) -> ChainLevel:
        return self.levels[-1]

    def chain(self, depth: int | None = None, below: tuple[str, uuid.UUID] | None = None) -> Chain:
        """(kind, id) from the resource up to the organization; ``depth`` counts levels from the
        organization (1 = the organization); ``below``: (kind, id) of a resource under them."""
        levels = self.levels if depth is None else self.levels[:depth]
        out: Chain = [(lv.kind, lv.id) for lv in reversed(levels)]
        if below is not None:
            out.insert(0, below)
        return out

    def effective(self, chain: Chain) -> EffectiveACL:
        creators = {lv.id: lv.created_by for lv in self.levels} | self.child_creators
        acl = _merge(self.acls, chain, creators)
        own_creator = creators.get(_uuid(chain[0][1])) if chain else None
        if own_creator and own_creator not in acl.admins:  # cut off by inherit=False above it
            acl = EffectiveACL(acl.readers, acl.writers, acl.admins | {own_creator}, acl.restricted)
        return acl

    def allows(self, identity: Identity, level: str, chain: Chain) -> bool:
        """Whether the ACLs and creators give ``identity`` the level. An identity of another
        organization counts only where it is named itself (it created the resource, or an admin
        wrote it into an ACL); everything else across organizations goes through grants."""
        acl = self.effective(chain)
        if not identity.member_of(self.org):
            return any(identity.matches(p) for p in acl.principals(level))
        return any(self._matches(p, identity) for p in acl.principals(level))

    def _matches(self, principal: str, identity: Identity) -> bool:
        if self._names(principal, identity):
            return True
        name, at, written = principal.rpartition("@")
        if not at:
            name, written = principal, self.org
        if written != self.org and self.directory.org_of(written) != self.org:
            return False
        if name == "*":
            return True
        members = self.directory.groups(self.org_id).get(name)
        return members is not None and any(self._names(m, identity) for m in members)

    def _names(self, written: str, identity: Identity) -> bool:
        """Whether ``written`` (an identity in an ACL or a group) is ``identity``, in any spelling:
        ``will@acme.com`` is ``will@acme`` once ``acme.com`` is an alias of ``acme``."""
        if identity.matches(written):
            return True
        other = self.directory.identity(written)
        return other.org is not None and (other.name, other.org) == (identity.name, identity.org)


class GroupACLs:
    """The ACLs above a group and on its features, loaded once, so checking many features of one
    group (an expression's references, a plan) costs one query rather than one per feature."""

    def __init__(self, context: AccessContext | None) -> None:
        self._context = context

    @classmethod
    def load(cls, session: Session, directory: OrgDirectory, path: tuple[str, str, str, str]) -> GroupACLs:
        return cls(AccessContext.load(session, directory, *path))

    def can_read(self, identity: Identity, feature_id: str | uuid.UUID, feature_name: str | None = None) -> bool:
        ctx = self._context
        if ctx is None:
            return False
        if ctx.allows(identity, "read", ctx.chain(below=("feature", _uuid(feature_id)))):
            return True
        if identity.member_of(ctx.org) or len(ctx.levels) < 4:
            return False
        spellings = identity.spellings or {identity.raw}  # another organization: through a live grant
        return live_grant(ctx.session, ctx.org_id, spellings, ctx.levels[3].id, feature_name) is not None


# -- cross-organization grants ---------------------------------------------------------------------


def live_grant(
    session: Session,
    granting_org_id: str | uuid.UUID,
    grantee_org: str | Iterable[str],
    group_id: str | uuid.UUID,
    feature: str | None,
    level: str = "read",
) -> ExternalGrantModel | None:
    """The grant letting ``grantee_org`` (an organization, or its spellings) use ``feature`` of
    the group (any feature when None) at ``level``, if one is live now."""
    now = datetime.now(UTC)
    grantees = [grantee_org] if isinstance(grantee_org, str) else list(grantee_org)
    rows = session.scalars(
        select(ExternalGrantModel).where(
            ExternalGrantModel.granting_org_id == _uuid(granting_org_id),
            ExternalGrantModel.grantee_org.in_(grantees),
            ExternalGrantModel.resource_id == _uuid(group_id),
            ExternalGrantModel.revoked_at.is_(None),
        )
    ).all()
    for grant in rows:
        if not grant_is_live(grant, now):
            continue
        if LEVELS.index(grant.permission) < LEVELS.index(level):
            continue
        names = list(grant.features or [])
        if feature is None or not names or "*" in names or feature in names:
            return grant
    return None


def grant_is_live(grant: ExternalGrantModel, now: datetime | None = None) -> bool:
    if grant.revoked_at is not None or grant.permission not in LEVELS:
        return False
    expires = grant.expires_at
    if expires is None:
        return True
    now = now or datetime.now(UTC)
    return (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) > now
