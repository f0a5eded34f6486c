"""The lineage graph of one feature: what it is derived from, what is derived from it, and how to show it.

A :class:`LineageGraph` is a plain in-memory snapshot (nodes are feature versions, edges point from a derived
feature to a feature it reads) built by whoever queried the catalog. It knows nothing about the database, so it
can be rendered anywhere: as the box-drawing text of the README (``to_ascii``), as Graphviz DOT (``to_dot``), as
a JSON-friendly dict (``to_dict``) and as OpenLineage 2-0-2 run events (``to_openlineage``) for external
lineage tools such as Marquez.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["LineageEdge", "LineageGraph", "LineageJob", "LineageNode"]

OPENLINEAGE_RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
SQL_JOB_FACET_SCHEMA = "https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet"
SCHEMA_DATASET_FACET_SCHEMA = (
    "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
)
COLUMN_LINEAGE_FACET_SCHEMA = (
    "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
)
DEFAULT_PRODUCER = "https://github.com/raise-featurestore/raise"

_VERSION_RE = re.compile(r"^v(\d+)$")
_ELIDED = " (…)"


def _version_key(version: str) -> tuple[int, int, str]:
    # "v10" must sort after "v2", which plain string order gets wrong.
    match = _VERSION_RE.match(version)
    if match:
        return (0, int(match.group(1)), version)
    return (1, 0, version)


#: Name and status of a node the caller may not read (PRD §8: lineage is checked node by node).
RESTRICTED: Final = "restricted"


@dataclass(frozen=True)
class LineageNode:
    """One feature version taking part in a lineage graph."""

    id: str
    name: str
    version: str
    group_path: str
    dtype: str
    derived_from: str | None
    status: str

    @classmethod
    def restricted(cls, node_id: str, org: str) -> LineageNode:
        """A node the caller may not read: its place in the graph, not its name or definition."""
        return cls(node_id, RESTRICTED, "", org, "", None, RESTRICTED)

    @property
    def is_restricted(self) -> bool:
        return self.status == RESTRICTED

    @property
    def label(self) -> str:
        return self.name if self.is_restricted else f"{self.name}@{self.version}"

    @property
    def qualified_name(self) -> str:
        return f"{self.group_path}/{self.label}"

    @property
    def org(self) -> str:
        return self.group_path.split("/")[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "group_path": self.group_path,
            "qualified_name": self.qualified_name,
            "dtype": self.dtype,
            "derived_from": self.derived_from,
            "status": self.status,
        }


@dataclass(frozen=True)
class LineageEdge:
    """``feature_id`` (the derived feature) reads ``upstream_feature_id``."""

    feature_id: str
    upstream_feature_id: str
    expression_context: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature_id": self.feature_id,
            "upstream_feature_id": self.upstream_feature_id,
            "expression_context": self.expression_context,
        }


@dataclass(frozen=True)
class LineageJob:
    """A transformation job next to the focus feature: one that writes it (``writes``) or reads it
    through a feature-group source (``reads``). ``inputs`` and ``outputs`` are datasets named as
    OpenLineage names them (``namespace``, ``name``: ``s3://bucket`` + key, ``raise`` + group path)."""

    name: str
    project: str
    status: str
    relation: str  # "writes" or "reads": what the job does to the focus feature
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def qualified_name(self) -> str:
        return f"{self.project}/jobs/{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "qualified_name": self.qualified_name,
            "status": self.status,
            "relation": self.relation,
            "inputs": [dict(i) for i in self.inputs],
            "outputs": [dict(o) for o in self.outputs],
        }


def _node_key(node: LineageNode) -> tuple[str, tuple[int, int, str], str, str]:
    return (node.name, _version_key(node.version), node.group_path, node.id)


class _Canvas:
    """A growable grid of characters, so that drawn blocks can be pasted into one another."""

    def __init__(self) -> None:
        self.rows: list[list[str]] = []

    @property
    def height(self) -> int:
        return len(self.rows)

    def width(self, row: int) -> int:
        """Length of ``row`` ignoring trailing blanks: where the next thing on that row may start."""
        if row >= len(self.rows):
            return 0
        line = self.rows[row]
        end = len(line)
        while end and line[end - 1] == " ":
            end -= 1
        return end

    def put(self, row: int, col: int, text: str) -> None:
        while len(self.rows) <= row:
            self.rows.append([])
        line = self.rows[row]
        if len(line) < col + len(text):
            line.extend(" " * (col + len(text) - len(line)))
        line[col : col + len(text)] = list(text)

    def paste(self, other: _Canvas, row: int, col: int) -> None:
        # Blanks are skipped so a pasted block never erases what is already drawn beside it.
        for offset, line in enumerate(other.rows):
            while len(self.rows) <= row + offset:
                self.rows.append([])
            for index, char in enumerate(line):
                if char != " ":
                    self.put(row + offset, col + index, char)

    def render(self) -> str:
        return "\n".join("".join(line).rstrip() for line in self.rows)


