"""Resolving names to catalog rows, and turning rows into records.

A path is resolved with one joined query. Only when it fails do we look level by level, so the
error says which level is missing and suggests the closest existing name.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from raise_.catalog.records import (
    DomainRecord,
    FeatureGroupRecord,
    FeatureRecord,
    OrganizationRecord,
    ProjectRecord,
)
from raise_.errors import (
    DomainNotFoundError,
    FeatureGroupNotFoundError,
    OrganizationNotFoundError,
    ProjectNotFoundError,
)
from raise_.hints import suggest
from raise_.metadata.models import (
    DomainModel,
    FeatureGroupModel,
    FeatureModel,
    OrganizationModel,
    ProjectModel,
)
from raise_.types.statistics import summary_statistics

__all__ = [
    "GroupRow",
    "domain_record",
    "feature_record",
    "find_domain",
    "find_group",
    "find_organization",
    "find_project",
    "group_record",
    "organization_record",
    "project_record",
    "suggest",
]


def find_organization(session: Session, org: str) -> OrganizationModel:
    row = session.scalars(select(OrganizationModel).where(OrganizationModel.name == org)).one_or_none()
    if row is None:
        names = session.scalars(select(OrganizationModel.name)).all()
        raise OrganizationNotFoundError(
            f"Organization {org!r} not found.{suggest(org, names)} Create it with fs.create_organization({org!r}).",
            {"organization": org},
        )
    return row


def find_domain(session: Session, org: str, domain: str) -> tuple[OrganizationModel, DomainModel]:
    found = session.execute(
        select(OrganizationModel, DomainModel)
        .join(DomainModel, DomainModel.org_id == OrganizationModel.id)
        .where(OrganizationModel.name == org, DomainModel.name == domain)
    ).one_or_none()
    if found is not None:
        return found[0], found[1]
    org_row = find_organization(session, org)
    names = session.scalars(select(DomainModel.name).where(DomainModel.org_id == org_row.id)).all()
    raise DomainNotFoundError(
        f"Domain {domain!r} not found in organization {org!r}.{suggest(domain, names)}",
        {"organization": org, "domain": domain},
    )


def find_project(session: Session, org: str, domain: str, project: str) -> ProjectModel:
    row = session.scalars(
        select(ProjectModel)
        .join(DomainModel, ProjectModel.domain_id == DomainModel.id)
        .join(OrganizationModel, DomainModel.org_id == OrganizationModel.id)
        .where(OrganizationModel.name == org, DomainModel.name == domain, ProjectModel.name == project)
    ).one_or_none()
    if row is not None:
        return row
    _, domain_row = find_domain(session, org, domain)
    names = session.scalars(select(ProjectModel.name).where(ProjectModel.domain_id == domain_row.id)).all()
    raise ProjectNotFoundError(
        f"Project {project!r} not found in {org}/{domain}.{suggest(project, names)}",
        {"organization": org, "domain": domain, "project": project},
    )


class GroupRow:
    """A feature group row with the names of the levels above it."""

    __slots__ = ("domain", "model", "org", "project")

    def __init__(self, model: FeatureGroupModel, org: str, domain: str, project: str) -> None:
        self.model = model
        self.org = org
        self.domain = domain
        self.project = project

    @property
    def path(self) -> str:
        return f"{self.org}/{self.domain}/{self.project}/{self.model.name}"


_GROUP_BY_PATH = (
    select(FeatureGroupModel)
    .join(ProjectModel, FeatureGroupModel.project_id == ProjectModel.id)
    .join(DomainModel, ProjectModel.domain_id == DomainModel.id)
    .join(OrganizationModel, DomainModel.org_id == OrganizationModel.id)
    .where(
        OrganizationModel.name == bindparam("org"),
        DomainModel.name == bindparam("domain"),
        ProjectModel.name == bindparam("project"),
        FeatureGroupModel.name == bindparam("group"),
    )
)
# Serialises version numbering of concurrent creators (a no-op on SQLite, whose writers queue).
_GROUP_BY_PATH_FOR_UPDATE = _GROUP_BY_PATH.with_for_update(of=FeatureGroupModel)


def find_group(session: Session, org: str, domain: str, project: str, group: str, *, lock: bool = False) -> GroupRow:
    params = {"org": org, "domain": domain, "project": project, "group": group}
    row = session.scalars(_GROUP_BY_PATH_FOR_UPDATE if lock else _GROUP_BY_PATH, params).one_or_none()
    if row is not None:
        return GroupRow(row, org, domain, project)
    project_row = find_project(session, org, domain, project)
    names = session.scalars(select(FeatureGroupModel.name).where(FeatureGroupModel.project_id == project_row.id)).all()
    raise FeatureGroupNotFoundError(
        f"Feature group {group!r} not found in {org}/{domain}/{project}.{suggest(group, names)} "
        f"Create it with fs.create_feature_group({group!r}).",
        {"organization": org, "domain": domain, "project": project, "group": group},
    )


# -- rows → records ---------------------------------------------------------------------------


def organization_record(m: OrganizationModel) -> OrganizationRecord:
    return OrganizationRecord(
        id=str(m.id),
        name=m.name,
        display_name=m.display_name,
        description=m.description,
        owner=m.owner,
        tags=list(m.tags or []),
        settings=dict(m.settings or {}),
        created_at=m.created_at,
        updated_at=m.updated_at,
    )


def domain_record(m: DomainModel, org: str) -> DomainRecord:
    return DomainRecord(
        id=str(m.id),
        org=org,
        name=m.name,
        description=m.description,
        owner=m.owner,
        tags=list(m.tags or []),
        created_at=m.created_at,
        updated_at=m.updated_at,
    )


def project_record(m: ProjectModel, org: str, domain: str) -> ProjectRecord:
    return ProjectRecord(
        id=str(m.id),
        org=org,
        domain=domain,
        name=m.name,
        description=m.description,
        owner=m.owner,
        tags=list(m.tags or []),
        created_at=m.created_at,
        updated_at=m.updated_at,
    )


def group_record(g: GroupRow) -> FeatureGroupRecord:
    m = g.model
    return FeatureGroupRecord(
        id=str(m.id),
        org=g.org,
        domain=g.domain,
        project=g.project,
        name=m.name,
        description=m.description,
        owner=m.owner,
        tags=list(m.tags or []),
        entity_keys=list(m.entity_keys) if m.entity_keys is not None else None,
        event_time=m.event_time_column,
        ttl_seconds=m.ttl_seconds,
        physical_table=m.physical_table,
        created_at=m.created_at,
        updated_at=m.updated_at,
    )


class FeatureFields(Protocol):
    """What :func:`feature_record` reads: a ``FeatureModel`` or a plain row of the same fields."""

    id: uuid.UUID
    name: str
    version: str
    dtype: str
    description: str | None
    owner: str | None
    tags: list[str]
    nullable: bool
    default_value: dict[str, Any] | None
    derived_from: str | None
    status: str
    deprecation_message: str | None
    physical_column: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime


def feature_record(m: FeatureFields | FeatureModel, g: GroupRow) -> FeatureRecord:
    default = m.default_value
    return FeatureRecord(
        id=str(m.id),
        org=g.org,
        domain=g.domain,
        project=g.project,
        group=g.model.name,
        name=m.name,
        version=m.version,
        dtype=m.dtype,
        description=m.description,
        owner=m.owner,
        tags=list(m.tags or []),
        nullable=m.nullable,
        has_default=default is not None,
        default=default.get("value") if default is not None else None,
        derived_from=m.derived_from,
        status=m.status,
        deprecation_message=m.deprecation_message,
        physical_table=g.model.physical_table,
        physical_column=m.physical_column,
        created_by=m.created_by,
        created_at=m.created_at,
        updated_at=m.updated_at,
        statistics=list(summary_statistics(m.dtype)),
    )
