"""Asynchronous analyses (README *Async Analysis*): ``analyze_async`` returns a job at once; the job
runs on a worker thread of the process that owns the store (in the server, off its event loop),
persists in ``analysis_jobs``, and can be waited for, polled, cancelled and listed by the user who
submitted it. Every test runs embedded and through a real Jupyter server."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa

from raise_ import ACL, Aggregation, Correlation, FeatureStore, Freshness, StatTest
from raise_.analytics import AnalysisJob
from raise_.catalog.models import AnalysisJobModel
from raise_.client.group import FeatureGroup
from raise_.errors import (
    AnalysisFailedError,
    AnalysisJobNotFoundError,
    AnalysisTimeoutError,
    FeatureNotFoundError,
    InvalidAnalysisError,
    InvalidArgumentError,
)

G = "acme/mlplatform/recommendation/user-signals"
JOBS = AnalysisJobModel.__table__
CORR = Correlation(features=["user-signals.clicks", "user-signals.revenue"], method="spearman")
SLOW_ROWS, SLOW_WINDOW = 400_000, 40_000


@pytest.fixture
def store_env(store_on_both_backends: Path) -> Path:
    return store_on_both_backends


@pytest.fixture
def group(fs: FeatureStore) -> FeatureGroup:
    g = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    g.create_feature("clicks", "int64")
    g.create_feature("revenue", "float64")
    g.create_feature("variant", "string")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    g.write(
        [
            {
                "user_id": i,
                "event_time": start + timedelta(hours=i),
                "clicks": (i * 7) % 11,
                "revenue": float(i % 5) + i / 10,
                "variant": "control" if i % 2 else "treatment",
            }
            for i in range(40)
        ]
    )
    return g


@pytest.fixture
def slow(fs: FeatureStore) -> Correlation:
    """A correlation that runs for many seconds in DuckDB (a sliding-window median over
    400,000 rows), so a job of it is still running when the test acts on it."""
    big = fs.create_feature_group("big", entity_keys=["user_id"], event_time="event_time")
    big.create_feature("a", "float64")
    big.create_feature(
        "slow",
        "float64",
        derived_from=f"MEDIAN(a) OVER (ORDER BY event_time ROWS BETWEEN {SLOW_WINDOW} PRECEDING AND CURRENT ROW)",
    )
    rows = duckdb.sql(
        "SELECT i AS user_id, TIMESTAMPTZ '2026-01-01' + to_seconds(i) AS event_time, (i * 7919 % 1000) / 10.0 AS a "
        f"FROM range({SLOW_ROWS}) t(i)"
    ).to_arrow_table()
    big.write(rows)
    return Correlation(features=["big.a", "big.slow"])


def until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def running(job: AnalysisJob) -> AnalysisJob:
    until(lambda: job.refresh().status != "pending")
    assert job.status == "running", job
    return job


def job_rows(engine: sa.Engine) -> dict[str, tuple[object, ...]]:
    query = sa.select(
        JOBS.c.id, JOBS.c.status, JOBS.c.submitted_by, JOBS.c.scope_path, JOBS.c.result_id, JOBS.c.error_code
    )
    with engine.connect() as conn:
        return {str(r[0]): tuple(r[1:]) for r in conn.execute(query)}


def test_a_job_gives_the_same_result_as_the_synchronous_analysis(fs: FeatureStore, group: FeatureGroup) -> None:
    job = fs.analyze_async(CORR)
    assert uuid.UUID(job.id) and job.status in ("pending", "running", "completed")
    assert job.record.submitted_by == "alice@acme" and job.record.scope == G
    assert job.record.spec == {"type": "correlation", "features": ["clicks", "revenue"], "method": "spearman",
                               "window": None, "end": None}  # fmt: skip
    result = job.wait(timeout=60)
    assert job.status == "completed" and job.done and job.record.result_id == result.id
    sync = fs.analyze(CORR)
    assert result.data == sync.data and result.features == ["clicks", "revenue"]
    expected = pd.DataFrame([{"clicks": (i * 7) % 11, "revenue": float(i % 5) + i / 10} for i in range(40)]).corr(
        method="spearman"
    )
    pd.testing.assert_frame_equal(result.to_dataframe(), expected)
    pd.testing.assert_frame_equal(result.to_dataframe(), sync.to_dataframe())
    # the job computed it (REAL_TIME); the later synchronous call computed its own
    assert result.from_cache is False and sync.id != result.id
    assert job.result().id == result.id and fs.analysis_job(job.id).result().data == result.data
    assert fs.analysis_result(result.id).data == result.data


def test_polling_a_job_as_the_readme_does(fs: FeatureStore, group: FeatureGroup) -> None:
    job = group.analyze_async(Aggregation(feature="clicks", metrics=["sum", "max"]))
    seen = {job.status}
    while job.status in ("pending", "running"):
        time.sleep(0.02)
        seen.add(job.refresh().status)
    assert job.status == "completed" and seen <= {"pending", "running", "completed"}
    assert job.result().metrics == {"sum": sum((i * 7) % 11 for i in range(40)), "max": 10}
    assert job.record.started_at is not None and job.record.completed_at is not None
    assert job.record.created_at <= job.record.started_at <= job.record.completed_at
    assert repr(job) == f"AnalysisJob(id={job.id!r}, status='completed', type='aggregation')"


def test_a_job_follows_its_freshness(fs: FeatureStore, group: FeatureGroup) -> None:
    computed = fs.analyze(CORR)
    reused = fs.analyze_async(CORR, freshness=Freshness.WITHIN("1h"))
    assert reused.record.freshness == "within:1h"
    got = reused.wait(timeout=60)
    assert (got.id, got.from_cache) == (computed.id, True)


def test_a_job_that_fails_at_run_time_ends_failed_with_the_coded_error(
    fs: FeatureStore, group: FeatureGroup, catalog_engine: sa.Engine
) -> None:
    spec = StatTest(feature="clicks", test="ttest", segment_by="variant", control="control", treatment="variant_a")
    with pytest.raises(InvalidAnalysisError) as sync_error:
        group.analyze(spec)
    job = group.analyze_async(spec)  # the spec is valid: it fails only when it runs
    with pytest.raises(AnalysisFailedError) as waited:
        job.wait(timeout=60)
    assert job.status == "failed" and job.record.error_code == "INVALID_ANALYSIS"
    assert job.error == sync_error.value.message
    assert "variant='variant_a' has 0 value(s)" in job.error and "'control', 'treatment'" in job.error
    assert f"Analysis job {job.id} is failed: {job.error}" in str(waited.value)
    assert waited.value.details["error_code"] == "INVALID_ANALYSIS"
    with pytest.raises(AnalysisFailedError, match="is failed"):
        job.result()
    assert job_rows(catalog_engine)[job.id] == ("failed", "alice@acme", G, None, "INVALID_ANALYSIS")


def test_a_bad_spec_or_group_fails_when_submitted(fs: FeatureStore, group: FeatureGroup) -> None:
    with pytest.raises(InvalidAnalysisError):
        group.analyze_async(Aggregation(feature="variant", metrics=["nope"]))
    with pytest.raises(FeatureNotFoundError, match="Feature 'missing' not found in group 'user-signals'"):
        group.analyze_async(Aggregation(feature="missing", metrics=["sum"]))
    assert fs.list_analysis_jobs() == []


def test_jobs_persist_in_analysis_jobs(fs: FeatureStore, group: FeatureGroup, catalog_engine: sa.Engine) -> None:
    done = group.analyze_async(Aggregation(feature="clicks", metrics=["count"]))
    result = done.wait(timeout=60)
    assert job_rows(catalog_engine) == {done.id: ("completed", "alice@acme", G, uuid.UUID(result.id), None)}
    with catalog_engine.connect() as conn:
        spec, freshness, runner = conn.execute(
            sa.select(JOBS.c.analysis_spec, JOBS.c.freshness, JOBS.c.runner).where(JOBS.c.id == uuid.UUID(done.id))
        ).one()
    assert spec == Aggregation(feature="clicks", metrics=["count"]).to_dict() and freshness == "real_time"
    assert runner == f"{socket.gethostname()}:{os.getpid()}"  # this process (or the server in it)


def test_list_analysis_jobs_by_status(fs: FeatureStore, group: FeatureGroup) -> None:
    first = group.analyze_async(Aggregation(feature="clicks", metrics=["sum"]))
    first.wait(timeout=60)
    bad = StatTest(feature="clicks", segment_by="variant", control="control", treatment="nobody")
    failed = group.analyze_async(bad)
    with pytest.raises(AnalysisFailedError):
        failed.wait(timeout=60)
    last = fs.analyze_async(CORR)
    last.wait(timeout=60)
    assert [j.id for j in fs.list_analysis_jobs()] == [last.id, failed.id, first.id]  # newest first
    assert [j.id for j in fs.list_analysis_jobs(status="completed")] == [last.id, first.id]
    assert [(j.id, j.status) for j in fs.list_analysis_jobs(status="failed")] == [(failed.id, "failed")]
    assert fs.list_analysis_jobs(status="running") == []
    assert [j.id for j in fs.list_analysis_jobs(limit=1)] == [last.id]
    with pytest.raises(InvalidArgumentError, match="Unknown job status 'done'"):
        fs.list_analysis_jobs(status="done")


def test_another_user_cannot_see_or_cancel_my_job(
    fs: FeatureStore, group: FeatureGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = group.analyze_async(Aggregation(feature="clicks", metrics=["sum"]))
    mine.wait(timeout=60)
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))  # acme opens itself to its members
    monkeypatch.setenv("RAISE_USER", "bob@acme")  # bob may read the group, but the job is alice's
    assert group.analyze(Aggregation(feature="clicks", metrics=["sum"])).metrics is not None
    for attempt in (lambda: fs.analysis_job(mine.id), mine.cancel, mine.refresh, mine.result):
        with pytest.raises(AnalysisJobNotFoundError) as err:
            attempt()
        assert err.value.code == "ANALYSIS_JOB_NOT_FOUND" and err.value.details["job_id"] == mine.id
        assert "fs.list_analysis_jobs()" in err.value.message
    assert fs.list_analysis_jobs() == []
    with pytest.raises(AnalysisJobNotFoundError):
        fs.analysis_job("not-a-job-id")
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    assert [j.id for j in fs.list_analysis_jobs()] == [mine.id] and mine.refresh().status == "completed"


def test_cancelling_a_running_job(fs: FeatureStore, slow: Correlation, catalog_engine: sa.Engine) -> None:
    started = time.perf_counter()
    job = fs.analyze_async(slow)
    assert time.perf_counter() - started < 2.0  # returns at once; the analysis takes many seconds
    running(job)
    with pytest.raises(AnalysisTimeoutError) as timeout:
        job.wait(timeout=0.01)
    assert isinstance(timeout.value, TimeoutError) and timeout.value.code == "ANALYSIS_TIMEOUT"
    assert timeout.value.details == {"job_id": job.id, "status": "running", "timeout": 0.01}
    assert [j.id for j in fs.list_analysis_jobs(status="running")] == [job.id]

    asked = time.perf_counter()
    job.cancel()
    assert time.perf_counter() - asked < 5.0
    assert job.status == "cancelled" and job.record.completed_at is not None and job.record.result_id is None
    with pytest.raises(AnalysisFailedError, match="is cancelled"):
        job.wait(timeout=5)
    assert job_rows(catalog_engine)[job.id][0] == "cancelled"
    assert job.cancel().status == "cancelled"  # cancelling a finished job leaves it as it is
    # The worker is free again: jobs submitted now run at once (on the thread that was interrupted).
    quick = fs.analyze_async(Aggregation(feature="big.a", metrics=["count", "max"]))
    assert quick.wait(timeout=30).metrics == {"count": SLOW_ROWS, "max": 99.9}
    again = [fs.analyze_async(Aggregation(feature="big.a", metrics=["min"])) for _ in range(3)]
    assert [j.wait(timeout=30).metrics for j in again] == [{"min": 0.0}] * 3


def test_cancelling_a_pending_job(fs: FeatureStore, slow: Correlation, catalog_engine: sa.Engine) -> None:
    busy = [running(fs.analyze_async(slow)), fs.analyze_async(Correlation(features=["big.slow", "big.a"]))]
    running(busy[1])  # both workers busy
    queued = fs.analyze_async(Aggregation(feature="big.a", metrics=["count"]))
    time.sleep(0.2)
    assert queued.refresh().status == "pending"
    assert queued.cancel().status == "cancelled" and queued.record.started_at is None
    for job in busy:
        assert job.cancel().status == "cancelled"
    time.sleep(0.2)
    assert job_rows(catalog_engine)[queued.id][0] == "cancelled"  # it never started
    assert fs.analyze_async(Aggregation(feature="big.a", metrics=["count"])).wait(timeout=30).metrics == {
        "count": SLOW_ROWS
    }


def test_the_store_answers_while_a_job_runs(fs: FeatureStore, slow: Correlation, group: FeatureGroup) -> None:
    job = running(fs.analyze_async(slow))
    try:
        started = time.perf_counter()
        assert group.analyze(Aggregation(feature="clicks", metrics=["max"])).metrics == {"max": 10}
        assert [j.id for j in fs.list_analysis_jobs(status="running")] == [job.id]
        if os.environ.get("RAISE_URL"):
            url = os.environ["RAISE_URL"].rstrip("/") + "/raise/v1/health"
            request = urllib.request.Request(url, headers={"Authorization": f"token {os.environ['RAISE_TOKEN']}"})
            with urllib.request.urlopen(request, timeout=5) as response:
                assert response.status == 200 and b'"status": "ok"' in response.read()
        assert time.perf_counter() - started < 3.0
        assert job.refresh().status == "running"
    finally:
        job.cancel()
    assert job.status == "cancelled"


def test_a_job_left_running_by_a_dead_process_is_reported_failed(
    fs: FeatureStore, group: FeatureGroup, catalog_engine: sa.Engine
) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    here, elsewhere = uuid.uuid4(), uuid.uuid4()
    org_id = uuid.UUID(fs.organization().id)
    base = {
        "org_id": org_id,
        "scope_path": G,
        "analysis_spec": Aggregation(feature="clicks", metrics=["sum"]).to_dict(),
        "freshness": "real_time",
        "status": "running",
        "submitted_by": "alice@acme",
        "created_at": datetime.now(UTC) - timedelta(minutes=5),
        "started_at": datetime.now(UTC) - timedelta(minutes=5),
    }
    with catalog_engine.begin() as conn:
        conn.execute(sa.insert(JOBS).values(id=here, runner=f"{socket.gethostname()}:{gone.pid}", **base))
        conn.execute(sa.insert(JOBS).values(id=elsewhere, runner="another-machine:4242", **base))
    # listing reports it too, without asking for it by id first
    assert {j.id for j in fs.list_analysis_jobs(status="running")} == {str(elsewhere)}
    job = fs.analysis_job(str(here))
    assert job.status == "failed" and job.record.error_code == "ANALYSIS_FAILED"
    assert "stopped before it finished" in (job.error or "")
    with pytest.raises(AnalysisFailedError, match="stopped before it finished"):
        job.result()
    assert job_rows(catalog_engine)[str(here)][0] == "failed"
    # a job of another machine is that machine's to finish
    assert fs.analysis_job(str(elsewhere)).status == "running"
    assert [j.id for j in fs.list_analysis_jobs(status="failed")] == [str(here)]


def test_a_job_asked_to_stop_past_its_query_ends_cancelled(
    fs: FeatureStore, group: FeatureGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelling interrupts DuckDB; work after the query (SciPy, pandas) cannot be interrupted,
    so the job stops when it ends, as cancelled, without a result."""
    from raise_.analytics.service import AnalyticsService

    compute = AnalyticsService._compute
    entered = threading.Event()

    def slow_compute(self: AnalyticsService, *args: object) -> object:
        entered.set()
        time.sleep(1.0)  # stands for work no interrupt reaches
        return compute(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(AnalyticsService, "_compute", slow_compute)
    job = fs.analyze_async(CORR)
    assert entered.wait(10)
    asked = time.perf_counter()
    assert job.cancel().status == "cancelled"
    assert 0.3 < time.perf_counter() - asked < 8.0  # it waited for the work to end
    assert job.record.result_id is None and job.record.error_code is None
    with pytest.raises(AnalysisFailedError, match="is cancelled"):
        job.result()
