"""The optional Redis cache of analysis results (``RAISE_REDIS_URL``): the newest result of each
analysis under ``raise:analysis:<spec hash>`` for an hour, read before the catalog; a cache only,
so analyses carry on when Redis is down, and a result of another catalog is never served.

Uses the machine's Redis on 127.0.0.1:6379 (database 13); every key a test creates is deleted."""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from raise_ import Aggregation, FeatureStore, Freshness
from raise_.api.codec import to_wire
from raise_.catalog.models import AnalysisResultModel
from raise_.client.group import FeatureGroup
from raise_.engine import Engine

REDIS_URL = "redis://127.0.0.1:6379/13"
RESULTS = AnalysisResultModel.__table__
SUM = Aggregation(feature="clicks", metrics=["sum"])


def _redis() -> Any:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {exc.__class__.__name__}")
    return client


@pytest.fixture
def redis_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The Redis the stores of the test use; the keys of the results they stored are removed."""
    client = _redis()
    monkeypatch.setenv("RAISE_REDIS_URL", REDIS_URL)
    hashes: set[str] = set()
    client.hashes = hashes
    yield client
    for h in hashes:
        client.delete(f"raise:analysis:{h}")


def make_group(fs: FeatureStore, clicks: list[int]) -> FeatureGroup:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_feature("clicks", "int64")
    group.write(
        [{"user_id": i, "event_time": datetime(2026, 1, 1, tzinfo=UTC), "clicks": c} for i, c in enumerate(clicks)]
    )
    return group


def test_a_result_is_served_from_redis(
    store_env: Path, redis_client: Any, catalog_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs = FeatureStore("acme/mlplatform/recommendation")
    group = make_group(fs, [1, 2, 3])
    computed = group.analyze(SUM)
    key = f"raise:analysis:{computed.record.spec_hash}"
    redis_client.hashes.add(computed.record.spec_hash)
    assert redis_client.exists(key) == 1
    assert 0 < redis_client.ttl(key) <= 3600
    cached = json.loads(redis_client.get(key))
    assert computed.id in json.dumps(cached) and "raise:analysis" not in json.dumps(cached)

    # The catalog's copy now differs from Redis' copy: which one answers says where it came from.
    with catalog_engine.begin() as conn:
        conn.execute(
            sa.update(RESULTS)
            .where(RESULTS.c.id == uuid.UUID(computed.id))
            .values(result_data=to_wire({"metrics": {"sum": -1}}))
        )
    Engine.close_all()  # another process of the team: nothing in memory, the same catalog and Redis
    group = FeatureStore("acme/mlplatform/recommendation").feature_group("user-signals")
    from_redis = group.analyze(SUM, freshness=Freshness.WITHIN("1h"))
    assert (from_redis.id, from_redis.from_cache, from_redis.stale) == (computed.id, True, False)
    assert from_redis.metrics == {"sum": 6} and from_redis.computed_at == computed.computed_at

    redis_client.delete(key)
    from_catalog = group.analyze(SUM, freshness=Freshness.WITHIN("1h"))
    assert (from_catalog.id, from_catalog.metrics) == (computed.id, {"sum": -1})
    assert redis_client.exists(key) == 0  # a hit in the catalog does not refill Redis


def test_redis_holds_the_newest_result_of_each_analysis(fs_redis: FeatureStore, redis_client: Any) -> None:
    group = make_group(fs_redis, [1, 2, 3])
    first = group.analyze(SUM)
    group.write([{"user_id": 9, "event_time": datetime(2026, 1, 2, tzinfo=UTC), "clicks": 4}])
    second = group.analyze(SUM)
    redis_client.hashes.add(first.record.spec_hash)
    value = redis_client.get(f"raise:analysis:{first.record.spec_hash}").decode()
    assert second.id in value and first.id not in value
    assert second.metrics == {"sum": 10}


def test_redis_holding_a_result_on_older_data_does_not_hide_an_exact_one(
    fs_redis: FeatureStore, redis_client: Any
) -> None:
    """Another process may put a result on older data into Redis after this one stored one on
    the current data: a reuse takes the exact one from the catalog."""
    group = make_group(fs_redis, [1, 2, 3])
    old = group.analyze(SUM)
    key = f"raise:analysis:{old.record.spec_hash}"
    redis_client.hashes.add(old.record.spec_hash)
    old_value = redis_client.get(key)
    group.write([{"user_id": 9, "event_time": datetime(2026, 1, 2, tzinfo=UTC), "clicks": 4}])
    exact = group.analyze(SUM)
    redis_client.set(key, old_value, ex=3600)  # the late writer of the older result
    for freshness in (Freshness.WITHIN("1h"), Freshness.CACHED):
        got = group.analyze(SUM, freshness=freshness)
        assert (got.id, got.stale, got.metrics) == (exact.id, False, {"sum": 10})


def test_a_result_of_another_catalog_is_not_served(
    request: pytest.FixtureRequest, tmp_path: Path, redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two stores (a laptop's and the team's, say) with the same paths and the same commit
    numbers, sharing one Redis: each answers from its own data."""
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    request.addfinalizer(Engine.close_all)
    stores = {}
    for name, clicks in (("a", [1, 2, 3]), ("b", [100, 200])):
        home = tmp_path / name
        stores[name] = FeatureStore(
            "acme/mlplatform/recommendation", home=home, catalog_url=f"sqlite:///{home / 'catalog.db'}"
        )
        make_group(stores[name], clicks)
    a = stores["a"].feature_group("user-signals").analyze(SUM)
    redis_client.hashes.add(a.record.spec_hash)
    b_group = stores["b"].feature_group("user-signals")
    b = b_group.analyze(SUM, freshness=Freshness.WITHIN("1h"))
    assert a.data_version == b.data_version  # same path, same commit number: only the catalog differs
    assert (b.metrics, b.from_cache) == ({"sum": 300}, False)
    assert stores["b"].analysis_result(b.id).metrics == {"sum": 300}
    job = b_group.analyze_async(SUM, freshness=Freshness.CACHED)
    assert job.wait(timeout=30).id == b.id and job.status == "completed"
    assert stores["a"].feature_group("user-signals").analyze(SUM, freshness=Freshness.CACHED).id == a.id


def test_analyses_work_when_redis_is_unreachable(
    store_env: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("RAISE_REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    fs = FeatureStore("acme/mlplatform/recommendation")
    group = make_group(fs, [1, 2, 3])
    with caplog.at_level(logging.WARNING, logger="raise_.analytics.cache"):
        computed = group.analyze(SUM)
        reused = group.analyze(SUM, freshness=Freshness.WITHIN("1h"))
        job = group.analyze_async(SUM, freshness=Freshness.CACHED)
        from_job = job.wait(timeout=30)
    assert (computed.from_cache, computed.metrics) == (False, {"sum": 6})
    assert (reused.id, reused.from_cache, reused.metrics) == (computed.id, True, {"sum": 6})
    assert from_job.id == computed.id
    assert any("Redis analysis cache unavailable" in r.getMessage() for r in caplog.records)


@pytest.fixture
def fs_redis(store_env: Path, redis_client: Any) -> FeatureStore:
    assert os.environ["RAISE_REDIS_URL"] == REDIS_URL
    return FeatureStore("acme/mlplatform/recommendation")
