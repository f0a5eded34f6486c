"""ACLs, principal groups, organization aliases and cross-organization grants (PRD §8–§9): the
service methods behind ``set_acl``, ``get_effective_acl``, ``grant_external_access``, ... and
``authorize``, the permission check every guarded service method runs first."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from raise_.errors import (
    DomainNotFoundError,
    FeatureGroupNotFoundError,
    FeatureNotFoundError,
    GrantNotFoundError,
    InvalidArgumentError,
    OrganizationNotFoundError,
    PermissionDeniedError,
    PrincipalGroupNotFoundError,
    ProjectNotFoundError,
    RaiseError,
)
from raise_.governance import audit
from raise_.governance.access import (
    KINDS,
    LEVELS,
    ROLE_OF,
    AccessContext,
    ACLRule,
    Chain,
    GroupACLs,
    Level,
    OrgDirectory,
    grant_is_live,
    live_grant,
)
from raise_.governance.access_cache import AccessCache, CacheEntries
from raise_.governance.guard import Target, guarded
from raise_.governance.identity import Identity
from raise_.governance.records import (
    ACL,
    ACLChainEntry,
    EffectiveACLRecord,
    ExternalGrant,
    PrincipalGroup,
    principals_of,
)
from raise_.metadata.database import CatalogDatabase
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
    utcnow,
)

__all__ = ["ACL", "ACLChainEntry", "AccessService", "EffectiveACLRecord", "ExternalGrant", "PrincipalGroup"]


class _FeatureLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def created_by(self) -> str | None: ...


T = TypeVar("T", bound=_FeatureLike)

# The model of each level below the organization, and its column naming the parent.
_CHILD_MODELS: dict[str, tuple[Any, Any]] = {
    "domain": (DomainModel, DomainModel.org_id),
    "project": (ProjectModel, ProjectModel.domain_id),
    "feature_group": (FeatureGroupModel, FeatureGroupModel.project_id),
}

_KIND_OF_DEPTH = {1: "organization", 2: "domain", 3: "project", 4: "feature_group", 5: "feature"}
_NOT_FOUND: dict[int, type[RaiseError]] = {
    1: OrganizationNotFoundError,
    2: DomainNotFoundError,
    3: ProjectNotFoundError,
    4: FeatureGroupNotFoundError,
    5: FeatureNotFoundError,
}


def _target(path: str, feature: str | None = None, version: str | None = None) -> Callable[[Any], Target]:
    return lambda a: Target.path(a[path], a.get(feature) if feature else None, a.get(version) if version else None)


class AccessService:
    """The access checker every service is given (``authorize``, ``can``, the ``readable_*``
    filters), and the ACL, principal group, alias and grant methods behind the SDK."""

    def __init__(self, db: CatalogDatabase, actor: Callable[[], str]) -> None:
        self.db = db
        self.actor = actor

    @functools.cached_property
    def access_cache(self) -> AccessCache:
        """What permission checks loaded, until the catalog's access generation moves."""
        return AccessCache()

    # -- the check -------------------------------------------------------------------------------

    def authorize(self, level: Level, target: Target, action: str, missing: Level = "read") -> None:
        """Raise PERMISSION_DENIED unless the caller has ``level`` on ``target``.

        A target that does not exist is checked at its deepest existing level for ``missing``:
        ``read`` lets the method report NOT_FOUND to those who may know (and nothing to others);
        ``write`` is for methods that create what is missing."""
        with self.db.reader() as s:
            cache = self.access_cache.entries(s)
            self._authorize_in(s, OrgDirectory(s, cache), level, target, action, missing)

    def _authorize_in(
        self,
        s: Session,
        directory: OrgDirectory,
        level: Level,
        target: Target,
        action: str,
        missing: Level = "read",
    ) -> AccessContext | None:
        identity = directory.identity(self.actor(), known_org=target.org)
        cache = directory.cache
        ctx = AccessContext.load(s, directory, target.org, target.domain, target.project, target.group, cache)
        if ctx is None:
            return None  # the organization does not exist: the method says so (or creates it)
        feature = self._feature_row(s, ctx, target, cache) if target.feature is not None else None
        exists = len(ctx.levels) >= min(target.depth, 4) and (target.feature is None or feature is not None)
        needed: Level = level if exists else missing
        if feature is not None:
            ctx.child_creators[feature[0]] = feature[1]
        chain = ctx.chain(below=("feature", feature[0]) if feature else None)
        if self._allows(ctx, identity, needed, chain, cache):
            return ctx
        if identity.member_of(ctx.org):
            raise self._denied(identity, needed, target, action, ctx, None, chain)
        if len(ctx.levels) == 4:
            spellings = identity.spellings or {identity.raw}
            if live_grant(s, ctx.org_id, spellings, ctx.levels[3].id, target.feature, needed) is not None:
                return ctx
        raise self._denied(
            identity,
            needed,
            target,
            action,
            ctx,
            f"{ctx.org!r} has no live grant giving {identity.org!r} {ROLE_OF[needed]} access to it",
        )

    @staticmethod
    def _allows(ctx: AccessContext, identity: Identity, level: Level, chain: Chain, cache: CacheEntries | None) -> bool:
        if cache is None:
            return ctx.allows(identity, level, chain)
        key = (identity.raw, level, tuple(chain))
        decided = cache.decisions.get(key)
        if decided is None:
            decided = cache.decisions[key] = ctx.allows(identity, level, chain)
        return decided

    @staticmethod
    def _feature_row(
        s: Session, ctx: AccessContext, target: Target, cache: CacheEntries | None = None
    ) -> tuple[uuid.UUID, str | None] | None:
        if len(ctx.levels) < 4 or target.feature is None:
            return None
        key = (ctx.levels[3].id, target.feature, target.version)
        if cache is not None and key in cache.features:
            return cache.features[key]
        query = select(FeatureModel.id, FeatureModel.created_by, FeatureModel.status).where(
            FeatureModel.group_id == ctx.levels[3].id, FeatureModel.name == target.feature
        )
        if target.version is not None:
            query = query.where(FeatureModel.version == target.version)
        rows = s.execute(query.order_by(FeatureModel.version_number.desc())).all()
        live = [r for r in rows if r.status != "archived"] or rows
        found = (live[0].id, live[0].created_by) if live else None
        if cache is not None:
            cache.features[key] = found
        return found

    def _denied(
        self,
        identity: Identity,
        level: Level,
        target: Target,
        action: str,
        ctx: AccessContext | None,
        why: str | None,
        chain: Chain | None = None,
    ) -> PermissionDeniedError:
        role = ROLE_OF[level]
        has = ""
        if ctx is not None and chain is not None and why is None:
            held = [lv for lv in LEVELS if ctx.allows(identity, lv, chain)]
            has = f"; {identity.raw} has {ROLE_OF[held[-1]]} access" if held else f"; {identity.raw} has no access"
        admins = sorted(ctx.effective(chain).admins) if ctx is not None and chain is not None else []
        ask = f" Ask an admin ({', '.join(admins)})" if admins else " Ask an admin of it"
        fix = (
            f"{ask} for {role} access, e.g. .set_acl(ACL({role}s=[{identity.raw!r}]))."
            if why is None
            else f"{ask} for group.grant_external_access(org={identity.org!r}, ...)."
            if ctx is not None and ctx.org != identity.org
            else ""
        )
        reason = f" ({why})" if why else ""
        return PermissionDeniedError(
            f"{identity.raw} may not {action} {target}: it needs {role} access{reason}{has}.{fix}",
            {"action": action, "resource": str(target), "required": role, "actor": identity.raw},
        )

    def can(self, level: Level, target: Target) -> bool:
        try:
            self.authorize(level, target, "access")
        except PermissionDeniedError:
            return False
        return True

    def readable_children(self, parent: Target, names: Iterable[str]) -> set[str]:
        """Of the namespace levels ``names`` directly below ``parent``, those the caller may read:
        the parent's context once, then the children and their ACLs in one query each."""
        wanted = list(names)
        with self.db.reader() as s:
            directory = OrgDirectory(s)
            identity = directory.identity(self.actor(), known_org=parent.org)
            ctx = AccessContext.load(s, directory, parent.org, parent.domain, parent.project, parent.group)
            if ctx is None or len(ctx.levels) < parent.depth or not wanted:
                return set()
            kind = KINDS[parent.depth]
            model, parent_column = _CHILD_MODELS[kind]
            rows = s.execute(
                select(model.id, model.name, model.created_by).where(
                    parent_column == ctx.deepest.id, model.name.in_(wanted)
                )
            ).all()
            acls = select(ACLModel).where(
                ACLModel.resource_type == kind, ACLModel.resource_id.in_([r.id for r in rows])
            )
            for acl in s.scalars(acls):
                ctx.acls[(kind, acl.resource_id)] = ACLRule.of(acl.readers, acl.writers, acl.admins, acl.inherit)
            out: set[str] = set()
            for r in rows:
                ctx.child_creators[r.id] = r.created_by
                if ctx.allows(identity, "read", ctx.chain(below=(kind, r.id))):
                    out.add(r.name)
                elif kind == "feature_group" and not identity.member_of(ctx.org):
                    spellings = identity.spellings or {identity.raw}  # another organization: a grant on it
                    if live_grant(s, ctx.org_id, spellings, r.id, None) is not None:
                        out.add(r.name)
            return out

    def readable_features(self, group_path: str, features: list[T]) -> list[T]:
        """Of ``features`` (records with ``id``, ``name`` and ``created_by``) of one group, those the
        caller may read: one context for the group, then only features with an ACL of their own
        (or, across organizations, outside the grant) are checked one by one."""
        target = Target.path(group_path)
        with self.db.reader() as s:
            directory = OrgDirectory(s)
            try:
                ctx = self._authorize_in(s, directory, "read", target, "list the features of")
            except PermissionDeniedError:
                return []
            if ctx is None or len(ctx.levels) < 4:
                return features
            identity = directory.identity(self.actor())
            if not identity.member_of(ctx.org):
                spellings = identity.spellings or {identity.raw}
                group_id = ctx.levels[3].id
                return [
                    f for f in features if live_grant(s, ctx.org_id, spellings, group_id, f.name, "read") is not None
                ]
            own = {rid for kind, rid in ctx.acls if kind == "feature"}
            out = []
            for f in features:
                fid = uuid.UUID(str(f.id))
                ctx.child_creators[fid] = f.created_by
                if fid not in own or ctx.allows(identity, "read", ctx.chain(below=("feature", fid))):
                    out.append(f)
            return out

    def features_denied(
        self, group_path: str, features: Iterable[tuple[str, str | None]], level: Level = "read"
    ) -> list[tuple[str, str | None]]:
        """Of ``features`` (name, version) of one group, those the caller lacks ``level`` on: a
        group's readers may still be kept from a feature with its own ACL, and a grant may cover
        only some features. One session and one generation read for all of them."""
        denied = []
        with self.db.reader() as s:
            cache = self.access_cache.entries(s)
            directory = OrgDirectory(s, cache)
            for name, version in features:
                try:
                    self._authorize_in(s, directory, level, Target.path(group_path, name, version), level)
                except PermissionDeniedError:
                    denied.append((name, version))
        return denied

    def readable_feature_ids(self, session: Session, features: Iterable[tuple[str, Any, str | None, str]]) -> set[str]:
        """Of ``features`` (group path, id, creator, name), the ids the caller may read: one
        context per group (grants included, across organizations), so a lineage of thousands of
        nodes in a few groups costs a few queries. ``session`` reads committed data."""
        by_group: dict[str, list[tuple[uuid.UUID, str | None, str]]] = {}
        for group_path, fid, creator, name in features:
            by_group.setdefault(group_path, []).append((uuid.UUID(str(fid)), creator, name))
        cache = self.access_cache.entries(session)
        directory = OrgDirectory(session, cache)
        identity = directory.identity(self.actor())
        out: set[str] = set()
        for group_path, members in by_group.items():
            target = Target.path(group_path)
            ctx = AccessContext.load(session, directory, target.org, target.domain, target.project, target.group, cache)
            if ctx is None or len(ctx.levels) < 4:
                continue
            for fid, creator, _ in members:
                ctx.child_creators[fid] = creator
            acls = GroupACLs(ctx)
            out.update(str(fid) for fid, _, name in members if acls.can_read(identity, fid, name))
        return out

    # -- ACLs ------------------------------------------------------------------------------------

    @guarded("admin", _target("resource_path", "feature", "version"), "set the ACL of")
    def set_acl(self, resource_path: str, acl: Any, feature: str | None = None, version: str | None = None) -> ACL:
        value = ACL.from_value(acl)
        target = Target.path(resource_path, feature, version)
        with self.db.transaction() as s:
            kind, rid, ctx = self._resource(s, target)
            row = s.scalars(select(ACLModel).where(ACLModel.resource_type == kind, ACLModel.resource_id == rid)).first()
            before = None if row is None else ACL(row.readers, row.writers, row.admins, row.inherit).to_dict()
            if row is None:
                row = ACLModel(resource_type=kind, resource_id=rid)
                s.add(row)
            row.readers, row.writers, row.admins, row.inherit = (
                value.readers,
                value.writers,
                value.admins,
                value.inherit,
            )
            audit.record(
                s,
                actor=self.actor(),
                action="UPDATE_ACL",
                resource_type=kind,
                resource_id=rid,
                resource_path=str(target),
                org_id=ctx.org_id,
                details={"before": before, "after": value.to_dict()},
            )
        return value

    @guarded("read", _target("resource_path", "feature", "version"), "read the ACL of")
    def get_acl(self, resource_path: str, feature: str | None = None, version: str | None = None) -> ACL | None:
        with self.db.reader() as s:
            kind, rid, _ = self._resource(s, Target.path(resource_path, feature, version))
            row = s.scalars(select(ACLModel).where(ACLModel.resource_type == kind, ACLModel.resource_id == rid)).first()
            return None if row is None else ACL(list(row.readers), list(row.writers), list(row.admins), row.inherit)

    @guarded("read", _target("resource_path", "feature", "version"), "read the ACL of")
    def get_effective_acl(
        self, resource_path: str, feature: str | None = None, version: str | None = None
    ) -> EffectiveACLRecord:
        with self.db.reader() as s:
            kind, rid, ctx = self._resource(s, Target.path(resource_path, feature, version))
            acl = ctx.effective(self._chain_of(ctx, kind, rid))
            return EffectiveACLRecord(sorted(acl.readers), sorted(acl.writers), sorted(acl.admins), acl.restricted)

    @guarded("read", _target("resource_path", "feature", "version"), "read the ACL of")
    def get_acl_chain(
        self, resource_path: str, feature: str | None = None, version: str | None = None
    ) -> list[ACLChainEntry]:
        target = Target.path(resource_path, feature, version)
        with self.db.reader() as s:
            kind, rid, ctx = self._resource(s, target)
            chain = self._chain_of(ctx, kind, rid)
            paths = {lv.id: (lv.path, lv.created_by) for lv in ctx.levels}
            creator = ctx.child_creators.get(rid)
            out: list[ACLChainEntry] = []
            applies = True
            for k, i in chain:
                key = i if isinstance(i, uuid.UUID) else uuid.UUID(str(i))
                row = ctx.acls.get((k, key))
                path, made_by = paths.get(key, (str(target), creator))
                acl = None if row is None else ACL(list(row.readers), list(row.writers), list(row.admins), row.inherit)
                out.append(ACLChainEntry(k, path, acl, made_by, applies))
                if acl is not None and not acl.inherit:
                    applies = False
            return out

    def _resource(self, s: Session, target: Target) -> tuple[str, uuid.UUID, AccessContext]:
        """(resource type, id, context) of an existing resource, or the NOT_FOUND error."""
        directory = OrgDirectory(s)
        ctx = AccessContext.load(s, directory, target.org, target.domain, target.project, target.group)
        depth = min(target.depth, 4)
        if ctx is None or len(ctx.levels) < depth:
            found = 0 if ctx is None else len(ctx.levels)
            cls: type[RaiseError] = _NOT_FOUND[found + 1]
            raise cls(
                f"{_KIND_OF_DEPTH[found + 1].replace('_', ' ').capitalize()} {target} does not exist.",
                {"resource": str(target)},
            )
        if target.feature is None:
            level = ctx.levels[depth - 1]
            return level.kind, level.id, ctx
        row = self._feature_row(s, ctx, target)
        if row is None:
            raise FeatureNotFoundError(f"Feature {target} does not exist.", {"resource": str(target)})
        ctx.child_creators[row[0]] = row[1]
        return "feature", row[0], ctx

    @staticmethod
    def _chain_of(ctx: AccessContext, kind: str, rid: uuid.UUID) -> Chain:
        """The chain of a resource ``_resource`` found (its ACL is among those the context loaded:
        the chain's and every feature's of the group)."""
        if kind == "feature":
            return ctx.chain(below=("feature", rid))
        return ctx.chain([lv.id for lv in ctx.levels].index(rid) + 1)

    # -- principal groups and aliases ------------------------------------------------------------

    @guarded("admin", lambda a: Target(a["org"]), "define groups of")
    def set_principal_group(
        self, org: str, name: str, members: list[str], description: str | None = None
    ) -> PrincipalGroup:
        """Create or replace the group ``name@org`` with ``members`` (identities)."""
        if not isinstance(name, str) or not name or "@" in name or any(c.isspace() for c in name):
            raise InvalidArgumentError(
                f"A group name is a word such as 'ml-engineers' (used as 'ml-engineers@{org}'), not {name!r}.",
                {"name": repr(name)},
            )
        people = principals_of(members, "members")
        with self.db.transaction() as s:
            org_row = self._org_row(s, org)
            row = _principal_group(s, org_row.id, name)
            if row is None:
                row = PrincipalGroupModel(org_id=org_row.id, name=name, created_by=self.actor())
                s.add(row)
            row.members, row.description = people, description
            self._audit_group(s, org, org_row.id, name, {"members": people})
        return PrincipalGroup(org, name, people, description)

    @guarded("read", lambda a: Target(a["org"]), "list the groups of")
    def list_principal_groups(self, org: str) -> list[PrincipalGroup]:
        with self.db.reader() as s:
            org_row = self._org_row(s, org)
            rows = s.scalars(
                select(PrincipalGroupModel)
                .where(PrincipalGroupModel.org_id == org_row.id)
                .order_by(PrincipalGroupModel.name)
            ).all()
            return [PrincipalGroup(org, r.name, list(r.members), r.description) for r in rows]

    @guarded("admin", lambda a: Target(a["org"]), "delete a group of")
    def delete_principal_group(self, org: str, name: str) -> None:
        with self.db.transaction() as s:
            org_row = self._org_row(s, org)
            row = _principal_group(s, org_row.id, name)
            if row is None:
                raise PrincipalGroupNotFoundError(
                    f"Organization {org!r} has no group {name!r}; list_groups() shows its groups.",
                    {"org": org, "group": name},
                )
            s.delete(row)
            self._audit_group(s, org, org_row.id, name, {"deleted": True})

    def _audit_group(self, s: Session, org: str, org_id: uuid.UUID, name: str, details: dict[str, Any]) -> None:
        audit.record(
            s,
            actor=self.actor(),
            action="UPDATE_ACL",
            resource_type="principal_group",
            resource_id=None,
            resource_path=f"{org}/groups/{name}",
            org_id=org_id,
            details=details,
        )

    @guarded("admin", lambda a: Target(a["org"]), "add an alias to")
    def add_org_alias(self, org: str, alias: str) -> list[str]:
        """Identities written ``name@alias`` belong to ``org`` from now on."""
        if not isinstance(alias, str) or not alias.strip() or "@" in alias or any(c.isspace() for c in alias):
            raise InvalidArgumentError(
                f"An alias is what follows '@' in an identity, such as 'acme.com', not {alias!r}.",
                {"alias": repr(alias)},
            )
        with self.db.transaction() as s:
            org_row = self._org_row(s, org)
            taken = s.scalars(select(OrgAliasModel).where(OrgAliasModel.alias == alias)).first()
            other = s.scalars(select(OrganizationModel).where(OrganizationModel.name == alias)).first()
            if (taken is not None and taken.org_id != org_row.id) or (other is not None and other.id != org_row.id):
                raise InvalidArgumentError(
                    f"{alias!r} already names another organization.", {"alias": alias, "org": org}
                )
            if taken is None:
                s.add(OrgAliasModel(alias=alias, org_id=org_row.id))
                audit.record(
                    s,
                    actor=self.actor(),
                    action="UPDATE_METADATA",
                    resource_type="organization",
                    resource_id=org_row.id,
                    resource_path=org,
                    org_id=org_row.id,
                    details={"alias_added": alias},
                )
            return list(
                s.scalars(
                    select(OrgAliasModel.alias).where(OrgAliasModel.org_id == org_row.id).order_by(OrgAliasModel.alias)
                )
            )

    @guarded("read", lambda a: Target(a["org"]), "read the aliases of")
    def list_org_aliases(self, org: str) -> list[str]:
        with self.db.reader() as s:
            org_row = self._org_row(s, org)
            return list(
                s.scalars(
                    select(OrgAliasModel.alias).where(OrgAliasModel.org_id == org_row.id).order_by(OrgAliasModel.alias)
                )
            )

    @staticmethod
    def _org_row(s: Session, org: str) -> OrganizationModel:
        row = s.scalars(select(OrganizationModel).where(OrganizationModel.name == org)).first()
        if row is None:
            raise OrganizationNotFoundError(f"Organization {org!r} does not exist.", {"org": org})
        return row

    # -- cross-organization grants ---------------------------------------------------------------

    @guarded("admin", _target("group_path"), "grant external access to")
    def grant_external_access(
        self,
        group_path: str,
        org: str,
        features: list[str] | None = None,
        permission: str = "read",
        expires_at: datetime | None = None,
    ) -> ExternalGrant:
        """Let organization ``org`` use ``features`` of the group (``["*"]``: all). Granting the
        same organization again replaces its grant (and revives a revoked one)."""
        target = Target.path(group_path)
        if not isinstance(org, str) or not org.strip():
            raise InvalidArgumentError("org must name the organization to grant access to.", {"org": repr(org)})
        if permission not in LEVELS:
            raise InvalidArgumentError(
                f"permission must be one of {list(LEVELS)}, not {permission!r}.", {"permission": repr(permission)}
            )
        names = _feature_list(features)
        expiry = _expiry(expires_at)
        with self.db.transaction() as s:
            _, gid, ctx = self._resource(s, target)
            if org == ctx.org:
                raise InvalidArgumentError(
                    f"{org!r} owns this group; members of an organization need an ACL, not a grant.", {"org": org}
                )
            existing = {f for (f,) in s.execute(select(FeatureModel.name).where(FeatureModel.group_id == gid)).all()}
            missing = [n for n in names if n != "*" and n not in existing]
            if missing:
                raise InvalidArgumentError(
                    f"Group {target} has no feature(s) {missing}; grant existing features or ['*'].",
                    {"features": missing},
                )
            row = s.scalars(
                select(ExternalGrantModel).where(
                    ExternalGrantModel.granting_org_id == ctx.org_id,
                    ExternalGrantModel.grantee_org == org,
                    ExternalGrantModel.resource_type == "feature_group",
                    ExternalGrantModel.resource_id == gid,
                )
            ).first()
            if row is None:
                row = ExternalGrantModel(
                    granting_org_id=ctx.org_id, grantee_org=org, resource_type="feature_group", resource_id=gid
                )
                s.add(row)
            row.features, row.permission, row.expires_at = names, permission, expiry
            row.granted_by, row.created_at, row.revoked_at, row.revoked_by = self.actor(), utcnow(), None, None
            audit.record(
                s,
                actor=self.actor(),
                action="GRANT_EXTERNAL",
                resource_type="feature_group",
                resource_id=gid,
                resource_path=str(target),
                org_id=ctx.org_id,
                details={
                    "grantee_org": org,
                    "features": names,
                    "permission": permission,
                    "expires_at": expiry.isoformat() if expiry else None,
                },
            )
            return _grant_record(row, str(target))

    @guarded("admin", _target("group_path"), "list the external grants of")
    def list_external_grants(self, group_path: str, include_inactive: bool = False) -> list[ExternalGrant]:
        target = Target.path(group_path)
        with self.db.reader() as s:
            _, gid, _ = self._resource(s, target)
            rows = s.scalars(
                select(ExternalGrantModel)
                .where(ExternalGrantModel.resource_id == gid)
                .order_by(ExternalGrantModel.grantee_org)
            ).all()
            return [_grant_record(r, str(target)) for r in rows if include_inactive or grant_is_live(r)]

    @guarded("admin", _target("group_path"), "revoke external access to")
    def revoke_external_access(self, group_path: str, org: str) -> int:
        """Revoke ``org``'s grant on the group at once; returns how many grants were live."""
        target = Target.path(group_path)
        with self.db.transaction() as s:
            _, gid, ctx = self._resource(s, target)
            rows = s.scalars(
                select(ExternalGrantModel).where(
                    and_(ExternalGrantModel.resource_id == gid, ExternalGrantModel.grantee_org == org)
                )
            ).all()
            live = [r for r in rows if grant_is_live(r)]
            if not rows:
                raise GrantNotFoundError(
                    f"Group {target} has no grant to {org!r}; list_external_grants() shows who has one.",
                    {"group": str(target), "org": org},
                )
            now = utcnow()
            for r in rows:
                if r.revoked_at is None:
                    r.revoked_at, r.revoked_by = now, self.actor()
            audit.record(
                s,
                actor=self.actor(),
                action="REVOKE_EXTERNAL",
                resource_type="feature_group",
                resource_id=gid,
                resource_path=str(target),
                org_id=ctx.org_id,
                details={"grantee_org": org, "live_grants_revoked": len(live)},
            )
            return len(live)


