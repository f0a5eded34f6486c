"""Organizations, domains, projects and feature groups: create, get, list (PRD §4, README
*Namespace Hierarchy*).

Every method takes and returns plain values (names, paths, records), so the same calls work
in-process and over REST.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from raise_.catalog.definitions import IF_EXISTS_MODES
from raise_.catalog.lookup import (
    GroupRow,
    domain_record,
    find_domain,
    find_group,
    find_organization,
    find_project,
    group_record,
    organization_record,
    project_record,
)
from raise_.catalog.paths import parse_project_path
from raise_.catalog.records import DomainRecord, FeatureGroupRecord, OrganizationRecord, ProjectRecord
from raise_.errors import (
    DomainExistsError,
    DomainNotFoundError,
    FeatureGroupExistsError,
    InvalidArgumentError,
    InvalidNameError,
    OrganizationExistsError,
    OrganizationNotFoundError,
    ProjectExistsError,
    ProjectNotFoundError,
    RaiseError,
)
from raise_.governance import audit
from raise_.governance.context import Service
from raise_.governance.guard import Target, filtered, guarded
from raise_.metadata.models import DomainModel, FeatureGroupModel, FeatureModel, OrganizationModel, ProjectModel
from raise_.metadata.naming import (
    check_group_columns,
    physical_table_name,
    validate_column_name,
    validate_namespace_name,
    validate_tags,
)

__all__ = ["NamespaceService", "group_path_parts", "has_all_tags"]


def has_all_tags(item_tags: Sequence[str], wanted: Sequence[str] | None) -> bool:
    """``list_*(tags=[...])`` keeps the items carrying every wanted tag."""
    return not wanted or all(t in item_tags for t in wanted)


def group_path_parts(group_path: object) -> tuple[str, str, str, str]:
    if not isinstance(group_path, str) or group_path.count("/") != 3:
        raise InvalidArgumentError(
            f"Invalid feature group path {group_path!r}: write 'org/domain/project/group'.",
            {"path": repr(group_path)},
        )
    org, domain, project, group = group_path.split("/")
    for kind, name in (
        ("organization", org),
        ("domain", domain),
        ("project", project),
        ("feature group", group),
    ):
        validate_namespace_name(kind, name)
    return org, domain, project, group


def _if_exists(value: object) -> str:
    if value not in IF_EXISTS_MODES:
        raise InvalidArgumentError(
            f"Invalid if_exists {value!r}: use 'error', 'skip' or 'update'.", {"if_exists": repr(value)}
        )
    return str(value)


def _optional_text(value: object, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidArgumentError(f"{what} must be a string, got {type(value).__name__}.", {what: repr(value)})


@dataclass(frozen=True)
class _Metadata:
    """The ``if_exists`` mode and the mutable fields a create call gave (``None``: not given)."""

    mode: str
    description: str | None
    owner: str | None
    tags: list[str] | None

    @classmethod
    def check(cls, if_exists: object, description: object, owner: object, tags: object) -> _Metadata:
        return cls(
            mode=_if_exists(if_exists),
            description=_optional_text(description, "description"),
            owner=_optional_text(owner, "owner"),
            tags=None if tags is None else validate_tags(tags),
        )


def _apply_metadata(row: Any, description: str | None, owner: str | None, tags: list[str] | None) -> bool:
    """Update the mutable fields that were given; say whether anything changed."""
    changed = False
    for attr, value in (("description", description), ("owner", owner), ("tags", tags)):
        if value is not None and getattr(row, attr) != value:
            setattr(row, attr, value)
            changed = True
    return changed


class NamespaceService(Service):
    """Organizations, domains, projects and feature groups."""

    def _audit_level(self, session: Session, action: str, kind: str, row: Any, path: str, org_id: Any) -> None:
        audit.record(
            session,
            actor=self.actor(),
            action=action,
            resource_type=kind,
            resource_id=row.id,
            resource_path=path,
            org_id=org_id,
        )

    def _existing_or_new(
        self,
        s: Session,
        existing: Any,
        meta: _Metadata,
        exists_error: Callable[[], RaiseError],
        make_row: Callable[[], Any],
        *,
        kind: str,
        path: str,
        org_id: Any,
    ) -> Any:
        """The ``if_exists`` rules shared by every level; ``org_id=None`` means the row is an org."""
        if existing is not None:
            if meta.mode == "error":
                raise exists_error()
            if meta.mode == "update" and _apply_metadata(existing, meta.description, meta.owner, meta.tags):
                self._audit_level(s, "UPDATE_METADATA", kind, existing, path, org_id or existing.id)
            return existing
        row = make_row()
        s.add(row)
        s.flush()
        self._audit_level(s, "CREATE", kind, row, path, org_id or row.id)
        return row

    # -- organizations -------------------------------------------------------------------------

    @guarded("write", lambda a: Target(a["name"]), "create organization")
    def create_organization(
        self,
        name: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        owner: str | None = None,
        tags: list[str] | None = None,
        settings: dict[str, Any] | None = None,
        if_exists: str = "error",
    ) -> OrganizationRecord:
        validate_namespace_name("organization", name)
        meta = _Metadata.check(if_exists, description, owner, tags)
        display_name = _optional_text(display_name, "display_name")
        if settings is not None and not isinstance(settings, dict):
            raise InvalidArgumentError("settings must be a dict.", {"settings": repr(settings)})
        with self.db.transaction() as s:
            existing = s.scalars(select(OrganizationModel).where(OrganizationModel.name == name)).one_or_none()
            row = self._existing_or_new(
                s,
                existing,
                meta,
                lambda: OrganizationExistsError(
                    f"Organization {name!r} already exists; use fs.organization({name!r}) to open it.",
                    {"organization": name},
                ),
                lambda: OrganizationModel(
                    name=name,
                    display_name=display_name,
                    description=meta.description,
                    owner=meta.owner or self.actor(),
                    created_by=self.actor(),
                    tags=meta.tags or [],
                    settings=settings or {},
                ),
                kind="organization",
                path=name,
                org_id=None,
            )
            return organization_record(row)

    @guarded("read", lambda a: Target(a["org"]), "read")
    def get_organization(self, org: str) -> OrganizationRecord:
        validate_namespace_name("organization", org)
        with self.db.reader() as s:
            return organization_record(find_organization(s, org))

    @filtered("lists only the organizations the caller may read")
    def list_organizations(self, tags: list[str] | None = None) -> list[OrganizationRecord]:
        wanted = validate_tags(tags)
        with self.db.reader() as s:
            rows = s.scalars(select(OrganizationModel).order_by(OrganizationModel.name)).all()
        visible = {r.name for r in rows if self.access.can("read", Target(r.name))}
        return [organization_record(r) for r in rows if r.name in visible and has_all_tags(r.tags, wanted)]

    # -- domains -------------------------------------------------------------------------------

    @guarded("write", lambda a: Target(a["org"]), "create a domain in")
    def create_domain(
        self,
        org: str,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        tags: list[str] | None = None,
        if_exists: str = "error",
    ) -> DomainRecord:
        validate_namespace_name("organization", org)
        validate_namespace_name("domain", name)
        meta = _Metadata.check(if_exists, description, owner, tags)
        with self.db.transaction() as s:
            org_row = find_organization(s, org)
            existing = s.scalars(
                select(DomainModel).where(DomainModel.org_id == org_row.id, DomainModel.name == name)
            ).one_or_none()
            row = self._existing_or_new(
                s,
                existing,
                meta,
                lambda: DomainExistsError(
                    f"Domain {org}/{name} already exists; use fs.domain({name!r}) to open it.",
                    {"organization": org, "domain": name},
                ),
                lambda: DomainModel(
                    org_id=org_row.id,
                    name=name,
                    description=meta.description,
                    owner=meta.owner or self.actor(),
                    created_by=self.actor(),
                    tags=meta.tags or [],
                ),
                kind="domain",
                path=f"{org}/{name}",
                org_id=org_row.id,
            )
            return domain_record(row, org)

    @guarded("read", lambda a: Target(a["org"], a["domain"]), "read")
    def get_domain(self, org: str, domain: str) -> DomainRecord:
        validate_namespace_name("domain", domain)
        with self.db.reader() as s:
            return domain_record(find_domain(s, org, domain)[1], org)

    @guarded("read", lambda a: Target(a["org"]), "list the domains of")
    def list_domains(self, org: str, tags: list[str] | None = None) -> list[DomainRecord]:
        wanted = validate_tags(tags)
        with self.db.reader() as s:
            org_row = find_organization(s, org)
            rows = s.scalars(
                select(DomainModel).where(DomainModel.org_id == org_row.id).order_by(DomainModel.name)
            ).all()
        visible = self.access.readable_children(Target(org), [r.name for r in rows])
        return [domain_record(r, org) for r in rows if r.name in visible and has_all_tags(r.tags, wanted)]

    # -- projects ------------------------------------------------------------------------------

    @guarded("write", lambda a: Target(a["org"], a["domain"]), "create a project in")
    def create_project(
        self,
        org: str,
        domain: str,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        tags: list[str] | None = None,
        if_exists: str = "error",
    ) -> ProjectRecord:
        validate_namespace_name("project", name)
        meta = _Metadata.check(if_exists, description, owner, tags)
        with self.db.transaction() as s:
            org_row, domain_row = find_domain(s, org, domain)
            existing = s.scalars(
                select(ProjectModel).where(ProjectModel.domain_id == domain_row.id, ProjectModel.name == name)
            ).one_or_none()
            path = f"{org}/{domain}/{name}"
            row = self._existing_or_new(
                s,
                existing,
                meta,
                lambda: ProjectExistsError(
                    f"Project {path} already exists; use fs.project({name!r}) to open it.",
                    {"organization": org, "domain": domain, "project": name},
                ),
                lambda: ProjectModel(
                    domain_id=domain_row.id,
                    name=name,
                    description=meta.description,
                    owner=meta.owner or self.actor(),
                    created_by=self.actor(),
                    tags=meta.tags or [],
                ),
                kind="project",
                path=path,
                org_id=org_row.id,
            )
            return project_record(row, org, domain)

    @guarded("read", lambda a: Target(a["org"], a["domain"], a["project"]), "read")
    def get_project(self, org: str, domain: str, project: str) -> ProjectRecord:
        validate_namespace_name("project", project)
        with self.db.reader() as s:
            return project_record(find_project(s, org, domain, project), org, domain)

    @guarded("read", lambda a: Target(a["org"], a["domain"]), "list the projects of")
    def list_projects(self, org: str, domain: str, tags: list[str] | None = None) -> list[ProjectRecord]:
        wanted = validate_tags(tags)
        with self.db.reader() as s:
            _, domain_row = find_domain(s, org, domain)
            rows = s.scalars(
                select(ProjectModel).where(ProjectModel.domain_id == domain_row.id).order_by(ProjectModel.name)
            ).all()
        visible = self.access.readable_children(Target(org, domain), [r.name for r in rows])
        return [project_record(r, org, domain) for r in rows if r.name in visible and has_all_tags(r.tags, wanted)]

    @filtered("opening needs read on the project; creating it needs write where it is created")
    def ensure_project(self, project_path: str) -> ProjectRecord:
        """Open ``org/domain/project``, creating whichever levels do not exist yet.

        Safe against a concurrent opener: a lost race on a unique name just re-reads.
        """
        pp = parse_project_path(project_path)
        target = Target(pp.org, pp.domain, pp.project)
        self.authorize("read", target, "open", missing="write")
        try:
            return self.get_project(pp.org, pp.domain, pp.project)
        except (OrganizationNotFoundError, DomainNotFoundError, ProjectNotFoundError):
            pass
        for create in (
            lambda: self.create_organization(pp.org, if_exists="skip"),
            lambda: self.create_domain(pp.org, pp.domain, if_exists="skip"),
            lambda: self.create_project(pp.org, pp.domain, pp.project, if_exists="skip"),
        ):
            # another process may create it between our read and our insert
            with contextlib.suppress(IntegrityError):
                create()
        return self.get_project(pp.org, pp.domain, pp.project)

    # -- feature groups ------------------------------------------------------------------------

    @guarded("write", lambda a: Target.path(a["project_path"]), "create a feature group in")
    def create_feature_group(
        self,
        project_path: str,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        tags: list[str] | None = None,
        entity_keys: list[str] | None = None,
        event_time: str | None = None,
        ttl_seconds: int | None = None,
        if_exists: str = "error",
    ) -> FeatureGroupRecord:
        pp = parse_project_path(project_path)
        validate_namespace_name("feature group", name)
        meta = _Metadata.check(if_exists, description, owner, tags)
        keys = _entity_keys(entity_keys)
        if event_time is not None and not isinstance(event_time, str):
            raise InvalidArgumentError("event_time must be a column name.", {"event_time": repr(event_time)})
        if event_time is not None:
            _column_name("event_time", event_time)
            if keys and event_time in keys:
                raise InvalidArgumentError(
                    f"The event-time column {event_time!r} cannot also be an entity key.",
                    {"event_time": event_time},
                )
        if ttl_seconds is not None and (not isinstance(ttl_seconds, int) or ttl_seconds <= 0):
            raise InvalidArgumentError(
                f"ttl must be a positive duration, got {ttl_seconds!r} seconds.", {"ttl_seconds": ttl_seconds}
            )
        with self.db.transaction() as s:
            project_row = find_project(s, pp.org, pp.domain, pp.project)
            existing = s.scalars(
                select(FeatureGroupModel).where(
                    FeatureGroupModel.project_id == project_row.id, FeatureGroupModel.name == name
                )
            ).one_or_none()
            path = f"{pp}/{name}"
            org_id = s.scalars(select(DomainModel.org_id).where(DomainModel.id == project_row.domain_id)).one()

            def new_group() -> FeatureGroupModel:
                physical = physical_table_name(pp.org, pp.domain, pp.project, name)
                clash = s.scalars(
                    select(FeatureGroupModel.name).where(FeatureGroupModel.physical_table == physical)
                ).one_or_none()
                if clash is not None:
                    raise InvalidNameError(
                        f"Feature group {name!r} would be stored in the same table ({physical}) as an existing "
                        "group whose name differs only by case; choose another name.",
                        {"group": name, "physical_table": physical},
                    )
                return FeatureGroupModel(
                    project_id=project_row.id,
                    name=name,
                    description=meta.description,
                    owner=meta.owner or self.actor(),
                    created_by=self.actor(),
                    tags=meta.tags or [],
                    entity_keys=keys,
                    event_time_column=event_time,
                    ttl_seconds=ttl_seconds,
                    physical_table=physical,
                )

            row = self._existing_or_new(
                s,
                existing,
                meta,
                lambda: FeatureGroupExistsError(
                    f"Feature group {path} already exists; use fs.feature_group({name!r}) to open it.",
                    {"group": name, "project": str(pp)},
                ),
                new_group,
                kind="feature_group",
                path=path,
                org_id=org_id,
            )
            return group_record(GroupRow(row, pp.org, pp.domain, pp.project))

    @guarded("write", lambda a: Target.path(a["group_path"]), "write to")
    def fix_group_schema(self, group_path: str, entity_keys: list[str], event_time: str) -> FeatureGroupRecord:
        """Record the keys and event-time column a group's first write fixed (they never change)."""
        org, domain, project, group = group_path_parts(group_path)
        keys = _entity_keys(entity_keys)
        _column_name("event_time", event_time)
        with self.db.transaction() as s:
            g = find_group(s, org, domain, project, group, lock=True)
            row = g.model
            if row.entity_keys is not None and row.entity_keys != keys:
                raise InvalidArgumentError(
                    f"Group {group!r} already has entity keys {row.entity_keys}; they cannot become {keys}.",
                    {"group": group, "entity_keys": row.entity_keys},
                )
            if row.event_time_column is not None and row.event_time_column != event_time:
                raise InvalidArgumentError(
                    f"Group {group!r} already has event-time column {row.event_time_column!r}.", {"group": group}
                )
            if row.entity_keys is None or row.event_time_column is None:
                features = s.scalars(select(FeatureModel.name).where(FeatureModel.group_id == row.id).distinct())
                check_group_columns(features, keys, event_time)
                row.entity_keys, row.event_time_column = keys, event_time
                self._audit_level(s, "UPDATE_SCHEMA", "feature_group", row, g.path, None)
            s.flush()
            return group_record(g)

    @guarded("read", lambda a: Target.path(a["group_path"]), "read")
    def get_feature_group(self, group_path: str) -> FeatureGroupRecord:
        org, domain, project, group = group_path_parts(group_path)
        with self.db.reader() as s:
            return group_record(find_group(s, org, domain, project, group))

    @guarded("read", lambda a: Target.path(a["project_path"]), "list the feature groups of")
    def list_feature_groups(self, project_path: str, tags: list[str] | None = None) -> list[FeatureGroupRecord]:
        pp = parse_project_path(project_path)
        wanted = validate_tags(tags)
        with self.db.reader() as s:
            project_row = find_project(s, pp.org, pp.domain, pp.project)
            rows = s.scalars(
                select(FeatureGroupModel)
                .where(FeatureGroupModel.project_id == project_row.id)
                .order_by(FeatureGroupModel.name)
            ).all()
        visible = self.access.readable_children(Target(pp.org, pp.domain, pp.project), [r.name for r in rows])
        return [
            group_record(GroupRow(r, pp.org, pp.domain, pp.project))
            for r in rows
            if r.name in visible and has_all_tags(r.tags, wanted)
        ]


def _column_name(what: str, name: str) -> str:
    return validate_column_name(what, name)


def _entity_keys(keys: object) -> list[str] | None:
    if keys is None:
        return None
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list | tuple) or not keys:
        raise InvalidArgumentError(
            f"entity_keys must be a non-empty list of column names, got {keys!r}.",
            {"entity_keys": repr(keys)},
        )
    out: list[str] = []
    for key in keys:
        if not isinstance(key, str):
            raise InvalidArgumentError(f"Entity key {key!r} must be a column name.", {"entity_keys": repr(keys)})
        _column_name("entity key", key)
        if key in out:
            raise InvalidArgumentError(f"Entity key {key!r} is listed twice.", {"entity_keys": list(keys)})
        out.append(key)
    return out
