"""Lineage recorded by the catalog (SQLite and PostgreSQL): the README example, transitive closures
(also against a breadth-first search over a random graph of definitions), organizations, edges that
follow new versions and late upstreams, breaks on delete/deprecate, impact reports and OpenLineage."""

from __future__ import annotations

import random
import uuid
import warnings
from collections import deque
from typing import Any

import pytest
import sqlalchemy as sa

from raise_ import ExpressionWarning, FeatureStore, LineageBreakWarning
from raise_.catalog.models import AuditLogModel, ExternalGrantModel, OrganizationModel
from raise_.client.feature import Feature
from raise_.client.group import FeatureGroup
from raise_.lineage import LineageNode

GROUP = "acme/mlplatform/recommendation/user-signals"
README_DRAWING = "click_count ─────────┐\n                     ├──▶ ctr\nimpression_count ────┘"


@pytest.fixture
def group(fs: FeatureStore) -> FeatureGroup:
    g = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    g.create_feature("click_count", dtype="int64", description="Clicks in the last 24 hours")
    g.create_feature("impression_count", dtype="int64")
    return g


@pytest.fixture
def ctr(group: FeatureGroup) -> Feature:
    return group.create_feature("ctr", dtype="float64", derived_from="click_count / NULLIF(impression_count, 0)")


@pytest.fixture
def user_tier(group: FeatureGroup, ctr: Feature) -> Feature:
    return group.create_feature(
        "user_tier", dtype="string", derived_from="CASE WHEN ctr > 0.1 THEN 'high' ELSE 'low' END"
    )


def qualified(*labels: str, group: str = GROUP) -> list[str]:
    return [f"{group}/{label}" for label in labels]


def names(nodes: list[LineageNode]) -> list[str]:
    return [n.qualified_name for n in nodes]


def audit(fs: FeatureStore, action: str) -> list[tuple[str | None, dict[str, Any]]]:
    with fs._backend.db.reader() as s:
        rows = s.scalars(
            sa.select(AuditLogModel).where(AuditLogModel.action == action).order_by(AuditLogModel.resource_path)
        ).all()
        return [(r.resource_path, dict(r.details)) for r in rows]


# -- the README example -----------------------------------------------------------------------


def test_readme_lineage_example(ctr: Feature) -> None:
    lineage = ctr.get_lineage()
    assert [n.name for n in lineage.upstream] == ["click_count", "impression_count"]
    assert lineage.downstream == []
    assert names(lineage.all_upstream()) == qualified("click_count@v1", "impression_count@v1")
    assert lineage.all_downstream(include_external=True) == []
    assert lineage.as_graph().to_ascii() == README_DRAWING
    assert lineage.feature.qualified_name == f"{GROUP}/ctr@v1"
    assert lineage.breaks == []


def test_readme_lineage_to_dict(ctr: Feature, group: FeatureGroup) -> None:
    ids = {f.name: f.id for f in group.list_features()}
    out = ctr.get_lineage().to_dict()
    assert out == {
        "focus": f"{GROUP}/ctr@v1",
        "nodes": [
            {
                "id": ids[name],
                "name": name,
                "version": "v1",
                "group_path": GROUP,
                "qualified_name": f"{GROUP}/{name}@v1",
                "dtype": dtype,
                "derived_from": derived_from,
                "status": "active",
            }
            for name, dtype, derived_from in [
                ("click_count", "int64", None),
                ("ctr", "float64", "click_count / NULLIF(impression_count, 0)"),
                ("impression_count", "int64", None),
            ]
        ],
        "edges": [
            {
                "from": f"{GROUP}/click_count@v1",
                "to": f"{GROUP}/ctr@v1",
                "from_id": ids["click_count"],
                "to_id": ids["ctr"],
                "expression_context": "click_count / NULLIF(impression_count, 0)",
            },
            {
                "from": f"{GROUP}/impression_count@v1",
                "to": f"{GROUP}/ctr@v1",
                "from_id": ids["impression_count"],
                "to_id": ids["ctr"],
                "expression_context": "NULLIF(impression_count, 0)",
            },
        ],
        "statistics": {"total_nodes": 3, "total_edges": 2},
        "upstream": qualified("click_count@v1", "impression_count@v1"),
        "downstream": [],
        "jobs": [],  # no transformation job writes or reads these features
    }


