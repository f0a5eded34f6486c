"""The layered DAG layout behind the lineage widget: layers, crossings, coordinates, determinism."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import pytest

from raise_.lineage.layout import (
    LayeredLayout,
    LayoutError,
    assign_layers,
    count_crossings,
    layered_layout,
)

Edge = tuple[str, str]


def boxes_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def check_invariants(nodes: Sequence[str], edges: Sequence[Edge], layout: LayeredLayout) -> None:
    """What must hold for any DAG: every node placed once, no overlaps, edges pointing right."""
    assert sorted(layout.nodes) == sorted(nodes)
    slots = [slot for layer in layout.layers for slot in layer]
    assert len(slots) == len(set(slots))
    boxes = {n: (p.x, p.y, p.width, p.height) for n, p in layout.nodes.items()}
    for a, b in itertools.combinations(sorted(boxes), 2):
        assert not boxes_overlap(boxes[a], boxes[b]), (a, b)
    for source, target in edges:
        assert layout.nodes[source].layer < layout.nodes[target].layer, (source, target)
    routed = {(e.source, e.target): e for e in layout.edges}
    assert sorted(routed) == sorted(set(edges))
    for (source, target), edge in routed.items():
        xs = [x for x, _ in edge.points]
        assert xs == sorted(xs), edge
        assert edge.points[0] == (layout.nodes[source].right, layout.nodes[source].middle)
        assert edge.points[-1] == (layout.nodes[target].x, layout.nodes[target].middle)
        # Between its ends, an edge never runs through a node's box.
        for x, y in edge.points[1:-1]:
            for node, box in boxes.items():
                if node not in (source, target):
                    bx, by, bw, bh = box
                    assert not (bx < x < bx + bw and by < y < by + bh), (edge, node)
    assert all(p.x + p.width <= layout.width and p.y + p.height <= layout.height for p in layout.nodes.values())


def minimum_crossings(layout: LayeredLayout, edges: Sequence[Edge]) -> int:
    """Brute force over every order of every layer (small graphs only): the true minimum."""
    segments = _segments(layout, edges)
    best = None
    for orders in itertools.product(*(itertools.permutations(layer) for layer in layout.layers)):
        crossings = count_crossings([list(o) for o in orders], segments)
        best = crossings if best is None else min(best, crossings)
    assert best is not None
    return best


def _segments(layout: LayeredLayout, edges: Sequence[Edge]) -> list[Edge]:
    position = {slot: i for i, layer in enumerate(layout.layers) for slot in layer}
    dummies = {slot for layer in layout.layers for slot in layer if slot not in layout.nodes}
    segments = []
    for source, target in edges:
        chain = [source]
        for layer in range(position[source] + 1, position[target]):
            (dummy,) = [d for d in dummies if position[d] == layer and f"\x00{source}\x00{target}\x00" in d]
            chain.append(dummy)
        chain.append(target)
        segments += list(itertools.pairwise(chain))
    return segments


# -- counting crossings ---------------------------------------------------------------------------

CROSSING_CASES = [
    ("parallel", [["a", "b"], ["x", "y"]], [("a", "x"), ("b", "y")], 0),
    ("one swap", [["a", "b"], ["x", "y"]], [("a", "y"), ("b", "x")], 1),
    ("shared source", [["a", "b"], ["x", "y"]], [("a", "x"), ("a", "y")], 0),
    ("shared target", [["a", "b"], ["x", "y"]], [("a", "y"), ("b", "y")], 0),
    ("K2,2", [["a", "b"], ["x", "y"]], [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")], 1),
    ("reversed three", [["a", "b", "c"], ["x", "y", "z"]], [("a", "z"), ("b", "y"), ("c", "x")], 3),
    (
        "two layer pairs add up",
        [["a", "b"], ["x", "y"], ["p", "q"]],
        [("a", "y"), ("b", "x"), ("x", "q"), ("y", "p")],
        2,
    ),
    ("K3,3", [["a", "b", "c"], ["x", "y", "z"]], [(s, t) for s in "abc" for t in "xyz"], 9),
]


@pytest.mark.parametrize(
    ("layers", "edges", "expected"), [c[1:] for c in CROSSING_CASES], ids=[c[0] for c in CROSSING_CASES]
)
def test_count_crossings(layers: list[list[str]], edges: list[Edge], expected: int) -> None:
    assert count_crossings(layers, edges) == expected


# -- layering -------------------------------------------------------------------------------------


def test_diamond_layers() -> None:
    edges = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]
    assert assign_layers(["a", "b", "c", "d"], edges) == {"a": 0, "b": 1, "c": 1, "d": 2}


def test_layers_follow_the_longest_path() -> None:
    # d reads a directly and through b → c: it sits after c, not next to a.
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")]
    assert assign_layers(["a", "b", "c", "d"], edges) == {"a": 0, "b": 1, "c": 2, "d": 3}


def test_a_source_is_pulled_next_to_its_nearest_reader() -> None:
    # raw is read only by deep: it is drawn just before deep, not in the first column.
    edges = [("a", "b"), ("b", "c"), ("c", "deep"), ("raw", "deep")]
    layers = assign_layers(["a", "b", "c", "deep", "raw"], edges)
    assert layers == {"a": 0, "b": 1, "c": 2, "deep": 3, "raw": 2}


@pytest.mark.parametrize(
    ("nodes", "edges", "message"),
    [
        (["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")], "cycle"),
        (["a"], [("a", "a")], "edge to itself"),
        (["a"], [("a", "ghost")], "unknown node 'ghost'"),
        (["a", "a"], [], "unique"),
    ],
)
def test_what_is_not_a_dag_is_refused(nodes: list[str], edges: list[Edge], message: str) -> None:
    with pytest.raises(LayoutError, match=message):
        layered_layout(nodes, edges)


# -- whole layouts --------------------------------------------------------------------------------


def test_diamond() -> None:
    nodes, edges = ["a", "b", "c", "d"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]
    layout = layered_layout(nodes, edges)

    check_invariants(nodes, edges, layout)
    assert layout.layers == [["a"], ["b", "c"], ["d"]]
    assert layout.crossings == 0
    # One-node layers are centred on the two-node one.
    assert layout.nodes["a"].middle == layout.nodes["d"].middle == (layout.nodes["b"].y + layout.nodes["c"].bottom) / 2


def test_long_chain_with_a_shortcut_is_routed_around_the_chain() -> None:
    nodes = [f"n{i:02d}" for i in range(10)]
    edges = [*itertools.pairwise(nodes), ("n00", "n09")]
    layout = layered_layout(nodes, edges)

    check_invariants(nodes, edges, layout)
    assert [layout.nodes[n].layer for n in nodes] == list(range(10))
    shortcut = next(e for e in layout.edges if (e.source, e.target) == ("n00", "n09"))
    assert len(shortcut.points) == 2 + 2 * 8  # both ends plus a straight run through each of 8 columns
    assert layout.crossings == 0


def test_reversed_names_are_untangled() -> None:
    # Sorted by name the three edges all cross (3 crossings); the sweeps find the drawing with none.
    nodes = ["a", "b", "c", "x", "y", "z"]
    edges = [("a", "z"), ("b", "y"), ("c", "x")]
    layout = layered_layout(nodes, edges)

    check_invariants(nodes, edges, layout)
    assert count_crossings([["a", "b", "c"], ["x", "y", "z"]], edges) == 3
    assert layout.crossings == 0
    assert count_crossings(layout.layers, edges) == 0


def test_crossings_on_a_known_graph_reach_the_hand_computed_minimum() -> None:
    # Layer 1 holds a K2,2 (p, q both feed x and y): one crossing is unavoidable, and the rest of the
    # graph (r → z, then x, y, z → the final layer in a twisted order) can be drawn without any.
    nodes = ["p", "q", "r", "x", "y", "z", "out1", "out2", "out3"]
    edges = [
        ("p", "x"),
        ("p", "y"),
        ("q", "x"),
        ("q", "y"),
        ("r", "z"),
        ("z", "out1"),
        ("y", "out2"),
        ("x", "out3"),
    ]
    layout = layered_layout(nodes, edges)

    check_invariants(nodes, edges, layout)
    assert layout.crossings <= 1
    assert minimum_crossings(layout, edges) == 1
    assert count_crossings(layout.layers, edges) == layout.crossings


def test_cross_group_graph_with_long_edges_reaches_the_brute_force_minimum() -> None:
    # Features of three groups; "billing/revenue" is read two layers later than it is written.
    nodes = [
        "signals/clicks",
        "signals/impressions",
        "billing/revenue",
        "signals/ctr",
        "items/price",
        "signals/value",
        "signals/score",
    ]
    edges = [
        ("signals/clicks", "signals/ctr"),
        ("signals/impressions", "signals/ctr"),
        ("signals/ctr", "signals/value"),
        ("items/price", "signals/value"),
        ("signals/value", "signals/score"),
        ("billing/revenue", "signals/score"),
        ("signals/clicks", "signals/score"),
    ]
    layout = layered_layout(nodes, edges)

    check_invariants(nodes, edges, layout)
    assert layout.crossings == minimum_crossings(layout, edges) == 0


def test_node_widths_set_column_widths() -> None:
    nodes, edges = ["a", "b", "c"], [("a", "b"), ("b", "c")]
    layout = layered_layout(nodes, edges, widths={"a": 100, "b": 250, "c": 120})

    check_invariants(nodes, edges, layout)
    a, b, c = (layout.nodes[n] for n in nodes)
    assert (a.width, b.width, c.width) == (100, 250, 120)
    assert b.x - a.right == 64.0 and c.x - b.right == 64.0
    assert layout.width == c.right + 12.0


def test_the_layout_is_deterministic_whatever_the_input_order() -> None:
    rng = random.Random(3)
    nodes = [f"f{i:02d}" for i in range(30)]
    edges = sorted({(nodes[i], nodes[j]) for i in range(30) for j in range(i + 1, 30) if rng.random() < 0.08})
    first = layered_layout(nodes, edges)

    for seed in range(5):
        shuffled_nodes, shuffled_edges = list(nodes), list(edges)
        random.Random(seed).shuffle(shuffled_nodes)
        random.Random(seed).shuffle(shuffled_edges)
        assert layered_layout(shuffled_nodes, shuffled_edges).to_dict() == first.to_dict()


@pytest.mark.parametrize("seed", range(6))
def test_random_dags_keep_every_invariant(seed: int) -> None:
    rng = random.Random(seed)
    size = rng.randint(8, 40)
    nodes = [f"n{i}" for i in range(size)]
    edges = [(nodes[i], nodes[j]) for i in range(size) for j in range(i + 1, size) if rng.random() < 3 / size]

    layout = layered_layout(nodes, edges)

    check_invariants(nodes, edges, layout)
    assert count_crossings(layout.layers, _segments(layout, edges)) == layout.crossings


def test_empty_and_single_node_graphs() -> None:
    empty = layered_layout([], [])
    assert (empty.nodes, empty.edges, empty.layers, empty.crossings) == ({}, [], [], 0)
    single = layered_layout(["only"], [])
    assert single.layers == [["only"]]
    assert (single.nodes["only"].x, single.nodes["only"].y) == (12.0, 12.0)
