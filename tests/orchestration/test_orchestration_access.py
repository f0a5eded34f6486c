"""Who may choose an orchestrator and deploy to it, what a job token opens (issue 21 *Access*),
and the job's orchestrator seen by the store's own scheduler. Embedded and through the Jupyter
server, on both catalogs; bad input gets coded errors and changes nothing."""

from __future__ import annotations

import ast
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from orchestration_data import clicks_job, signals_group

from raise_ import ACL, AirflowConfig, FeatureStore, Schedule
from raise_.errors import InvalidArgumentError, InvalidJobTokenError, PermissionDeniedError


@pytest.fixture
def store_env(store_on_both_backends: Path) -> Path:
    return store_on_both_backends


def as_user(monkeypatch: pytest.MonkeyPatch, user: str) -> FeatureStore:
    monkeypatch.setenv("RAISE_USER", user)
    return FeatureStore("acme/mlplatform/recommendation")


def _airflow(fs: FeatureStore, folder: Path) -> None:
    fs.transforms.use_airflow(config=AirflowConfig(dag_folder=str(folder)), airflow_url="http://airflow.example.com")


def test_choosing_airflow_and_deploying_to_it_need_admin(
    open_org: FeatureStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    signals_group(open_org)
    dags = tmp_path / "dags"
    bob = as_user(monkeypatch, "bob@acme")  # a writer of the organization, no admin
    with pytest.raises(PermissionDeniedError, match="admin"):
        _airflow(bob, dags)
    assert bob.transforms.orchestrator["orchestrator"] == "internal"  # nothing changed
    job = clicks_job(bob, tmp_path / "data", name="bobs_clicks")  # bob may write the group: his job

    alice = as_user(monkeypatch, "alice@acme")  # created the organization: admin
    _airflow(alice, dags)
    bob = as_user(monkeypatch, "bob@acme")
    with pytest.raises(PermissionDeniedError, match="admin"):
        bob.deploy_job("bobs_clicks")
    assert not dags.exists() and bob.get_job("bobs_clicks").status == "draft"
    with pytest.raises(PermissionDeniedError, match="admin"):
        bob.transforms.issue_token("bobs_clicks")

    alice = as_user(monkeypatch, "alice@acme")
    result = alice.deploy_job("bobs_clicks")
    assert (result.orchestrator, result.orchestrator_id) == ("airflow", "raise_bobs_clicks")
    assert result.url == "http://airflow.example.com/dags/raise_bobs_clicks"
    assert Path(result.definition_path or "").read_text() == (dags / "raise_bobs_clicks.py").read_text()
    assert alice.get_job("bobs_clicks").orchestrator == "airflow"
    del job

    # The internal orchestrator stays open to writers, as before.
    alice.transforms.use_internal()
    bob = as_user(monkeypatch, "bob@acme")
    other = clicks_job(bob, tmp_path / "data", name="internal_clicks", schedule=Schedule.every("1h"))
    assert bob.deploy_job(other).orchestrator == "internal"
    assert other.reload().status == "active"


def test_the_internal_scheduler_leaves_an_airflow_job_alone(
    open_org: FeatureStore, catalog_engine: sa.Engine, tmp_path: Path
) -> None:
    signals_group(open_org)
    job = clicks_job(open_org, tmp_path / "data", schedule=Schedule.every("1h"))
    open_org.deploy_job(job)  # internal: its schedule is an enabled item
    query = sa.text("SELECT enabled FROM scheduled_items WHERE name = :n")
    with catalog_engine.connect() as c:
        assert c.execute(query, {"n": f"job:{job.id}"}).scalar() in (True, 1)
    _airflow(open_org, tmp_path / "dags")
    open_org.deploy_job(job)  # moved to Airflow: the item no longer fires here
    with catalog_engine.connect() as c:
        assert c.execute(query, {"n": f"job:{job.id}"}).scalar() in (None, False, 0)
    assert job.reload().orchestrator == "airflow" and job.status == "active"
    open_org.transforms.undeploy(job)
    assert not (tmp_path / "dags" / "raise_daily_clicks.py").exists()
    assert (job.reload().status, job.orchestrator) == ("draft", "internal")


def test_a_job_token_opens_its_own_jobs_runs_only_and_expires(
    open_org: FeatureStore, catalog_engine: sa.Engine, tmp_path: Path
) -> None:
    fs = open_org
    signals_group(fs)
    mine = clicks_job(fs, tmp_path / "data", name="mine")
    clicks_job(fs, tmp_path / "data", name="other")
    _airflow(fs, tmp_path / "dags")
    fs.deploy_job(mine)
    issued = fs.transforms.issue_token(mine)
    assert issued.token not in repr(issued)
    backend = fs._backend
    with pytest.raises(InvalidJobTokenError):
        backend.start_orchestrated_run(fs.path, "other", issued.token)
    with pytest.raises(InvalidJobTokenError):
        backend.start_orchestrated_run(fs.path, "mine", "raise-job-guessed")
    run = backend.start_orchestrated_run(fs.path, "mine", issued.token, None, "airflow", "scheduled__2026")
    while not run.finished:
        time.sleep(0.1)
        run = backend.orchestrated_run(fs.path, "mine", issued.token, run.id)
    assert (run.status, run.trigger, run.actor) == ("succeeded", "airflow", "alice@acme")
    assert issued.token not in run.log + (run.error or "")
    assert "raise-job-" not in (tmp_path / "dags" / "raise_mine.py").read_text()  # no token in the DAG file

    # Only the hash is stored; the audit names the orchestrator and never holds the token.
    with catalog_engine.connect() as c:
        stored = [tuple(r) for r in c.execute(sa.text("SELECT token_hash, revoked_at FROM job_tokens"))]
    assert len(stored) == 2 and all(issued.token not in str(r) for r in stored)  # deploy's + this one
    entries = fs.audit.query(resource="*/jobs/mine", limit=100)
    assert issued.token not in json.dumps([e.to_dict() for e in entries], default=str)
    started = [e for e in entries if e.metadata.get("run_id") == run.id]
    assert [(e.actor, e.metadata["orchestrator"], e.metadata["external_run_id"]) for e in started] == [
        ("alice@acme", "airflow", "scheduled__2026")
    ]

    renewed = fs.transforms.issue_token(mine, ttl_seconds=1)  # the earlier token is revoked
    with pytest.raises(InvalidJobTokenError):
        backend.orchestrated_run(fs.path, "mine", issued.token, run.id)
    assert backend.orchestrated_run(fs.path, "mine", renewed.token, run.id).id == run.id
    time.sleep(1.2)
    with pytest.raises(InvalidJobTokenError):
        backend.orchestrated_run(fs.path, "mine", renewed.token, run.id)  # expired


def test_bad_orchestration_input_is_a_coded_error_and_changes_nothing(open_org: FeatureStore, tmp_path: Path) -> None:
    fs = open_org
    with pytest.raises(InvalidArgumentError, match="max_active_runs"):
        AirflowConfig(max_active_runs=0)
    with pytest.raises(InvalidArgumentError, match="pool"):
        AirflowConfig(pool="bad pool; rm -rf")
    with pytest.raises(InvalidArgumentError, match="default_args"):
        AirflowConfig(default_args={"on_failure_callback": print})
    with pytest.raises(InvalidArgumentError, match="Unknown orchestrator"):
        fs._backend.use_orchestrator(fs.path, "dagster", None, None)
    with pytest.raises(InvalidArgumentError, match="http"):
        fs.transforms.use_airflow(config=AirflowConfig(dag_folder=str(tmp_path)), airflow_url="ftp://x")
    with pytest.raises(InvalidArgumentError, match="Unknown AirflowConfig field"):
        fs._backend.use_orchestrator(fs.path, "airflow", {"dag_folder": "/x", "sneaky": 1}, None)
    assert fs.transforms.orchestrator["orchestrator"] == "internal"
    signals_group(fs)
    job = clicks_job(fs, tmp_path / "data")
    with pytest.raises(InvalidArgumentError, match="ttl_seconds"):
        fs.transforms.issue_token(job, ttl_seconds=-5)
    with pytest.raises(InvalidArgumentError, match="not Airflow"):
        fs.transforms.trigger(job)  # an internal job has no DAG to trigger


def test_the_generated_dag_keeps_user_text_as_literals(open_org: FeatureStore, tmp_path: Path) -> None:
    """A description or a tag with quotes and newlines stays a string in the DAG file, never code."""
    fs = open_org
    signals_group(fs)
    hostile = 'x"""\nimport os; os.system("echo pwned")\n"""'
    job = clicks_job(fs, tmp_path / "data", description=hostile)
    fs.transforms.use_airflow(
        config=AirflowConfig(dag_folder=str(tmp_path / "dags"), tags=["raise", "a'b\"c"]), airflow_url=None
    )
    source = fs.transforms.generate_dag(job)
    tree = ast.parse(source)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "DAG"]
    (dag,) = calls
    kwargs = {k.arg: k.value for k in dag.keywords}
    assert ast.literal_eval(kwargs["description"]) == hostile
    assert ast.literal_eval(kwargs["tags"]) == ["raise", "a'b\"c"]
    assert "os.system" not in [ast.unparse(n) for n in tree.body]  # no statement of the user's
    assert not any(isinstance(n, ast.Import) and n.names[0].name == "os" and n.lineno > 20 for n in tree.body)