def test_lineage_rows_in_the_catalog(ctr: Feature, catalog_engine: sa.Engine) -> None:
    with catalog_engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT d.name, u.name, l.expression_context FROM feature_lineage l "
                "JOIN features d ON d.id = l.feature_id JOIN features u ON u.id = l.upstream_feature_id "
                "ORDER BY u.name"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("ctr", "click_count", "click_count / NULLIF(impression_count, 0)"),
        ("ctr", "impression_count", "NULLIF(impression_count, 0)"),
    ]


def test_plain_feature_has_an_empty_lineage(group: FeatureGroup) -> None:
    lineage = group.feature("click_count").get_lineage()
    assert (lineage.upstream, lineage.downstream, lineage.breaks) == ([], [], [])
    assert lineage.as_graph().to_ascii() == "click_count"
    assert lineage.to_openlineage() == []


# -- a chain ----------------------------------------------------------------------------------


def test_chain_closures(group: FeatureGroup, ctr: Feature, user_tier: Feature) -> None:
    click = group.feature("click_count")
    expected = {
        # feature: (direct upstream, direct downstream, all upstream, all downstream)
        "click_count": ([], ["ctr@v1"], [], ["ctr@v1", "user_tier@v1"]),
        "impression_count": ([], ["ctr@v1"], [], ["ctr@v1", "user_tier@v1"]),
        "ctr": (
            ["click_count@v1", "impression_count@v1"],
            ["user_tier@v1"],
            ["click_count@v1", "impression_count@v1"],
            ["user_tier@v1"],
        ),
        "user_tier": (["ctr@v1"], [], ["click_count@v1", "ctr@v1", "impression_count@v1"], []),
    }
    for name, (up, down, all_up, all_down) in expected.items():
        lineage = group.feature(name).get_lineage()
        assert [n.label for n in lineage.upstream] == up, name
        assert [n.label for n in lineage.downstream] == down, name
        assert names(lineage.all_upstream()) == qualified(*all_up), name
        assert names(lineage.all_upstream(include_external=False)) == qualified(*all_up), name
        assert names(lineage.all_downstream()) == qualified(*all_down), name
        assert names(lineage.all_downstream(include_external=True)) == qualified(*all_down), name
    assert click.get_lineage().as_graph().to_ascii() == "click_count ──▶ ctr ──▶ user_tier"
    assert ctr.get_lineage().as_graph().to_ascii().splitlines() == [
        "click_count ─────────┐",
        "                     ├──▶ ctr ──▶ user_tier",
        "impression_count ────┘",
    ]
    assert (
        repr(ctr.get_lineage()) == "Lineage(ctr@v1: upstream [click_count, impression_count], downstream [user_tier])"
    )


def test_cross_group_lineage(fs: FeatureStore, group: FeatureGroup, ctr: Feature) -> None:
    other = fs.create_feature_group("scores", entity_keys=["user_id"])
    boosted = other.create_feature("boosted", "float64", derived_from="user-signals.ctr * 2 + user-signals.click_count")
    lineage = boosted.get_lineage()
    assert names(lineage.upstream) == qualified("click_count@v1", "ctr@v1")
    assert names(lineage.all_upstream()) == qualified("click_count@v1", "ctr@v1", "impression_count@v1")
    assert names(group.feature("impression_count").get_lineage().all_downstream()) == [
        "acme/mlplatform/recommendation/scores/boosted@v1",
        f"{GROUP}/ctr@v1",
    ]


# -- organizations ----------------------------------------------------------------------------


@pytest.fixture
def two_orgs(fs: FeatureStore, group: FeatureGroup) -> dict[str, Feature]:
    partner = fs.with_context(org="partner", domain="ml", project="rec")
    items = partner.create_feature_group("items", entity_keys=["user_id"])
    embedding = items.create_feature("embedding", "float32[4]")
    base = items.create_feature("base", "float32[4]")
    shared = items.create_feature("shared", "float32[4]", derived_from="VEC_ADD(base, embedding)")
    with fs._backend.db.transaction() as s:
        org_id = s.scalars(sa.select(OrganizationModel.id).where(OrganizationModel.name == "partner")).one()
        s.add(
            ExternalGrantModel(
                granting_org_id=org_id,
                grantee_org="acme",
                resource_type="feature_group",
                resource_id=uuid.UUID(items.id),
                features=["shared"],
                permission="read",
                granted_by="bob@partner",
            )
        )
    emb = group.create_feature("emb", "float32[4]")
    affinity = group.create_feature("affinity", "float32", derived_from="DOT(emb, @partner/ml/rec/items.shared)")
    score = group.create_feature("score", "float64", derived_from="affinity * 2")
    return {"embedding": embedding, "base": base, "shared": shared, "emb": emb, "affinity": affinity, "score": score}


