"""The lineage widget: what it draws (from the real catalog), what a click shows, its text form."""

from __future__ import annotations

import re

import pytest

from raise_ import ACL, FeatureStore
from raise_.errors import LineageBreakWarning
from raise_.lineage import LineageEdge, LineageGraph, LineageNode
from raise_jupyter.widgets import LineageGraphWidget
from raise_jupyter.widgets.lineage import lineage_payload

GROUP = "acme/mlplatform/recommendation/user-signals"


@pytest.fixture
def graph(fs: FeatureStore) -> FeatureStore:
    """clicks, impressions → ctr → value ← profile.income (another group); value → secret → boosted."""
    profile = fs.create_feature_group("profile", entity_keys=["user_id"])
    profile.create_feature("income", "float64")
    signals = fs.create_feature_group("user-signals", entity_keys=["user_id"])
    signals.create_feature("clicks", "float64")
    signals.create_feature("impressions", "float64")
    signals.create_feature("ctr", "float64", derived_from="clicks / NULLIF(impressions, 0)")
    signals.create_feature("value", "float64", derived_from="ctr * profile.income")
    signals.create_feature("secret", "float64", derived_from="value * 2")
    signals.create_feature("boosted", "float64", derived_from="secret + 1")
    with pytest.warns(LineageBreakWarning):
        signals.feature("clicks").deprecate("use clicks_v2")
    return fs


def test_the_widget_draws_the_whole_lineage_with_versions_status_and_groups(graph: FeatureStore) -> None:
    widget = LineageGraphWidget(graph.feature("user-signals/value").get_lineage())

    assert repr(widget) == (
        f"LineageGraphWidget({GROUP}/value@v1: 7 nodes, 6 edges, 5 layers)\n"
        "  0: clicks@v1 [deprecated], impressions@v1\n"
        "  1: profile.income@v1, ctr@v1\n"
        "  2: value@v1 (focus)\n"
        "  3: secret@v1\n"
        "  4: boosted@v1"
    )
    nodes = {n["title"]: n for n in widget.graph["nodes"]}
    assert nodes["clicks@v1"]["status"] == "deprecated"
    assert nodes["clicks@v1"]["subtitle"] == "user-signals · float64 · deprecated"
    assert nodes["profile.income@v1"]["group_path"] == "acme/mlplatform/recommendation/profile"
    assert nodes["value@v1"]["focus"] and nodes["value@v1"]["derived"]
    assert not nodes["impressions@v1"]["derived"]
    assert widget.graph["crossings"] == 0
    ids = {n["id"]: n["title"] for n in widget.graph["nodes"]}
    assert sorted((ids[e["source"]], ids[e["target"]]) for e in widget.graph["edges"]) == [
        ("clicks@v1", "ctr@v1"),
        ("ctr@v1", "value@v1"),
        ("impressions@v1", "ctr@v1"),
        ("profile.income@v1", "value@v1"),
        ("secret@v1", "boosted@v1"),
        ("value@v1", "secret@v1"),
    ]


def test_clicking_a_node_shows_its_details(graph: FeatureStore) -> None:
    widget = LineageGraphWidget(graph.feature("user-signals/value"))
    ctr = next(n["id"] for n in widget.graph["nodes"] if n["name"] == "ctr")

    widget.selected = ctr  # what the front end does on a click

    assert widget.details == {
        "id": ctr,
        "restricted": False,
        "qualified_name": f"{GROUP}/ctr@v1",
        "name": "ctr",
        "version": "v1",
        "group_path": GROUP,
        "dtype": "float64",
        "status": "active",
        "derived_from": "clicks / NULLIF(impressions, 0)",
        "upstream": [f"{GROUP}/clicks@v1", f"{GROUP}/impressions@v1"],
        "downstream": [f"{GROUP}/value@v1"],
        "focus": False,
    }
    assert repr(widget).endswith(f"\n  selected: {GROUP}/ctr@v1")
    assert widget.select("value@v1")["focus"] is True
    widget.selected = ""
    assert widget.details == {}
    widget.selected = "not-a-node"
    assert widget.details == {}
    with pytest.raises(KeyError):
        widget.select("nothing@v9")


