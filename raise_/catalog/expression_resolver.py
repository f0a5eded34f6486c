"""Resolving the names in a derived feature's expression against the catalog (README *Path
Resolution*), with the checks that depend on what a name points at: versions, status, entity
keys shared across groups, ACLs and cross-organization grants.

One resolver serves one validation or one read plan: it caches each group it loads, and sees
features created earlier in the same batch (``pending``) before they are in the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from raise_.expressions.analysis import Resolution
from raise_.expressions.model import NEW_FEATURE_ID, FeatureInfo, GroupInfo, Reference
from raise_.expressions.sqltypes import Special
from raise_.governance.access import GroupACLs, OrgDirectory, live_grant
from raise_.hints import suggest
from raise_.metadata.models import DomainModel, FeatureGroupModel, FeatureModel, OrganizationModel, ProjectModel
from raise_.metadata.naming import parse_version
from raise_.types import Timestamp, parse_dtype

__all__ = ["CatalogResolver", "ParsedName", "parse_reference"]

_VERSION = re.compile(r"v[1-9][0-9]*")
_SCOPES: Final = {0: "group", 1: "project", 2: "domain", 3: "org"}
TIME_ALIASES: Final = ("event_time", "timestamp")


_PLACEHOLDER: Final = GroupInfo("", "", "", "", "", "", "", "", None, None)

# A group and every version of its features in one round trip (built once: constructing a
# four-table join costs about as much as running it). Ordered oldest version first per name.
_GROUP_WITH_FEATURES: Final = (
    select(
        FeatureGroupModel.id.label("group_id"),
        FeatureGroupModel.entity_keys,
        FeatureGroupModel.event_time_column,
        ProjectModel.id.label("project_id"),
        DomainModel.id.label("domain_id"),
        OrganizationModel.id.label("org_id"),
        FeatureModel.id.label("feature_id"),
        FeatureModel.name,
        FeatureModel.version,
        FeatureModel.dtype,
        FeatureModel.derived_from,
        FeatureModel.status,
    )
    .select_from(FeatureGroupModel)
    .join(ProjectModel, FeatureGroupModel.project_id == ProjectModel.id)
    .join(DomainModel, ProjectModel.domain_id == DomainModel.id)
    .join(OrganizationModel, DomainModel.org_id == OrganizationModel.id)
    .outerjoin(FeatureModel, FeatureModel.group_id == FeatureGroupModel.id)
    .where(
        OrganizationModel.name == bindparam("org"),
        DomainModel.name == bindparam("domain"),
        ProjectModel.name == bindparam("project"),
        FeatureGroupModel.name == bindparam("group"),
    )
    .order_by(FeatureModel.name, FeatureModel.version_number)
)


@dataclass(frozen=True)
class ParsedName:
    org: str | None  # set only for "@org/..." names
    namespace: tuple[str, ...]  # the parts before ".feature", from the right: (..., project, group)
    feature: str
    version: str | None

    @property
    def scope(self) -> str:
        return "external" if self.org is not None else _SCOPES[len(self.namespace)]


def parse_reference(name: str) -> ParsedName | str:
    """Split a reference; a string result is the reason it is malformed."""
    org = None
    body = name
    if body.startswith("@"):
        head, _, body = body[1:].partition("/")
        org = head
    prefix, dot, feature = body.rpartition(".")
    parts = tuple(prefix.split("/")) if dot else ()
    if org is not None and len(parts) != 3:
        return f"{name!r}: a cross-organization reference is '@org/domain/project/group.feature'"
    if len(parts) > 3:
        return f"{name!r} has too many parts; write 'domain/project/group.feature' at most"
    feature, _, version = feature.partition("@")
    if version and not _VERSION.fullmatch(version):
        return f"{name!r}: versions are written '@v1', '@v2', ..."
    return ParsedName(org, parts, feature, version or None)


@dataclass
class _LoadedGroup:
    info: GroupInfo
    versions: list[FeatureInfo]  # every version of every feature, oldest first per name

    def names(self) -> list[str]:
        return sorted({v.name for v in self.versions})

    def find(self, name: str, version: str | None) -> tuple[FeatureInfo | None, list[FeatureInfo]]:
        """The version asked for (or the newest non-archived), and every version of the name."""
        all_versions = [v for v in self.versions if v.name == name]
        if version is not None:
            return next((v for v in all_versions if v.version == version), None), all_versions
        live = [v for v in all_versions if v.status != "archived"]
        return (live[-1] if live else None), all_versions


@dataclass
class _Cache:
    """What one validation or plan has loaded, shared by the resolvers of every group it visits."""

    groups: dict[tuple[str, str, str, str], _LoadedGroup | None] = field(default_factory=dict)
    acls: dict[str, GroupACLs] = field(default_factory=dict)  # by group id
    directory: OrgDirectory | None = None


class CatalogResolver:
    """Resolves names in the context of one group (``context``), as ``user`` would see them."""

    def __init__(
        self,
        session: Session,
        context: GroupInfo,
        user: str,
        *,
        defining: tuple[str, str, str] | None = None,
        pending: dict[str, list[FeatureInfo]] | None = None,
        cache: _Cache | None = None,
    ) -> None:
        self.session = session
        self.context = context
        self.user = user
        self.defining = defining  # (group id, name, version) of the feature being created
        self.pending = pending if pending is not None else {}  # group id → versions created in this batch
        self._cache = cache if cache is not None else _Cache()

    @classmethod
    def for_path(
        cls,
        session: Session,
        path: tuple[str, str, str, str],
        user: str,
        *,
        defining: tuple[str, str] | None = None,
        pending: dict[str, list[FeatureInfo]] | None = None,
    ) -> CatalogResolver:
        """A resolver in the context of the group at ``path`` (which must exist);
        ``defining``: (name, version) of the feature being created there."""
        cache = _Cache()
        probe = cls(session, _PLACEHOLDER, user, cache=cache)
        loaded = probe.load_group(*path)
        if loaded is None:
            raise LookupError(path)
        identity = (loaded.info.id, *defining) if defining is not None else None
        return cls(session, loaded.info, user, defining=identity, pending=pending, cache=cache)

    def defining_feature(self, name: str, version: str) -> CatalogResolver:
        """This resolver, for the expression of version ``version`` of feature ``name`` of its group."""
        return CatalogResolver(
            self.session,
            self.context,
            self.user,
            defining=(self.context.id, name, version),
            pending=self.pending,
            cache=self._cache,
        )

    def next_version_number(self, name: str) -> int:
        """The number the next version of ``name`` in this resolver's group would get."""
        loaded = self.load_group(self.context.org, self.context.domain, self.context.project, self.context.name)
        numbers = [parse_version(v.version) for v in loaded.versions if v.name == name] if loaded else []
        return max(numbers, default=0) + 1

    def for_group(self, group: GroupInfo) -> CatalogResolver:
        """A resolver for names written in ``group``'s expressions, sharing this one's cache."""
        return CatalogResolver(
            self.session, group, self.user, defining=self.defining, pending=self.pending, cache=self._cache
        )

    # -- loading -------------------------------------------------------------------------------

    def load_group(self, org: str, domain: str, project: str, group: str) -> _LoadedGroup | None:
        key = (org, domain, project, group)
        if key not in self._cache.groups:
            self._cache.groups[key] = self._query_group(org, domain, project, group)
        loaded = self._cache.groups[key]
        if loaded is not None and loaded.info.id in self.pending:
            return _LoadedGroup(loaded.info, [*loaded.versions, *self.pending[loaded.info.id]])
        return loaded

    def _query_group(self, org: str, domain: str, project: str, group: str) -> _LoadedGroup | None:
        rows = self.session.execute(
            _GROUP_WITH_FEATURES, {"org": org, "domain": domain, "project": project, "group": group}
        ).all()
        if not rows:
            return None
        first = rows[0]
        info = GroupInfo(
            id=str(first.group_id),
            org_id=str(first.org_id),
            domain_id=str(first.domain_id),
            project_id=str(first.project_id),
            org=org,
            domain=domain,
            project=project,
            name=group,
            entity_keys=tuple(first.entity_keys) if first.entity_keys is not None else None,
            event_time=first.event_time_column,
        )
        versions = [
            FeatureInfo(str(r.feature_id), info, r.name, r.version, parse_dtype(r.dtype), r.derived_from, r.status)
            for r in rows
            if r.feature_id is not None  # a group without features gives one row of NULLs
        ]
        return _LoadedGroup(info, versions)

    def _acls(self, group: GroupInfo) -> GroupACLs:
        if group.id not in self._cache.acls:
            path = (group.org, group.domain, group.project, group.name)
            self._cache.acls[group.id] = GroupACLs.load(self.session, self._directory(), path)
        return self._cache.acls[group.id]

    def _directory(self) -> OrgDirectory:
        if self._cache.directory is None:
            self._cache.directory = OrgDirectory(self.session)
        return self._cache.directory

    # -- resolution ----------------------------------------------------------------------------

    def resolve(self, name: str, *, checks: bool = True) -> Resolution:
        """What ``name`` refers to; ``checks=False`` skips access and key checks (cycle search)."""
        parsed = parse_reference(name)
        if isinstance(parsed, str):
            return self._problem(name, "feature", "group", "INVALID_REFERENCE", parsed)
        ctx = self.context
        if parsed.org is None and not parsed.namespace and parsed.version is None:
            special = self._key_or_time(name)
            if special is not None:
                return special
        if parsed.org is not None:
            org, domain, project, group = parsed.org, *parsed.namespace
        else:
            full = (ctx.org, ctx.domain, ctx.project, ctx.name)
            org, domain, project, group = full[: 4 - len(parsed.namespace)] + parsed.namespace
        scope = parsed.scope
        if scope == "external" and org == ctx.org:
            scope = "org"  # "@own-org/..." is written like a cross-org path but stays inside the organization
        if (org, domain, project, group) == (ctx.org, ctx.domain, ctx.project, ctx.name) and scope != "external":
            scope = "group"
        loaded = self.load_group(org, domain, project, group)
        if loaded is None:
            return self._missing_group(name, scope, org, domain, project, group)
        defining = self.defining
        is_new = defining is not None and (loaded.info.id, parsed.feature) == defining[:2]
        if defining is not None and is_new and parsed.version in (None, defining[2]):
            new = FeatureInfo(NEW_FEATURE_ID, loaded.info, defining[1], defining[2], Timestamp(), None, "active")
            return Resolution(Reference(name, "feature", scope, new, parsed.version is not None), Special.UNKNOWN)
        feature, versions = loaded.find(parsed.feature, parsed.version)
        if feature is None:
            return self._missing_feature(name, scope, parsed, loaded, versions)
        issues = self._checks(name, feature) if checks else []
        if feature.status == "deprecated":
            issues.append(("DEPRECATED_REFERENCE", f"{name} ({feature.label}) is deprecated.", "warning"))
        ref = Reference(name, "feature", scope, feature, parsed.version is not None)
        if any(i[2] == "error" for i in issues):
            return Resolution(ref, Special.UNKNOWN, tuple(issues))
        return Resolution(ref, feature.dtype, tuple(issues))

    def _key_or_time(self, name: str) -> Resolution | None:
        ctx = self.context
        if ctx.entity_keys is not None and name in ctx.entity_keys:
            return Resolution(Reference(name, "entity_key", "group"), Special.UNKNOWN)
        time_column = ctx.event_time or "event_time"
        if name == time_column:
            return Resolution(Reference(name, "event_time", "group"), Timestamp())
        if name in TIME_ALIASES:
            loaded = self.load_group(ctx.org, ctx.domain, ctx.project, ctx.name)
            if loaded is None or name not in loaded.names():
                return Resolution(Reference(name, "event_time", "group"), Timestamp())
        return None

    def _checks(self, name: str, feature: FeatureInfo) -> list[tuple[str, str, str]]:
        issues: list[tuple[str, str, str]] = []
        ctx, target = self.context, feature.group
        if target.id != ctx.id:
            issues += self._shared_keys(name, target)
        if target.org_id != ctx.org_id:
            if live_grant(self.session, target.org_id, ctx.org, target.id, feature.name) is None:
                issues.append(
                    (
                        "CROSS_ORG_ACCESS_DENIED",
                        f"{name}: organization {target.org!r} has no live grant sharing {feature.name!r} of group "
                        f"{target.name!r} with {ctx.org!r}; ask its owner for group.grant_external_access("
                        f"org={ctx.org!r}, features=[{feature.name!r}]).",
                        "error",
                    )
                )
        elif feature.id != NEW_FEATURE_ID:
            identity = self._directory().identity(self.user)
            if not self._acls(target).can_read(identity, feature.id, feature.name):
                issues.append(
                    (
                        "PERMISSION_DENIED",
                        f"{name}: {self.user!r} may not read {feature.qualified_name}; ask one of its admins for read "
                        "access.",
                        "error",
                    )
                )
        return issues

    def _shared_keys(self, name: str, target: GroupInfo) -> list[tuple[str, str, str]]:
        ctx = self.context
        if ctx.entity_keys is None or target.entity_keys is None:
            unknown = ctx.name if ctx.entity_keys is None else target.name
            return [
                (
                    "ENTITY_KEYS_UNKNOWN",
                    f"{name}: group {unknown!r} has no entity keys yet (they are fixed by its first write), so how "
                    f"its rows join to {target.name if unknown == ctx.name else ctx.name!r} cannot be checked.",
                    "warning",
                )
            ]
        missing = [k for k in target.entity_keys if k not in ctx.entity_keys]
        if not missing:
            return []
        shared = [k for k in target.entity_keys if k in ctx.entity_keys]
        why = (
            "the groups share no entity key"
            if not shared
            else f"group {ctx.name!r} lacks its key(s) {missing}, so one row would match many"
        )
        return [
            (
                "NO_SHARED_ENTITY_KEY",
                f"{name}: group {target.name!r} (keys {list(target.entity_keys)}) cannot be joined to group "
                f"{ctx.name!r} (keys {list(ctx.entity_keys)}): {why}.",
                "error",
            )
        ]

    def _missing_group(self, name: str, scope: str, org: str, domain: str, project: str, group: str) -> Resolution:
        hint = " (a '-' belongs to the name it is in; put spaces around a minus sign)" if "-" in name else ""
        return self._problem(
            name,
            "feature",
            scope,
            "FEATURE_GROUP_NOT_FOUND",
            f"{name}: there is no feature group {org}/{domain}/{project}/{group}{hint}.",
        )

    def _missing_feature(
        self, name: str, scope: str, parsed: ParsedName, loaded: _LoadedGroup, versions: list[FeatureInfo]
    ) -> Resolution:
        if parsed.version is not None and versions:
            have = ", ".join(v.version for v in versions)
            return self._problem(
                name,
                "feature",
                scope,
                "VERSION_NOT_FOUND",
                f"{name}: {parsed.feature!r} has no {parsed.version}; it has {have}.",
            )
        if versions:  # every version archived
            return self._problem(
                name,
                "feature",
                scope,
                "FEATURE_NOT_FOUND",
                f"{name}: every version of {parsed.feature!r} is archived; pin one with "
                f"{parsed.feature}@{versions[-1].version} or create a new version.",
            )
        hint = suggest(parsed.feature, loaded.names())
        if scope == "group":
            # A feature of the same group that does not exist yet: allowed, so features can be
            # declared in any order (the README's quick start does); reading it needs it to exist.
            return self._problem(
                name,
                "feature",
                scope,
                "UNKNOWN_REFERENCE",
                f"{name!r} is not a feature of group {loaded.info.name!r} yet.{hint} Create it before reading this "
                "derived feature.",
                severity="warning",
            )
        return self._problem(
            name,
            "feature",
            scope,
            "FEATURE_NOT_FOUND",
            f"{name}: group {loaded.info.name!r} has no feature {parsed.feature!r}.{hint}",
        )

    @staticmethod
    def _problem(name: str, kind: str, scope: str, code: str, message: str, severity: str = "error") -> Resolution:
        pinned = "@v" in name
        return Resolution(Reference(name, kind, scope, None, pinned), Special.UNKNOWN, ((code, message, severity),))