PARTNER = "partner/ml/rec/items"


def test_include_external(two_orgs: dict[str, Feature]) -> None:
    score = two_orgs["score"].get_lineage()
    assert names(score.all_upstream()) == [
        *qualified("affinity@v1", "emb@v1"),
        *qualified("base@v1", "embedding@v1", "shared@v1", group=PARTNER),
    ]
    assert names(score.all_upstream(include_external=False)) == qualified("affinity@v1", "emb@v1")

    embedding = two_orgs["embedding"].get_lineage()
    assert names(embedding.all_downstream()) == qualified("shared@v1", group=PARTNER)
    assert names(embedding.all_downstream(include_external=True)) == [
        *qualified("affinity@v1", "score@v1"),
        *qualified("shared@v1", group=PARTNER),
    ]
    # the graph itself spans both organizations
    assert sorted(n.org for n in embedding.as_graph().nodes.values()) == ["acme", "acme", "partner", "partner"]
    assert [n.qualified_name for n in two_orgs["affinity"].get_lineage().upstream] == [
        *qualified("emb@v1"),
        f"{PARTNER}/shared@v1",
    ]


def test_openlineage_namespaces_follow_organizations(two_orgs: dict[str, Feature]) -> None:
    events = two_orgs["affinity"].get_lineage().to_openlineage()
    assert [e["job"]["name"] for e in events] == [
        f"{GROUP}/affinity@v1",
        f"{GROUP}/score@v1",
        f"{PARTNER}/shared@v1",
    ]
    affinity = events[0]
    assert affinity["job"]["namespace"] == "raise://acme"
    assert [(i["namespace"], i["name"]) for i in affinity["inputs"]] == [
        ("raise://acme", GROUP),
        ("raise://partner", PARTNER),
    ]
    assert affinity["job"]["facets"]["sql"]["query"] == "DOT(emb, @partner/ml/rec/items.shared)"


# -- edges follow versions --------------------------------------------------------------------


def test_edges_follow_a_new_version_unless_pinned(fs: FeatureStore, group: FeatureGroup) -> None:
    group.create_feature("x", "int64")
    follows = group.create_feature("follows", "int64", derived_from="x * 2")
    pinned = group.create_feature("pinned", "int64", derived_from="x@v1 + 1")
    both = group.create_feature("both", "int64", derived_from="x - x@v1")
    elsewhere = fs.create_feature_group("other", entity_keys=["user_id"])
    remote = elsewhere.create_feature("remote", "int64", derived_from="user-signals.x + 1")
    for f in (follows, pinned, both):
        assert [n.label for n in f.get_lineage().upstream] == ["x@v1"]

    group.create_feature("x", "float64", version="v2")

    assert [n.label for n in follows.get_lineage().upstream] == ["x@v2"]
    assert [n.label for n in pinned.get_lineage().upstream] == ["x@v1"]
    assert [n.label for n in both.get_lineage().upstream] == ["x@v1", "x@v2"]
    assert [n.qualified_name for n in remote.get_lineage().upstream] == [f"{GROUP}/x@v2"]
    assert [n.label for n in group.feature("x@v1").get_lineage().downstream] == ["both@v1", "pinned@v1"]
    assert sorted(n.name for n in group.feature("x@v2").get_lineage().downstream) == ["both", "follows", "remote"]
    updates = audit(fs, "UPDATE_DERIVATION")
    assert [path for path, _ in updates] == [
        "acme/mlplatform/recommendation/other/remote@v1",
        f"{GROUP}/both@v1",
        f"{GROUP}/follows@v1",
    ]
    x2 = group.feature("x@v2").id
    assert updates[2][1] == {"upstream": [x2]}


def test_a_derived_feature_created_before_its_upstream(group: FeatureGroup) -> None:
    with pytest.warns(ExpressionWarning, match="'later' is not a feature of group 'user-signals' yet"):
        early = group.create_feature("early", "float64", derived_from="click_count / later")
    assert [n.label for n in early.get_lineage().upstream] == ["click_count@v1"]

    later = group.create_feature("later", "int64")

    assert [n.label for n in early.get_lineage().upstream] == ["click_count@v1", "later@v1"]
    assert [n.label for n in later.get_lineage().downstream] == ["early@v1"]
    assert early.get_lineage().as_graph().to_ascii().splitlines() == [
        "click_count ────┐",
        "                ├──▶ early",
        "later ──────────┘",
    ]


