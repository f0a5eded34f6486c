"""A refresh is swapped in whole: a query sees one refresh or the next, never part of one, and a
refresh that fails leaves the last good data queryable, its coded error in the history row and
in the table's status, until a refresh succeeds again."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from live_helpers import eventually, signal_rows

from raise_ import ACL, Aggregation, FeatureStore
from raise_.client import FeatureGroup
from raise_.storage import materialized

BY_TIER = Aggregation(feature="click_count", metrics=["count", "sum"], group_by="user_tier")


@pytest.fixture
def embedded(fresh_store: Path) -> FeatureStore:
    return FeatureStore("acme/mlplatform/recommendation")


def test_a_query_never_sees_half_a_refresh(signals: FeatureGroup) -> None:
    table = signals.create_live_table(name="by-tier", analysis=BY_TIER)
    counts = {len(signals.read(history=True).to_pandas())}
    seen: list[int] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                frame = table.query()
                seen.append(int(frame["count"].sum()))
        except BaseException as exc:  # reported in the test's thread
            failures.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(15):
            signals.write(signal_rows(7, seed=50 + i, first_user=3000 + 7 * i))
            counts.add(len(signals.read(history=True).to_pandas()))
        final = max(counts)
        eventually(lambda: int(table.query()["count"].sum()) == final, timeout=10)
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    assert seen and set(seen) <= counts  # every answer is the whole of some refresh


def test_a_failed_refresh_keeps_the_last_good_data(embedded: FeatureStore) -> None:
    group = embedded.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"click_count": "int64", "revenue": "float64", "user_tier": "string"})
    group.write(signal_rows(100, seed=1))
    table = group.create_live_table(name="by-tier", analysis=BY_TIER, refresh="manual")
    good = table.query()
    group.write(signal_rows(30, seed=2, first_user=500))

    # The store fails after the new result and partials were written in the refresh's
    # transaction, as the checkpoint is written: the transaction rolls back, data included.
    def broken(_checkpoint: object) -> str:
        raise OSError("disk full")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(materialized, "checkpoint_text", broken)
        event = table.refresh()
    assert event.status == "failed" and event.error_code == "LIVE_REFRESH_FAILED"
    assert table.status == "failed" and table.error_code == "LIVE_REFRESH_FAILED"
    assert table.query().equals(good)
    history = table.refresh_history(limit=1)[0]
    assert (history.status, history.error_code) == ("failed", "LIVE_REFRESH_FAILED")

    event = table.refresh()
    assert (event.status, event.mode) == ("completed", "incremental")  # from the checkpoint of the good one
    assert table.status == "active" and table.error_code is None
    rows = group.read(history=True).to_pandas()
    assert int(table.query()["count"].sum()) == len(rows)
    assert int(table.query()["sum"].sum()) == int(rows["click_count"].sum())


def test_a_refresh_that_loses_access_fails_with_its_code(
    embedded: FeatureStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refreshes run as the owner: when the owner may no longer read the group, the refresh fails
    with PERMISSION_DENIED (the data stays; the others still query the last good refresh)."""
    embedded.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    group = embedded.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"click_count": "int64", "revenue": "float64", "user_tier": "string"})
    group.write(signal_rows(100, seed=1))
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    table = (
        FeatureStore("acme/mlplatform/recommendation")
        .feature_group("user-signals")
        .create_live_table(name="bobs", analysis=BY_TIER)
    )
    assert table.owner == "bob@acme"
    good = table.query()
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    group.set_acl(ACL(readers=["alice@acme"], writers=["alice@acme"], inherit=False))
    group.write(signal_rows(10, seed=3, first_user=700))
    mine = group.get_live_table("bobs")
    eventually(lambda: mine.reload().status == "failed", timeout=5)
    assert mine.error_code == "PERMISSION_DENIED"
    assert mine.refresh_history(limit=1)[0].error_code == "PERMISSION_DENIED"
    assert mine.query().equals(good)
