"""Features and their versions: create (one or many, atomically), get, list, update, retire,
search (PRD §4, §6; README *Feature Creation*, *Bulk Operations*, *Versioning*).

Versioning rules: a feature's schema (dtype, nullable, default, derivation) is immutable per
version; versions are ``v1, v2, ...`` without gaps; "the feature" means its newest version that
is not archived. A new version inherits description, tags and owner unless given.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any, Final

from sqlalchemy import and_, bindparam, case, column, func, insert, literal_column, select, text
from sqlalchemy.orm import Session

from raise_.catalog.definitions import (
    FeatureDefinition,
    normalize_definition,
    normalize_definitions,
)
from raise_.catalog.derivation import lineage_edges, raise_if_invalid, validate_definition, warn
from raise_.catalog.expression_resolver import CatalogResolver
from raise_.catalog.lineage_service import flag_dependents, relink_dependents
from raise_.catalog.lineage_store import replace_edges
from raise_.catalog.lookup import GroupRow, feature_record, find_group, find_project, suggest
from raise_.catalog.namespace_service import group_path_parts, has_all_tags
from raise_.catalog.paths import parse_project_path
from raise_.catalog.records import FeatureRecord
from raise_.catalog.search_index import MIN_INDEXED_TERM, fts_phrase
from raise_.errors import (
    FeatureExistsError,
    FeatureNotFoundError,
    InvalidArgumentError,
    InvalidNameError,
    RaiseError,
    SchemaChangeError,
    VersionNotFoundError,
)
from raise_.expressions.model import FeatureInfo, GroupInfo, ValidationResult
from raise_.expressions.validation import check_level, validate_expression
from raise_.governance import audit
from raise_.governance.context import Service
from raise_.governance.guard import Target, filtered, guarded, internal
from raise_.metadata.models import (
    ACLModel,
    DomainModel,
    FeatureGroupModel,
    FeatureModel,
    OrganizationModel,
    ProjectModel,
    utcnow,
)
from raise_.metadata.naming import (
    check_new_feature_name,
    format_version,
    parse_version,
    physical_column_name,
    validate_feature_name,
    validate_tags,
)
from raise_.types import parse_dtype

__all__ = ["STATUSES", "FeatureService"]

STATUSES: Final = ("active", "deprecated", "archived")
MUTABLE_FIELDS: Final = ("description", "tags", "owner")
SCHEMA_FIELDS: Final = ("dtype", "nullable", "default", "derived_from", "name", "version")
DEFAULT_SEARCH_LIMIT: Final = 50


def _status(value: object) -> str | None:
    if value is None:
        return None
    if value not in STATUSES:
        raise InvalidArgumentError(
            f"Invalid status {value!r}: use 'active', 'deprecated' or 'archived'.", {"status": repr(value)}
        )
    return str(value)


def _normalize_sql(expr: str | None) -> str | None:
    return " ".join(expr.split()) if expr else None


def _schema_differences(row: FeatureModel, d: FeatureDefinition, given: set[str]) -> list[str]:
    """The schema fields where ``d`` asks for something other than the existing version has."""
    diffs = []
    if row.dtype != d.dtype:
        diffs.append(f"dtype {row.dtype} → {d.dtype}")
    if _normalize_sql(row.derived_from) != _normalize_sql(d.derived_from):
        diffs.append("derived_from")
    if "nullable" in given and row.nullable != d.nullable:
        diffs.append(f"nullable {row.nullable} → {d.nullable}")
    if "default" in given:
        old = row.default_value.get("value") if row.default_value else None
        if old != d.default:
            diffs.append(f"default {old!r} → {d.default!r}")
    return diffs


def _search_text(name: str, description: str | None, tags: list[str]) -> str:
    return " ".join([name, description or "", *tags]).lower()


def _like_pattern(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class FeatureService(Service):
    """Feature definitions and their versions, validation and search."""

    def _audit_feature(self, s: Session, action: str, row: FeatureModel, g: GroupRow, **details: Any) -> None:
        audit.record(
            s,
            actor=self.actor(),
            action=action,
            resource_type="feature",
            resource_id=row.id,
            resource_path=f"{g.path}/{row.name}@{row.version}",
            org_id=None,
            details=details,
        )

    # -- creation ------------------------------------------------------------------------------

    @guarded("write", lambda a: Target.path(a["group_path"]), "create features in")
    def create_features(
        self, group_path: str, definitions: list[dict[str, Any]], *, if_exists: str = "error"
    ) -> list[FeatureRecord]:
        """Create every definition in one transaction: all of them, or none (README *Bulk*)."""
        org, domain, project, group = group_path_parts(group_path)
        call_mode = normalize_definition({"name": "x", "dtype": "int64", "if_exists": if_exists}).if_exists
        defs = normalize_definitions(definitions)
        givens = [set(entry) for entry in definitions]
        with self.db.transaction() as s:
            g = find_group(s, org, domain, project, group, lock=True)
            creator = _BatchCreator(self, s, g, {d.name for d in defs})
            out = []
            for index, (d, given) in enumerate(zip(defs, givens, strict=True)):
                try:
                    out.append(creator.apply(d, given, d.if_exists or call_mode or "error"))
                except RaiseError as exc:
                    if len(defs) > 1:
                        exc.details["index"] = index
                        exc.message = f"features[{index}] ({d.name}): {exc.message}"
                        exc.args = (exc.message,)
                    raise
            creator.flush()
            return out

    @guarded("read", lambda a: Target.path(a["group_path"]), "validate a feature in")
    def validate_feature(
        self,
        group_path: str,
        name: str,
        dtype: str,
        derived_from: str | None = None,
        validation: str = "standard",
        version: str | None = None,
    ) -> ValidationResult:
        """What ``create_feature`` would say about this definition, without creating anything."""
        level = check_level(validation)
        d = normalize_definition({"name": name, "dtype": dtype, "derived_from": derived_from, "version": version})
        org, domain, project, group = group_path_parts(group_path)
        with self.db.reader() as s:
            g = find_group(s, org, domain, project, group)  # the group must exist
            check_new_feature_name(d.name, g.model.entity_keys, g.model.event_time_column)
            if d.derived_from is None:
                return ValidationResult(True, d.feature_type, [], [], [], level)
            try:
                # One query loads the group and every version of its features; those also give
                # the version a create would make, which a cycle through the new version must use.
                resolver = CatalogResolver.for_path(s, (org, domain, project, group), self.actor())
            except LookupError:
                find_group(s, org, domain, project, group)  # raises FEATURE_GROUP_NOT_FOUND with hints
                raise
            target = d.version or format_version(resolver.next_version_number(d.name))
            resolver = resolver.defining_feature(d.name, target)
            result, _ = validate_expression(d.derived_from, d.feature_type, resolver, level=level, name=d.name)
            return result

    # -- reads ---------------------------------------------------------------------------------

    @guarded("read", lambda a: Target.path(a["group_path"], a["name"], a["version"]), "read")
    def get_feature(self, group_path: str, name: str, version: str | None = None) -> FeatureRecord:
        org, domain, project, group = group_path_parts(group_path)
        validate_feature_name(name)
        if version is not None:
            parse_version(version)
        with self.db.reader() as s:
            if version is None:
                rows = s.execute(_VERSIONS_OF_FEATURE, _path_params(org, domain, project, group, name=name)).all()
            else:
                params = _path_params(org, domain, project, group, name=name, version=version)
                rows = s.execute(_ONE_VERSION_OF_FEATURE, params).all()
            if not rows:
                g = find_group(s, org, domain, project, group)  # raises if the group is missing
                return self._not_found(s, g, name, version)
            if version is None:
                live = [r for r in rows if r[0].status != "archived"]
                if not live:
                    raise FeatureNotFoundError(
                        f"Feature {name!r} in group {group!r} is archived (all {len(rows)} version(s)); "
                        f"read an archived version explicitly with {name}@{rows[0][0].version}, or create a new one.",
                        {"group": group, "feature": name, "status": "archived"},
                    )
                rows = live
            row, grp = rows[0]
            return feature_record(row, GroupRow(grp, org, domain, project))

    def _not_found(self, s: Session, g: GroupRow, name: str, version: str | None) -> FeatureRecord:
        if version is not None:
            versions = s.scalars(
                select(FeatureModel.version)
                .where(FeatureModel.group_id == g.model.id, FeatureModel.name == name)
                .order_by(FeatureModel.version_number)
            ).all()
            if versions:
                raise VersionNotFoundError(
                    f"Feature {name!r} in group {g.model.name!r} has no version {version}; "
                    f"it has {', '.join(versions)}.",
                    {"group": g.model.name, "feature": name, "version": version, "versions": list(versions)},
                )
        names = s.scalars(select(FeatureModel.name).where(FeatureModel.group_id == g.model.id).distinct()).all()
        raise FeatureNotFoundError(
            f"Feature {name!r} not found in group {g.model.name!r}.{suggest(name, names)}",
            {"group": g.model.name, "feature": name},
        )

    @guarded("read", lambda a: Target.path(a["group_path"]), "list the features of")
    def list_features(
        self,
        group_path: str,
        *,
        tags: list[str] | None = None,
        status: str | None = None,
        all_versions: bool = False,
    ) -> list[FeatureRecord]:
        """Features of a group the caller may read, newest non-archived version of each (or every
        version). ``status=None`` hides archived features; ``status="archived"`` lists only those.
        """
        out = self.all_features(group_path, tags=tags, status=status, all_versions=all_versions)
        return self.access.readable_features(group_path, out)

    @internal
    def all_features(
        self,
        group_path: str,
        *,
        tags: list[str] | None = None,
        status: str | None = None,
        all_versions: bool = False,
    ) -> list[FeatureRecord]:
        """Every feature of the group, whoever asks: for the service's own use (a group's layout)."""
        org, domain, project, group = group_path_parts(group_path)
        wanted, want_status = validate_tags(tags), _status(status)
        with self.db.reader() as s:
            g = find_group(s, org, domain, project, group)
            rows = s.scalars(
                select(FeatureModel)
                .where(FeatureModel.group_id == g.model.id)
                .order_by(FeatureModel.name, FeatureModel.version_number)
            ).all()
        if not all_versions:
            latest: dict[str, FeatureModel] = {}
            for r in rows:  # ordered by version, so the last kept is the newest
                if want_status == "archived" or r.status != "archived":
                    latest[r.name] = r
            rows = list(latest.values())
        out = []
        for r in rows:
            if want_status is None and r.status == "archived" and not all_versions:
                continue
            if want_status is not None and r.status != want_status:
                continue
            if has_all_tags(r.tags, wanted):
                out.append(feature_record(r, g))
        return out

    @guarded("read", lambda a: Target.path(a["group_path"], a["name"]), "read")
    def list_versions(self, group_path: str, name: str) -> list[FeatureRecord]:
        """Every version of a feature, archived ones included, oldest first."""
        org, domain, project, group = group_path_parts(group_path)
        validate_feature_name(name)
        with self.db.reader() as s:
            rows = s.execute(_VERSIONS_OF_FEATURE, _path_params(org, domain, project, group, name=name)).all()[::-1]
            if not rows:
                self._not_found(s, find_group(s, org, domain, project, group), name, None)
            return [feature_record(r, GroupRow(grp, org, domain, project)) for r, grp in rows]

    # -- changes -------------------------------------------------------------------------------

    def _locked_version(self, s: Session, group_path: str, name: str, version: str) -> tuple[FeatureModel, GroupRow]:
        org, domain, project, group = group_path_parts(group_path)
        validate_feature_name(name)
        parse_version(version)
        g = find_group(s, org, domain, project, group)
        row = s.scalars(
            select(FeatureModel).where(
                FeatureModel.group_id == g.model.id,
                FeatureModel.name == name,
                FeatureModel.version == version,
            )
        ).one_or_none()
        if row is None:
            self._not_found(s, g, name, version)
        assert row is not None
        return row, g

    @guarded("write", lambda a: Target.path(a["group_path"], a["name"], a["version"]), "update")
    def update_feature(self, group_path: str, name: str, version: str, changes: dict[str, Any]) -> FeatureRecord:
        """Change mutable metadata (description, tags, owner) of one version."""
        if not isinstance(changes, dict):
            raise InvalidArgumentError("changes must be a dict of field → value.", {})
        schema = [k for k in changes if k in SCHEMA_FIELDS]
        if schema:
            raise SchemaChangeError(
                f"{', '.join(schema)} of {name}@{version} cannot change: a feature version's schema is immutable. "
                f"Create a new version instead: group.create_feature({name!r}, dtype=..., "
                f"version='v{parse_version(version) + 1}').",
                {"feature": name, "version": version, "fields": schema},
            )
        unknown = [k for k in changes if k not in MUTABLE_FIELDS]
        if unknown:
            raise InvalidArgumentError(
                f"Cannot update {unknown[0]!r}: updatable fields are {', '.join(MUTABLE_FIELDS)} "
                "(use deprecate() or delete() to change the status).",
                {"fields": unknown},
            )
        normalized = normalize_definition({"name": name, "dtype": "int64", **changes})
        with self.db.transaction() as s:
            row, g = self._locked_version(s, group_path, name, version)
            before = {k: getattr(row, k) for k in changes}
            if "description" in changes:
                row.description = normalized.description
            if "tags" in changes:
                row.tags = normalized.tags
            if "owner" in changes:
                row.owner = normalized.owner
            after = {k: getattr(row, k) for k in changes}
            if before != after:
                row.search_text = _search_text(row.name, row.description, row.tags)
                self._audit_feature(s, "UPDATE_METADATA", row, g, changes={k: after[k] for k in after})
            s.flush()
            return feature_record(row, g)

    @guarded("admin", lambda a: Target.path(a["group_path"], a["name"], a["version"]), "delete")
    def delete_feature(self, group_path: str, name: str, version: str) -> FeatureRecord:
        """Soft delete: the version's status becomes ``archived``; its data and history stay."""
        with self.db.transaction() as s:
            row, g = self._locked_version(s, group_path, name, version)
            if row.status != "archived":
                row.status = "archived"
                self._audit_feature(s, "DELETE", row, g)
                s.flush()
                flag_dependents(s, row, g.path, "DELETE", self.actor())
                relink_dependents(s, g.model.id, self.actor(), [row.name])
            s.flush()
            return feature_record(row, g)

    @guarded("write", lambda a: Target.path(a["group_path"], a["name"], a["version"]), "deprecate")
    def deprecate_feature(self, group_path: str, name: str, version: str, message: str | None = None) -> FeatureRecord:
        if message is not None and not isinstance(message, str):
            raise InvalidArgumentError("The deprecation message must be a string.", {"message": repr(message)})
        with self.db.transaction() as s:
            row, g = self._locked_version(s, group_path, name, version)
            if row.status == "archived":
                raise InvalidArgumentError(
                    f"{name}@{version} is archived; an archived feature cannot be deprecated.",
                    {"feature": name, "version": version, "status": row.status},
                )
            row.status = "deprecated"
            row.deprecation_message = message
            self._audit_feature(s, "DEPRECATE", row, g, message=message)
            s.flush()
            flag_dependents(s, row, g.path, "DEPRECATE", self.actor())
            return feature_record(row, g)

    # -- search --------------------------------------------------------------------------------

    @filtered("returns only the features the caller may read")
    def search_features(
        self,
        project_path: str,
        query: str | None = None,
        *,
        tags: list[str] | None = None,
        dtype: str | None = None,
        status: str | None = None,
        limit: int = DEFAULT_SEARCH_LIMIT,
    ) -> list[FeatureRecord]:
        """Features of the project whose name, description or tags contain every word of ``query``.

        Ranked: exact name, then name prefix, then name substring, then description/tag matches.
        Archived features are left out unless ``status="archived"`` is asked for.
        """
        pp = parse_project_path(project_path)
        if query is not None and not isinstance(query, str):
            raise InvalidArgumentError("query must be a string.", {"query": repr(query)})
        if not isinstance(limit, int) or limit <= 0:
            raise InvalidArgumentError(f"limit must be a positive integer, got {limit!r}.", {"limit": limit})
        wanted, want_status = validate_tags(tags), _status(status)
        want_dtype = str(parse_dtype(dtype)) if dtype is not None else None
        terms = (query or "").lower().split()
        project = Target(pp.org, pp.domain, pp.project)
        self.authorize("read", project, "search")
        with self.db.reader() as s:
            project_row = find_project(s, pp.org, pp.domain, pp.project)
            names = s.scalars(select(FeatureGroupModel.name).where(FeatureGroupModel.project_id == project_row.id))
            visible = sorted(self.access.readable_children(project, list(names)))
            stmt = (
                select(FeatureModel, FeatureGroupModel)
                .join(FeatureGroupModel, FeatureModel.group_id == FeatureGroupModel.id)
                .where(FeatureGroupModel.project_id == project_row.id, FeatureGroupModel.name.in_(visible))
            )
            like_terms = terms
            phrase = fts_phrase([*terms, *(t.lower() for t in wanted)]) if self.db.dialect == "sqlite" else None
            if phrase is not None:
                # SQLite: candidates come from the trigram FTS table by rowid; words too short
                # for trigrams still filter with LIKE.
                fts = text("SELECT rowid FROM features_fts WHERE features_fts MATCH :phrase").bindparams(phrase=phrase)
                stmt = stmt.where(literal_column("features.rowid").in_(fts.columns(column("rowid"))))
                like_terms = [t for t in terms if len(t) < MIN_INDEXED_TERM]
            for term in like_terms:
                stmt = stmt.where(FeatureModel.search_text.like(_like_pattern(term), escape="\\"))
            for tag in wanted:
                # search_text ends with the tags, each preceded by a space: a cheap pre-filter,
                # made exact below on the JSON list.
                stmt = stmt.where(FeatureModel.search_text.like(_like_pattern(f" {tag}"), escape="\\"))
            if want_dtype is not None:
                stmt = stmt.where(FeatureModel.dtype == want_dtype)
            if want_status is not None:
                stmt = stmt.where(FeatureModel.status == want_status)
            else:
                stmt = stmt.where(FeatureModel.status != "archived")
            order: list[Any] = [FeatureModel.name, FeatureModel.version_number.desc()]
            if terms:
                q = " ".join(terms)
                name_l = func.lower(FeatureModel.name)
                rank = case(
                    (name_l == q, 0),
                    (name_l.like(_like_pattern(q)[1:], escape="\\"), 1),
                    (name_l.like(_like_pattern(q), escape="\\"), 2),
                    else_=3,
                )
                order.insert(0, rank)
            stmt = stmt.order_by(*order)
            # The tag pre-filter and one-version-per-feature drop rows after SQL, so read in
            # pages until the limit is filled or the matches run out.
            out: list[FeatureRecord] = []
            seen: set[tuple[str, str]] = set()
            page = max(limit * 2, 100)
            with self.db.custom_plans(s):
                self._fill(s, stmt, out, seen, wanted, pp, limit, page)
        # Features with an ACL of their own may still be hidden from the caller.
        by_group: dict[str, list[FeatureRecord]] = {}
        for r in out:
            by_group.setdefault(f"{r.org}/{r.domain}/{r.project}/{r.group}", []).append(r)
        kept = {id(r) for path, rs in by_group.items() for r in self.access.readable_features(path, rs)}
        return [r for r in out if id(r) in kept]

    @staticmethod
    def _fill(
        s: Session,
        stmt: Any,
        out: list[FeatureRecord],
        seen: set[tuple[str, str]],
        wanted: list[str],
        pp: Any,
        limit: int,
        page: int,
    ) -> None:
        offset = 0
        while len(out) < limit:
            rows = s.execute(stmt.limit(page).offset(offset)).all()
            for row, grp in rows:
                key = (grp.name, row.name)
                if key in seen or not has_all_tags(row.tags, wanted):
                    continue
                seen.add(key)
                out.append(feature_record(row, GroupRow(grp, pp.org, pp.domain, pp.project)))
                if len(out) == limit:
                    break
            if len(rows) < page:
                break
            offset += page