def test_upstream_later_in_the_same_batch(group: FeatureGroup) -> None:
    with pytest.warns(ExpressionWarning, match="'late' is not a feature"):
        first, _ = group.create_features(
            [
                {"name": "first", "dtype": "int64", "derived_from": "late + click_count"},
                {"name": "late", "dtype": "int64"},
            ]
        )
    assert [n.label for n in first.get_lineage().upstream] == ["click_count@v1", "late@v1"]


def test_a_permissive_self_reference_records_no_loop(group: FeatureGroup) -> None:
    with pytest.warns(ExpressionWarning, match="CIRCULAR_DEPENDENCY"):
        loop = group.create_feature("loop", "float64", derived_from="loop + click_count", validation="permissive")
    lineage = loop.get_lineage()
    assert ([n.label for n in lineage.upstream], lineage.downstream) == (["click_count@v1"], [])
    assert [n.label for n in lineage.all_upstream()] == ["click_count@v1"]


# -- breaks -----------------------------------------------------------------------------------


def test_deleting_an_upstream_breaks_its_dependents(fs: FeatureStore, group: FeatureGroup, user_tier: Feature) -> None:
    impression = group.feature("impression_count")
    with pytest.warns(LineageBreakWarning) as record:
        impression.delete()
    assert [str(w.message) for w in record] == [
        f"impression_count@v1 was deleted; 2 derived feature(s) depend on it: {GROUP}/ctr@v1, {GROUP}/user_tier@v1"
    ]
    assert audit(fs, "LINEAGE_BREAK") == [
        (f"{GROUP}/ctr@v1", {"upstream": f"{GROUP}/impression_count@v1", "upstream_change": "DELETE"}),
        (f"{GROUP}/user_tier@v1", {"upstream": f"{GROUP}/impression_count@v1", "upstream_change": "DELETE"}),
    ]
    ctr = group.feature("ctr").get_lineage()
    assert [(n.label, n.status) for n in ctr.breaks] == [("impression_count@v1", "archived")]
    assert [n.label for n in ctr.upstream] == ["click_count@v1", "impression_count@v1"]  # the edge stays
    assert [(n.label, n.status) for n in user_tier.get_lineage().breaks] == [("impression_count@v1", "archived")]
    assert group.feature("click_count").get_lineage().breaks == []


def test_deprecating_an_upstream(fs: FeatureStore, group: FeatureGroup, ctr: Feature) -> None:
    with pytest.warns(LineageBreakWarning, match=r"^click_count@v1 was deprecated; 1 derived feature\(s\) depend"):
        group.feature("click_count").deprecate("use clicks_v2")
    assert audit(fs, "LINEAGE_BREAK") == [
        (f"{GROUP}/ctr@v1", {"upstream": f"{GROUP}/click_count@v1", "upstream_change": "DEPRECATE"}),
    ]
    assert [(n.label, n.status) for n in ctr.get_lineage().breaks] == [("click_count@v1", "deprecated")]


def test_deleting_a_feature_nobody_reads_warns_nothing(fs: FeatureStore, group: FeatureGroup, ctr: Feature) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ctr.delete()
        group.create_feature("lonely", "int64").delete()
    assert audit(fs, "LINEAGE_BREAK") == []


def test_deleting_the_newest_version_falls_back_to_the_older(fs: FeatureStore, group: FeatureGroup) -> None:
    group.create_feature("x", "int64")
    group.create_feature("x", "int64", version="v2")
    d = group.create_feature("d", "int64", derived_from="x + 1")
    assert [n.label for n in d.get_lineage().upstream] == ["x@v2"]
    with pytest.warns(LineageBreakWarning, match="x@v2 was deleted; 1 derived feature"):
        group.feature("x@v2").delete()
    assert [n.label for n in d.get_lineage().upstream] == ["x@v1"]
    assert d.get_lineage().breaks == []
    assert [path for path, _ in audit(fs, "LINEAGE_BREAK")] == [f"{GROUP}/d@v1"]


# -- impact -----------------------------------------------------------------------------------


