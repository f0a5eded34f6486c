"""``Freshness`` decides whether an analysis is computed or a stored result is reused (README
*Freshness Control*, PRD §11.8). Results are rows of ``analysis_results`` keyed by the spec's hash
and the data version (the commits read); the checks read those rows with SQL on SQLite and
PostgreSQL, and fake a result's age by moving its ``freshness_at`` back."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from raise_ import Aggregation, Correlation, FeatureStore, Freshness
from raise_.analytics import Distribution
from raise_.catalog.models import AnalysisResultModel
from raise_.client.group import FeatureGroup
from raise_.errors import InvalidArgumentError

G = "acme/mlplatform/recommendation/user-signals"
RESULTS = AnalysisResultModel.__table__
SUM = Aggregation(feature="clicks", metrics=["sum", "count"])


def rows(n: int, start: int = 0) -> list[dict[str, object]]:
    return [
        {"user_id": i, "event_time": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=i), "clicks": i + 1}
        for i in range(start, start + n)
    ]


@pytest.fixture
def group(fs: FeatureStore) -> FeatureGroup:
    g = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    g.create_feature("clicks", "int64")
    g.create_feature("revenue", "float64")
    g.write(rows(4))  # clicks 1..4: sum 10
    return g


def stored(engine: sa.Engine) -> list[tuple[str, str, str]]:
    """(id, spec hash, data version) of every stored result, oldest first."""
    query = sa.select(RESULTS.c.id, RESULTS.c.analysis_spec_hash, RESULTS.c.data_version).order_by(RESULTS.c.created_at)
    with engine.connect() as conn:
        return [(str(i), h, v) for i, h, v in conn.execute(query)]


def make_old(engine: sa.Engine, result_id: str, age: timedelta) -> datetime:
    """Pretend the result was computed ``age`` ago."""
    when = datetime.now(UTC) - age
    with engine.begin() as conn:
        done = conn.execute(sa.update(RESULTS).where(RESULTS.c.id == uuid.UUID(result_id)).values(freshness_at=when))
    assert done.rowcount == 1
    return when


def test_real_time_always_computes(group: FeatureGroup, catalog_engine: sa.Engine) -> None:
    before = datetime.now(UTC)
    first = group.analyze(SUM, freshness=Freshness.REAL_TIME)
    second = group.analyze(SUM, freshness=Freshness.REAL_TIME)
    third = group.analyze(SUM)  # the default is REAL_TIME
    assert len({first.id, second.id, third.id}) == 3
    assert [r.from_cache for r in (first, second, third)] == [False, False, False]
    assert [r.stale for r in (first, second, third)] == [False, False, False]
    assert first.metrics == second.metrics == third.metrics == {"sum": 10, "count": 4}
    assert before <= first.computed_at <= second.computed_at <= third.computed_at <= datetime.now(UTC)
    assert first.computed_at.tzinfo is not None and first.duration_ms >= 0
    assert first.record.computed_by == "alice@acme"
    # three computations, three rows: the same analysis on the same data
    assert stored(catalog_engine) == [(r.id, first.record.spec_hash, f"{G}@1") for r in (first, second, third)]


def test_within_reuses_a_result_younger_than_the_window(group: FeatureGroup, catalog_engine: sa.Engine) -> None:
    computed = group.analyze(SUM, freshness=Freshness.WITHIN("1h"))  # nothing stored yet: computes
    assert computed.from_cache is False
    again = group.analyze(SUM, freshness=Freshness.WITHIN("1h"))
    as_text = group.analyze(SUM, freshness="within:1h")
    assert again.id == as_text.id == computed.id
    assert again.from_cache is True and again.stale is False
    assert again.computed_at == computed.computed_at and again.data_version == computed.data_version == f"{G}@1"
    assert again.metrics == {"sum": 10, "count": 4}
    assert len(stored(catalog_engine)) == 1


def test_within_reuses_a_result_on_unchanged_data_whatever_its_age(
    group: FeatureGroup, catalog_engine: sa.Engine
) -> None:
    computed = group.analyze(SUM)
    three_days_ago = make_old(catalog_engine, computed.id, timedelta(days=3))
    reused = group.analyze(SUM, freshness=Freshness.WITHIN("1h"))
    assert (reused.id, reused.from_cache, reused.stale) == (computed.id, True, False)
    assert abs(reused.computed_at - three_days_ago) < timedelta(milliseconds=1)
    assert len(stored(catalog_engine)) == 1


def test_within_recomputes_after_a_write_once_the_result_is_older_than_the_window(
    group: FeatureGroup, catalog_engine: sa.Engine
) -> None:
    computed = group.analyze(SUM)
    assert group.write(rows(1, start=4)).commit_id == 2  # clicks 5: sum 15
    young = group.analyze(SUM, freshness=Freshness.WITHIN("1h"))
    assert (young.id, young.from_cache, young.stale) == (computed.id, True, True)
    assert young.metrics == {"sum": 10, "count": 4} and young.data_version == f"{G}@1"

    make_old(catalog_engine, computed.id, timedelta(hours=2))
    fresh = group.analyze(SUM, freshness=Freshness.WITHIN("1h"))
    assert fresh.id != computed.id and (fresh.from_cache, fresh.stale) == (False, False)
    assert fresh.metrics == {"sum": 15, "count": 5} and fresh.data_version == f"{G}@2"
    # a wider window would take the two-hour-old result, but the one on the current data wins
    assert group.analyze(SUM, freshness=Freshness.WITHIN("1d")).id == fresh.id
    assert [v for _, _, v in stored(catalog_engine)] == [f"{G}@1", f"{G}@2"]


def test_within_takes_a_result_on_older_data_only_while_it_is_young(
    group: FeatureGroup, catalog_engine: sa.Engine
) -> None:
    computed = group.analyze(SUM)
    make_old(catalog_engine, computed.id, timedelta(minutes=30))
    group.write(rows(1, start=4))
    assert group.analyze(SUM, freshness=Freshness.WITHIN("1h")).id == computed.id
    recomputed = group.analyze(SUM, freshness=Freshness.WITHIN("10m"))
    assert recomputed.id != computed.id and recomputed.metrics == {"sum": 15, "count": 5}


def test_cached_computes_only_when_nothing_is_stored(group: FeatureGroup, catalog_engine: sa.Engine) -> None:
    first = group.analyze(SUM, freshness=Freshness.CACHED)
    assert (first.from_cache, first.stale, first.metrics) == (False, False, {"sum": 10, "count": 4})
    make_old(catalog_engine, first.id, timedelta(days=30))
    group.write(rows(1, start=4))
    cached = group.analyze(SUM, freshness=Freshness.CACHED)
    assert (cached.id, cached.from_cache, cached.stale) == (first.id, True, True)
    assert cached.metrics == {"sum": 10, "count": 4} and cached.data_version == f"{G}@1"
    assert len(stored(catalog_engine)) == 1

    fresh = group.analyze(SUM, freshness=Freshness.REAL_TIME)
    newest = group.analyze(SUM, freshness=Freshness.CACHED)
    assert (newest.id, newest.stale, newest.metrics) == (fresh.id, False, {"sum": 15, "count": 5})


def test_cached_returns_the_newest_result_by_computation_time(group: FeatureGroup, catalog_engine: sa.Engine) -> None:
    a = group.analyze(SUM)
    group.write(rows(1, start=4))
    b = group.analyze(SUM)
    # b (on the newest data) was computed before a: CACHED takes the result on the current data
    make_old(catalog_engine, b.id, timedelta(days=2))
    make_old(catalog_engine, a.id, timedelta(days=1))
    got = group.analyze(SUM, freshness=Freshness.CACHED)
    assert (got.id, got.stale) == (b.id, False)


def test_results_are_keyed_by_spec_hash_and_data_version(
    fs: FeatureStore, group: FeatureGroup, catalog_engine: sa.Engine
) -> None:
    by_group = group.analyze(SUM)
    by_path = fs.analyze(Aggregation(feature="user-signals.clicks", metrics=["sum", "count"]))
    other = group.analyze(Aggregation(feature="clicks", metrics=["sum"]))
    group.write(rows(1, start=4))
    later = group.analyze(SUM)
    h = by_group.record.spec_hash
    assert re.fullmatch(r"[0-9a-f]{64}", h)
    # the same analysis named from the project (features by path) is the same analysis
    assert by_path.record.spec_hash == h and other.record.spec_hash != h
    assert stored(catalog_engine) == [
        (by_group.id, h, f"{G}@1"),
        (by_path.id, h, f"{G}@1"),
        (other.id, other.record.spec_hash, f"{G}@1"),
        (later.id, h, f"{G}@2"),
    ]
    query = sa.select(RESULTS.c.scope_path, RESULTS.c.analysis_spec, RESULTS.c.computed_by).where(
        RESULTS.c.id == uuid.UUID(by_path.id)
    )
    with catalog_engine.connect() as conn:
        scope, spec, who = conn.execute(query).one()
    assert (scope, who) == (G, "alice@acme")
    assert spec == SUM.to_dict()  # stored with the group's own feature names
    # the newest result on the current data is the one reused
    assert group.analyze(SUM, freshness=Freshness.WITHIN("1h")).id == later.id


def test_a_derived_feature_is_versioned_by_every_group_it_reads(fs: FeatureStore, group: FeatureGroup) -> None:
    users = fs.create_feature_group("users", entity_keys=["user_id"], event_time="event_time")
    users.create_feature("weight", "int64")
    users.write([{"user_id": i, "event_time": datetime(2025, 1, 1, tzinfo=UTC), "weight": 2} for i in range(4)])
    group.create_feature("weighted", "int64", derived_from="clicks * users.weight")
    spec = Aggregation(feature="weighted", metrics=["sum"])
    first = group.analyze(spec)
    assert first.metrics == {"sum": 20}
    commits, plan = first.data_version.split(";plan=")
    assert commits == f"{G}@1,acme/mlplatform/recommendation/users@2" and len(plan) == 16
    users.write([{"user_id": 0, "event_time": datetime(2025, 6, 1, tzinfo=UTC), "weight": 12}])
    # only the upstream group changed: the stored result is stale and not exact any more
    cached = group.analyze(spec, freshness=Freshness.CACHED)
    assert (cached.id, cached.stale) == (first.id, True)
    again = group.analyze(spec, freshness=Freshness.WITHIN("1h"))
    assert again.id == first.id and again.stale is True
    fresh = group.analyze(spec)
    assert fresh.metrics == {"sum": 30}
    assert fresh.data_version == f"{G}@1,acme/mlplatform/recommendation/users@3;plan={plan}"


def test_redefining_a_derived_feature_s_input_is_not_the_same_data(fs: FeatureStore, group: FeatureGroup) -> None:
    users = fs.create_feature_group("users", entity_keys=["user_id"], event_time="event_time")
    users.create_feature("weight", "int64")
    users.write([{"user_id": i, "event_time": datetime(2025, 1, 1, tzinfo=UTC), "weight": 2} for i in range(4)])
    group.create_feature("weighted", "int64", derived_from="clicks * users.weight")
    spec = Aggregation(feature="weighted", metrics=["sum"])
    first = group.analyze(spec)
    # A new version of the upstream feature: the expression now reads it, with no new commit.
    users.create_feature("weight", dtype="float64", version="v2")
    again = group.analyze(spec, freshness=Freshness.WITHIN("1h"))  # young enough to reuse, but stale
    assert (again.id, again.stale) == (first.id, True)
    fresh = group.analyze(spec)
    assert fresh.data_version != first.data_version
    assert fresh.data_version.split(";plan=")[0] == first.data_version.split(";plan=")[0]  # the same commits


def test_a_new_feature_version_is_a_new_analysis(group: FeatureGroup, catalog_engine: sa.Engine) -> None:
    spec = Aggregation(feature="clicks", metrics=["count", "null_rate"])
    v1 = group.analyze(spec)
    group.create_feature("clicks", "float64", version="v2")
    v2 = group.analyze(spec, freshness=Freshness.CACHED)  # "clicks" is clicks@v2 now: nothing stored
    assert v2.from_cache is False and v2.record.spec_hash != v1.record.spec_hash
    assert v1.metrics == {"count": 4, "null_rate": 0.0} and v2.metrics == {"count": 0, "null_rate": 1.0}
    pinned = group.analyze(Aggregation(feature="clicks@v1", metrics=["count", "null_rate"]))
    assert pinned.metrics == v1.metrics
    assert len({v1.record.spec_hash, v2.record.spec_hash, pinned.record.spec_hash}) == 3
    assert [h for _, h, _ in stored(catalog_engine)] == [
        v1.record.spec_hash,
        v2.record.spec_hash,
        pinned.record.spec_hash,
    ]


def test_a_spec_ending_now_is_never_reused_as_exact(group: FeatureGroup, catalog_engine: sa.Engine) -> None:
    clock = Aggregation(feature="clicks", metrics=["count"], window="3650d", end="now")
    data = Aggregation(feature="clicks", metrics=["count"], window="3650d")
    by_clock, by_data = group.analyze(clock), group.analyze(data)
    assert by_clock.data_version == f"{G}@1;@now" and by_data.data_version == f"{G}@1"
    assert by_clock.metrics == by_data.metrics == {"count": 4}
    # young: both reused
    assert group.analyze(clock, freshness=Freshness.WITHIN("1h")).id == by_clock.id
    assert group.analyze(data, freshness=Freshness.WITHIN("1h")).id == by_data.id
    for result in (by_clock, by_data):
        make_old(catalog_engine, result.id, timedelta(hours=2))
    # two hours old, no write since: only the data-relative result is still exact
    assert group.analyze(data, freshness=Freshness.WITHIN("1h")).id == by_data.id
    recomputed = group.analyze(clock, freshness=Freshness.WITHIN("1h"))
    assert recomputed.id != by_clock.id and recomputed.from_cache is False
    # CACHED takes whatever is newest, clock-relative or not
    assert group.analyze(clock, freshness=Freshness.CACHED).id == recomputed.id


def test_each_analysis_type_is_cached(group: FeatureGroup) -> None:
    group.write(
        [
            {"user_id": i, "event_time": datetime(2026, 2, 1, tzinfo=UTC), "clicks": i, "revenue": i * 2.5}
            for i in range(6)
        ]
    )
    for spec in (
        Distribution(feature="revenue", bins=3),
        Correlation(features=["clicks", "revenue"], method="spearman"),
    ):
        computed = group.analyze(spec)
        reused = group.analyze(spec, freshness=Freshness.CACHED)
        assert (reused.id, reused.from_cache, reused.data) == (computed.id, True, computed.data)


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        (None, Freshness.REAL_TIME),
        ("real_time", Freshness.REAL_TIME),
        ("real-time", Freshness.REAL_TIME),
        ("cached", Freshness.CACHED),
        ("within:1h", Freshness.WITHIN("1h")),
        ("1h", Freshness.WITHIN("60m")),
        (Freshness.WITHIN("2d"), Freshness("within", 172_800)),
    ],
)
def test_freshness_from_text(text: object, policy: Freshness) -> None:
    assert Freshness.parse(text) == policy
    assert Freshness.parse(policy.to_text()) == policy


def test_freshness_reads_like_the_readme() -> None:
    assert [repr(f) for f in (Freshness.REAL_TIME, Freshness.CACHED, Freshness.WITHIN("1h"))] == [
        "Freshness.REAL_TIME",
        "Freshness.CACHED",
        "Freshness.WITHIN('1h')",
    ]


@pytest.mark.parametrize("bad", ["sometimes", "within:soon", 3.5, ""])
def test_an_unknown_freshness_is_refused_before_any_call(group: FeatureGroup, bad: object) -> None:
    with pytest.raises(InvalidArgumentError, match=r"Freshness\.WITHIN"):
        group.analyze(SUM, freshness=bad)  # type: ignore[arg-type]
