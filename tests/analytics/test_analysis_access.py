"""Analyses are data reads: the caller needs read on the group and on every feature the analysis
touches (features, group_by/segment_by columns, a lookup's filter), a stored result is no way
around that, and every analysis, also one answered from the cache, is audited as ``QUERY``."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from raise_ import (
    ACL,
    Aggregation,
    Correlation,
    Distribution,
    FeatureStore,
    Freshness,
    RecordLookup,
    StatTest,
    VersionDiff,
)
from raise_.analytics import AnalysisSpec
from raise_.catalog.models import AnalysisJobModel, AnalysisResultModel
from raise_.client.group import FeatureGroup
from raise_.errors import PermissionDeniedError

P = "acme/mlplatform/recommendation"
G = f"{P}/user-signals"
ROWS = [
    {"user_id": i, "event_time": datetime(2026, 1, 1, i, tzinfo=UTC), "clicks": i, "revenue": 10.0 * i, "tier": t}
    for i, t in enumerate(["gold", "gold", "silver", "silver", "gold", "silver"])
]


@pytest.fixture
def group(fs: FeatureStore) -> FeatureGroup:
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))  # acme opens itself to its members
    g = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    g.create_feature("clicks", "int64")
    g.create_feature("revenue", "float64")
    g.create_feature("tier", "string")
    g.write(ROWS)
    g.feature("revenue").set_acl(ACL(readers=["finance@acme"], inherit=False))
    return g


def as_user(monkeypatch: pytest.MonkeyPatch, user: str) -> None:
    monkeypatch.setenv("RAISE_USER", user)


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


# Each reads revenue somewhere: as the feature, a grouping or segment column, or in a filter.
READS_REVENUE: list[AnalysisSpec] = [
    Aggregation(feature="revenue", metrics=["sum"]),
    Aggregation(feature="clicks", metrics=["sum"], group_by="revenue"),
    Distribution(feature="revenue", bins=4),
    Distribution(feature="clicks", bins=4, segment_by="revenue"),
    Correlation(features=["clicks", "revenue"]),
    StatTest(feature="revenue", segment_by="tier", control="gold", treatment="silver"),
    StatTest(feature="tier", test="chi_squared", segment_by="revenue"),
    RecordLookup(features=["revenue"], limit=3),
    RecordLookup(features=["clicks"], filter="revenue > 10", limit=3),
]


@pytest.mark.parametrize(
    "spec",
    READS_REVENUE,
    ids=[
        "aggregation",
        "aggregation-group_by",
        "distribution",
        "distribution-segment_by",
        "correlation",
        "ttest",
        "chi_squared-segment_by",
        "record_lookup",
        "record_lookup-filter",
    ],
)
def test_an_analysis_reading_a_denied_feature_is_refused(
    group: FeatureGroup, spec: AnalysisSpec, monkeypatch: pytest.MonkeyPatch, catalog_engine: sa.Engine
) -> None:
    as_user(monkeypatch, "finance@acme")
    allowed = group.analyze(spec)  # finance may read revenue: the spec itself is fine
    assert allowed.from_cache is False and allowed.data
    as_user(monkeypatch, "rita@acme")
    for freshness in (Freshness.REAL_TIME, Freshness.CACHED):  # a stored result is no way around it
        with pytest.raises(PermissionDeniedError) as err:
            group.analyze(spec, freshness=freshness)
        assert err.value.details["resource"] == f"{G}/revenue@v1" and err.value.details["required"] == "reader"
        assert "rita@acme may not analyze" in err.value.message
    with pytest.raises(PermissionDeniedError):
        group.analyze_async(spec)
    with pytest.raises(PermissionDeniedError):
        FeatureStore(P).analysis_result(allowed.id)
    assert count(catalog_engine, AnalysisResultModel.__table__) == 1  # finance's, nothing of rita's
    assert count(catalog_engine, AnalysisJobModel.__table__) == 0


def test_the_allowed_features_of_a_group_can_be_analyzed(
    fs: FeatureStore, group: FeatureGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_user(monkeypatch, "rita@acme")
    assert group.analyze(Aggregation(feature="clicks", metrics=["sum", "max"])).metrics == {"sum": 15, "max": 5}
    by_tier = group.analyze(Aggregation(feature="clicks", metrics=["sum"], group_by="tier"))
    assert by_tier.metrics == {"gold": {"sum": 5}, "silver": {"sum": 10}}
    # a lookup without a feature list shows what the caller may read, and nothing else
    records = group.analyze(RecordLookup(limit=2)).records or []
    assert [sorted(r) for r in records] == [["clicks", "event_time", "tier", "user_id"]] * 2
    job = fs.analyze_async(Aggregation(feature="user-signals.clicks", metrics=["count"]))
    assert job.wait(timeout=30).metrics == {"count": 6}


def test_analyses_need_read_on_the_group(
    fs: FeatureStore, group: FeatureGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    group.set_acl(ACL(readers=["alice@acme"], inherit=False))
    computed = group.analyze(Aggregation(feature="clicks", metrics=["sum"]))
    as_user(monkeypatch, "bob@acme")
    for spec in (Aggregation(feature="clicks", metrics=["sum"]), RecordLookup(limit=1)):
        with pytest.raises(PermissionDeniedError) as err:
            group.analyze(spec, freshness=Freshness.CACHED)
        assert err.value.details["resource"] == G
    with pytest.raises(PermissionDeniedError):
        fs.analysis_result(computed.id)


def test_a_version_diff_needs_read_on_both_versions(group: FeatureGroup, monkeypatch: pytest.MonkeyPatch) -> None:
    group.create_feature("clicks", "float64", version="v2")
    group.feature("clicks@v2").set_acl(ACL(readers=["alice@acme"], inherit=False))
    spec = VersionDiff(feature="clicks", version_a="v1", version_b="v2")
    assert group.analyze(spec).schema_changes == {"dtype": {"old": "int64", "new": "float64"}}
    as_user(monkeypatch, "rita@acme")
    assert group.analyze(Aggregation(feature="clicks@v1", metrics=["sum"])).metrics == {"sum": 15}
    with pytest.raises(PermissionDeniedError) as err:
        group.analyze(spec, freshness=Freshness.CACHED)
    assert err.value.details["resource"] == f"{G}/clicks@v2"


def test_a_cross_org_grant_gives_analyses_of_its_features_only(
    fs: FeatureStore, group: FeatureGroup, monkeypatch: pytest.MonkeyPatch, catalog_engine: sa.Engine
) -> None:
    group.grant_external_access(org="partner", features=["clicks", "tier"], permission="read")
    as_user(monkeypatch, "pat@partner")
    assert group.analyze(Aggregation(feature="clicks", metrics=["sum"])).metrics == {"sum": 15}
    mw = group.analyze(StatTest(feature="clicks", test="mann_whitney", segment_by="tier", control="gold",
                                 treatment="silver"))  # fmt: skip
    assert mw.data["groups"]["control"]["n"] == 3 and mw.p_value is not None
    own = FeatureStore("partner/ml/rec")  # from the partner's own project, by absolute path
    by_path = own.analyze(Aggregation(feature=f"@{G}/clicks", metrics=["max"]))
    assert by_path.metrics == {"max": 5} and by_path.group == G
    before = count(catalog_engine, AnalysisResultModel.__table__)
    for spec in (Aggregation(feature="revenue", metrics=["sum"]), Correlation(features=["clicks", "revenue"])):
        with pytest.raises(PermissionDeniedError) as err:
            group.analyze(spec)
        assert err.value.details["resource"] == f"{G}/revenue@v1"
        assert "no live grant giving 'partner'" in err.value.message
    assert count(catalog_engine, AnalysisResultModel.__table__) == before

    as_user(monkeypatch, "alice@acme")
    group.revoke_external_access(org="partner")
    as_user(monkeypatch, "pat@partner")
    with pytest.raises(PermissionDeniedError):
        group.analyze(Aggregation(feature="clicks", metrics=["sum"]), freshness=Freshness.CACHED)


def test_every_analysis_is_audited_as_a_query(fs: FeatureStore, group: FeatureGroup) -> None:
    spec = Correlation(features=["clicks", "revenue"], method="kendall")
    computed = group.analyze(spec)
    hit = group.analyze(spec, freshness=Freshness.WITHIN("1h"))
    job = fs.analyze_async(Aggregation(feature="user-signals.clicks", metrics=["avg"], group_by="user-signals.tier"))
    from_job = job.wait(timeout=30)
    entries = fs.audit.query(actions=["QUERY"])  # newest first
    assert [(e.action, e.actor, e.resource_path, e.resource_type) for e in entries] == [
        ("QUERY", "alice@acme", G, "feature_group")
    ] * 4
    meta = [e.metadata for e in reversed(entries)]
    assert [(m["kind"], m["analysis"], m["features"], m["from_cache"], m["result_id"]) for m in meta] == [
        ("analysis", "correlation", ["clicks@v1", "revenue@v1"], False, computed.id),
        ("analysis", "correlation", ["clicks@v1", "revenue@v1"], True, computed.id),
        ("analysis", "aggregation", ["clicks@v1", "tier@v1"], False, from_job.id),
        # the job's result, fetched by wait(): reading a stored result is a query too
        ("analysis_result", "aggregation", ["clicks@v1", "tier@v1"], True, from_job.id),
    ]
    assert hit.id == computed.id
    assert [m["data_version"] for m in meta] == [f"{G}@1"] * 4
    assert all(len(m["query_hash"]) == 16 for m in meta) and meta[0]["query_hash"] != meta[2]["query_hash"]
    # the feature's own audit log shows the analyses that read it
    assert [e.action for e in fs.feature("user-signals/revenue").audit_log(category="access")][:2] == ["QUERY"] * 2


def test_a_refused_analysis_is_not_audited_as_a_query(
    fs: FeatureStore, group: FeatureGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_user(monkeypatch, "rita@acme")
    with pytest.raises(PermissionDeniedError):
        group.analyze(Aggregation(feature="revenue", metrics=["sum"]))
    as_user(monkeypatch, "alice@acme")
    assert fs.audit.query(actions=["QUERY"]) == []


def test_an_analysis_of_a_derived_feature_audits_the_groups_it_read(fs: FeatureStore, group: FeatureGroup) -> None:
    users = fs.create_feature_group("users", entity_keys=["user_id"], event_time="event_time")
    users.create_feature("age", "int64")
    users.write([{"user_id": i, "event_time": datetime(2025, 1, 1, tzinfo=UTC), "age": 20 + i} for i in range(6)])
    group.create_feature("clicks_per_year", "float64", derived_from="clicks / users.age")
    spec = Aggregation(feature="clicks_per_year", metrics=["max"])
    computed = group.analyze(spec)
    assert computed.metrics == {"max": pytest.approx(5 / 25)}
    group.analyze(spec, freshness=Freshness.CACHED)  # answered from the cache: the same reads
    entries = list(reversed(fs.audit.query(actions=["QUERY"])))
    assert [(e.resource_path, e.metadata["features"], e.metadata.get("upstream_of"), e.metadata["from_cache"])
            for e in entries] == [
        (G, ["clicks_per_year@v1"], None, False),
        (f"{P}/users", ["age@v1"], G, False),
        (G, ["clicks_per_year@v1"], None, True),
        (f"{P}/users", ["age@v1"], G, True),
    ]  # fmt: skip


def test_a_stored_lookup_is_refused_to_whom_may_not_read_what_it_read(
    fs: FeatureStore, group: FeatureGroup, monkeypatch: pytest.MonkeyPatch, catalog_engine: sa.Engine
) -> None:
    # finance's lookup without features= read every feature finance may read: revenue included.
    as_user(monkeypatch, "finance@acme")
    theirs = group.analyze(RecordLookup(limit=3))
    assert all("revenue" in r for r in theirs.records or [])
    with catalog_engine.connect() as conn:
        stored = conn.execute(
            sa.select(AnalysisResultModel.__table__.c.features).where(
                AnalysisResultModel.__table__.c.id == uuid.UUID(theirs.id)
            )
        ).scalar_one()
    assert sorted(json.loads(stored) if isinstance(stored, str) else stored) == ["clicks@v1", "revenue@v1", "tier@v1"]
    # rita's own lookup leaves revenue out, but finance's stored result is not hers to fetch.
    as_user(monkeypatch, "rita@acme")
    with pytest.raises(PermissionDeniedError) as err:
        FeatureStore(P).analysis_result(theirs.id)
    assert err.value.details["resource"] == f"{G}/revenue@v1"
    # finance still may
    as_user(monkeypatch, "finance@acme")
    assert FeatureStore(P).analysis_result(theirs.id).records == theirs.records