def test_impact(fs: FeatureStore, group: FeatureGroup, user_tier: Feature) -> None:
    report = group.feature("click_count").impact()
    assert report.to_dict() == {
        "feature": f"{GROUP}/click_count@v1",
        "change_type": "schema_change",
        "risk_assessment": "medium",
        "directly_affected": qualified("ctr@v1"),
        "transitively_affected": qualified("ctr@v1", "user_tier@v1"),
        "affected_pipelines": [],
        "affected_live_tables": [],
        "affected_dashboards": [],
        "affected_alerts": [],
    }
    by_path = fs.analyze_impact("user-signals/click_count", change_type="delete")
    assert (by_path["change_type"], by_path["directly_affected"]) == ("delete", qualified("ctr@v1"))
    assert fs.analyze_impact("user-signals/ctr@v1")["transitively_affected"] == qualified("user_tier@v1")
    leaf = user_tier.impact("delete")
    assert (leaf.directly_affected, leaf.transitively_affected, leaf.risk_assessment) == ([], [], "none")


IMPACT_RISK = [
    # (direct dependents, dependents of the first one, change type, risk)
    (0, 0, "delete", "none"),
    (1, 0, "schema_change", "low"),
    (1, 0, "delete", "medium"),
    (2, 0, "schema_change", "medium"),
    (1, 1, "schema_change", "medium"),
    (4, 0, "schema_change", "medium"),
    (5, 0, "schema_change", "high"),
    (5, 0, "delete", "high"),
    (2, 3, "delete", "high"),
]


@pytest.mark.parametrize(("direct", "second", "change_type", "risk"), IMPACT_RISK)
def test_impact_risk(group: FeatureGroup, direct: int, second: int, change_type: str, risk: str) -> None:
    entries = [{"name": f"d{i}", "dtype": "int64", "derived_from": "click_count + 1"} for i in range(direct)]
    entries += [{"name": f"e{i}", "dtype": "int64", "derived_from": "d0 * 2"} for i in range(second)]
    if entries:
        group.create_features(entries)
    report = group.feature("click_count").impact(change_type)
    assert report.directly_affected == qualified(*(f"d{i}@v1" for i in range(direct)))
    assert len(report.transitively_affected) == direct + second
    assert report.risk_assessment == risk


# -- OpenLineage ------------------------------------------------------------------------------


def test_openlineage_one_event_per_derived_feature(group: FeatureGroup, ctr: Feature, user_tier: Feature) -> None:
    events = ctr.get_lineage().to_openlineage()
    assert [e["job"]["name"] for e in events] == qualified("ctr@v1", "user_tier@v1")
    assert {e["eventType"] for e in events} == {"COMPLETE"}
    assert [e["run"]["runId"] for e in events] == [
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"raise:{f.id}")) for f in (ctr, user_tier)
    ]
    first = events[0]
    assert first["job"]["facets"]["sql"]["query"] == "click_count / NULLIF(impression_count, 0)"
    assert [i["name"] for i in first["inputs"]] == [GROUP]
    assert [(f["name"], f["type"]) for f in first["inputs"][0]["facets"]["schema"]["fields"]] == [
        ("click_count@v1", "int64"),
        ("impression_count@v1", "int64"),
    ]
    column = first["outputs"][0]["facets"]["columnLineage"]["fields"]["ctr@v1"]["inputFields"]
    assert [(f["field"], f["transformations"][0]["description"]) for f in column] == [
        ("click_count@v1", "click_count / NULLIF(impression_count, 0)"),
        ("impression_count@v1", "NULLIF(impression_count, 0)"),
    ]
    # from the tier's side the same two derived features are exported
    assert [e["job"]["name"] for e in user_tier.get_lineage().to_openlineage()] == qualified("ctr@v1", "user_tier@v1")


# -- a random graph against a breadth-first search --------------------------------------------

PROJECT = "acme/mlplatform/recommendation"


def _closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    """Everything reachable from ``start`` (excluded) along ``edges``: a plain breadth-first search."""
    seen: set[str] = set()
    queue = deque(edges[start])
    while queue:
        node = queue.popleft()
        if node not in seen:
            seen.add(node)
            queue.extend(edges[node])
    return seen