def _principal_group(s: Session, org_id: uuid.UUID, name: str) -> PrincipalGroupModel | None:
    return s.scalars(
        select(PrincipalGroupModel).where(PrincipalGroupModel.org_id == org_id, PrincipalGroupModel.name == name)
    ).first()


def _feature_list(features: Any) -> list[str]:
    if features is None:
        return ["*"]
    if isinstance(features, str) or not isinstance(features, list | tuple) or not features:
        raise InvalidArgumentError(
            "features must be a non-empty list of feature names, or ['*'] for all.", {"features": repr(features)}
        )
    out = []
    for f in features:
        if not isinstance(f, str) or not f.strip():
            raise InvalidArgumentError(f"{f!r} is not a feature name.", {"features": repr(features)})
        out.append(f.strip())
    return ["*"] if "*" in out else out


def _expiry(value: Any) -> datetime | None:
    if value is None:
        return None
    # A naive time is the caller's local time, as datetime.now() gives it.
    when: datetime = _as_datetime(value).astimezone(UTC)
    if when <= datetime.now(UTC):
        raise InvalidArgumentError(
            f"expires_at {when.isoformat()} is in the past; give a future time or None (no expiry).",
            {"expires_at": when.isoformat()},
        )
    return when


def _grant_record(row: ExternalGrantModel, group: str) -> ExternalGrant:
    def utc(v: datetime | None) -> datetime | None:
        return None if v is None else (v if v.tzinfo else v.replace(tzinfo=UTC))

    return ExternalGrant(
        org=row.grantee_org,
        group=group,
        features=list(row.features or ["*"]),
        permission=row.permission,
        granted_by=row.granted_by,
        created_at=utc(row.created_at) or datetime.now(UTC),
        expires_at=utc(row.expires_at),
        revoked_at=utc(row.revoked_at),
    )


def _as_datetime(value: Any) -> datetime:
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        raise InvalidArgumentError(f"expires_at must be a datetime, not {value!r}.", {"expires_at": repr(value)})
    return value
