"""Who may look up what: a feature the caller may not read comes back DENIED (never its value),
an ACL change reaches lookups within the plan cache's recheck (a quarter of a second), and lookups
are audited in batches: one entry per caller, group and minute with the count."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from serving_helpers import TWO_COMBOS

from raise_ import ACL, FeatureStore
from raise_.engine import Engine
from raise_.serving.hotkeys import HotKeyReader

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(open_org: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> FeatureStore:
    group = open_org.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_feature("clicks", "int64")
    group.create_feature("revenue_30d", "float64")
    group.write([{"user_id": 1, "event_time": T0, "clicks": 3, "revenue_30d": 120.0}])
    group.feature("revenue_30d").set_acl(ACL(readers=["finance@acme"], inherit=False))
    monkeypatch.setenv("RAISE_USER", "finance@acme")  # finance may read both, and write the group (org ACL)
    assert group.materialize(["clicks", "revenue_30d"]).entities_written == 1
    return open_org


FEATURES = ["user-signals.clicks", "user-signals.revenue_30d"]


@TWO_COMBOS
def test_a_feature_the_caller_may_not_read_comes_back_denied(
    store: FeatureStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    finance = store.get_online_features(FEATURES, [{"user_id": 1}])[0]
    assert finance["user-signals.revenue_30d"].value == 120.0 and finance["user-signals.revenue_30d"].status == "OK"
    monkeypatch.setenv("RAISE_USER", "rita@acme")
    rita = store.get_online_features(FEATURES, [{"user_id": 1}, {"user_id": 2}])
    assert [r["user-signals.clicks"].status for r in rita] == ["OK", "NOT_FOUND"]
    for row in rita:
        denied = row["user-signals.revenue_30d"]
        assert (denied.status, denied.value, denied.event_time) == ("DENIED", None, None)


@TWO_COMBOS
def test_an_acl_change_reaches_lookups_within_the_recheck(store: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAISE_USER", "rita@acme")
    assert store.get_online_features(FEATURES, [{"user_id": 1}])[0]["user-signals.revenue_30d"].status == "DENIED"
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    feature = store.feature_group("user-signals").feature("revenue_30d")
    feature.set_acl(ACL(readers=["finance@acme", "rita@acme"], inherit=False))
    monkeypatch.setenv("RAISE_USER", "rita@acme")
    plans = Engine.shared(store._settings).service.online.plans
    time.sleep(plans.recheck + 0.05)
    assert store.get_online_features(FEATURES, [{"user_id": 1}])[0]["user-signals.revenue_30d"].value == 120.0
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    feature.set_acl(ACL(readers=["finance@acme"], inherit=False))
    monkeypatch.setenv("RAISE_USER", "rita@acme")
    time.sleep(plans.recheck + 0.05)
    assert store.get_online_features(FEATURES, [{"user_id": 1}])[0]["user-signals.revenue_30d"].status == "DENIED"


@TWO_COMBOS
def test_lookups_are_audited_once_per_caller_group_and_minute(
    store: FeatureStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = Engine.shared(store._settings).service
    service.online.auditor.flush()
    for _ in range(30):
        store.get_online_features(FEATURES, [{"user_id": 1}, {"user_id": 2}])
    monkeypatch.setenv("RAISE_USER", "rita@acme")
    for _ in range(5):
        store.get_online_features(FEATURES, [{"user_id": 1}])
    assert service.online.auditor.flush() == 2  # one entry per caller (same group, same minute)
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    entries = [
        e
        for e in service.audit_query("acme", {"actions": ["READ"], "limit": 100})
        if (e.metadata or {}).get("kind") == "online_lookup"
    ]
    by_actor = {e.actor: e.metadata for e in entries}
    assert by_actor["finance@acme"]["lookups"] == 30 and by_actor["finance@acme"]["keys"] == 60
    assert by_actor["rita@acme"]["lookups"] == 5 and by_actor["rita@acme"]["denied"] == 5
    assert by_actor["finance@acme"]["features"] == ["clicks@v1", "revenue_30d@v1"]


def test_concurrent_reads_of_one_key_share_one_store_read() -> None:
    reads = 0
    gate = threading.Event()

    def slow_read() -> str:
        nonlocal reads
        reads += 1
        gate.wait(5)
        return "value"

    hot = HotKeyReader[str](ttl=0.0)  # no near cache: only coalescing can share the read
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(hot.get("t", "k", slow_read))) for _ in range(50)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while hot.coalesced < 49 and time.monotonic() < deadline:  # every other thread waits on the first's read
        time.sleep(0.01)
    gate.set()
    for t in threads:
        t.join(5)
    assert results == ["value"] * 50 and reads == 1 and hot.coalesced == 49
    assert hot.get("t", "k", slow_read) == "value" and reads == 2  # the flight has landed: a new read


def test_the_near_cache_serves_repeats_for_its_ttl_and_forgets_on_write() -> None:
    reads = []
    hot = HotKeyReader[int](ttl=1.0)  # the longest allowed: a busy machine stays within it
    for _ in range(10):
        hot.get("t", "k", lambda: reads.append(1) or len(reads))
    assert len(reads) == 1 and hot.cached == 9
    hot.invalidate("t")  # a materialization in this process
    assert hot.get("t", "k", lambda: reads.append(1) or len(reads)) == 2
    time.sleep(1.05)
    assert hot.get("t", "k", lambda: reads.append(1) or len(reads)) == 3
    assert HotKeyReader[int](ttl=30).ttl == 1.0  # never more than a second