@pytest.mark.parametrize("seed", [7, 2024])
def test_closures_match_a_breadth_first_search(fs: FeatureStore, seed: int) -> None:
    """60 derived features over 10 base ones in two groups, created through the SDK in batches
    (later entries read earlier, still pending ones), some references pinned to ``@v1``; then four
    features get a v2 (unpinned references follow it). Every closure the catalog reports must be
    what a breadth-first search over the definitions written here finds."""
    rng = random.Random(seed)
    groups = {name: fs.create_feature_group(name, entity_keys=["user_id"]) for name in ("g1", "g2")}
    home: dict[str, str] = {}  # feature name → its group
    bases = [f"b{i}" for i in range(10)]
    for i, name in enumerate(bases):
        home[name] = "g1" if i < 5 else "g2"
        groups[home[name]].create_feature(name, "int64")
    # label ("d3@v1") → its references as (name, pinned version or None)
    definitions: dict[str, list[tuple[str, int | None]]] = {f"{b}@v1": [] for b in bases}
    batch: list[dict[str, str]] = []
    batch_group = ""

    def flush() -> None:
        if batch:
            groups[batch_group].create_features(list(batch))
            batch.clear()

    def expression(where: str, refs: list[tuple[str, int | None]], factor: int) -> str:
        terms = [(r if home[r] == where else f"{home[r]}.{r}") + (f"@v{v}" if v else "") for r, v in refs]
        return " + ".join(terms) + f" * {factor}"

    for i in range(60):
        name, where = f"d{i}", rng.choice(["g1", "g2"])
        pool = list(home)
        picked = rng.sample(pool[-12:] if rng.random() < 0.7 else pool, rng.randint(1, 3))  # mostly recent: deep
        refs = [(r, 1 if rng.random() < 0.2 else None) for r in picked]
        if where != batch_group:  # consecutive features of one group go in one batch
            flush()
            batch_group = where
        batch.append({"name": name, "dtype": "int64", "derived_from": expression(where, refs, i % 3 + 1)})
        home[name] = where
        definitions[f"{name}@v1"] = refs
    flush()

    latest = dict.fromkeys(home, 1)
    derived = [n for n in home if n.startswith("d")]
    for name in [*rng.sample(bases, 2), *rng.sample(derived[:40], 2)]:
        refs = [] if name in bases else [(b, None) for b in rng.sample(bases, 2)]
        groups[home[name]].create_feature(
            name, "int64", version="v2", derived_from=expression(home[name], refs, 5) if refs else None
        )
        latest[name] = 2
        definitions[f"{name}@v2"] = refs

    parents = {label: {f"{r}@v{v or latest[r]}" for r, v in refs} for label, refs in definitions.items()}
    children: dict[str, set[str]] = {label: set() for label in definitions}
    for child, ups in parents.items():
        for up in ups:
            children[up].add(child)

    def path(label: str) -> str:
        return f"{PROJECT}/{home[label.split('@')[0]]}/{label}"

    labels = sorted(definitions)
    deepest = max(labels, key=lambda n: len(_closure(n, parents)))
    widest = max(labels, key=lambda n: len(_closure(n, children)))
    bumped = [f"{n}@v{v}" for n, v in latest.items() if v == 2]
    sample = sorted({deepest, widest, *bumped, *(f"{n.split('@')[0]}@v1" for n in bumped), *rng.sample(labels, 6)})
    assert len(_closure(deepest, parents)) >= 8  # deep enough to mean something
    assert any(parents[label] != {f"{r}@v1" for r, _ in definitions[label]} for label in labels)  # some follow v2
    for label in sample:
        name = label.split("@")[0]
        lineage = groups[home[name]].feature(label).get_lineage()
        assert {x.qualified_name for x in lineage.upstream} == {path(p) for p in parents[label]}, label
        assert {x.qualified_name for x in lineage.downstream} == {path(c) for c in children[label]}, label
        assert names(lineage.all_upstream()) == sorted(path(p) for p in _closure(label, parents)), label
        assert names(lineage.all_downstream()) == sorted(path(c) for c in _closure(label, children)), label
        members = {label} | _closure(label, parents) | _closure(label, children)
        graph = lineage.as_graph()
        assert {node.qualified_name for node in graph.nodes.values()} == {path(m) for m in members}, label
        edges = {(e["from"], e["to"]) for e in graph.to_dict()["edges"]}
        assert edges == {(path(p), path(c)) for c in members for p in parents[c] if p in members}, label
        report = groups[home[name]].feature(label).impact()
        assert report.transitively_affected == sorted(path(c) for c in _closure(label, children)), label
