"""Trigger, status, runs, pause and delete through Airflow 3's REST API (``/api/v2``, its token
auth) against a real ``airflow api-server`` with its scheduler and DAG processor on loopback
(issue 21 *Real Airflow 3*). The scheduler runs the DAG's task, which reaches the store's server
with the job token deployment handed to Airflow as a Variable."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from airflow_local import RAISE_COMMAND, LocalAirflow
from orchestration_data import click_events, clicks_job, daily_clicks, signals_group, written

from raise_ import ACL, AirflowConfig, FeatureStore, Schedule
from raise_.errors import InvalidJobTokenError, OrchestratorUnavailableError
from raise_.orchestration.airflow.client import AirflowClient, AirflowCredentials

pytestmark = pytest.mark.slow


@pytest.fixture
def catalog_url(tmp_path: Path) -> Iterator[str]:
    """SQLite only: this suite is about Airflow's side, and its three services are the slowest
    thing CI starts (the catalogs are covered by test_airflow_dags.py)."""
    yield f"sqlite:///{tmp_path / 'home' / 'catalog.db'}"


@pytest.fixture(scope="module", autouse=True)
def _services_for_this_module_only(airflow: LocalAirflow) -> Iterator[None]:
    """Airflow's three services busy both cores: they run for this module's tests, not the rest of
    the session's."""
    yield
    airflow.stop()


def _until(what: str, check: Callable[[], Any], timeout: float = 180.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(1.0)
    raise AssertionError(f"timed out waiting for {what}")


def test_trigger_status_runs_pause_and_delete_through_airflows_api(
    airflow: LocalAirflow,
    served: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    api = airflow.start_services()
    # Credentials for Airflow's API: the environment of the process that owns the store (this
    # one: the Jupyter server runs in a thread of it), never the notebook's arguments.
    monkeypatch.setenv("RAISE_AIRFLOW_USERNAME", "admin")
    monkeypatch.setenv("RAISE_AIRFLOW_PASSWORD", airflow.admin_password())
    fs = FeatureStore("acme/mlplatform/recommendation")
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    group = signals_group(fs)
    job = clicks_job(fs, tmp_path / "data", name="api_clicks", schedule=Schedule.manual())
    config = AirflowConfig(
        dag_folder=str(airflow.dags), raise_command=RAISE_COMMAND, raise_url=served.url, tags=["raise"]
    )
    fs.transforms.use_airflow(config=config, airflow_url=api)
    result = fs.deploy_job(job)
    assert result.warnings == []  # the job token went to Airflow as a Variable
    assert result.url == f"{api}/dags/raise_api_clicks"
    assert job.orchestrator == "airflow"

    # An on_change job on Airflow: the store watches its source and triggers the DAG through
    # Airflow's API when the source changes (PRD §16.3's "external trigger").
    watched = clicks_job(fs, tmp_path / "watched", name="watched_clicks", schedule=Schedule.on_change(poll_seconds=1))
    assert fs.deploy_job(watched).warnings == []

    client = AirflowClient(api, AirflowCredentials(username="admin", password=airflow.admin_password()))
    # The Variable holds a live token for this job: Airflow masks it, Raise stored only its hash.
    status = _until(
        "the DAG processor to parse the DAG", lambda: (s := fs.transforms.status(job))["detail"] is None and s
    )
    assert status["orchestrator_id"] == "raise_api_clicks" and status["paused"] is False

    dag_run_id = fs.transforms.trigger(job)
    final = _until(
        "the DAG run to finish",
        lambda: next(
            (
                r
                for r in fs.transforms.runs(job)
                if r["dag_run_id"] == dag_run_id and r["state"] in ("success", "failed")
            ),
            None,
        ),
    )
    tasks = {t["task_id"]: t["state"] for t in client.task_instances("raise_api_clicks", dag_run_id)}
    assert final["state"] == "success", tasks
    assert tasks == {"start": "success", "transform": "success", "quality_checks": "success", "end": "success"}

    pd.testing.assert_frame_equal(written(group), daily_clicks(click_events()), check_dtype=False)
    (run,) = job.runs
    assert (run.status, run.trigger, run.actor) == ("succeeded", "airflow", "alice@acme")
    entries = [e.metadata for e in fs.audit.query(resource="*/jobs/api_clicks", limit=100)]
    assert any(m.get("external_run_id") == dag_run_id and m.get("orchestrator") == "airflow" for m in entries)

    # The watcher has long remembered the watched source by now (it looks every few seconds).
    click_events(n=50, seed=99).to_parquet(tmp_path / "watched" / "events.parquet", index=False)
    changed = _until(
        "the change-triggered DAG run to finish",
        lambda: next((r for r in fs.transforms.runs(watched) if r["state"] in ("success", "failed")), None),
    )
    assert changed["state"] == "success" and changed["run_type"] == "manual"  # triggered through the API
    (watched_run,) = watched.runs
    assert (watched_run.status, watched_run.trigger) == ("succeeded", "airflow")
    triggered = [e.metadata for e in fs.audit.query(resource="*/jobs/watched_clicks", limit=100)]
    assert any(m.get("event") == "triggered" and m.get("reason") == "on_change" for m in triggered)

    status = fs.transforms.status(job)
    assert status["last_run"]["run_id"] == dag_run_id and status["last_run"]["status"] == "success"
    assert fs.transforms.pause(job)["is_paused"] is True
    assert client.get_dag("raise_api_clicks")["is_paused"] is True
    assert fs.transforms.status(job)["paused"] is True

    token = fs.transforms.issue_token(job).token  # (revoked below by undeploying)
    fs.transforms.undeploy(job)
    assert not (airflow.dags / "raise_api_clicks.py").exists()
    with pytest.raises(OrchestratorUnavailableError, match="has no dags/raise_api_clicks"):
        client.get_dag("raise_api_clicks")
    assert job.reload().status == "draft" and job.orchestrator == "internal"
    with pytest.raises(InvalidJobTokenError):
        fs._backend.start_orchestrated_run(fs.path, "api_clicks", token)  # type: ignore[attr-defined]


def test_airflows_api_refusing_the_credentials_is_a_coded_error(airflow: LocalAirflow) -> None:
    api = airflow.start_services()
    client = AirflowClient(api, AirflowCredentials(username="admin", password="not-the-password"))
    with pytest.raises(OrchestratorUnavailableError) as caught:
        client.get_dag("anything")
    assert caught.value.code == "ORCHESTRATOR_UNAVAILABLE"
    assert "not-the-password" not in caught.value.message
    unreachable = AirflowClient("http://127.0.0.1:9", AirflowCredentials(token="t0ken"))
    with pytest.raises(OrchestratorUnavailableError, match="unreachable"):
        unreachable.dag_runs("anything")
