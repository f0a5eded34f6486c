"""Job schedules fire through the one scheduler with the clock injected: cron, daily, hourly and
interval slots run once each with the slot as the execution date, ``once`` runs once, a paused
job's item is gone, and ``on_change`` runs when a source changes (a feature group's commit, a new
file) and not otherwise."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from job_data import click_events, write_parquet

from raise_ import FeatureGroupSource, FeatureStore, FileSystem, Schedule, SQLTransform, Target
from raise_.client import FeatureGroup
from raise_.engine import Engine
from raise_.jobs.service import JOB_SCHEDULE_KIND, JOB_WATCH_KIND, register_job_schedules
from raise_.scheduling import ManualClock, Scheduler
from raise_.service import DataService


@pytest.fixture
def store_env(fresh_store: Path) -> Path:
    return fresh_store


@pytest.fixture
def totals(open_org: FeatureStore) -> FeatureGroup:
    group = open_org.create_feature_group("totals", entity_keys=["user_id"], event_time="event_time")
    group.create_feature("clicks", "int64")
    return group


def service_of(fs: FeatureStore) -> DataService:
    return Engine.shared(fs._settings).service


def scheduler_at(service: DataService, when: datetime) -> tuple[Scheduler, ManualClock]:
    clock = ManualClock(when)
    scheduler = Scheduler(service.db, runs=service.runs, clock=clock)
    register_job_schedules(scheduler, service.jobs)
    return scheduler, clock


def job_ticks(scheduler: Scheduler) -> list[Any]:
    return [o for o in scheduler.tick() if o.kind in (JOB_SCHEDULE_KIND, JOB_WATCH_KIND)]


def wait_runs(job: Any, count: int, timeout: float = 60) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        runs = job.runs
        if len(runs) >= count and all(r.finished for r in runs):
            return runs
        assert time.monotonic() < deadline, [r.status for r in runs]
        time.sleep(0.1)


def totals_job(fs: FeatureStore, folder: Path, schedule: Schedule, name: str = "totals") -> Any:
    return fs.create_job(
        name=name,
        sources=[FileSystem(path=str(folder), format="parquet", name="clickstream")],
        transform=SQLTransform(
            name="t",
            sql="SELECT user_id, {{execution_date}} AS event_time, count(*) AS clicks "
            "FROM clickstream GROUP BY user_id",
        ),
        target=Target(feature_group="totals"),
        schedule=schedule,
    )


@pytest.mark.parametrize(
    ("schedule", "cron", "every"),
    [
        (Schedule.daily(hour=2, minute=30), "30 2 * * *", None),
        (Schedule.hourly(minute=15), "15 * * * *", None),
        (Schedule.cron("0 */6 * * *"), "0 */6 * * *", None),
        (Schedule.every("30m"), None, 1800.0),
    ],
)
def test_a_slot_runs_once_with_its_execution_date(
    open_org: FeatureStore,
    totals: FeatureGroup,
    tmp_path: Path,
    schedule: Schedule,
    cron: str | None,
    every: float | None,
) -> None:
    write_parquet(click_events(50, seed=1), tmp_path / "events" / "e.parquet")
    job = totals_job(open_org, tmp_path / "events", schedule)
    service = service_of(open_org)
    assert [i for i in service.jobs._scheduler().items() if i.kind == JOB_SCHEDULE_KIND] == []  # a draft: nothing fires
    job.activate()
    (item,) = [i for i in service.jobs._scheduler().items() if i.kind == JOB_SCHEDULE_KIND]
    assert (item.cron, item.every, item.payload) == (cron, every, {"job_id": job.id})
    scheduler, clock = scheduler_at(service, item.next_due_at - timedelta(seconds=1))
    assert job_ticks(scheduler) == []
    clock.advance(seconds=1)
    (outcome,) = job_ticks(scheduler)
    (run,) = wait_runs(job, 1)
    assert outcome.result == {"job_run_id": run.id}
    assert run.trigger == "schedule" and run.status == "succeeded", run.error
    assert run.execution_date == item.next_due_at
    assert set(totals.read().to_pandas()["event_time"]) == {pd.Timestamp(item.next_due_at)}
    assert job_ticks(scheduler) == []  # that slot ran: never again
    job.pause()
    assert [i for i in service.jobs._scheduler().items() if i.kind == JOB_SCHEDULE_KIND] == []
    clock.advance(days=1)
    assert job_ticks(scheduler) == [] and len(job.runs) == 1
    job.resume()
    assert len([i for i in service.jobs._scheduler().items() if i.kind == JOB_SCHEDULE_KIND]) == 1
    scheduler.stop()


def test_once_runs_once(open_org: FeatureStore, totals: FeatureGroup, tmp_path: Path) -> None:
    write_parquet(click_events(20, seed=2), tmp_path / "events" / "e.parquet")
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    job = totals_job(open_org, tmp_path / "events", Schedule.once(at))
    job.activate()
    service = service_of(open_org)
    scheduler, clock = scheduler_at(service, at - timedelta(minutes=1))
    assert job_ticks(scheduler) == []
    clock.advance(minutes=1)
    assert len(job_ticks(scheduler)) == 1
    (run,) = wait_runs(job, 1)
    assert run.execution_date == at and run.status == "succeeded"
    clock.advance(days=400)
    assert job_ticks(scheduler) == [] and len(job.runs) == 1
    scheduler.stop()


def test_on_change_runs_when_a_source_changes(open_org: FeatureStore, totals: FeatureGroup, tmp_path: Path) -> None:
    clicks = open_org.create_feature_group("clicks", entity_keys=["user_id"], event_time="event_time")
    clicks.create_feature("n", "int64")
    clicks.write(pd.DataFrame({"user_id": [1], "event_time": [datetime(2026, 1, 1, tzinfo=UTC)], "n": [1]}))
    folder = tmp_path / "events"
    write_parquet(click_events(10, seed=3), folder / "a.parquet")
    job = open_org.create_job(
        name="follow",
        sources=[
            FeatureGroupSource(feature_group="clicks", features=["n"]),
            FileSystem(path=str(folder), format="parquet", name="clickstream"),
        ],
        transform=SQLTransform(
            name="t",
            sql="SELECT c.user_id, {{execution_date}} AS event_time, count(*) AS clicks "
            "FROM clickstream c GROUP BY c.user_id",
        ),
        target=Target(feature_group="totals"),
        schedule=Schedule.on_change(sources=["clicks", "clickstream"], poll_seconds=30),
    )
    job.activate()
    service = service_of(open_org)
    (item,) = [i for i in service.jobs._scheduler().items() if i.kind == JOB_WATCH_KIND]
    assert item.every == 30.0
    scheduler, clock = scheduler_at(service, item.next_due_at)
    (first,) = job_ticks(scheduler)
    assert first.result == {"changed": []}  # the first look only remembers
    clock.advance(seconds=30)
    assert job_ticks(scheduler)[0].result == {"changed": []}  # nothing changed: no run
    clicks.write(pd.DataFrame({"user_id": [2], "event_time": [datetime(2026, 1, 2, tzinfo=UTC)], "n": [3]}))
    clock.advance(seconds=30)
    (outcome,) = job_ticks(scheduler)
    assert outcome.result["changed"] == ["clicks"]
    wait_runs(job, 1)
    write_parquet(click_events(10, seed=4), folder / "b.parquet")
    clock.advance(seconds=30)
    (outcome,) = job_ticks(scheduler)
    assert outcome.result["changed"] == ["clickstream"]
    runs = wait_runs(job, 2)
    assert [r.trigger for r in runs] == ["on_change", "on_change"] and runs[-1].rows_read == 2 + 20
    clock.advance(seconds=30)
    assert job_ticks(scheduler)[0].result == {"changed": []}
    scheduler.stop()
