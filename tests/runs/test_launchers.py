"""The thread and subprocess launchers run a real handler and record how it ended: results,
metrics, stage timings and logs; a crash, an error or running out of memory in the child fails
the run (never this process); cancel and timeout stop threads cooperatively and child processes
for good."""

from __future__ import annotations

import os
import time

import pytest
from run_kinds_for_tests import ACTOR

from raise_.runs import RunRecord, RunService, UnknownRunKindError


def wait_until(runs: RunService, run_id: str, status: str, timeout: float = 30.0) -> RunRecord:
    deadline = time.monotonic() + timeout
    while True:
        run = runs.get(run_id)
        if run.status == status or run.finished or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


@pytest.mark.parametrize("launcher", ["thread", "subprocess"])
def test_a_launcher_runs_the_handler_and_records_its_outcome(runs: RunService, launcher: str) -> None:
    submitted = runs.submit("echo", {"numbers": [1, 2, 39]}, launcher=launcher, trigger="test")
    # A thread may finish this short handler before submit returns its record.
    assert submitted.status in ("pending", "running", "completed") and submitted.launcher == launcher
    run = runs.wait(submitted.id, timeout=60)
    assert run.status == "completed", run
    assert run.result is not None and run.result["total"] == 42
    assert run.metrics == {"total": 42}
    assert set(run.timings) == {"think"} and run.timings["think"] >= 0
    assert "summed 3 numbers" in run.log
    assert (run.actor, run.trigger, run.kind, run.error) == (ACTOR, "test", "echo", None)
    assert run.started_at is not None and run.ended_at is not None and run.ended_at >= run.started_at
    child_pid = int(run.runner.rpartition(":")[2]) if run.runner else None
    if launcher == "thread":
        assert run.result["pid"] == os.getpid() == child_pid
    else:
        assert run.result["pid"] != os.getpid() and run.result["pid"] == child_pid
        assert run.result["user"] == ACTOR  # the child acts as the run's actor


def test_a_child_that_exits_abruptly_fails_the_run_not_the_parent(runs: RunService) -> None:
    run = runs.wait(runs.submit("exit-3", launcher="subprocess").id, timeout=60)
    assert run.status == "failed"
    assert run.error is not None and run.error.code == "RUN_CRASHED"
    assert "exited with status 3" in run.error.message and "about to crash" in run.error.message
    assert "about to crash" in run.log


@pytest.mark.parametrize("launcher", ["thread", "subprocess"])
def test_a_handler_that_raises_fails_the_run_with_its_error(runs: RunService, launcher: str) -> None:
    run = runs.wait(runs.submit("bad-input", launcher=launcher).id, timeout=60)
    assert run.status == "failed"
    assert run.error is not None and (run.error.code, run.error.message) == ("ValueError", "bad input 42")
    assert "Traceback" in run.log and "ValueError: bad input 42" in run.log


def test_running_out_of_memory_in_the_child_fails_the_run(runs: RunService) -> None:
    launcher = runs.launchers["subprocess"]
    launcher.memory_limit_bytes = 1024**3  # type: ignore[attr-defined]
    run = runs.wait(runs.submit("allocate", launcher="subprocess").id, timeout=60)
    assert run.status == "failed"
    assert run.error is not None and run.error.code in ("MemoryError", "RUN_CRASHED"), run.error


def test_cancelling_a_subprocess_run_terminates_it(runs: RunService) -> None:
    submitted = runs.submit("sleep-long", launcher="subprocess")
    running = wait_until(runs, submitted.id, "running")
    assert running.status == "running"
    pid = int(running.runner.rpartition(":")[2]) if running.runner else 0
    run = runs.cancel(submitted.id, wait=30)
    assert run.status == "cancelled", run
    assert run.error is not None and run.error.code == "RUN_CANCELLED"
    # The child unwound and recorded it itself: in its handler, or (on a loaded machine, the
    # SIGTERM arriving between the run's start and its handler) where the run starts.
    assert f"run {run.id} cancelled" in run.log or "RunStopped: SIGTERM" in run.log, run.log
    assert not _alive(pid)


def test_a_child_that_ignores_sigterm_is_killed_and_recorded_by_the_parent(runs: RunService) -> None:
    submitted = runs.submit("ignore-sigterm", launcher="subprocess")
    wait_until(runs, submitted.id, "running")
    time.sleep(0.5)  # let the handler install SIG_IGN
    run = runs.cancel(submitted.id, wait=30)
    assert run.status == "cancelled" and run.error is not None and run.error.code == "RUN_CANCELLED"


def test_a_subprocess_run_past_its_timeout_is_timed_out(runs: RunService) -> None:
    run = runs.wait(runs.submit("sleep-long", launcher="subprocess", timeout=4).id, timeout=60)
    assert run.status == "timed_out", run
    assert run.error is not None and run.error.code == "RUN_TIMED_OUT"


def test_cancelling_a_thread_run_calls_its_interrupt_hooks(runs: RunService) -> None:
    submitted = runs.submit("wait-for-interrupt", launcher="thread")
    wait_until(runs, submitted.id, "running")
    run = runs.cancel(submitted.id, wait=10)
    assert run.status == "cancelled" and run.result is None


def test_a_thread_run_past_its_timeout_is_interrupted_and_timed_out(runs: RunService) -> None:
    run = runs.wait(runs.submit("wait-for-interrupt", launcher="thread", timeout=0.3).id, timeout=10)
    assert run.status == "timed_out" and run.error is not None and run.error.code == "RUN_TIMED_OUT"


def test_a_pending_run_is_cancelled_at_once_and_never_starts(runs: RunService) -> None:
    created = runs.create("echo", {"numbers": [1]})
    run = runs.cancel(created.id, wait=0)
    assert (run.status, run.started_at) == ("cancelled", None)
    assert runs.execute(created.id) is None  # a launcher that gets to it later finds nothing to run
    assert runs.get(created.id).status == "cancelled"


def test_an_ended_run_is_left_as_it_is_by_cancel(runs: RunService) -> None:
    run = runs.wait(runs.submit("echo", {"numbers": [2]}).id, timeout=10)
    assert runs.cancel(run.id).status == "completed"


def test_unknown_kinds_and_launchers_are_refused_before_anything_runs(runs: RunService) -> None:
    with pytest.raises(UnknownRunKindError, match="No handler for runs of kind 'nope'"):
        runs.submit("nope")
    with pytest.raises(Exception, match="Unknown launcher 'pod'"):
        runs.submit("echo", launcher="pod")
    assert runs.list_runs() == []


def test_runs_are_listed_newest_first_and_only_the_callers(runs: RunService) -> None:
    first = runs.wait(runs.submit("echo", {"numbers": [1]}).id, timeout=10)
    second = runs.wait(runs.submit("bad-input").id, timeout=10)
    assert [r.id for r in runs.list_runs()] == [second.id, first.id]
    assert [r.id for r in runs.list_runs(status="failed")] == [second.id]
    assert [r.id for r in runs.list_runs(kind="echo")] == [first.id]
    other = RunService(runs.db, lambda: "bob@acme", kinds=runs.kinds, launchers={})
    assert other.list_runs() == []
    assert len(other.list_runs(mine=False)) == 2


def _alive(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.05)
    return True
