"""Where to draw a layered DAG: layers, order within layers, coordinates and edge routes.

The lineage widget draws what this module computes, so the drawing rules are plain Python that tests can
check without a browser. The pipeline is the classic layered (Sugiyama) one, left to right:

1. **Layering** by longest path from the sources, then every source is pulled right next to its nearest
   successor, so a raw feature read only by a deep derived one does not drag a long edge across the page.
   Every edge goes from a lower layer to a strictly higher one.
2. **Dummy nodes** split an edge spanning several layers into one segment per layer, so crossings can be
   counted and reduced between adjacent layers only, and the edge is routed around the nodes in between.
3. **Ordering**: barycenter sweeps (down, then up) until they stop improving, keeping the best ordering
   seen, then a transpose pass that swaps neighbours while that removes crossings. Ties are broken by the
   caller's sort key, so the result is deterministic.
4. **Coordinates**: one column per layer, as wide as its widest node; nodes stacked in order, each column
   centred vertically. Nodes never overlap by construction.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "LayeredLayout",
    "LayoutError",
    "PlacedNode",
    "RoutedEdge",
    "assign_layers",
    "count_crossings",
    "layered_layout",
]

NODE_HEIGHT = 44.0
DUMMY_HEIGHT = 6.0
NODE_GAP = 18.0
LAYER_GAP = 64.0
MARGIN = 12.0
MAX_SWEEPS = 24
TRANSPOSE_ROUNDS = 12


class LayoutError(ValueError):
    """The graph cannot be laid out as a DAG (a cycle, a self-loop or an edge to an unknown node)."""


@dataclass(frozen=True)
class PlacedNode:
    """A node's slot: its layer, its rank in that layer and its box (top-left corner, size)."""

    id: str
    layer: int
    order: int
    x: float
    y: float
    width: float
    height: float
    dummy: bool = False

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def middle(self) -> float:
        return self.y + self.height / 2

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "layer": self.layer,
            "order": self.order,
            "x": self.x,
            "y": self.y,
            "width": self.width,
            "height": self.height,
        }


@dataclass(frozen=True)
class RoutedEdge:
    """An edge from ``source`` (upstream) to ``target``, as the polyline ``points`` it is drawn along."""

    source: str
    target: str
    points: tuple[tuple[float, float], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "points": [list(p) for p in self.points]}


@dataclass(frozen=True)
class LayeredLayout:
    nodes: dict[str, PlacedNode]  # the real nodes, by id
    edges: list[RoutedEdge]
    layers: list[list[str]]  # every slot of every layer in order, dummy nodes included
    width: float
    height: float
    crossings: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": [self.nodes[node_id].to_dict() for node_id in sorted(self.nodes)],
            "edges": [edge.to_dict() for edge in self.edges],
            "width": self.width,
            "height": self.height,
            "crossings": self.crossings,
        }


# -- 1. layering ---------------------------------------------------------------------------------


