"""Lineage of features (PRD §7; README *Lineage Tracking*; seed 003 *Impact Analysis*).

Edges are written when a derived feature version is created, re-pointed when what a reference
means changes (a new version of an upstream, an upstream created after its dependent, an
upstream deleted), and read back as a :class:`~raise_.lineage.LineageGraph`.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from raise_.catalog.derivation import lineage_edges
from raise_.catalog.expression_resolver import CatalogResolver
from raise_.catalog.lineage_store import (
    all_downstream_ids,
    all_upstream_ids,
    edges_among,
    node_rows,
    replace_edges,
)
from raise_.catalog.records import ImpactReport
from raise_.errors import LineageBreakWarning
from raise_.expressions.analysis import analyze
from raise_.expressions.syntax import ExpressionSyntaxError, parse_expression
from raise_.governance import audit
from raise_.governance.context import Service, ServiceContext
from raise_.governance.guard import Target, guarded
from raise_.lineage import LineageEdge, LineageGraph, LineageJob, LineageNode
from raise_.metadata.models import FeatureLineageModel, FeatureModel

if TYPE_CHECKING:
    from raise_.catalog.feature_service import FeatureService

__all__ = ["ImpactReport", "LineageService", "flag_dependents", "relink_dependents"]


def _node(row: FeatureModel, group_path: str) -> LineageNode:
    return LineageNode(
        id=str(row.id),
        name=row.name,
        version=row.version,
        group_path=group_path,
        dtype=row.dtype,
        derived_from=row.derived_from,
        status=row.status,
    )


def relink_dependents(session: Session, group_id: uuid.UUID, user: str, names: Iterable[str]) -> list[str]:
    """Recompute the edges of features that refer to ``names`` of the group ``group_id``, after
    those names gained a version (or lost one). Returns the ids of features whose edges changed.

    Runs on every feature creation, so it costs two indexed queries when nothing depends on the
    names, and resolves expressions only for the features that may."""
    wanted = set(names)
    versions = session.execute(
        select(FeatureModel.id, FeatureModel.name).where(
            FeatureModel.group_id == group_id, FeatureModel.name.in_(wanted)
        )
    ).all()
    version_ids = [v for v, _ in versions]
    candidates: dict[uuid.UUID, FeatureModel] = {}
    same_group = session.scalars(
        select(FeatureModel).where(
            FeatureModel.group_id == group_id, FeatureModel.derived_from.is_not(None), FeatureModel.status != "archived"
        )
    ).all()
    for row in same_group:
        if row.derived_from and any(n in row.derived_from for n in wanted):
            candidates[row.id] = row
    if version_ids:
        linked = session.scalars(
            select(FeatureModel)
            .join(FeatureLineageModel, FeatureLineageModel.feature_id == FeatureModel.id)
            .where(FeatureLineageModel.upstream_feature_id.in_(version_ids))
        ).all()
        candidates.update({r.id: r for r in linked})
    if not candidates:
        return []
    changed = []
    groups = {str(f.id): gp for f, gp in node_rows(session, list(candidates))}
    resolvers: dict[str, CatalogResolver] = {}  # one per dependent's group, sharing nothing stale
    for fid, row in candidates.items():
        assert row.derived_from is not None
        try:
            parsed = parse_expression(row.derived_from)
        except ExpressionSyntaxError:
            continue
        group_path = groups[str(fid)]
        if group_path not in resolvers:
            org, domain, project, group = group_path.split("/")
            resolvers[group_path] = CatalogResolver.for_path(session, (org, domain, project, group), user)
        analysis = analyze(parsed, resolvers[group_path])
        new_edges = dict(lineage_edges(analysis))
        existing = {
            str(e.upstream_feature_id): e.expression_context or ""
            for e in session.scalars(select(FeatureLineageModel).where(FeatureLineageModel.feature_id == fid))
        }
        unresolved = {r.name.split(".")[-1].split("@")[0] for r in analysis.references if r.feature is None}
        if unresolved:  # keep edges to upstreams that no longer resolve (deleted): the break stays visible
            kept = {str(f.id) for f, _ in node_rows(session, [uuid.UUID(i) for i in existing]) if f.name in unresolved}
            new_edges.update({k: existing[k] for k in kept if k not in new_edges})
        if set(new_edges) != set(existing):
            replace_edges(session, fid, list(new_edges.items()))
            audit.record(
                session,
                actor=user,
                action="UPDATE_DERIVATION",
                resource_type="feature",
                resource_id=fid,
                resource_path=f"{groups[str(fid)]}/{row.name}@{row.version}",
                org_id=None,
                details={"upstream": sorted(new_edges)},
            )
            changed.append(str(fid))
    return changed


def flag_dependents(s: Session, row: FeatureModel, group_path: str, action: str, actor: str) -> None:
    """After deleting or deprecating ``row``: audit LINEAGE_BREAK on each dependent, and warn."""
    dependents = all_downstream_ids(s, row.id)
    if not dependents:
        return
    names = []
    # In path order, so the entries of one change come out the same way every time.
    for f, gp in sorted(node_rows(s, dependents), key=lambda r: (r[1], r[0].name, r[0].version_number)):
        names.append(f"{gp}/{f.name}@{f.version}")
        audit.record(
            s,
            actor=actor,
            action="LINEAGE_BREAK",
            resource_type="feature",
            resource_id=f.id,
            resource_path=f"{gp}/{f.name}@{f.version}",
            org_id=None,
            details={"upstream": f"{group_path}/{row.name}@{row.version}", "upstream_change": action},
        )
    what = "deleted" if action == "DELETE" else "deprecated"
    warnings.warn(
        f"{row.name}@{row.version} was {what}; {len(names)} derived feature(s) depend on it: "
        f"{', '.join(sorted(names)[:10])}{' ...' if len(names) > 10 else ''}",
        LineageBreakWarning,
        stacklevel=4,
    )


class LineageService(Service):
    """Lineage graphs, closures and impact reports, checked node by node."""

    def __init__(self, context: ServiceContext, features: FeatureService) -> None:
        super().__init__(context)
        self.feature_service = features
        #: The jobs next to a feature (group path, feature name) → jobs, given by the jobs
        #: subsystem when the façade is assembled (the catalog does not know about jobs).
        self.jobs_of: Callable[[str, str], list[LineageJob]] | None = None

    def _visible_nodes(self, s: Session, ids: Iterable[uuid.UUID]) -> list[LineageNode]:
        """The nodes of ``ids``; those the caller may not read only as restricted placeholders
        (a lineage shows where others' features are, never what they are)."""
        rows = node_rows(s, ids)
        readable = self.access.readable_feature_ids(s, ((gp, f.id, f.created_by, f.name) for f, gp in rows))
        return [
            _node(f, gp) if str(f.id) in readable else LineageNode.restricted(str(f.id), gp.split("/")[0])
            for f, gp in rows
        ]

    def _feature_id(self, s: Session, group_path: str, name: str, version: str | None) -> FeatureModel:
        record = self.feature_service.get_feature(group_path, name, version)
        row = s.get(FeatureModel, uuid.UUID(record.id))
        assert row is not None
        return row

    @guarded("read", lambda a: Target.path(a["group_path"], a["name"], a["version"]), "read the lineage of")
    def get_lineage(self, group_path: str, name: str, version: str | None = None) -> LineageGraph:
        """The feature with everything upstream and downstream of it (all organizations)."""
        with self.db.reader() as s:
            row = self._feature_id(s, group_path, name, version)
            ids = {row.id, *all_upstream_ids(s, row.id), *all_downstream_ids(s, row.id)}
            nodes = self._visible_nodes(s, ids)
            hidden = {n.id for n in nodes if n.is_restricted}
            edges = [
                LineageEdge(
                    str(e.feature_id),
                    str(e.upstream_feature_id),
                    None if str(e.feature_id) in hidden else e.expression_context,  # a fragment of its expression
                )
                for e in edges_among(s, ids)
            ]
        jobs = self.jobs_of(group_path, row.name) if self.jobs_of is not None else []
        return LineageGraph(str(row.id), nodes, edges, jobs)

    @guarded("read", lambda a: Target.path(a["group_path"], a["name"], a["version"]), "read the lineage of")
    def lineage_closure(
        self, group_path: str, name: str, version: str | None, direction: str, include_external: bool
    ) -> list[LineageNode]:
        """Every feature upstream (``direction="up"``) or downstream of one, nearest first by name."""
        with self.db.reader() as s:
            row = self._feature_id(s, group_path, name, version)
            org_id = None
            if not include_external:
                org_id = CatalogResolver.for_path(s, tuple(group_path.split("/")), self.actor()).context.org_id  # type: ignore[arg-type]
            walk = all_upstream_ids if direction == "up" else all_downstream_ids
            ids = walk(s, row.id, org_id)
            return sorted(self._visible_nodes(s, ids), key=lambda n: n.qualified_name)

    @guarded("read", lambda a: Target.path(a["group_path"], a["name"], a["version"]), "analyze the impact on")
    def impact(
        self, group_path: str, name: str, version: str | None = None, change_type: str = "schema_change"
    ) -> ImpactReport:
        with self.db.reader() as s:
            row = self._feature_id(s, group_path, name, version)
            direct = s.scalars(
                select(FeatureLineageModel.feature_id).where(FeatureLineageModel.upstream_feature_id == row.id)
            ).all()
            every = all_downstream_ids(s, row.id)
            names = {n.id: n.qualified_name for n in self._visible_nodes(s, every)}
        return ImpactReport(
            feature=f"{group_path}/{row.name}@{row.version}",
            change_type=change_type,
            directly_affected=sorted(names[str(i)] for i in direct if str(i) in names),
            transitively_affected=sorted(names.values()),
        )