def _path_params(org: str, domain: str, project: str, group: str, **more: Any) -> dict[str, Any]:
    return {"org": org, "domain": domain, "project": project, "group": group, **more}


# Built once: constructing a five-table join costs about a third of a lookup (measured).
_VERSIONS_OF_FEATURE: Final = (
    select(FeatureModel, FeatureGroupModel)
    .join(FeatureGroupModel, FeatureModel.group_id == FeatureGroupModel.id)
    .join(ProjectModel, FeatureGroupModel.project_id == ProjectModel.id)
    .join(DomainModel, ProjectModel.domain_id == DomainModel.id)
    .join(OrganizationModel, DomainModel.org_id == OrganizationModel.id)
    .where(
        and_(
            OrganizationModel.name == bindparam("org"),
            DomainModel.name == bindparam("domain"),
            ProjectModel.name == bindparam("project"),
            FeatureGroupModel.name == bindparam("group"),
            FeatureModel.name == bindparam("name"),
        )
    )
    .order_by(FeatureModel.version_number.desc())
)
_ONE_VERSION_OF_FEATURE: Final = _VERSIONS_OF_FEATURE.where(FeatureModel.version == bindparam("version"))


class _BatchCreator:
    """Applies definitions one by one inside one transaction, seeing its own earlier creations.

    New versions are collected as plain rows and inserted with one statement per table (the ORM
    unit of work costs several times more for a 1,000-feature batch); existing versions the batch
    touches (``skip``/``update``) are loaded as ORM objects.
    """

    def __init__(self, service: FeatureService, session: Session, group: GroupRow, names: set[str]) -> None:
        self.service = service
        self.s = session
        self.g = group
        self.actor = service.actor()
        self.now = utcnow()
        # Every version of the group, in a few columns: enough for numbering and name clashes.
        self.versions: dict[str, list[_VersionRef]] = {}
        self.physical: dict[str, str] = {}
        for name, number, status, physical in session.execute(
            select(FeatureModel.name, FeatureModel.version_number, FeatureModel.status, FeatureModel.physical_column)
            .where(FeatureModel.group_id == group.model.id)
            .order_by(FeatureModel.name, FeatureModel.version_number)
        ):
            self.versions.setdefault(name, []).append(_VersionRef(number, status))
            self.physical[physical] = name
        self._models: dict[tuple[str, int], FeatureModel] | None = None
        self._names = names
        self.new_rows: list[dict[str, Any]] = []
        self.audit_entries: list[dict[str, Any]] = []
        self.edges: dict[uuid.UUID, list[tuple[str, str]]] = {}  # new derived feature → its upstream
        # New version → the version before it, whose ACL it starts with (flush copies them).
        self.acl_sources: dict[uuid.UUID, uuid.UUID] = {}
        self._group_info: GroupInfo | None = None

    def _model(self, name: str, number: int) -> FeatureModel:
        if self._models is None:  # loaded once, only when the batch meets an existing feature
            rows = self.s.scalars(
                select(FeatureModel).where(FeatureModel.group_id == self.g.model.id, FeatureModel.name.in_(self._names))
            )
            self._models = {(r.name, r.version_number): r for r in rows}
        return self._models[(name, number)]

    def apply(self, d: FeatureDefinition, given: set[str], mode: str) -> FeatureRecord:
        refs = self.versions.get(d.name, [])
        if d.version is not None:
            wanted = parse_version(d.version)
            if any(r.number == wanted and r.row is None for r in refs):
                return self._exists(self._model(d.name, wanted), d, given, mode)
            if any(r.number == wanted for r in refs):  # created earlier in this batch
                raise FeatureExistsError(
                    f"Feature {d.name}@{d.version} appears twice in this batch.",
                    {"feature": d.name, "version": d.version},
                )
            expected = refs[-1].number + 1 if refs else 1
            if wanted != expected:
                raise InvalidArgumentError(
                    f"Cannot create {d.name}@{d.version}: versions have no gaps, the next version of "
                    f"{d.name!r} is v{expected}.",
                    {"feature": d.name, "version": d.version, "next_version": f"v{expected}"},
                )
            return self._create(d, wanted, refs)
        live = [r for r in refs if r.status != "archived"]
        if live and live[-1].row is None:
            return self._exists(self._model(d.name, live[-1].number), d, given, mode)
        if live:  # the live version was created earlier in this same batch
            raise FeatureExistsError(
                f"Feature {d.name!r} appears twice in this batch; give each name once.", {"feature": d.name}
            )
        return self._create(d, refs[-1].number + 1 if refs else 1, refs)

    def _exists(self, row: FeatureModel, d: FeatureDefinition, given: set[str], mode: str) -> FeatureRecord:
        label = f"{row.name}@{row.version}"
        if mode == "error":
            raise FeatureExistsError(
                f"Feature {label} ({row.dtype}) already exists in group {self.g.model.name!r}. "
                f"Use if_exists='skip' to reuse it, or version='v{self._next(row.name)}' for a new schema.",
                {"group": self.g.model.name, "feature": row.name, "version": row.version, "dtype": row.dtype},
            )
        diffs = _schema_differences(row, d, given)
        if diffs:
            raise SchemaChangeError(
                f"Feature {label} exists with a different schema ({'; '.join(diffs)}); a version's schema is "
                f"immutable. Create a new version with version='v{self._next(row.name)}'.",
                {"feature": row.name, "version": row.version, "differences": diffs},
            )
        if mode == "update":
            changed = {}
            for attr in MUTABLE_FIELDS:
                if attr in d.given and getattr(row, attr) != getattr(d, attr):
                    setattr(row, attr, getattr(d, attr))
                    changed[attr] = getattr(d, attr)
            if changed:
                row.search_text = _search_text(row.name, row.description, row.tags)
                self._audit("UPDATE_METADATA", row.id, row.name, row.version, changes=changed)
        return feature_record(row, self.g)

    def _next(self, name: str) -> int:
        return self.versions[name][-1].number + 1

    def _create(self, d: FeatureDefinition, number: int, refs: list[_VersionRef]) -> FeatureRecord:
        check_new_feature_name(d.name, self.g.model.entity_keys, self.g.model.event_time_column)
        version = format_version(number)
        column = physical_column_name(d.name, version)
        if column in self.physical:
            raise InvalidNameError(
                f"Feature {d.name!r} differs from existing feature {self.physical[column]!r} only by case; "
                "storage names are case-insensitive, so choose another name.",
                {"feature": d.name, "existing": self.physical[column]},
            )
        checked = self._validate(d, version)
        inherited: dict[str, Any] = {}
        if refs and not {"description", "tags", "owner"} <= d.given:
            prev = refs[-1].row or _model_fields(self._model(d.name, refs[-1].number))
            inherited = {k: prev[k] for k in ("description", "tags", "owner")}

        def pick(attr: str) -> Any:
            return getattr(d, attr) if attr in d.given or not inherited else inherited[attr]

        description, tags = pick("description"), list(pick("tags") or [])
        row: dict[str, Any] = {
            "id": uuid.uuid4(),
            "group_id": self.g.model.id,
            "name": d.name,
            "version": version,
            "version_number": number,
            "dtype": d.dtype,
            "description": description,
            "owner": pick("owner") or self.actor,
            "tags": tags,
            "nullable": d.nullable,
            "default_value": {"value": d.default} if d.has_default else None,
            "derived_from": d.derived_from,
            "status": "active",
            "deprecation_message": None,
            "physical_column": column,
            "created_by": self.actor,
            "search_text": _search_text(d.name, description, tags),
            "created_at": self.now,
            "updated_at": self.now,
        }
        self.new_rows.append(row)
        if refs:
            before = refs[-1]
            self.acl_sources[row["id"]] = before.row["id"] if before.row else self._model(d.name, before.number).id
        if checked is not None:
            self.edges[row["id"]] = lineage_edges(checked.analysis)
        self.versions.setdefault(d.name, []).append(_VersionRef(number, "active", row))
        self.physical[column] = d.name
        action = "CREATE" if number == 1 else "CREATE_VERSION"
        self._audit(action, row["id"], d.name, version, dtype=d.dtype, derived_from=d.derived_from)
        return feature_record(SimpleNamespace(**row), self.g)

    @property
    def path(self) -> tuple[str, str, str, str]:
        return (self.g.org, self.g.domain, self.g.project, self.g.model.name)

    def _validate(self, d: FeatureDefinition, version: str) -> Any:
        """Validate a derived definition against the catalog plus this batch's earlier features."""
        if d.derived_from is None:
            return None
        gid = str(self.g.model.id)
        if self._group_info is None:  # loaded once per batch, not once per derived definition
            self._group_info = CatalogResolver.for_path(self.s, self.path, self.actor).context
        info = self._group_info
        pending = {
            gid: [
                FeatureInfo(
                    str(r["id"]), info, r["name"], r["version"], parse_dtype(r["dtype"]), r["derived_from"], "active"
                )
                for r in self.new_rows
            ]
        }
        checked = validate_definition(
            self.s,
            self.path,
            self.actor,
            name=d.name,
            version=version,
            dtype=d.feature_type,
            derived_from=d.derived_from,
            level=d.validation,
            pending=pending,
        )
        raise_if_invalid(checked.result, d.name, d.derived_from)
        warn(checked.result, d.name, stacklevel=7)
        return checked

    def _audit(self, action: str, feature_id: Any, name: str, version: str, **details: Any) -> None:
        self.audit_entries.append(
            audit.entry(
                actor=self.actor,
                action=action,
                resource_type="feature",
                resource_id=feature_id,
                resource_path=f"{self.g.path}/{name}@{version}",
                org_id=None,
                details=details,
            )
        )

    def flush(self) -> None:
        if self.new_rows:
            self.s.execute(insert(FeatureModel), self.new_rows)
            for feature_id, edges in self.edges.items():
                replace_edges(self.s, feature_id, edges)
            # Dependents that named these features before they existed (or an older version)
            # now read them: their edges follow.
            relink_dependents(self.s, self.g.model.id, self.actor, {r["name"] for r in self.new_rows})
            self._copy_acls()
        audit.write(self.s, self.audit_entries)
        self.s.flush()

    def _copy_acls(self) -> None:
        """A new version starts with the ACL of the version before it: restricting a feature must
        not end with its next version. (Its admins change it afterwards like any ACL.)"""
        if not self.acl_sources:
            return
        sources = set(self.acl_sources.values())
        acls = {
            a.resource_id: a
            for a in self.s.scalars(
                select(ACLModel).where(ACLModel.resource_type == "feature", ACLModel.resource_id.in_(sources))
            )
        }
        copies: dict[uuid.UUID, ACLModel] = {}
        for new_id, source in self.acl_sources.items():  # in creation order: v3 copies the v2 made just before
            acl = copies.get(source) or acls.get(source)
            if acl is None:
                continue
            copies[new_id] = ACLModel(
                resource_type="feature",
                resource_id=new_id,
                readers=list(acl.readers),
                writers=list(acl.writers),
                admins=list(acl.admins),
                inherit=acl.inherit,
            )
        self.s.add_all(copies.values())


class _VersionRef:
    """One version of a feature as the batch sees it; ``row`` is set when the batch created it."""

    __slots__ = ("number", "row", "status")

    def __init__(self, number: int, status: str, row: dict[str, Any] | None = None) -> None:
        self.number = number
        self.status = status
        self.row = row


def _model_fields(m: FeatureModel) -> dict[str, Any]:
    return {"description": m.description, "tags": list(m.tags or []), "owner": m.owner}