def test_restricted_nodes_are_greyed_placeholders(graph: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> None:
    graph.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))  # acme opens itself to its members
    signals = graph.feature_group("user-signals")
    graph.feature_group("profile").set_acl(ACL(readers=["carol@acme"], inherit=False))
    signals.feature("secret").set_acl(ACL(readers=["carol@acme"], inherit=False))
    monkeypatch.setenv("RAISE_USER", "bob@acme")

    widget = LineageGraphWidget(signals.feature("value").get_lineage())

    restricted = [n for n in widget.graph["nodes"] if n["restricted"]]
    assert [(n["title"], n["subtitle"], n["status"]) for n in restricted] == [
        ("restricted (acme)", "no access", "restricted"),
        ("restricted (acme)", "no access", "restricted"),
    ]
    # A placeholder carries its place in the graph, not the feature's name, group or type.
    assert [(n["name"], n["version"], n["group_path"], n["dtype"]) for n in restricted] == [
        ("restricted", "", "acme", "")
    ] * 2
    assert repr(widget).splitlines()[2] == "  1: ctr@v1, restricted (acme)"
    assert "secret" not in repr(widget)
    details = widget.select(restricted[0]["id"])
    assert details == {
        "id": restricted[0]["id"],
        "restricted": True,
        "org": "acme",
        "message": "A feature of organization 'acme' that you may not read.",
    }


def _node(name: str, group: str = GROUP, status: str = "active") -> LineageNode:
    return LineageNode(f"id-{group.rsplit('/', 1)[-1]}-{name}", name, "v1", group, "float64", None, status)


def test_payload_from_a_hand_built_graph_with_another_org_and_a_restricted_node() -> None:
    focus = _node("score")
    partner = _node("embedding", "globex/ml/shared/items")
    hidden = LineageNode.restricted("id-hidden", "initech")
    archived = _node("old", status="archived")
    graph = LineageGraph(
        focus.id,
        [focus, partner, hidden, archived],
        [LineageEdge(focus.id, partner.id), LineageEdge(focus.id, hidden.id), LineageEdge(focus.id, archived.id)],
    )

    payload = lineage_payload(graph)

    titles = [
        [next(n["title"] for n in payload["nodes"] if n["id"] == i) for i in layer] for layer in payload["layers"]
    ]
    # restricted placeholders go last in their layer
    assert titles == [["old@v1", "globex/ml/shared/items/embedding@v1", "restricted (initech)"], ["score@v1"]]
    assert (
        next(n for n in payload["nodes"] if n["title"] == "old@v1")["subtitle"] == "user-signals · float64 · archived"
    )
    boxes = [(n["x"], n["y"], n["width"], n["height"]) for n in payload["nodes"]]
    assert len(set(boxes)) == 4
    assert payload == lineage_payload(graph)  # deterministic


def test_text_forms_are_readable_and_free_of_addresses(graph: FeatureStore) -> None:
    widget = LineageGraphWidget(graph.feature("user-signals/ctr").get_lineage())

    data, _ = widget._repr_mimebundle_()

    assert data["text/plain"] == repr(widget)
    assert len(data["text/plain"]) > 110  # not cut like a plain ipywidget's repr
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == widget.model_id
    assert not re.search(r"0x[0-9a-f]{6,}", repr(widget))
    assert repr(widget) == repr(LineageGraphWidget(graph.feature("user-signals/ctr").get_lineage()))


def test_the_widget_refuses_what_is_not_lineage() -> None:
    with pytest.raises(TypeError, match="needs a Feature, a Lineage or a LineageGraph"):
        LineageGraphWidget("user-signals/ctr")  # type: ignore[arg-type]
