"""Alerts are checked by the scheduler on their interval, with the clock injected: the item is in
the catalog, a due check runs once and is stored with its value; a paused alert's item is disabled
and a deleted alert's removed. Published dashboards' snapshots refresh the same way."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from raise_ import Aggregation, Chart, Condition, FeatureStore
from raise_.alerts.service import ALERT_CHECK_KIND, register_alert_schedules
from raise_.dashboards.service import DASHBOARD_REFRESH_KIND, register_dashboard_schedules
from raise_.engine import Engine
from raise_.scheduling import ManualClock, Scheduler
from raise_.service import DataService

START = pd.Timestamp("2026-09-01", tz="UTC")


@pytest.fixture
def store_env(channels_config: Path, fresh_store: Path) -> Path:
    return fresh_store


@pytest.fixture
def service(fs: FeatureStore) -> DataService:
    group = fs.create_feature_group("clicks", entity_keys=["user_id"], event_time="event_time")
    group.create_feature("click_count", "int64")
    group.write(
        pd.DataFrame(
            {"user_id": np.arange(5), "event_time": START + pd.to_timedelta(np.arange(5), unit="h"), "click_count": 7}
        )
    )
    return Engine.shared(fs._settings).service


def scheduler_at(service: DataService, when: Any) -> tuple[Scheduler, ManualClock]:
    clock = ManualClock(when)
    scheduler = Scheduler(service.db, runs=service.runs, clock=clock)
    register_alert_schedules(scheduler, service.alerts)
    register_dashboard_schedules(scheduler, service.dashboards)
    return scheduler, clock


def ticks(scheduler: Scheduler, kind: str) -> list[Any]:
    return [o for o in scheduler.tick() if o.kind == kind]


def test_an_alert_is_checked_on_its_interval_once(fs: FeatureStore, service: DataService) -> None:
    alert = fs.create_alert(
        "clicks-low", Aggregation(feature="click_count", metrics=["sum"]), Condition.LESS_THAN(100), ["ops@acme.com"],
        channels=["webhook"], check_interval="2h",
    )  # fmt: skip
    (item,) = [i for i in service.alerts._scheduler().items() if i.kind == ALERT_CHECK_KIND]
    assert item.every == 7200 and item.payload == {"alert_id": alert.id} and item.enabled
    scheduler, clock = scheduler_at(service, item.next_due_at - timedelta(seconds=1))
    assert ticks(scheduler, ALERT_CHECK_KIND) == []
    clock.advance(seconds=1)
    (outcome,) = ticks(scheduler, ALERT_CHECK_KIND)
    assert outcome.status == "completed" and outcome.result["value"] == 35 and outcome.result["state"] == "firing"
    assert ticks(scheduler, ALERT_CHECK_KIND) == []  # not again before the next interval
    clock.advance(hours=2)
    assert len(ticks(scheduler, ALERT_CHECK_KIND)) == 1
    assert [e.trigger for e in alert.history()] == ["scheduled", "scheduled"]
    assert [e.transition for e in alert.history()] == [None, "fired"]  # notified once

    alert.pause()
    assert not service.alerts._scheduler().get(item.name).enabled
    alert.resume()
    assert service.alerts._scheduler().get(item.name).enabled
    alert.delete()
    assert [i for i in service.alerts._scheduler().items() if i.kind == ALERT_CHECK_KIND] == []
    scheduler.stop()


def test_a_published_dashboard_refreshes_on_its_interval(fs: FeatureStore, service: DataService) -> None:
    dashboard = fs.create_dashboard(name="clicks", refresh="15m")
    dashboard.add_chart(
        Chart(title="Sum", analysis=Aggregation(feature="click_count", metrics=["sum"]), chart_type="metric")
    )
    with pytest.warns(UserWarning, match="raise serve"):
        dashboard.publish()
    first = dashboard.snapshot_time()
    (item,) = [i for i in service.dashboards._scheduler().items() if i.kind == DASHBOARD_REFRESH_KIND]
    assert item.every == 900
    scheduler, _clock = scheduler_at(service, item.next_due_at)
    (outcome,) = ticks(scheduler, DASHBOARD_REFRESH_KIND)
    assert outcome.status == "completed" and dashboard.snapshot_time() > first
    dashboard.delete()
    assert [i for i in service.dashboards._scheduler().items() if i.kind == DASHBOARD_REFRESH_KIND] == []
    scheduler.stop()