def test_over_http_a_job_token_reaches_its_three_routes_only(served: Any, tmp_path: Path) -> None:
    from raise_.client.remote import RemoteBackend

    fs = FeatureStore("acme/mlplatform/recommendation")
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    signals_group(fs)
    job = clicks_job(fs, tmp_path / "data")
    _airflow(fs, tmp_path / "dags")
    fs.deploy_job(job)
    token = fs.transforms.issue_token(job).token
    as_job = RemoteBackend(served.url, token)  # no user token: the job token alone
    with pytest.raises(PermissionDeniedError, match="job token may only"):
        as_job.list_jobs(fs.path)
    with pytest.raises(PermissionDeniedError):
        as_job.issue_job_token(fs.path, "daily_clicks")  # cannot mint itself a successor
    for page in ("health", "metrics"):  # Raise's other handlers refuse it too
        request = urllib.request.Request(f"{served.url}raise/v1/{page}", headers={"Authorization": f"Bearer {token}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403
    run = as_job.start_orchestrated_run(fs.path, "daily_clicks", token, None, "airflow", "manual__http")
    while not run.finished:
        time.sleep(0.1)
        run = as_job.orchestrated_run(fs.path, "daily_clicks", token, run.id)
    assert (run.status, run.actor, run.trigger) == ("succeeded", "alice@acme", "airflow")
    bogus = RemoteBackend(served.url, "raise-job-not-a-real-one")
    with pytest.raises(InvalidJobTokenError) as invalid:
        bogus.start_orchestrated_run(fs.path, "daily_clicks", "raise-job-not-a-real-one")
    assert invalid.value.code == "INVALID_JOB_TOKEN"


def test_activating_a_job_reports_its_first_scheduled_run(open_org: FeatureStore, tmp_path: Path) -> None:
    """The record an activation returns is read after the schedule is in place (it was read
    before, inside the write transaction: no next run, and on SQLite a 30 s wait for the lock
    when the first activation made the store's scheduler)."""
    signals_group(open_org)
    job = clicks_job(open_org, tmp_path / "data", schedule=Schedule.every("1h"))
    job.activate()
    assert job.status == "active" and job.next_run_at is not None
    assert job.next_run_at == open_org.get_job(job.name).next_run_at
