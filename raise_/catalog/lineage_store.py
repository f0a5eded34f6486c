"""The lineage graph in the catalog: ``feature_lineage`` edges (PRD §7.2) and the queries over
them (§7.3). Transitive queries are recursive CTEs, one statement on SQLite and PostgreSQL; the
``UNION`` (not ``UNION ALL``) makes them stop on a graph that somehow holds a cycle.

Edges point from a derived feature version to the feature versions it reads. A reference
without a version follows the newest version, so when a feature gets a new version (or is created
after a derived feature that already named it) the dependents' edges are recomputed
(``relink``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, delete, insert, select
from sqlalchemy.orm import Session

from raise_.metadata.models import (
    DomainModel,
    FeatureGroupModel,
    FeatureLineageModel,
    FeatureModel,
    OrganizationModel,
    ProjectModel,
    utcnow,
)

__all__ = [
    "all_downstream_ids",
    "all_upstream_ids",
    "direct_edges",
    "edges_among",
    "node_rows",
    "replace_edges",
]

_L = FeatureLineageModel.__table__


def _uuid(value: str | uuid.UUID) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def replace_edges(session: Session, feature_id: str | uuid.UUID, edges: list[tuple[str, str]]) -> None:
    """Make ``feature_id``'s upstream edges exactly ``edges`` ((upstream id, context) pairs).

    A feature is never its own upstream: a self-reference (a cycle accepted under ``permissive``)
    would otherwise put a loop in every graph drawn from here."""
    fid = _uuid(feature_id)
    session.execute(delete(FeatureLineageModel).where(FeatureLineageModel.feature_id == fid))
    edges = [(up, context) for up, context in edges if _uuid(up) != fid]
    if edges:
        now = utcnow()
        session.execute(
            insert(FeatureLineageModel),
            [
                {
                    "id": uuid.uuid4(),
                    "feature_id": fid,
                    "upstream_feature_id": _uuid(up),
                    "expression_context": context,
                    "created_at": now,
                }
                for up, context in edges
            ],
        )


def _org_of_feature() -> Select[uuid.UUID, uuid.UUID]:
    return (
        select(FeatureModel.id, DomainModel.org_id)
        .join(FeatureGroupModel, FeatureModel.group_id == FeatureGroupModel.id)
        .join(ProjectModel, FeatureGroupModel.project_id == ProjectModel.id)
        .join(DomainModel, ProjectModel.domain_id == DomainModel.id)
    )


def _in_org(query: Select[Any], feature_id: Any, org_id: uuid.UUID) -> Select[Any]:
    orgs = _org_of_feature().subquery()
    return query.join(orgs, orgs.c.id == feature_id).where(orgs.c.org_id == org_id)


def _closure(session: Session, start: uuid.UUID, direction: str, org_id: uuid.UUID | None) -> list[uuid.UUID]:
    """Ids reachable from ``start`` (excluded) going ``up`` or ``down``; with ``org_id``, the
    walk does not enter features of other organizations (PRD §7.4)."""
    near, far = (
        (_L.c.feature_id, _L.c.upstream_feature_id)
        if direction == "up"
        else (_L.c.upstream_feature_id, _L.c.feature_id)
    )
    seed = select(far.label("id")).where(near == start)
    if org_id is not None:
        seed = _in_org(seed, far, org_id)
    walk = seed.cte("walk", recursive=True)
    step = select(far).join(walk, near == walk.c.id)
    if org_id is not None:
        step = _in_org(step, far, org_id)
    walk = walk.union(step)
    return [r for r in session.scalars(select(walk.c.id)) if r != start]


def all_upstream_ids(
    session: Session, feature_id: str | uuid.UUID, org_id: str | uuid.UUID | None = None
) -> list[uuid.UUID]:
    return _closure(session, _uuid(feature_id), "up", None if org_id is None else _uuid(org_id))


def all_downstream_ids(
    session: Session, feature_id: str | uuid.UUID, org_id: str | uuid.UUID | None = None
) -> list[uuid.UUID]:
    return _closure(session, _uuid(feature_id), "down", None if org_id is None else _uuid(org_id))


def direct_edges(session: Session, feature_id: str | uuid.UUID) -> list[FeatureLineageModel]:
    """Edges into and out of one feature version."""
    fid = _uuid(feature_id)
    return list(
        session.scalars(
            select(FeatureLineageModel).where(
                (FeatureLineageModel.feature_id == fid) | (FeatureLineageModel.upstream_feature_id == fid)
            )
        )
    )


def edges_among(session: Session, ids: Iterable[uuid.UUID]) -> list[FeatureLineageModel]:
    """Edges whose both ends are in ``ids``."""
    wanted = list(ids)
    inside = set(wanted)
    out: list[FeatureLineageModel] = []
    # Chunked to stay under SQLite's bound-parameter limit; the other end is checked here, since
    # a second IN list of every id made each chunk a scan (measured 0.8 s per chunk on SQLite).
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        rows = session.scalars(select(FeatureLineageModel).where(FeatureLineageModel.feature_id.in_(chunk)))
        out += [e for e in rows if e.upstream_feature_id in inside]
    return out


def node_rows(session: Session, ids: Iterable[uuid.UUID]) -> list[tuple[FeatureModel, str]]:
    """Feature rows with their group path, for the given ids."""
    wanted = list(ids)
    out: list[tuple[FeatureModel, str]] = []
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        rows = session.execute(
            select(FeatureModel, FeatureGroupModel.name, ProjectModel.name, DomainModel.name, OrganizationModel.name)
            .join(FeatureGroupModel, FeatureModel.group_id == FeatureGroupModel.id)
            .join(ProjectModel, FeatureGroupModel.project_id == ProjectModel.id)
            .join(DomainModel, ProjectModel.domain_id == DomainModel.id)
            .join(OrganizationModel, DomainModel.org_id == OrganizationModel.id)
            .where(FeatureModel.id.in_(chunk))
        ).all()
        out += [(f, f"{o}/{d}/{p}/{g}") for f, g, p, d, o in rows]
    return out
