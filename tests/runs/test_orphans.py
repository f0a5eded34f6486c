"""A run whose process is gone is reported failed (RUN_ORPHANED), and stored so; runs of live
processes, of other machines and of no process yet are left alone."""

from __future__ import annotations

import socket
import subprocess
import uuid

import sqlalchemy as sa

from raise_.runs import RunService
from raise_.runs.models import RunModel
from raise_.runs.runner import runner_id


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid  # reaped: no process has it (pids are not reused this soon)


def _running_with(runs: RunService, runner: str | None) -> str:
    run = runs.create("echo", {"numbers": []}, runner=runner)
    with runs.db.transaction() as s:
        s.execute(sa.update(RunModel).where(RunModel.id == uuid.UUID(run.id)).values(status="running"))
    return run.id


def test_a_run_of_a_process_that_is_gone_is_failed(runs: RunService) -> None:
    gone = _running_with(runs, f"{socket.gethostname()}:{_dead_pid()}")
    run = runs.get(gone)
    assert run.status == "failed"
    assert run.error is not None and run.error.code == "RUN_ORPHANED"
    assert "stopped before it finished" in run.error.message
    with runs.db.reader() as s:
        assert s.get(RunModel, uuid.UUID(gone)).status == "failed"  # type: ignore[union-attr]


def test_a_run_this_process_does_not_hold_is_an_orphan(runs: RunService) -> None:
    mine = _running_with(runs, runner_id())  # this pid, but no launcher of this process holds it
    assert runs.get(mine).status == "failed"


def test_runs_of_live_processes_other_hosts_and_no_runner_are_left_alone(runs: RunService) -> None:
    with subprocess.Popen(["sleep", "30"]) as live:
        try:
            alive = _running_with(runs, f"{socket.gethostname()}:{live.pid}")
            elsewhere = _running_with(runs, "some-other-host:1")
            waiting = runs.create("echo").id
            assert runs.fail_orphans() == []
            assert [runs.get(r).status for r in (alive, elsewhere, waiting)] == ["running", "running", "pending"]
        finally:
            live.kill()
    assert runs.get(alive).status == "failed"
