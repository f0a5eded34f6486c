"""Hourly, daily and cron live tables fire through the scheduler, with the clock injected: the
item is in the catalog, a due slot runs once, a restart neither loses nor repeats it (slots
missed while down run once), two schedulers on one catalog run it once, a paused table's
item is disabled and a deleted table's item removed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from live_helpers import signal_rows

from raise_ import Aggregation, FeatureStore
from raise_.client import FeatureGroup
from raise_.engine import Engine
from raise_.live.service import LIVE_SCHEDULE_KIND, register_live_schedules
from raise_.scheduling import ManualClock, Scheduler
from raise_.service import DataService

SUM = Aggregation(feature="click_count", metrics=["sum"])


@pytest.fixture
def embedded(fresh_store: Path) -> FeatureStore:
    return FeatureStore("acme/mlplatform/recommendation")


@pytest.fixture
def group(embedded: FeatureStore) -> FeatureGroup:
    g = embedded.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    g.create_features_from_schema({"click_count": "int64", "revenue": "float64", "user_tier": "string"})
    g.write(signal_rows(100, seed=1))
    return g


def service_of(fs: FeatureStore) -> DataService:
    return Engine.shared(fs._settings).service


def scheduler_at(service: DataService, when: datetime) -> tuple[Scheduler, ManualClock]:
    clock = ManualClock(when)
    scheduler = Scheduler(service.db, runs=service.runs, clock=clock)
    register_live_schedules(scheduler, service.live)
    return scheduler, clock


def live_ticks(scheduler: Scheduler) -> list[Any]:
    """What a tick ran of the live tables' items (a store's built-in items may be due too)."""
    return [o for o in scheduler.tick() if o.kind == LIVE_SCHEDULE_KIND]


def scheduled(table: object) -> int:
    return sum(1 for e in table.refresh_history(limit=100) if e.trigger == "scheduled")  # type: ignore[attr-defined]


def test_an_hourly_table_refreshes_on_the_hour_once(embedded: FeatureStore, group: FeatureGroup) -> None:
    service = service_of(embedded)
    table = group.create_live_table(name="hourly", analysis=SUM, refresh="hourly")
    (item,) = [i for i in service.live._scheduler().items() if i.kind == LIVE_SCHEDULE_KIND]
    assert item.cron == "0 * * * *" and item.payload == {"live_table_id": table.id} and item.enabled
    assert item.next_due_at.minute == 0 and item.next_due_at > datetime.now(UTC)
    scheduler, clock = scheduler_at(service, item.next_due_at - timedelta(seconds=1))
    group.write(signal_rows(10, seed=2, first_user=500))
    first = table.query()["sum"].tolist()
    assert live_ticks(scheduler) == []  # not yet due
    clock.advance(seconds=1)
    (outcome,) = live_ticks(scheduler)
    assert outcome.status == "completed" and outcome.result["status"] == "completed"
    assert scheduled(table) == 1
    expected = int(group.read(history=True).to_pandas()["click_count"].sum())
    assert table.query()["sum"].tolist() == [expected] != first
    assert live_ticks(scheduler) == []  # the slot ran: not again
    clock.advance(hours=1)
    assert len(live_ticks(scheduler)) == 1 and scheduled(table) == 2
    scheduler.stop()


def test_a_restart_runs_missed_slots_once(embedded: FeatureStore, group: FeatureGroup) -> None:
    service = service_of(embedded)
    table = group.create_live_table(name="six-hourly", analysis=SUM, refresh="cron:0 */6 * * *")
    item = service.live._scheduler().get(f"live-table:{table.id}")
    down, _ = scheduler_at(service, item.next_due_at)
    down.stop()  # the server stops before the slot runs ...
    later, clock = scheduler_at(service, item.next_due_at + timedelta(hours=13))  # ... and misses three
    outcomes = live_ticks(later)
    assert len(outcomes) == 1 and scheduled(table) == 1  # run once at start, not three times
    assert later.get(item.name).next_due_at > clock.now()
    assert live_ticks(later) == []
    later.stop()


def test_two_schedulers_on_one_catalog_run_a_due_table_once(embedded: FeatureStore, group: FeatureGroup) -> None:
    service = service_of(embedded)
    table = group.create_live_table(name="daily", analysis=SUM, refresh="daily")
    due = service.live._scheduler().get(f"live-table:{table.id}").next_due_at
    a, _ = scheduler_at(service, due)
    b, _ = scheduler_at(service, due)
    results: list[int] = []
    threads = [threading.Thread(target=lambda s=s: results.append(len(live_ticks(s)))) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1] and scheduled(table) == 1
    a.stop()
    b.stop()


def test_pausing_disables_and_deleting_removes_the_item(embedded: FeatureStore, group: FeatureGroup) -> None:
    service = service_of(embedded)
    table = group.create_live_table(name="hourly", analysis=SUM, refresh="hourly")
    name = f"live-table:{table.id}"
    table.pause()
    item = service.live._scheduler().get(name)
    assert not item.enabled
    scheduler, _ = scheduler_at(service, item.next_due_at + timedelta(minutes=1))
    assert live_ticks(scheduler) == [] and scheduled(table) == 0
    table.resume()
    assert service.live._scheduler().get(name).enabled
    assert len(live_ticks(scheduler)) == 1 and scheduled(table) == 1
    table.delete()
    assert name not in {i.name for i in service.live._scheduler().items()}
    assert group.list_live_tables() == []
    scheduler.stop()


def test_the_embedded_store_runs_the_scheduler_loop_once_it_has_live_tables(
    embedded: FeatureStore, group: FeatureGroup
) -> None:
    engine = Engine.shared(embedded._settings)
    assert engine.follower is None and not engine.scheduler.running
    group.create_live_table(name="manual", analysis=SUM, refresh="manual")
    assert engine.follower is not None and engine.scheduler.running
    assert engine.service.change_feed.running


def test_a_runs_process_leaves_the_feed_and_schedules_to_the_store_owner(
    embedded: FeatureStore, group: FeatureGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``raise run`` sets RAISE_BACKGROUND=0: an engine it opens on a store with live tables does
    its run and follows nothing (the owner of the store does)."""
    group.create_live_table(name="on-change", analysis=SUM)
    settings = embedded._settings
    Engine.close_all()
    monkeypatch.setenv("RAISE_BACKGROUND", "0")
    child = Engine(settings)
    try:
        assert child.service.live.any_live_tables()
        assert child.follower is None and not child.service.change_feed.running
    finally:
        child.close()
    monkeypatch.delenv("RAISE_BACKGROUND")
    owner = Engine(settings)
    try:
        assert owner.follower is not None and owner.service.change_feed.running
    finally:
        owner.close()