@dataclass
class _Block:
    canvas: _Canvas
    anchor: int = 0


@dataclass
class _AsciiRenderer:
    graph: LineageGraph
    qualified: bool
    # Shared by the upstream and the downstream walk: each node is expanded once in the whole drawing.
    seen: set[str] = field(default_factory=set)
    labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name_counts: dict[str, int] = {}
        for node in self.graph.nodes.values():
            name_counts[node.name] = name_counts.get(node.name, 0) + 1
        for node_id, node in self.graph.nodes.items():
            if self.qualified:
                self.labels[node_id] = node.qualified_name
            elif name_counts[node.name] > 1:
                self.labels[node_id] = node.label
            else:
                self.labels[node_id] = node.name

    def render(self) -> str:
        focus_id = self.graph.focus.id
        block = self._upstream(focus_id)
        tail = self._downstream(focus_id)
        block.canvas.paste(tail, block.anchor, block.canvas.width(block.anchor))
        return block.canvas.render()

    def _visit(self, node_id: str) -> str | None:
        """The label to draw for a node seen before (not to be expanded again), else None after marking it."""
        if node_id in self.seen:
            return self.labels[node_id] + _ELIDED
        self.seen.add(node_id)
        return None

    def _upstream(self, node_id: str) -> _Block:
        block = _Block(_Canvas())
        repeated = self._visit(node_id)
        if repeated is not None:
            block.canvas.put(0, 0, repeated)
            return block
        label = self.labels[node_id]
        children = [self._upstream(child.id) for child in self.graph.upstream_of(node_id)]
        if not children:
            block.canvas.put(0, 0, label)
            return block
        if len(children) == 1:
            child = children[0]
            child.canvas.put(child.anchor, child.canvas.width(child.anchor), " ──▶ " + label)
            return child

        canvas = block.canvas
        anchors: list[int] = []
        spacers: list[int] = []
        for index, child in enumerate(children):
            top = canvas.height
            if index:
                spacers.append(top)
                top += 1
            canvas.paste(child.canvas, top, 0)
            anchors.append(top + child.anchor)
        bracket_col = max(canvas.width(row) for row in anchors) + 5
        first, last = anchors[0], anchors[-1]
        for row in anchors:
            start = canvas.width(row)
            bracket = "┐" if row == first else "┘" if row == last else "┤"
            canvas.put(row, start, " " + "─" * (bracket_col - start - 1) + bracket)
        for row in range(first + 1, last):
            if row not in anchors:
                canvas.put(row, bracket_col, "│")
        # The label sits on a row where the bracket has a junction of its own (a spacer or a middle anchor);
        # the end anchors are excluded because their corner cannot take a third arm.
        target = (first + last) // 2
        candidates = spacers + anchors[1:-1]
        centre = min(candidates, key=lambda row: (abs(row - target), abs(2 * row - first - last), row))
        canvas.put(centre, bracket_col, ("┼" if centre in anchors else "├") + "──▶ " + label)
        block.anchor = centre
        return block

    def _downstream(self, node_id: str) -> _Canvas:
        """What follows ``node_id``'s label on its row (and the rows below it): an empty canvas for a leaf."""
        canvas = _Canvas()
        children = self.graph.downstream_of(node_id)
        if not children:
            return canvas
        if len(children) == 1:
            child_id = children[0].id
            label, expand = self._child_label(child_id)
            text = " ──▶ " + label
            canvas.put(0, 0, text)
            if expand:
                canvas.paste(self._downstream(child_id), 0, len(text))
            return canvas

        branch_col = 3
        row = 0
        child_rows: list[int] = []
        for index, child in enumerate(children):
            label, expand = self._child_label(child.id)
            if index == 0:
                text = " ──┬──▶ " + label
                start = 0
            else:
                text = ("└" if index == len(children) - 1 else "├") + "──▶ " + label
                start = branch_col
            canvas.put(row, start, text)
            child_rows.append(row)
            height = 1
            if expand:
                tail = self._downstream(child.id)
                canvas.paste(tail, row, start + len(text))
                height = max(1, tail.height)
            row += height
        for between in range(child_rows[0] + 1, child_rows[-1]):
            if between not in child_rows:
                canvas.put(between, branch_col, "│")
        return canvas

    def _child_label(self, node_id: str) -> tuple[str, bool]:
        """The label to draw for a downstream child, and whether its own downstream should follow it."""
        repeated = self._visit(node_id)
        return (repeated, False) if repeated is not None else (self.labels[node_id], True)


