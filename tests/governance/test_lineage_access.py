"""Lineage is checked node by node: a caller sees where features they may not read sit in a
graph, never their names, expressions or types."""

from __future__ import annotations

import pytest

from raise_ import ACL, FeatureStore


@pytest.fixture
def graph(fs: FeatureStore) -> FeatureStore:
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))  # acme opens itself to its members
    profile = fs.create_feature_group("profile", entity_keys=["user_id"])
    profile.create_feature("income", "float64")
    profile.set_acl(ACL(readers=["carol@acme"], inherit=False))
    signals = fs.create_feature_group("user-signals", entity_keys=["user_id"])
    signals.create_feature("clicks", "float64")
    signals.create_feature("value", "float64", derived_from="clicks * profile.income")
    signals.create_feature("secret_score", "float64", derived_from="value * 2")
    signals.feature("secret_score").set_acl(ACL(readers=["carol@acme"], inherit=False))
    signals.create_feature("boosted", "float64", derived_from="secret_score + 1")
    return fs


def test_unreadable_nodes_are_placeholders(graph: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    lineage = graph.feature_group("user-signals").feature("value").get_lineage()
    data = lineage.as_graph().to_dict()
    shown = sorted((n["name"], n["status"], n["dtype"], n["derived_from"]) for n in data["nodes"])
    assert shown == [
        ("boosted", "active", "float64", "secret_score + 1"),
        ("clicks", "active", "float64", None),
        ("restricted", "restricted", "", None),  # profile.income
        ("restricted", "restricted", "", None),  # secret_score
        ("value", "active", "float64", "clicks * profile.income"),
    ]
    restricted = {n["id"] for n in data["nodes"] if n["status"] == "restricted"}
    # The structure stays: value reads the hidden income; boosted reads the hidden secret_score,
    # whose own expression fragment is not shown.
    edges = {(e["to_id"], e["from_id"]): e["expression_context"] for e in data["edges"]}
    assert len(edges) == 4
    hidden_sources = [ctx for (down, _), ctx in edges.items() if down in restricted]
    assert hidden_sources == [None]
    assert "income" not in lineage.as_graph().to_ascii()
    assert "secret_score" not in repr([n.qualified_name for n in lineage.all_upstream()])


def test_readers_of_everything_see_everything(graph: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAISE_USER", "carol@acme")
    data = graph.feature_group("user-signals").feature("value").get_lineage().as_graph().to_dict()
    assert sorted(n["name"] for n in data["nodes"]) == ["boosted", "clicks", "income", "secret_score", "value"]


def test_impact_does_not_name_what_the_caller_cannot_read(graph: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    report = graph.feature_group("user-signals").feature("clicks").impact()
    assert report.directly_affected == ["acme/mlplatform/recommendation/user-signals/value@v1"]
    assert sorted(report.transitively_affected) == [
        "acme/mlplatform/recommendation/user-signals/boosted@v1",
        "acme/mlplatform/recommendation/user-signals/value@v1",
        "acme/restricted",
    ]
