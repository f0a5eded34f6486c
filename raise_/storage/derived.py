"""Planning the SQL that computes derived features at read time (DESIGN §3: derived features are
not stored).

Every feature a query needs, requested or upstream, becomes a node with a column alias
(``_n0``, ``_n1``, ...). Nodes are computed in two places:

- in their **group's relation** (the group's visible rows): stored columns, and derived features
  that use a window or a whole-group aggregate, with everything they depend on. Windows must see
  the group's rows, so such a feature may only depend on its own group.
- at the **probe** (each row the query returns: the group's own rows for a read, the entity
  frame for a training set): row-level derived features, after every other group's relation has
  been ASOF-joined on the shared entity keys as of the probe row's time. So a derived value is
  computed from its inputs as of the row's time, never from later data.

Derived features depending on derived features are computed in layers (one subquery each).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from raise_.catalog.expression_resolver import CatalogResolver
from raise_.errors import (
    CrossOrgAccessError,
    InvalidExpressionError,
    LineageBreakError,
    PermissionDeniedError,
    RaiseError,
)
from raise_.expressions.analysis import Analysis, analyze
from raise_.expressions.compiler import CompileContext, Parameters, compile_expression
from raise_.expressions.model import Reference
from raise_.expressions.syntax import ExpressionSyntaxError, parse_expression
from raise_.storage.layout import COMMIT_COLUMN, FeatureColumn, GroupLayout
from raise_.storage.offline_store import quote

__all__ = ["Node", "Plan", "build_plan"]

_DENIALS: dict[str, type[RaiseError]] = {
    "CROSS_ORG_ACCESS_DENIED": CrossOrgAccessError,
    "PERMISSION_DENIED": PermissionDeniedError,
}


@dataclass
class Node:
    alias: str
    layout: GroupLayout
    column: FeatureColumn
    analysis: Analysis | None = None  # set for derived features
    inputs: list[Node] = field(default_factory=list)
    in_group: bool = True  # computed in the group's relation (else at the probe)

    @property
    def derived(self) -> bool:
        return self.analysis is not None

    @property
    def key(self) -> str:
        return f"{self.layout.path}/{self.column.label}"


@dataclass
class Plan:
    probe: GroupLayout | None  # the group read, or None for a training set
    nodes: dict[str, Node] = field(default_factory=dict)
    groups: dict[str, GroupLayout] = field(default_factory=dict)  # path → layout, probe first
    params: Parameters = field(default_factory=lambda: Parameters("d"))

    def group_nodes(self, path: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.layout.path == path and n.in_group]

    def probe_nodes(self) -> list[Node]:
        return [n for n in self.nodes.values() if not n.in_group]

    def joined_groups(self) -> list[GroupLayout]:
        """Groups whose relation is ASOF-joined to the probe."""
        probe = self.probe.path if self.probe else None
        return [g for p, g in self.groups.items() if p != probe]


def _layers(nodes: list[Node]) -> list[list[Node]]:
    """Derived nodes grouped so each layer only reads earlier layers."""
    wanted = {n.key for n in nodes}
    depth: dict[str, int] = {}

    def visit(n: Node) -> int:
        if n.key not in depth:
            depth[n.key] = 0  # cycles are refused at creation; this only guards the recursion
            depth[n.key] = 1 + max((visit(i) for i in n.inputs if i.key in wanted and i.derived), default=0)
        return depth[n.key]

    for n in nodes:
        visit(n)
    out: dict[int, list[Node]] = {}
    for n in nodes:
        if n.derived:
            out.setdefault(depth[n.key], []).append(n)
    return [out[d] for d in sorted(out)]


def build_plan(
    probe: GroupLayout | None,
    requested: list[tuple[GroupLayout, FeatureColumn]],
    layout_of: Callable[[str], GroupLayout],
    resolver_of: Callable[[GroupLayout], CatalogResolver],
) -> tuple[Plan, list[Node]]:
    """The plan for ``requested`` features, and their nodes in request order."""
    plan = Plan(probe)
    if probe is not None:
        plan.groups[probe.path] = probe

    def node_for(layout: GroupLayout, column: FeatureColumn, via: str | None) -> Node:
        key = f"{layout.path}/{column.label}"
        if key in plan.nodes:
            return plan.nodes[key]
        plan.groups.setdefault(layout.path, layout)
        node = Node(f"_n{len(plan.nodes)}", layout, column)
        plan.nodes[key] = node
        if column.status == "archived" and via is not None:
            raise LineageBreakError(
                f"{via} depends on {layout.group.name}.{column.label}, which was deleted; create a new version of "
                f"{via} that does not use it, or pin another version.",
                {"feature": via, "upstream": key},
            )
        if column.derived_from is None:
            return node
        try:
            parsed = parse_expression(column.derived_from)
        except ExpressionSyntaxError as exc:
            raise InvalidExpressionError(
                f"Derived feature {key} cannot be computed: {exc.message}", {"feature": key}
            ) from exc
        analysis = analyze(parsed, resolver_of(layout))
        blocking = [i for i in analysis.issues if i.severity == "error" or i.code == "UNKNOWN_REFERENCE"]
        if blocking:
            first = blocking[0]
            # A grant revoked or an ACL tightened after the feature was created denies at once.
            cls = _DENIALS.get(first.code, InvalidExpressionError)
            raise cls(
                f"Derived feature {key} cannot be computed: {first}",
                {"feature": key, "reason": first.code, "errors": [i.to_dict() for i in blocking]},
            )
        node.analysis = analysis
        for ref in analysis.references:
            if ref.feature is None:
                continue
            target = layout_of(ref.feature.group.path)
            node.inputs.append(node_for(target, target.resolve(ref.feature.label), column.label))
        return node

    out = [node_for(layout, column, None) for layout, column in requested]
    _place(plan)
    return plan, out


def _place(plan: Plan) -> None:
    """Windowed nodes and what they read stay in their group; other derived nodes go to the probe."""
    for node in plan.nodes.values():
        node.in_group = not node.derived
    for node in plan.nodes.values():
        if node.analysis is not None and node.analysis.has_window:
            stack = [node]
            while stack:
                n = stack.pop()
                if n.layout.path != node.layout.path:
                    raise InvalidExpressionError(
                        f"{node.key} uses a window or an aggregate over {n.key} of another group; windows see one "
                        "group's rows. Define the windowed feature in that group and reference it instead.",
                        {"feature": node.key, "upstream": n.key},
                    )
                if not n.in_group or n is node:
                    n.in_group = True
                    stack.extend(n.inputs)


def _compile(plan: Plan, node: Node, column_sql: Callable[[Reference], str], et: str, keys: tuple[str, ...]) -> str:
    assert node.analysis is not None
    return compile_expression(node.analysis, CompileContext(column_sql, et, keys, plan.params))


def group_relation(plan: Plan, layout: GroupLayout, base_sql: str, stored: dict[str, str]) -> str:
    """SQL of ``layout``'s rows (``base_sql`` gives keys, event time, _commit and stored columns)
    with the group-level nodes as columns."""
    q = quote
    keys = list(layout.entity_keys or [])
    nodes = plan.group_nodes(layout.path)
    cols = [q(k) for k in keys] + [q(layout.event_time), q(COMMIT_COLUMN)]
    for n in nodes:
        if n.derived:
            continue
        if n.column.physical in stored:
            cols.append(f"{q(n.column.physical)} AS {n.alias}")
        else:  # created but never written
            cols.append(f"CAST(NULL AS {n.column.dtype.duckdb_type()}) AS {n.alias}")
    sql = f"SELECT {', '.join(cols)} FROM ({base_sql}) b"
    by_key = {n.key: n for n in plan.nodes.values()}

    def column_sql(owner: Node) -> Callable[[Reference], str]:
        def resolve(ref: Reference) -> str:
            if ref.kind == "entity_key":
                return q(ref.name)
            if ref.kind == "event_time":
                return q(layout.event_time)
            assert ref.feature is not None
            return by_key[f"{ref.feature.group.path}/{ref.feature.label}"].alias

        return resolve

    for layer in _layers(nodes):
        exprs = [
            f"{_compile(plan, n, column_sql(n), q(layout.event_time), tuple(q(k) for k in keys))} AS {n.alias}"
            for n in layer
        ]
        sql = f"SELECT *, {', '.join(exprs)} FROM ({sql}) l"
    return sql


def probe_layers(plan: Plan, sql: str, key_sql: Callable[[str], str], event_time_sql: Callable[[Node], str]) -> str:
    """Wrap ``sql`` (which has every group-level alias as a column) with the probe-level nodes."""
    by_key = {n.key: n for n in plan.nodes.values()}
    for layer in _layers(plan.probe_nodes()):
        exprs = []
        for n in layer:

            def resolve(ref: Reference, owner: Node = n) -> str:
                if ref.kind == "entity_key":
                    return key_sql(ref.name)
                if ref.kind == "event_time":
                    return event_time_sql(owner)
                assert ref.feature is not None
                return by_key[f"{ref.feature.group.path}/{ref.feature.label}"].alias

            keys = tuple(key_sql(k) for k in n.layout.entity_keys or [])
            exprs.append(f"{_compile(plan, n, resolve, event_time_sql(n), keys)} AS {n.alias}")
        sql = f"SELECT *, {', '.join(exprs)} FROM ({sql}) l"
    return sql
