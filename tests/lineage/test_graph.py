"""LineageGraph: the exact README drawings, the other shapes the drawing rules produce, dict, DOT and OpenLineage."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from raise_.lineage import LineageEdge, LineageGraph, LineageNode

GROUP = "acme/mlplatform/recommendation/user-signals"
OTHER_GROUP = "globex/finance/billing/payments"


def node(name: str, *, version: str = "v1", group: str = GROUP, derived_from: str | None = None) -> LineageNode:
    # Deterministic ids keep failures readable and runIds reproducible across runs.
    node_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{group}/{name}@{version}"))
    return LineageNode(
        id=node_id,
        name=name,
        version=version,
        group_path=group,
        dtype="float64",
        derived_from=derived_from,
        status="active",
    )


def edge(downstream: LineageNode, upstream: LineageNode, context: str | None = None) -> LineageEdge:
    return LineageEdge(feature_id=downstream.id, upstream_feature_id=upstream.id, expression_context=context)


CLICK = node("click_count")
IMPRESSION = node("impression_count")
CTR = node("ctr", derived_from="click_count / impression_count")
USER_TIER = node("user_tier", derived_from="CASE WHEN ctr > 0.1 THEN 'high' ELSE 'low' END")
REVENUE = node("revenue", group=OTHER_GROUP)
SCORE = node("score", derived_from="ctr * revenue")
CTR_EDGES = [edge(CTR, CLICK, "click_count"), edge(CTR, IMPRESSION, "impression_count")]


def test_readme_drawing_byte_for_byte() -> None:
    graph = LineageGraph(CTR.id, [CLICK, IMPRESSION, CTR], CTR_EDGES)
    expected = "click_count ─────────┐\n                     ├──▶ ctr\nimpression_count ────┘"
    assert graph.to_ascii() == expected


def test_prd_chain_drawing() -> None:
    graph = LineageGraph(CTR.id, [CLICK, IMPRESSION, CTR, USER_TIER], [*CTR_EDGES, edge(USER_TIER, CTR)])
    assert graph.to_ascii().splitlines() == [
        "click_count ─────────┐",
        "                     ├──▶ ctr ──▶ user_tier",
        "impression_count ────┘",
    ]


def test_three_upstreams_put_the_label_on_the_middle_anchor() -> None:
    graph = LineageGraph(CTR.id, [CLICK, IMPRESSION, REVENUE, CTR], [*CTR_EDGES, edge(CTR, REVENUE)])
    assert graph.to_ascii().splitlines() == [
        "click_count ─────────┐",
        "                     │",
        "impression_count ────┼──▶ ctr",
        "                     │",
        "revenue ─────────────┘",
    ]


def test_two_level_upstream() -> None:
    graph = LineageGraph(
        SCORE.id, [CLICK, IMPRESSION, CTR, REVENUE, SCORE], [*CTR_EDGES, edge(SCORE, CTR), edge(SCORE, REVENUE)]
    )
    assert graph.to_ascii().splitlines() == [
        "click_count ─────────┐",
        "                     ├──▶ ctr ────┐",
        "impression_count ────┘            │",
        "                                  ├──▶ score",
        "revenue ──────────────────────────┘",
    ]


def test_single_upstream_and_single_downstream_form_a_chain() -> None:
    graph = LineageGraph(CTR.id, [CLICK, CTR, USER_TIER], [edge(CTR, CLICK), edge(USER_TIER, CTR)])
    assert graph.to_ascii() == "click_count ──▶ ctr ──▶ user_tier"


def test_two_downstreams_branch() -> None:
    graph = LineageGraph(
        CTR.id, [CLICK, IMPRESSION, CTR, SCORE, USER_TIER], [*CTR_EDGES, edge(SCORE, CTR), edge(USER_TIER, CTR)]
    )
    assert graph.to_ascii().splitlines() == [
        "click_count ─────────┐",
        "                     ├──▶ ctr ──┬──▶ score",
        "impression_count ────┘          └──▶ user_tier",
    ]


def test_nested_downstream_branches_stack_and_draw_the_trunk() -> None:
    a, b, c = node("a"), node("b"), node("c")
    edges = [edge(a, CTR), edge(b, CTR), edge(c, CTR), edge(SCORE, a), edge(USER_TIER, a), edge(REVENUE, c)]
    graph = LineageGraph(CTR.id, [CTR, a, b, c, SCORE, USER_TIER, REVENUE], edges)
    assert graph.to_ascii().splitlines() == [
        "ctr ──┬──▶ a ──┬──▶ score",
        "      │        └──▶ user_tier",
        "      ├──▶ b",
        "      └──▶ c ──▶ revenue",
    ]


def test_lone_focus_is_just_its_name() -> None:
    assert LineageGraph(CTR.id, [CTR], []).to_ascii() == "ctr"


def test_cycle_is_drawn_once_and_elided_on_repeat() -> None:
    graph = LineageGraph(CTR.id, [CLICK, CTR], [edge(CTR, CLICK), edge(CLICK, CTR)])
    assert graph.to_ascii() == "ctr (…) ──▶ click_count ──▶ ctr ──▶ click_count (…)"


def test_self_loop_terminates() -> None:
    graph = LineageGraph(CTR.id, [CTR], [edge(CTR, CTR)])
    assert graph.to_ascii() == "ctr (…) ──▶ ctr ──▶ ctr (…)"


def test_shared_names_are_disambiguated_with_the_version() -> None:
    ctr_v2 = node("ctr", version="v2", derived_from="ctr * 2")
    graph = LineageGraph(ctr_v2.id, [CLICK, IMPRESSION, CTR, ctr_v2], [*CTR_EDGES, edge(ctr_v2, CTR)])
    assert graph.to_ascii().splitlines() == [
        "click_count ─────────┐",
        "                     ├──▶ ctr@v1 ──▶ ctr@v2",
        "impression_count ────┘",
    ]


def test_qualified_labels() -> None:
    graph = LineageGraph(CTR.id, [CLICK, CTR], [edge(CTR, CLICK)])
    assert graph.to_ascii(qualified=True) == f"{GROUP}/click_count@v1 ──▶ {GROUP}/ctr@v1"


def test_no_line_has_trailing_spaces() -> None:
    graph = LineageGraph(
        SCORE.id, [CLICK, IMPRESSION, CTR, REVENUE, SCORE], [*CTR_EDGES, edge(SCORE, CTR), edge(SCORE, REVENUE)]
    )
    assert all(line == line.rstrip() for line in graph.to_ascii().splitlines())


def test_upstream_and_downstream_are_sorted_by_name_then_version() -> None:
    v10, v2 = node("ctr", version="v10"), node("ctr", version="v2")
    graph = LineageGraph(
        CLICK.id, [CLICK, v10, v2, IMPRESSION], [edge(v10, CLICK), edge(v2, CLICK), edge(IMPRESSION, CLICK)]
    )
    assert [n.label for n in graph.downstream_of(CLICK.id)] == ["ctr@v2", "ctr@v10", "impression_count@v1"]
    assert graph.upstream_of(v10.id) == [CLICK]
    assert graph.upstream_of(CLICK.id) == []


def test_edges_to_unknown_nodes_and_duplicates_are_dropped() -> None:
    stray = LineageEdge(feature_id=CTR.id, upstream_feature_id=str(uuid.uuid4()), expression_context=None)
    graph = LineageGraph(CTR.id, [CLICK, IMPRESSION, CTR], [*CTR_EDGES, stray, CTR_EDGES[0]])
    assert graph.edges == CTR_EDGES
    assert repr(graph) == f"LineageGraph(focus='{GROUP}/ctr@v1', nodes=3, edges=2)"


def test_unknown_focus_is_rejected() -> None:
    with pytest.raises(ValueError, match="focus"):
        LineageGraph("missing", [CTR], [])


def test_node_properties() -> None:
    assert (CTR.label, CTR.qualified_name, CTR.org) == ("ctr@v1", f"{GROUP}/ctr@v1", "acme")
    assert CTR.to_dict()["derived_from"] == "click_count / impression_count"
    assert CTR_EDGES[0].to_dict() == {
        "feature_id": CTR.id,
        "upstream_feature_id": CLICK.id,
        "expression_context": "click_count",
    }


def test_to_dict() -> None:
    graph = LineageGraph(CTR.id, [CLICK, IMPRESSION, CTR, USER_TIER], [*CTR_EDGES, edge(USER_TIER, CTR)])
    data = graph.to_dict()
    assert data["focus"] == f"{GROUP}/ctr@v1"
    assert data["statistics"] == {"total_nodes": 4, "total_edges": 3}
    assert [n["qualified_name"] for n in data["nodes"]] == [
        f"{GROUP}/click_count@v1",
        f"{GROUP}/ctr@v1",
        f"{GROUP}/impression_count@v1",
        f"{GROUP}/user_tier@v1",
    ]
    assert [(e["from"], e["to"], e["expression_context"]) for e in data["edges"]] == [
        (f"{GROUP}/click_count@v1", f"{GROUP}/ctr@v1", "click_count"),
        (f"{GROUP}/impression_count@v1", f"{GROUP}/ctr@v1", "impression_count"),
        (f"{GROUP}/ctr@v1", f"{GROUP}/user_tier@v1", None),
    ]
    # Ids too: names alone do not tell restricted nodes apart.
    assert [(e["from_id"], e["to_id"]) for e in data["edges"]] == [
        (CLICK.id, CTR.id),
        (IMPRESSION.id, CTR.id),
        (CTR.id, USER_TIER.id),
    ]
    json.dumps(data)


def test_to_dot() -> None:
    graph = LineageGraph(CTR.id, [CLICK, IMPRESSION, CTR, USER_TIER], [*CTR_EDGES, edge(USER_TIER, CTR)])
    dot = graph.to_dot()
    assert dot.startswith("digraph lineage {\n")
    assert dot.rstrip().endswith("}")
    assert f'"{GROUP}/click_count@v1" -> "{GROUP}/ctr@v1"' in dot
    assert f'"{GROUP}/impression_count@v1" -> "{GROUP}/ctr@v1"' in dot
    assert f'"{GROUP}/ctr@v1" -> "{GROUP}/user_tier@v1"' in dot
    assert dot.count(" -> ") == 3
    filled = [line.strip() for line in dot.splitlines() if "filled" in line]
    assert len(filled) == 1
    assert filled[0].startswith(f'"{GROUP}/ctr@v1" [')


def test_to_dot_escapes_quotes() -> None:
    quoted = node('we"ird')
    dot = LineageGraph(quoted.id, [quoted], []).to_dot()
    assert f'"{GROUP}/we\\"ird@v1"' in dot


def test_openlineage_events() -> None:
    nodes = [CLICK, IMPRESSION, CTR, REVENUE, SCORE]
    graph = LineageGraph(SCORE.id, nodes, [*CTR_EDGES, edge(SCORE, CTR, "ctr"), edge(SCORE, REVENUE, "revenue")])
    events = graph.to_openlineage()
    json.dumps(events)
    # One per derived node, by qualified name.
    assert [e["job"]["name"] for e in events] == [f"{GROUP}/ctr@v1", f"{GROUP}/score@v1"]
    for event in events:
        for key in ("eventType", "eventTime", "producer", "schemaURL", "run", "job", "inputs", "outputs"):
            assert key in event
        assert event["eventType"] == "COMPLETE"
        assert event["schemaURL"] == "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
        assert event["producer"] == "https://github.com/raise-featurestore/raise"
        parsed = dt.datetime.fromisoformat(event["eventTime"])
        assert parsed.utcoffset() == dt.timedelta(0)

    ctr_event, score_event = events
    assert ctr_event["run"]["runId"] == str(uuid.uuid5(uuid.NAMESPACE_URL, "raise:" + CTR.id))
    assert graph.to_openlineage()[0]["run"]["runId"] == ctr_event["run"]["runId"]
    assert ctr_event["job"]["namespace"] == "raise://acme"
    assert ctr_event["job"]["facets"]["sql"] == {
        "_producer": "https://github.com/raise-featurestore/raise",
        "_schemaURL": "https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet",
        "query": "click_count / impression_count",
    }

    # score reads from two groups in two orgs: one input dataset each.
    assert [(d["namespace"], d["name"]) for d in score_event["inputs"]] == [
        ("raise://acme", GROUP),
        ("raise://globex", OTHER_GROUP),
    ]
    assert score_event["inputs"][0]["facets"]["schema"] == {
        "_producer": "https://github.com/raise-featurestore/raise",
        "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
        "fields": [{"name": "ctr@v1", "type": "float64"}],
    }
    (output,) = score_event["outputs"]
    assert (output["namespace"], output["name"]) == ("raise://acme", GROUP)
    assert output["facets"]["schema"]["fields"] == [{"name": "score@v1", "type": "float64"}]
    column_lineage = output["facets"]["columnLineage"]
    assert column_lineage["_producer"] == "https://github.com/raise-featurestore/raise"
    assert column_lineage["_schemaURL"] == (
        "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
    )
    assert column_lineage["fields"] == {
        "score@v1": {
            "inputFields": [
                {
                    "namespace": "raise://acme",
                    "name": GROUP,
                    "field": "ctr@v1",
                    "transformations": [
                        {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "ctr", "masking": False}
                    ],
                },
                {
                    "namespace": "raise://globex",
                    "name": OTHER_GROUP,
                    "field": "revenue@v1",
                    "transformations": [
                        {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "revenue", "masking": False}
                    ],
                },
            ]
        }
    }


def test_openlineage_options_and_missing_context() -> None:
    graph = LineageGraph(USER_TIER.id, [CTR, USER_TIER], [edge(USER_TIER, CTR)])
    (event,) = graph.to_openlineage(namespace_prefix="lab", producer="https://example.com/me")
    assert event["producer"] == "https://example.com/me"
    assert event["job"]["namespace"] == "lab://acme"
    assert event["outputs"][0]["facets"]["columnLineage"]["_producer"] == "https://example.com/me"
    field = event["outputs"][0]["facets"]["columnLineage"]["fields"]["user_tier@v1"]["inputFields"][0]
    assert field["transformations"][0]["description"] == ""
    assert LineageGraph(CLICK.id, [CLICK], []).to_openlineage() == []
