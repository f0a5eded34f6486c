"""Real Airflow 3 runs the DAGs Raise generates (issue 21 *Real Airflow 3*): each imports in a
DagBag with PRD §16.1's shape and §16.3's schedule, and ``airflow dags test`` runs the job into
a Raise store, embedded (``RAISE_HOME``) and remote (``RAISE_URL`` + the job token); a failing
run fails the Airflow task with the run's error, and a task Airflow stops fails the run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from airflow_local import RAISE_COMMAND, LocalAirflow
from orchestration_data import click_events, clicks_job, daily_clicks, signals_group, written

from raise_ import AirflowConfig, FeatureStore, Schedule, python_transform
from raise_.engine import Engine

pytestmark = pytest.mark.slow


@pytest.fixture
def catalog_url(tmp_path: Path) -> Iterator[str]:
    """SQLite only: each test here starts Airflow processes (tens of seconds); the catalogs are
    covered on both backends by the rest of tests/orchestration and tests/jobs."""
    yield f"sqlite:///{tmp_path / 'home' / 'catalog.db'}"


def _config(folder: Path, **kw: object) -> AirflowConfig:
    return AirflowConfig(dag_folder=str(folder), raise_command=RAISE_COMMAND, tags=["raise", "test"], **kw)  # type: ignore[arg-type]


def _job_audit(fs: FeatureStore) -> list[dict[str, object]]:
    entries = fs.audit.query(resource="*/jobs/*", limit=200)
    return [{"actor": e.actor, **dict(e.metadata or {})} for e in entries]


def test_every_schedule_imports_in_a_dagbag_with_the_prd_shape(
    open_org: FeatureStore, airflow: LocalAirflow, tmp_path: Path
) -> None:
    fs = open_org
    signals_group(fs)
    dags = tmp_path / "dags"
    fs.transforms.use_airflow(
        config=AirflowConfig(
            dag_folder=str(dags),
            catchup=False,
            max_active_runs=2,
            tags=["raise", "feature-store"],
            pool="raise_transforms",
            queue="default",
            default_args={"owner": "raise", "retries": 3},
        ),
        airflow_url="http://airflow.example.com",
    )
    schedules = {
        "cron_job": (Schedule.cron("0 2 * * *"), "CronTriggerTimetable", "0 2 * * *"),
        "daily_job": (Schedule.daily(hour=5, minute=30), "CronTriggerTimetable", "30 5 * * *"),
        "interval_job": (Schedule.every("1h"), "DeltaTriggerTimetable", "1:00:00"),
        "manual_job": (Schedule.manual(), "NullTimetable", "None"),
        "change_job": (Schedule.on_change(), "NullTimetable", "None"),
        "once_job": (Schedule.once(datetime(2027, 1, 1, tzinfo=UTC)), "OnceTimetable", "@once"),
    }
    for name, (schedule, _, _) in schedules.items():
        job = clicks_job(fs, tmp_path / "data", name=name, schedule=schedule)
        assert fs.deploy_job(job).definition_path == str(dags / f"raise_{name}.py")
    bag = airflow.dagbag(dags)
    assert bag["import_errors"] == {}
    assert sorted(bag["dags"]) == sorted(f"raise_{n}" for n in schedules)
    for name, (_, timetable, summary) in schedules.items():
        dag = bag["dags"][f"raise_{name}"]
        assert dag["tasks"] == ["start", "transform", "quality_checks", "end"]
        assert dag["edges"] == [["quality_checks", "end"], ["start", "transform"], ["transform", "quality_checks"]]
        assert (dag["timetable"], dag["schedule"]) == (timetable, summary), name
        assert dag["catchup"] is False and dag["max_active_runs"] == 2
        assert dag["tags"] == ["feature-store", "raise"]
        assert dag["pools"]["transform"] == dag["pools"]["quality_checks"] == "raise_transforms"
        assert dag["retries"]["transform"] == 3 and dag["owner"] == "raise"
        assert dag["is_paused_upon_creation"] is False


@pytest.mark.parametrize("config_url", [False, True], ids=["worker-env", "config-raise_url"])
def test_dags_test_writes_the_jobs_features_through_a_server_with_the_job_token(
    airflow: LocalAirflow,
    served: Any,
    tmp_path: Path,
    config_url: bool,
) -> None:
    """Remote: the Jupyter server owns the store; the Airflow task reaches it with RAISE_URL and
    the job's token only (no user token), and the run acts as the job's owner."""
    from raise_ import ACL

    fs = FeatureStore("acme/mlplatform/recommendation")
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    group = signals_group(fs)
    job = clicks_job(fs, tmp_path / "data")
    dags = tmp_path / "dags"
    raise_url = served.url if config_url else None
    fs.transforms.use_airflow(config=_config(dags, raise_url=raise_url), airflow_url="http://127.0.0.1:9")
    result = fs.deploy_job(job)
    token = fs.transforms.issue_token(job).token
    env = {"RAISE_JOB_TOKEN": token} if config_url else {"RAISE_URL": served.url, "RAISE_JOB_TOKEN": token}
    done = airflow.dags_test(result.orchestrator_id or "", "2026-01-05", dags, **env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    expected = daily_clicks(click_events())
    pd.testing.assert_frame_equal(written(group), expected, check_dtype=False)
    (run,) = job.runs
    assert (run.status, run.trigger, run.actor) == ("succeeded", "airflow", "alice@acme")
    assert run.rows_written == len(expected)
    assert run.execution_date == datetime(2026, 1, 5, tzinfo=UTC)
    started = [e for e in _job_audit(fs) if e.get("event") == "run" and e.get("run_id") == run.id]
    assert len(started) == 1
    assert started[0]["actor"] == "alice@acme" and started[0]["orchestrator"] == "airflow"
    assert str(started[0]["external_run_id"]).startswith("manual__")
    assert token not in json.dumps(_job_audit(fs), default=str)


def test_dags_test_into_an_embedded_store_and_a_failing_run_fails_the_task(
    open_org: FeatureStore, airflow: LocalAirflow, fresh_store: Path, catalog_url: str, tmp_path: Path
) -> None:
    fs = open_org
    group = signals_group(fs)
    good = clicks_job(fs, tmp_path / "data")
    bad = clicks_job(
        fs,
        tmp_path / "data",
        name="broken_clicks",
        sql="SELECT user_id, DATE(event_time) AS date, COUNT(no_such_column) AS daily_clicks FROM source GROUP BY 1, 2",
    )
    dags = tmp_path / "dags"
    fs.transforms.use_airflow(config=_config(dags), airflow_url=None)
    tokens = {}
    for job in (good, bad):
        fs.deploy_job(job)
        tokens[job.name] = fs.transforms.issue_token(job).token
    # The task opens the store itself (RAISE_HOME): DuckDB admits one process, so this one lets go.
    Engine.close_all()
    store = {"RAISE_HOME": str(fresh_store), "RAISE_CATALOG_URL": catalog_url, "RAISE_USER": "airflow-worker@ops"}
    done = airflow.dags_test("raise_daily_clicks", "2026-01-06", dags, RAISE_JOB_TOKEN=tokens["daily_clicks"], **store)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    failed = airflow.dags_test(
        "raise_broken_clicks", "2026-01-06", dags, RAISE_JOB_TOKEN=tokens["broken_clicks"], **store
    )
    assert failed.returncode != 0
    output = failed.stdout + failed.stderr
    assert "DagRun failed" in output
    assert "[TRANSFORM_FAILED]" in output and "no_such_column" in output  # the run's error, in the task's log

    fs = FeatureStore("acme/mlplatform/recommendation")
    pd.testing.assert_frame_equal(
        written(fs.feature_group("user-signals")), daily_clicks(click_events()), check_dtype=False
    )
    (ok,) = fs.get_job("daily_clicks").runs
    (broken,) = fs.get_job("broken_clicks").runs
    assert (ok.status, ok.actor, ok.trigger) == ("succeeded", "alice@acme", "airflow")
    assert (broken.status, broken.error_code, broken.rows_written) == ("failed", "TRANSFORM_FAILED", 0)
    del group


def test_a_task_airflow_stops_fails_the_raise_run(
    served: Any,
    tmp_path: Path,
) -> None:
    """The reverse direction: SIGTERM to the task's `raise jobs run` (what Airflow sends a task it
    times out or marks failed) fails the Raise run with ORCHESTRATOR_FAILED, and its compute stops."""
    fs = FeatureStore("acme/mlplatform/recommendation")
    from raise_ import ACL, FileSystem, Target

    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    signals_group(fs)
    click_events().to_parquet(tmp_path / "events.parquet", index=False)

    @python_transform(name="slow")
    def slow(context, data):  # type: ignore[no-untyped-def]
        import time as _time

        _time.sleep(120)
        return data

    job = fs.create_job(
        name="slow_clicks",
        sources=[FileSystem(path=str(tmp_path / "events.parquet"), format="parquet")],
        transform=slow,
        target=Target(feature_group="user-signals", key_columns=["user_id", "event_time"]),
    )
    fs.transforms.use_airflow(config=_config(tmp_path / "dags"), airflow_url=None)
    fs.deploy_job(job)
    token = fs.transforms.issue_token(job).token
    env = {k: v for k, v in os.environ.items() if k != "RAISE_TOKEN"} | {"RAISE_JOB_TOKEN": token}
    task = subprocess.Popen(
        [RAISE_COMMAND, "jobs", "run", f"{fs.path}/slow_clicks", "--json", "--external-run-id", "scheduled__x"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (job.reload().last_run and job.last_run.status == "running"):
        time.sleep(0.2)
    assert job.last_run is not None and job.last_run.status == "running"
    task.send_signal(signal.SIGTERM)
    out, err = task.communicate(timeout=60)
    assert task.returncode == 1, err
    reported = json.loads(out.strip().splitlines()[-1])
    run = job.reload().last_run
    assert run is not None
    assert (run.status, run.error_code) == ("failed", "ORCHESTRATOR_FAILED")
    assert "Stopped by airflow" in (run.error or "") and reported["status"] == "failed"
    assert len(fs.feature_group("user-signals").read().to_pandas()) == 0  # nothing written
