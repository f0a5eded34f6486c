"""The lineage graph widget: a feature's upstream and downstream as a layered DAG drawn in SVG.

Python computes everything the drawing needs (:mod:`raise_.lineage.layout` places the nodes and
routes the edges); the ES module only draws the ``graph`` trait and reports clicks by setting ``selected``,
to which Python answers with the node's ``details``.
"""

from __future__ import annotations

from typing import Any

import traitlets

from raise_.client.feature import Feature
from raise_.client.lineage import Lineage
from raise_.lineage import LineageGraph, LineageNode
from raise_.lineage.layout import layered_layout
from raise_jupyter.widgets.base import STATIC, RaiseWidget

__all__ = ["LineageGraphWidget", "lineage_payload"]

_CHAR_WIDTH = 7.0
_MIN_WIDTH = 120.0
_MAX_WIDTH = 280.0


def _group_name(node: LineageNode) -> str:
    return node.group_path.rsplit("/", 1)[-1]


def _title(node: LineageNode, focus: LineageNode) -> str:
    """The node's name as drawn: short in the focus's group, qualified by its group elsewhere."""
    if node.is_restricted:
        return f"restricted ({node.org})"
    if node.group_path == focus.group_path:
        return node.label
    if node.group_path.rsplit("/", 1)[0] == focus.group_path.rsplit("/", 1)[0]:
        return f"{_group_name(node)}.{node.label}"
    return f"{node.group_path}/{node.label}"


def _subtitle(node: LineageNode) -> str:
    if node.is_restricted:
        return "no access"
    parts = [_group_name(node), node.dtype]
    if node.status != "active":
        parts.append(node.status)
    return " · ".join(parts)


def _width(node: LineageNode, focus: LineageNode) -> float:
    longest = max(len(_title(node, focus)), len(_subtitle(node)))
    return max(_MIN_WIDTH, min(_MAX_WIDTH, round(longest * _CHAR_WIDTH + 28)))


def _sort_key(node: LineageNode) -> tuple[int, str, str, str, str]:
    # Restricted placeholders last in their layer, then by group so a group's features stay together.
    return (int(node.is_restricted), node.group_path, node.name, node.version, node.id)


def lineage_payload(graph: LineageGraph) -> dict[str, Any]:
    """What the widget draws: nodes with their boxes, edges with their routes, the canvas size."""
    focus = graph.focus
    nodes = graph.nodes
    edges = [(e.upstream_feature_id, e.feature_id) for e in graph.edges]
    layout = layered_layout(
        sorted(nodes, key=lambda i: _sort_key(nodes[i])),
        edges,
        sort_key=lambda i: _sort_key(nodes[i]),
        widths={i: _width(n, focus) for i, n in nodes.items()},
    )
    contexts = {(e.upstream_feature_id, e.feature_id): e.expression_context for e in graph.edges}
    placed_nodes = []
    for layer in layout.layers:
        for slot in layer:
            if slot not in nodes:
                continue
            node, box = nodes[slot], layout.nodes[slot]
            placed_nodes.append(
                {
                    **box.to_dict(),
                    "name": node.name,
                    "version": node.version,
                    "title": _title(node, focus),
                    "subtitle": _subtitle(node),
                    "group_path": node.group_path,
                    "dtype": node.dtype,
                    "status": node.status,
                    "derived": node.derived_from is not None,
                    "restricted": node.is_restricted,
                    "focus": node.id == focus.id,
                }
            )
    return {
        "focus": focus.id,
        "nodes": placed_nodes,
        "edges": [{**e.to_dict(), "context": contexts.get((e.source, e.target))} for e in layout.edges],
        "width": layout.width,
        "height": layout.height,
        "crossings": layout.crossings,
        "layers": [[slot for slot in layer if slot in nodes] for layer in layout.layers],
    }


def _as_graph(source: Lineage | LineageGraph | Feature) -> LineageGraph:
    if isinstance(source, LineageGraph):
        return source
    if isinstance(source, Lineage):
        return source.as_graph()
    if isinstance(source, Feature):
        return source.get_lineage().as_graph()
    raise TypeError(f"LineageGraphWidget needs a Feature, a Lineage or a LineageGraph, not {type(source).__name__}")


class LineageGraphWidget(RaiseWidget):
    """``LineageGraphWidget(feature.get_lineage())``: click a node to see its details."""

    _esm = STATIC / "lineage.js"
    _css = STATIC / "lineage.css"

    graph = traitlets.Dict().tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    details = traitlets.Dict().tag(sync=True)

    def __init__(self, source: Lineage | LineageGraph | Feature, **kwargs: Any) -> None:
        self._graph = _as_graph(source)
        super().__init__(graph=lineage_payload(self._graph), **kwargs)

    @property
    def lineage_graph(self) -> LineageGraph:
        return self._graph

    def select(self, node: str | LineageNode | None) -> dict[str, Any]:
        """Select a node by id, by label (``"ctr@v1"``) or as a node; ``None`` clears. Returns its details."""
        if node is None:
            self.selected = ""
        elif isinstance(node, LineageNode):
            self.selected = node.id
        elif node in self._graph.nodes:
            self.selected = node
        else:
            matches = [n.id for n in self._graph.nodes.values() if node in (n.label, n.qualified_name, n.name)]
            if len(matches) != 1:
                raise KeyError(f"no single node of this lineage is called {node!r}")
            self.selected = matches[0]
        return dict(self.details)

    @traitlets.observe("selected")
    def _on_selected(self, change: dict[str, Any]) -> None:
        node = self._graph.nodes.get(change["new"])
        self.details = {} if node is None else self._details(node)

    def _details(self, node: LineageNode) -> dict[str, Any]:
        if node.is_restricted:
            return {
                "id": node.id,
                "restricted": True,
                "org": node.org,
                "message": f"A feature of organization {node.org!r} that you may not read.",
            }
        return {
            "id": node.id,
            "restricted": False,
            "qualified_name": node.qualified_name,
            "name": node.name,
            "version": node.version,
            "group_path": node.group_path,
            "dtype": node.dtype,
            "status": node.status,
            "derived_from": node.derived_from,
            "upstream": [n.qualified_name for n in self._graph.upstream_of(node.id)],
            "downstream": [n.qualified_name for n in self._graph.downstream_of(node.id)],
            "focus": node.id == self._graph.focus.id,
        }

    def __repr__(self) -> str:
        focus = self._graph.focus
        by_id = {n["id"]: n for n in self.graph["nodes"]}
        lines = [
            f"LineageGraphWidget({focus.qualified_name}: {len(self._graph.nodes)} nodes, "
            f"{len(self._graph.edges)} edges, {len(self.graph['layers'])} layers)"
        ]
        for index, layer in enumerate(self.graph["layers"]):
            names = []
            for node_id in layer:
                node = by_id[node_id]
                mark = " (focus)" if node["focus"] else ""
                status = "" if node["status"] in ("active", "restricted") else f" [{node['status']}]"
                names.append(f"{node['title']}{status}{mark}")
            lines.append(f"  {index}: " + ", ".join(names))
        if self.details:
            shown = self.details.get("qualified_name") or f"restricted ({self.details['org']})"
            lines.append(f"  selected: {shown}")
        return "\n".join(lines)
