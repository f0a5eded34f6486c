"""Who may do what with a job, what the audit log says, where a job shows in lineage, the lifecycle
of PRD §15.9, and bad input: coded errors (4xx through the server) and nothing changed. Runs
embedded and through the Jupyter server, on both catalogs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from job_data import click_events, write_parquet

from raise_ import (
    ACL,
    FeatureGroupSource,
    FeatureStore,
    FileSystem,
    SQLTransform,
    Target,
)
from raise_.client import FeatureGroup
from raise_.errors import (
    FeatureNotFoundError,
    InvalidJobError,
    JobExistsError,
    JobNotFoundError,
    JobStateError,
    PermissionDeniedError,
)

SQL = "SELECT user_id, max(event_time) AS event_time, count(*) AS clicks FROM clickstream GROUP BY user_id"


@pytest.fixture
def totals(open_org: FeatureStore) -> FeatureGroup:
    group = open_org.create_feature_group("totals", entity_keys=["user_id"], event_time="event_time")
    group.create_feature("clicks", "int64")
    return group


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_parquet(click_events(120, seed=11), tmp_path / "events" / "e.parquet")
    return tmp_path / "events"


def make_job(fs: FeatureStore, folder: Path, name: str = "totals", target: object = "totals") -> object:
    return fs.create_job(
        name=name,
        sources=[FileSystem(path=str(folder), format="parquet", name="clickstream")],
        transform=SQLTransform(name="t", sql=SQL),
        target=target,
    )


def as_user(monkeypatch: pytest.MonkeyPatch, user: str) -> FeatureStore:
    monkeypatch.setenv("RAISE_USER", user)
    return FeatureStore("acme/mlplatform/recommendation")


def test_creating_needs_write_on_the_target_and_runs_act_as_the_owner(
    open_org: FeatureStore, totals: FeatureGroup, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    totals.set_acl(ACL(readers=["*@acme"], writers=["alice@acme", "bob@acme"], inherit=False))
    carol = as_user(monkeypatch, "carol@acme")
    with pytest.raises(PermissionDeniedError, match="write"):
        make_job(carol, folder)
    bob = as_user(monkeypatch, "bob@acme")
    job = make_job(bob, folder)
    assert job.owner == "bob@acme"
    alice = as_user(monkeypatch, "alice@acme")
    run = alice.get_job("totals").run()
    assert run.status == "succeeded" and run.actor == "alice@acme"
    writes = alice.audit.query(resource="acme/mlplatform/recommendation/totals*", actions=["WRITE"])
    assert [e.actor for e in writes] == ["bob@acme"]  # the run wrote as the job's owner
    triggered = [e for e in alice.audit.query(actions=["UPDATE_METADATA"]) if e.metadata.get("event") == "run"]
    assert [(e.actor, e.metadata["run_id"]) for e in triggered] == [("alice@acme", run.id)]
    # carol may read the group, not change it: she sees the job, cannot run it
    carol = as_user(monkeypatch, "carol@acme")
    assert [j.name for j in carol.list_jobs()] == ["totals"]
    with pytest.raises(PermissionDeniedError):
        carol.get_job("totals").run()
    # the owner loses write: the next run fails and writes nothing
    alice = as_user(monkeypatch, "alice@acme")
    totals.set_acl(ACL(readers=["*@acme"], writers=["alice@acme"], inherit=False))
    before = len(totals.read(history=True).to_pandas())
    denied = alice.get_job("totals").run()
    assert (denied.status, denied.error_code) == ("failed", "PERMISSION_DENIED")
    assert "bob@acme" in denied.error
    assert len(totals.read(history=True).to_pandas()) == before


def test_a_job_shows_in_its_features_lineage(open_org: FeatureStore, totals: FeatureGroup, folder: Path) -> None:
    make_job(open_org, folder, target=Target(feature_group="totals", features={"clicks": "clicks"}))
    downstream = open_org.create_feature_group("summary", entity_keys=["user_id"], event_time="event_time")
    downstream.create_feature("double_clicks", "int64")
    open_org.create_job(
        name="doubles",
        sources=[FeatureGroupSource(feature_group="totals", features=["clicks"])],
        transform=SQLTransform(name="d", sql="SELECT user_id, event_time, clicks * 2 AS double_clicks FROM totals"),
        target="summary",
    )
    lineage = totals.feature("clicks").get_lineage()
    (writer,) = lineage.upstream_jobs
    assert writer.qualified_name == "acme/mlplatform/recommendation/jobs/totals"
    assert writer.inputs == [{"namespace": "file", "name": str(folder), "source": "clickstream", "type": "filesystem"}]
    assert writer.outputs == [
        {"namespace": "raise", "name": "acme/mlplatform/recommendation/totals", "features": ["clicks"]}
    ]
    (reader,) = lineage.downstream_jobs
    assert reader.name == "doubles" and reader.outputs[0]["name"].endswith("/summary")
    events = {e["job"]["name"]: e for e in lineage.to_openlineage()}
    job_event = events["acme/mlplatform/recommendation/jobs/totals"]
    assert job_event["inputs"] == [{"namespace": "file", "name": str(folder)}]
    assert job_event["outputs"] == [{"namespace": "raise://acme", "name": "acme/mlplatform/recommendation/totals"}]
    assert [j["name"] for j in lineage.to_dict()["jobs"]] == ["doubles", "totals"]


def test_lifecycle(open_org: FeatureStore, totals: FeatureGroup, folder: Path) -> None:
    job = make_job(open_org, folder)
    assert job.status == "draft"
    assert job.activate().status == "active"
    assert job.pause().status == "paused"
    with pytest.raises(JobStateError, match="paused"):
        job.pause()
    assert job.resume().status == "active"
    assert job.undeploy().status == "draft"
    assert open_org.deploy_job(job).status == "active" and job.status == "active"
    assert job.deprecate().status == "deprecated"
    with pytest.raises(JobStateError):
        job.run()
    with pytest.raises(JobStateError):
        job.activate()
    assert [j.status for j in open_org.list_jobs(status="deprecated")] == ["deprecated"]
    assert job.delete() is True
    with pytest.raises(JobNotFoundError):
        open_org.get_job("totals")


def test_bad_input_changes_nothing(open_org: FeatureStore, totals: FeatureGroup, folder: Path) -> None:
    make_job(open_org, folder)
    with pytest.raises(JobExistsError):
        make_job(open_org, folder)
    with pytest.raises(JobNotFoundError):
        open_org.get_job("nope")
    with pytest.raises(FeatureNotFoundError, match="create_features=True"):
        make_job(open_org, folder, name="unmapped", target=Target(feature_group="totals", features={"clicks": "nope"}))
    with pytest.raises(InvalidJobError, match="Unknown source type"):
        open_org.create_job(
            name="bad", sources=[{"source_type": "ftp"}], transform=SQLTransform(name="t", sql=SQL), target="totals"
        )
    with pytest.raises(InvalidJobError, match="upsert"):
        make_job(open_org, folder, name="bad", target=Target(feature_group="totals", write_mode="upsert"))
    backend = open_org._backend
    with pytest.raises(InvalidJobError):
        backend.create_job(open_org.path, "raw", {"sources": [], "transform": {}, "target": {}}, None, None, "error")
    with pytest.raises(InvalidJobError):
        backend.create_job(
            open_org.path,
            "raw",
            {
                "sources": [{"source_type": "filesystem", "path": str(folder), "format": "xlsx"}],
                "transform": {"transform_type": "sql", "name": "t", "sql": SQL},
                "target": "totals",
            },
            None,
            None,
            "error",
        )
    assert [j.name for j in open_org.list_jobs()] == ["totals"]


def test_a_missing_output_feature_is_refused_before_anything_is_written_or_created_on_request(
    open_org: FeatureStore, totals: FeatureGroup, folder: Path
) -> None:
    extra = (
        "SELECT user_id, max(event_time) AS event_time, count(*) AS clicks, avg(revenue) AS avg_revenue "
        "FROM clickstream GROUP BY user_id"
    )
    job = open_org.create_job(
        name="extra",
        sources=[FileSystem(path=str(folder), format="parquet", name="clickstream")],
        transform=SQLTransform(name="t", sql=extra),
        target="totals",
    )
    run = job.run()
    assert (run.status, run.error_code) == ("failed", "FEATURE_NOT_FOUND") and "avg_revenue" in run.error
    assert len(totals.read().to_pandas()) == 0
    job.update(target=Target(feature_group="totals", create_features=True))
    run = job.run()
    assert run.status == "succeeded", run.error
    assert str(totals.feature("avg_revenue").dtype) == "float64"
    events = click_events(120, seed=11)
    want = events.groupby("user_id")["revenue"].mean().sort_index()
    got = totals.read().to_pandas().set_index("user_id")["avg_revenue"].sort_index()
    assert got.to_numpy() == pytest.approx(want.to_numpy())
    assert pd.Index(got.index).equals(pd.Index(want.index))
