"""Turning an :class:`~raise_.models.audit.AuditQuery` and a scope into SQL conditions.

Nothing a user typed is pasted into SQL: globs become bound ``GLOB`` patterns on SQLite (its
``LIKE`` ignores case, and names are case-sensitive) and bound ``LIKE`` patterns with escapes on
PostgreSQL. A glob matches at the start of a path or right after a ``/``: the condition tests
``'/' || resource_path`` against ``*/<pattern>``, one comparison per variant of the pattern (see
``AuditQuery``: a trailing ``/*`` also matches the resource itself, a last part without ``@``
every version).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, false, literal, or_, select, text, true
from sqlalchemy.orm import Session

from raise_.errors import InvalidArgumentError, OrganizationNotFoundError
from raise_.metadata.models import AuditLogModel, OrganizationModel
from raise_.metadata.naming import validate_feature_name, validate_namespace_name
from raise_.models.audit import AuditQuery

__all__ = ["Scope", "glob_variants", "parse_scope", "path_glob", "query_conditions", "scope_conditions"]

_A = AuditLogModel


def glob_variants(pattern: str) -> list[str]:
    """The globs a resource pattern stands for (see ``AuditQuery.resource``)."""
    variants = [pattern]
    if pattern.endswith("/*") and len(pattern) > 2:
        variants.append(pattern[:-2])
    last = pattern.rsplit("/", 1)[-1]
    if "@" not in last and not last.endswith("*"):
        variants.append(pattern + "@*")
    return variants


def _sqlite_glob(pattern: str) -> str:
    special = {"[": "[[]", "]": "[]]"}  # ']' is literal outside a set; bracketing it is harmless
    return "".join(special.get(ch, ch) for ch in pattern)


def _pg_like(pattern: str) -> str:
    out = []
    for ch in pattern:
        if ch in "\\%_":
            out.append("\\" + ch)
        elif ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        else:
            out.append(ch)
    return "".join(out)


def _matches(column: Any, glob: str, dialect: str) -> ColumnElement[bool]:
    """``column`` matches ``glob`` (``*``, ``?``; everything else literal), case-sensitively."""
    if dialect == "sqlite":
        return column.op("GLOB")(bindparam(None, _sqlite_glob(glob), unique=True))  # type: ignore[no-any-return]
    return column.like(bindparam(None, _pg_like(glob), unique=True), escape="\\")  # type: ignore[no-any-return]


def path_glob(pattern: str, dialect: str) -> ColumnElement[bool]:
    """``resource_path`` matches ``pattern`` at its start or after any ``/``."""
    slashed = literal("/") + _A.resource_path
    return or_(*(_matches(slashed, "*/" + v.lstrip("/"), dialect) for v in glob_variants(pattern)))


def query_conditions(query: AuditQuery, dialect: str) -> list[ColumnElement[bool]]:
    """The query's filters, cheapest first (SQLite tests them in this order; the glob is the costliest)."""
    conds: list[ColumnElement[bool]] = []
    if query.actor_orgs:
        conds.append(_A.actor_org.in_(query.actor_orgs))
    if query.exclude_actor_orgs:
        conds.append(or_(_A.actor_org.is_(None), _A.actor_org.not_in(query.exclude_actor_orgs)))
    wanted = query.wanted_actions
    if wanted is not None:
        conds.append(_A.action.in_(sorted(wanted)) if wanted else false())
    if query.since is not None:
        conds.append(_A.timestamp >= query.since)
    if query.until is not None:
        conds.append(_A.timestamp < query.until)
    if query.actors:
        conds.append(_A.actor.in_(query.actors))
    if query.resource_types:
        conds.append(_A.resource_type.in_(query.resource_types))
    if query.resource is not None:
        conds.append(path_glob(query.resource, dialect))
    return conds


