"""``Lineage``: what ``feature.get_lineage()`` returns (README *Lineage Tracking*)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raise_.lineage import LineageGraph, LineageJob, LineageNode

if TYPE_CHECKING:
    from raise_.client.backend import Backend

__all__ = ["Lineage"]


class Lineage:
    """A feature's lineage: direct neighbours as attributes, the rest on demand."""

    def __init__(self, backend: Backend, group_path: str, name: str, version: str, graph: LineageGraph) -> None:
        self._backend = backend
        self._where = (group_path, name, version)
        self._graph = graph

    @property
    def feature(self) -> LineageNode:
        return self._graph.focus

    @property
    def upstream(self) -> list[LineageNode]:
        """The features this one is computed from."""
        return self._graph.upstream_of(self._graph.focus.id)

    @property
    def downstream(self) -> list[LineageNode]:
        """The features computed from this one."""
        return self._graph.downstream_of(self._graph.focus.id)

    @property
    def jobs(self) -> list[LineageJob]:
        """The transformation jobs that write this feature (``relation == "writes"``) or read it."""
        return list(self._graph.jobs)

    @property
    def upstream_jobs(self) -> list[LineageJob]:
        """The jobs that write this feature, with their sources as ``inputs``."""
        return [j for j in self._graph.jobs if j.relation == "writes"]

    @property
    def downstream_jobs(self) -> list[LineageJob]:
        """The jobs that read this feature through a feature-group source."""
        return [j for j in self._graph.jobs if j.relation == "reads"]

    def all_upstream(self, include_external: bool = True) -> list[LineageNode]:
        """Every ancestor; ``include_external=False`` stays inside this feature's organization."""
        return self._backend.lineage_closure(*self._where, "up", include_external)

    def all_downstream(self, include_external: bool = False) -> list[LineageNode]:
        """Every descendant; ``include_external=True`` follows other organizations' features too."""
        return self._backend.lineage_closure(*self._where, "down", include_external)

    @property
    def breaks(self) -> list[LineageNode]:
        """Upstream features (at any depth) that are deprecated or deleted."""
        focus = self._graph.focus.id
        seen: set[str] = set()
        stack = [focus]
        out = []
        while stack:
            for node in self._graph.upstream_of(stack.pop()):
                if node.id in seen:
                    continue
                seen.add(node.id)
                stack.append(node.id)
                if node.status != "active":
                    out.append(node)
        return sorted(out, key=lambda n: n.qualified_name)

    def as_graph(self) -> LineageGraph:
        return self._graph

    def to_dict(self) -> dict[str, Any]:
        out = self._graph.to_dict()
        out["upstream"] = [n.qualified_name for n in self.upstream]
        out["downstream"] = [n.qualified_name for n in self.downstream]
        return out

    def to_openlineage(self) -> list[dict[str, Any]]:
        """OpenLineage run events, one per derived feature in the graph (seed 002 FR-020)."""
        return self._graph.to_openlineage()

    def __repr__(self) -> str:
        up = ", ".join(n.name for n in self.upstream) or "-"
        down = ", ".join(n.name for n in self.downstream) or "-"
        return f"Lineage({self._graph.focus.label}: upstream [{up}], downstream [{down}])"