def _dot_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class LineageGraph:
    """The lineage around one focus feature version: its nodes, its edges and their renderings."""

    def __init__(
        self,
        focus_id: str,
        nodes: Iterable[LineageNode],
        edges: Iterable[LineageEdge],
        jobs: Iterable[LineageJob] = (),
    ) -> None:
        self.nodes: dict[str, LineageNode] = {node.id: node for node in nodes}
        #: The transformation jobs that write the focus feature or read it (issue 20).
        self.jobs: list[LineageJob] = sorted(jobs, key=lambda j: (j.relation, j.qualified_name))
        if focus_id not in self.nodes:
            raise ValueError(f"focus feature {focus_id!r} is not among the graph's nodes")
        self._focus_id = focus_id
        self.edges: list[LineageEdge] = []
        self._upstream: dict[str, list[str]] = {node_id: [] for node_id in self.nodes}
        self._downstream: dict[str, list[str]] = {node_id: [] for node_id in self.nodes}
        pairs: set[tuple[str, str]] = set()
        for edge in edges:
            pair = (edge.feature_id, edge.upstream_feature_id)
            # An edge to a node the caller did not load (e.g. beyond a depth limit) cannot be drawn; a repeated
            # pair would draw the same upstream twice.
            if edge.feature_id not in self.nodes or edge.upstream_feature_id not in self.nodes or pair in pairs:
                continue
            pairs.add(pair)
            self.edges.append(edge)
            self._upstream[edge.feature_id].append(edge.upstream_feature_id)
            self._downstream[edge.upstream_feature_id].append(edge.feature_id)

    @property
    def focus(self) -> LineageNode:
        return self.nodes[self._focus_id]

    def upstream_of(self, node_id: str) -> list[LineageNode]:
        """The features ``node_id`` reads directly, by name then version."""
        return sorted((self.nodes[i] for i in self._upstream[node_id]), key=_node_key)

    def downstream_of(self, node_id: str) -> list[LineageNode]:
        """The features that read ``node_id`` directly, by name then version."""
        return sorted((self.nodes[i] for i in self._downstream[node_id]), key=_node_key)

    def _sorted_nodes(self) -> list[LineageNode]:
        return sorted(self.nodes.values(), key=lambda node: (node.qualified_name, node.id))

    def _sorted_edges(self) -> list[LineageEdge]:
        def key(edge: LineageEdge) -> tuple[str, str]:
            return (self.nodes[edge.feature_id].qualified_name, self.nodes[edge.upstream_feature_id].qualified_name)

        return sorted(self.edges, key=key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "focus": self.focus.qualified_name,
            "nodes": [node.to_dict() for node in self._sorted_nodes()],
            "edges": [
                {
                    "from": self.nodes[edge.upstream_feature_id].qualified_name,
                    "to": self.nodes[edge.feature_id].qualified_name,
                    "from_id": edge.upstream_feature_id,
                    "to_id": edge.feature_id,
                    "expression_context": edge.expression_context,
                }
                for edge in self._sorted_edges()
            ],
            "jobs": [job.to_dict() for job in self.jobs],
            "statistics": {"total_nodes": len(self.nodes), "total_edges": len(self.edges)},
        }

    def to_ascii(self, *, qualified: bool = False) -> str:
        """Box-drawing text: upstream tree on the left, the focus in the middle, downstream on the right."""
        return _AsciiRenderer(self, qualified).render()

    def to_dot(self) -> str:
        """Graphviz DOT text, edges pointing upstream → downstream, the focus highlighted."""
        lines = [
            "digraph lineage {",
            "  rankdir=LR;",
            '  node [shape=box, style="rounded", fontname="Helvetica"];',
        ]
        for node in self._sorted_nodes():
            attrs = [f"label={_dot_quote(node.label)}", f"tooltip={_dot_quote(node.qualified_name)}"]
            if node.id == self._focus_id:
                attrs += ['style="rounded,filled,bold"', 'fillcolor="#ffe08a"', "penwidth=2"]
            elif node.status != "active":
                attrs.append('color="gray50"')
            lines.append(f"  {_dot_quote(node.qualified_name)} [{', '.join(attrs)}];")
        for edge in self._sorted_edges():
            source = _dot_quote(self.nodes[edge.upstream_feature_id].qualified_name)
            target = _dot_quote(self.nodes[edge.feature_id].qualified_name)
            attrs_text = f" [tooltip={_dot_quote(edge.expression_context)}]" if edge.expression_context else ""
            lines.append(f"  {source} -> {target}{attrs_text};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_openlineage(
        self, *, namespace_prefix: str = "raise", producer: str = DEFAULT_PRODUCER
    ) -> list[dict[str, Any]]:
        """One OpenLineage 2-0-2 ``RunEvent`` per derived feature in the graph, ordered by qualified name.

        The run id is derived from the feature id, so re-exporting the same graph updates rather than
        duplicates the runs in a lineage backend.
        """
        event_time = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        events: list[dict[str, Any]] = []
        for node in self._sorted_nodes():
            if self._upstream[node.id]:
                events.append(self._run_event(node, event_time, namespace_prefix, producer))
        events.extend(self._job_event(job, event_time, namespace_prefix, producer) for job in self.jobs)
        return events

    @staticmethod
    def _job_event(job: LineageJob, event_time: str, prefix: str, producer: str) -> dict[str, Any]:
        """A transformation job as a run event: its sources in, its target group out."""

        def dataset(d: dict[str, Any]) -> dict[str, Any]:
            namespace = str(d["namespace"])
            if namespace == "raise":
                namespace = f"{prefix}://{str(d['name']).split('/')[0]}"
            return {"namespace": namespace, "name": str(d["name"])}

        return {
            "eventType": "COMPLETE",
            "eventTime": event_time,
            "producer": producer,
            "schemaURL": OPENLINEAGE_RUN_EVENT_SCHEMA,
            "run": {"runId": str(uuid.uuid5(uuid.NAMESPACE_URL, "raise-job:" + job.qualified_name))},
            "job": {"namespace": f"{prefix}://{job.project.split('/')[0]}", "name": job.qualified_name, "facets": {}},
            "inputs": [dataset(i) for i in job.inputs],
            "outputs": [dataset(o) for o in job.outputs],
        }

    def _run_event(self, node: LineageNode, event_time: str, prefix: str, producer: str) -> dict[str, Any]:
        def namespace(group_path: str) -> str:
            return f"{prefix}://{group_path.split('/')[0]}"

        def schema_facet(fields: list[LineageNode]) -> dict[str, Any]:
            return {
                "_producer": producer,
                "_schemaURL": SCHEMA_DATASET_FACET_SCHEMA,
                "fields": [{"name": f.label, "type": f.dtype} for f in fields],
            }

        contexts = {e.upstream_feature_id: e.expression_context for e in self.edges if e.feature_id == node.id}
        upstream = sorted(
            (self.nodes[i] for i in self._upstream[node.id]), key=lambda up: (up.group_path, _node_key(up))
        )
        by_group: dict[str, list[LineageNode]] = {}
        for up in upstream:
            by_group.setdefault(up.group_path, []).append(up)

        job_facets: dict[str, Any] = {}
        # SQLJobFacet requires a query; a node with edges but no recorded expression gets no SQL facet.
        if node.derived_from is not None:
            job_facets["sql"] = {"_producer": producer, "_schemaURL": SQL_JOB_FACET_SCHEMA, "query": node.derived_from}

        input_fields = [
            {
                "namespace": namespace(up.group_path),
                "name": up.group_path,
                "field": up.label,
                "transformations": [
                    {
                        "type": "DIRECT",
                        "subtype": "TRANSFORMATION",
                        "description": contexts.get(up.id) or "",
                        "masking": False,
                    }
                ],
            }
            for up in upstream
        ]
        return {
            "eventType": "COMPLETE",
            "eventTime": event_time,
            "producer": producer,
            "schemaURL": OPENLINEAGE_RUN_EVENT_SCHEMA,
            "run": {"runId": str(uuid.uuid5(uuid.NAMESPACE_URL, "raise:" + node.id))},
            "job": {"namespace": namespace(node.group_path), "name": node.qualified_name, "facets": job_facets},
            "inputs": [
                {"namespace": namespace(group), "name": group, "facets": {"schema": schema_facet(fields)}}
                for group, fields in by_group.items()
            ],
            "outputs": [
                {
                    "namespace": namespace(node.group_path),
                    "name": node.group_path,
                    "facets": {
                        "schema": schema_facet([node]),
                        "columnLineage": {
                            "_producer": producer,
                            "_schemaURL": COLUMN_LINEAGE_FACET_SCHEMA,
                            "fields": {node.label: {"inputFields": input_fields}},
                        },
                    },
                }
            ],
        }

    def __repr__(self) -> str:
        return f"LineageGraph(focus={self.focus.qualified_name!r}, nodes={len(self.nodes)}, edges={len(self.edges)})"