# -- scopes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a call may see: the entries of one organization, optionally narrowed to the
    resources at or below a path in it (``acme/ml/rec``, ``acme/ml/rec/user-signals/ctr``)."""

    org: str
    path: str  # the org alone, or a deeper path
    depth: int  # 1 = organization ... 4 = group, 5 = feature

    @property
    def feature(self) -> tuple[str, str, str | None] | None:
        """(group path, feature name, version) of a feature scope."""
        if self.depth != 5:
            return None
        group, _, label = self.path.rpartition("/")
        name, _, version = label.partition("@")
        return group, name, version or None


def parse_scope(scope_path: object) -> Scope:
    if not isinstance(scope_path, str) or not scope_path.strip("/"):
        raise InvalidArgumentError(
            f"Invalid audit scope {scope_path!r}: give an organization ('acme') or a path in it.",
            {"scope": repr(scope_path)},
        )
    parts = scope_path.strip("/").split("/")
    if len(parts) > 5:
        raise InvalidArgumentError(
            f"Invalid audit scope {scope_path!r}: at most org/domain/project/group/feature.", {"scope": scope_path}
        )
    kinds = ("organization", "domain", "project", "feature group")
    for kind, name in zip(kinds, parts[:4], strict=False):
        validate_namespace_name(kind, name)
    if len(parts) == 5:
        name, _, version = parts[4].partition("@")
        validate_feature_name(name)
        if "@" in parts[4] and not version:
            raise InvalidArgumentError(f"Invalid audit scope {scope_path!r}: empty version after '@'.", {})
    return Scope(parts[0], "/".join(parts), len(parts))


def org_id_of(session: Session, org: str) -> Any:
    org_id = session.scalar(select(OrganizationModel.id).where(OrganizationModel.name == org))
    if org_id is None:
        raise OrganizationNotFoundError(f"Organization {org!r} does not exist.", {"organization": org})
    return org_id


_PG_FEATURES = (
    "jsonb_array_elements_text(CASE WHEN jsonb_typeof(audit_log.metadata->'features') = 'array' "
    "THEN audit_log.metadata->'features' ELSE '[]'::jsonb END) AS f(v)"
)


def _lists_feature(name: str, version: str | None, dialect: str) -> Any:
    """The entry's ``metadata.features`` (``["ctr@v1", ...]``, on reads, writes and queries of a
    group) names feature ``name``, in ``version`` or in any version."""
    if dialect == "sqlite":
        source, value = "json_each(audit_log.metadata, '$.features')", "value"
        test = f"{value} = :feature" if version else f"{value} GLOB :feature"
        pattern = f"{name}@{version}" if version else _sqlite_glob(name) + "@*"
    else:
        source, value = _PG_FEATURES, "f.v"
        test = f"{value} = :feature" if version else f"{value} LIKE :feature"
        pattern = f"{name}@{version}" if version else _pg_like(name) + "@%"
    return text(f"EXISTS (SELECT 1 FROM {source} WHERE {test})").bindparams(feature=pattern)


def scope_conditions(session: Session, scope: Scope, dialect: str) -> list[ColumnElement[bool]]:
    """The entries about the scope's organization, and about the scope's resource and what lies
    below it. A feature's scope includes the reads, writes and queries of its group that touched it."""
    conds: list[ColumnElement[bool]] = [_A.org_id == org_id_of(session, scope.org)]
    if scope.depth == 1:
        return conds
    feature = scope.feature
    if feature is None:
        conds.append(or_(_A.resource_path == scope.path, _matches(_A.resource_path, scope.path + "/*", dialect)))
        return conds
    group, name, version = feature
    if version is not None:
        own: ColumnElement[bool] = _A.resource_path == scope.path
    else:
        own = or_(_A.resource_path == scope.path, _matches(_A.resource_path, scope.path + "@*", dialect))
    data = and_(_A.resource_path == group, _A.resource_type == "feature_group", _lists_feature(name, version, dialect))
    conds.append(or_(own, data))
    return conds


def conditions(session: Session, scope: Scope, query: AuditQuery, dialect: str) -> Any:
    conds = [*scope_conditions(session, scope, dialect), *query_conditions(query, dialect)]
    return and_(true(), *conds)