def _check_graph(nodes: Sequence[str], edges: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    known = set(nodes)
    if len(known) != len(nodes):
        raise LayoutError("node ids must be unique")
    unique: dict[tuple[str, str], None] = {}
    for source, target in edges:
        if source not in known or target not in known:
            missing = source if source not in known else target
            raise LayoutError(f"edge {source!r} → {target!r} names an unknown node {missing!r}")
        if source == target:
            raise LayoutError(f"node {source!r} has an edge to itself")
        unique[(source, target)] = None
    return list(unique)


def assign_layers(nodes: Sequence[str], edges: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Layer of each node: longest path from a source, sources then pulled next to their successors."""
    pairs = _check_graph(nodes, edges)
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    succs: dict[str, list[str]] = {n: [] for n in nodes}
    for source, target in pairs:
        preds[target].append(source)
        succs[source].append(target)

    # Kahn's algorithm in the caller's node order: a topological order, or proof of a cycle.
    remaining = {n: len(preds[n]) for n in nodes}
    ready = [n for n in nodes if remaining[n] == 0]
    topo: list[str] = []
    while ready:
        node = ready.pop(0)
        topo.append(node)
        for nxt in succs[node]:
            remaining[nxt] -= 1
            if remaining[nxt] == 0:
                ready.append(nxt)
    if len(topo) != len(nodes):
        stuck = sorted(n for n in nodes if remaining[n] > 0)
        raise LayoutError(f"the graph has a cycle through {', '.join(repr(n) for n in stuck[:5])}")

    layer: dict[str, int] = {}
    for node in topo:
        layer[node] = 1 + max((layer[p] for p in preds[node]), default=-1)
    for node in topo:
        if not preds[node] and succs[node]:
            layer[node] = min(layer[s] for s in succs[node]) - 1
    return layer


# -- 2. dummy nodes ------------------------------------------------------------------------------


def _dummy_id(source: str, target: str, index: int) -> str:
    return f"\x00{source}\x00{target}\x00{index}"


def _split_long_edges(
    pairs: list[tuple[str, str]], layer: dict[str, int]
) -> tuple[dict[str, int], list[tuple[str, str]], dict[tuple[str, str], list[str]]]:
    """Segments between adjacent layers; the chain of slots each original edge passes through."""
    slot_layer = dict(layer)
    segments: list[tuple[str, str]] = []
    chains: dict[tuple[str, str], list[str]] = {}
    for source, target in pairs:
        chain = [source]
        for index, between in enumerate(range(layer[source] + 1, layer[target])):
            dummy = _dummy_id(source, target, index)
            slot_layer[dummy] = between
            chain.append(dummy)
        chain.append(target)
        chains[(source, target)] = chain
        segments.extend(itertools.pairwise(chain))
    return slot_layer, segments, chains


# -- 3. ordering ---------------------------------------------------------------------------------


def _inversions(values: list[int]) -> int:
    """Pairs i < j with values[i] > values[j], with a Fenwick tree (O(n log n))."""
    if not values:
        return 0
    size = max(values) + 1
    tree = [0] * (size + 1)
    total = 0
    for seen, value in enumerate(values):
        # count earlier values strictly greater than this one
        index = value + 1
        not_greater = 0
        while index > 0:
            not_greater += tree[index]
            index -= index & -index
        total += seen - not_greater
        index = value + 1
        while index <= size:
            tree[index] += 1
            index += index & -index
    return total


def _crossings_between(upper: Sequence[str], lower: Sequence[str], down: Mapping[str, Sequence[str]]) -> int:
    up_pos = {n: i for i, n in enumerate(upper)}
    low_pos = {n: i for i, n in enumerate(lower)}
    pairs = sorted((up_pos[u], low_pos[v]) for u in upper for v in down.get(u, ()) if v in low_pos)
    return _inversions([v for _, v in pairs])


def count_crossings(layers: Sequence[Sequence[str]], edges: Iterable[tuple[str, str]]) -> int:
    """Edge crossings of a layered drawing whose edges each join two adjacent layers."""
    down: dict[str, list[str]] = {}
    for source, target in edges:
        down.setdefault(source, []).append(target)
    return sum(_crossings_between(layers[i], layers[i + 1], down) for i in range(len(layers) - 1))


def _barycenter_pass(
    layers: list[list[str]], neighbours: Mapping[str, Sequence[str]], indices: Iterable[int], reference_step: int
) -> None:
    for i in indices:
        reference = {n: p for p, n in enumerate(layers[i + reference_step])}
        current = layers[i]
        keyed = []
        for position, node in enumerate(current):
            placed = [reference[n] for n in neighbours.get(node, ()) if n in reference]
            centre = sum(placed) / len(placed) if placed else float(position)
            keyed.append((centre, position, node))
        layers[i] = [node for _, _, node in sorted(keyed)]


def _left_of(first: Sequence[int], second: Sequence[int]) -> int:
    """Crossings between the edges of two neighbouring nodes, the one with ``first`` neighbour positions
    drawn to the left: pairs (a, b) with a > b. Both lists are sorted."""
    count = 0
    j = 0
    for a in first:
        while j < len(second) and second[j] < a:
            j += 1
        count += j
    return count


def _transpose(
    layers: list[list[str]], down: Mapping[str, Sequence[str]], up: Mapping[str, Sequence[str]], max_rounds: int
) -> None:
    """Swap neighbours in a layer while a swap strictly reduces the crossings of their own edges."""
    positions = [{n: p for p, n in enumerate(layer)} for layer in layers]

    def neighbour_positions(node: str, i: int) -> list[tuple[int, ...]]:
        out = []
        for other, links in ((i - 1, up), (i + 1, down)):
            if 0 <= other < len(layers):
                where = positions[other]
                out.append(tuple(sorted(where[n] for n in links.get(node, ()) if n in where)))
        return out

    for _ in range(max_rounds):
        improved = False
        for i, layer in enumerate(layers):
            for j in range(len(layer) - 1):
                u, v = layer[j], layer[j + 1]
                pairs = list(zip(neighbour_positions(u, i), neighbour_positions(v, i), strict=True))
                now = sum(_left_of(a, b) for a, b in pairs)
                swapped = sum(_left_of(b, a) for a, b in pairs)
                if swapped < now:
                    layer[j], layer[j + 1] = v, u
                    positions[i][u], positions[i][v] = j + 1, j
                    improved = True
        if not improved:
            return


def _order(
    slot_layer: Mapping[str, int], segments: list[tuple[str, str]], sort_key: Callable[[str], Any], sweeps: int
) -> list[list[str]]:
    depth = max(slot_layer.values(), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    for node in sorted(slot_layer, key=sort_key):
        layers[slot_layer[node]].append(node)
    down: dict[str, list[str]] = {}
    up: dict[str, list[str]] = {}
    for source, target in segments:
        down.setdefault(source, []).append(target)
        up.setdefault(target, []).append(source)

    best = [list(layer) for layer in layers]
    best_crossings = count_crossings(best, segments)
    stale = 0
    for _ in range(sweeps):
        if best_crossings == 0 or stale >= 2:
            break
        _barycenter_pass(layers, up, range(1, depth), -1)
        _barycenter_pass(layers, down, range(depth - 2, -1, -1), +1)
        crossings = count_crossings(layers, segments)
        if crossings < best_crossings:
            best, best_crossings, stale = [list(layer) for layer in layers], crossings, 0
        else:
            stale += 1
    _transpose(best, down, up, TRANSPOSE_ROUNDS)
    return best


# -- 4. coordinates ------------------------------------------------------------------------------


def _r(value: float) -> float:
    return round(value, 1)


def layered_layout(
    nodes: Sequence[str],
    edges: Iterable[tuple[str, str]],
    *,
    sort_key: Callable[[str], Hashable] | None = None,
    widths: Mapping[str, float] | None = None,
    node_height: float = NODE_HEIGHT,
    node_gap: float = NODE_GAP,
    layer_gap: float = LAYER_GAP,
    sweeps: int = MAX_SWEEPS,
) -> LayeredLayout:
    """Lay out the DAG ``nodes``/``edges`` (``(source, target)``: upstream first) from left to right.

    ``sort_key`` orders nodes before the sweeps and breaks their ties (default: the ids); ``widths`` gives
    each node's box width (default 160).
    """
    nodes = list(nodes)
    pairs = _check_graph(nodes, edges)
    layer = assign_layers(nodes, pairs)
    slot_layer, segments, chains = _split_long_edges(pairs, layer)

    real_key: Callable[[str], Any] = sort_key or (lambda n: n)

    def key(slot: str) -> tuple[Any, ...]:
        if slot in layer:
            return (0, real_key(slot))
        # A dummy sorts with the edge it belongs to, after the real nodes of its layer.
        _, source, target, index = slot.split("\x00")
        return (1, real_key(source), real_key(target), int(index))

    ordered = _order(slot_layer, segments, key, sweeps)
    crossings = count_crossings(ordered, segments)

    widths = widths or {}

    def width_of(slot: str) -> float:
        return 0.0 if slot not in layer else float(widths.get(slot, 160.0))

    def height_of(slot: str) -> float:
        return node_height if slot in layer else DUMMY_HEIGHT

    column_widths = [max((width_of(s) for s in column), default=0.0) for column in ordered]
    column_heights = [sum(height_of(s) for s in column) + node_gap * max(len(column) - 1, 0) for column in ordered]
    total_height = max(column_heights, default=0.0)

    placed: dict[str, PlacedNode] = {}
    x = MARGIN
    for index, column in enumerate(ordered):
        y = MARGIN + (total_height - column_heights[index]) / 2
        for order, slot in enumerate(column):
            placed[slot] = PlacedNode(
                id=slot,
                layer=index,
                order=order,
                x=_r(x),
                y=_r(y),
                width=_r(width_of(slot)),
                height=_r(height_of(slot)),
                dummy=slot not in layer,
            )
            y += height_of(slot) + node_gap
        x += column_widths[index] + layer_gap

    column_right = [MARGIN + sum(column_widths[: i + 1]) + layer_gap * i for i in range(len(ordered))]
    routed: list[RoutedEdge] = []
    for source, target in sorted(pairs, key=lambda p: (key(p[0]), key(p[1]))):
        chain = chains[(source, target)]
        first, last = placed[source], placed[target]
        points: list[tuple[float, float]] = [(first.right, first.middle)]
        if first.right < column_right[first.layer]:
            points.append((_r(column_right[first.layer]), first.middle))
        for dummy in chain[1:-1]:
            bend = placed[dummy]
            # Run straight through the dummy's column, in the gap its slot keeps free of nodes.
            points.append((bend.x, bend.middle))
            points.append((_r(column_right[bend.layer]), bend.middle))
        points.append((last.x, last.middle))
        routed.append(RoutedEdge(source, target, tuple((_r(px), _r(py)) for px, py in points)))

    width = _r(x - layer_gap + MARGIN) if ordered else 2 * MARGIN
    return LayeredLayout(
        nodes={n: placed[n] for n in nodes},
        edges=routed,
        layers=ordered,
        width=width,
        height=_r(total_height + 2 * MARGIN),
        crossings=crossings,
    )
