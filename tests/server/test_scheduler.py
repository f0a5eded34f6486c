"""The scheduler hook (DESIGN §2): registered tasks run at their interval in the scheduler's
threads, never twice at once; a failing task is logged and retried, the others go on; the
extension starts it with the server's loop and its shutdown stops it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from raise_jupyter.server_ext import RaiseExtension
from raise_jupyter.server_ext.scheduler import Scheduler


@pytest.fixture
def catalog_url(tmp_path: Any) -> str:  # the scheduler does not touch the catalog: SQLite only
    return f"sqlite:///{tmp_path / 'home' / 'catalog.db'}"


@contextlib.asynccontextmanager
async def running() -> AsyncIterator[Scheduler]:
    s = Scheduler(max_workers=2)
    s.start()
    try:
        yield s
    finally:
        await s.stop()


async def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def test_a_task_runs_at_its_interval_in_a_worker_thread() -> None:
    async with running() as scheduler:
        starts: list[float] = []
        threads: set[str] = set()

        def tick() -> None:
            starts.append(time.monotonic())
            threads.add(threading.current_thread().name)

        scheduler.register("tick", tick, every=0.1, first_in=0)
        await wait_for(lambda: len(starts) >= 5)
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert all(0.09 <= g < 1.0 for g in gaps), gaps  # never early; late only on a loaded machine
        assert threads and all(t.startswith("raise-scheduler") for t in threads)
        assert threading.current_thread().name not in threads
        task = scheduler.get("tick")
        assert task.runs >= 5 and task.failures == 0 and task.last_duration is not None


async def test_the_first_run_waits_one_interval_by_default() -> None:
    async with running() as scheduler:
        ran = threading.Event()
        scheduler.register("later", ran.set, every=1.0)
        await asyncio.sleep(0.2)
        assert not ran.is_set()
        await wait_for(ran.is_set)


async def test_a_failing_task_is_logged_and_retried_and_the_others_go_on(caplog: pytest.LogCaptureFixture) -> None:
    async with running() as scheduler:
        calls = {"flaky": 0, "steady": 0}

        def flaky() -> None:
            calls["flaky"] += 1
            if calls["flaky"] <= 2:
                raise RuntimeError("catalog busy")

        def steady() -> None:
            calls["steady"] += 1

        with caplog.at_level(logging.ERROR, logger="raise_jupyter.scheduler"):
            scheduler.register("flaky", flaky, every=0.05, retry_in=0.05, first_in=0)
            scheduler.register("steady", steady, every=0.05, first_in=0)
            await wait_for(lambda: calls["flaky"] >= 4 and calls["steady"] >= 4)
        task = scheduler.get("flaky")
        assert (task.failures, task.consecutive_failures, task.last_error) == (2, 0, None)
        failures = [r for r in caplog.records if "task 'flaky' failed" in r.getMessage()]
        assert len(failures) == 2 and failures[0].exc_info is not None
        assert "catalog busy" in str(failures[0].exc_info[1])
        assert scheduler.running


async def test_a_slow_task_never_overlaps_itself() -> None:
    async with running() as scheduler:
        active = []
        overlap = []

        def slow() -> None:
            active.append(1)
            overlap.append(len(active))
            time.sleep(0.15)
            active.pop()

        scheduler.register("slow", slow, every=0.01, first_in=0)
        await wait_for(lambda: len(overlap) >= 3)
        assert max(overlap) == 1


async def test_registry_rules() -> None:
    async with running() as scheduler:
        scheduler.register("a", lambda: None, every=1)
        with pytest.raises(ValueError, match="already registered"):
            scheduler.register("a", lambda: None, every=1)
        scheduler.register("a", lambda: None, every=2, replace=True)
        assert scheduler.get("a").every == 2
        with pytest.raises(ValueError, match="positive"):
            scheduler.register("b", lambda: None, every=0)

        async def coroutine() -> None:
            pass

        with pytest.raises(TypeError, match="not a coroutine function"):
            scheduler.register("c", coroutine, every=1)
        scheduler.unregister("a")
        assert scheduler.tasks() == []


async def test_stop_ends_the_loop_and_waits_for_a_running_task() -> None:
    scheduler = Scheduler()
    scheduler.start()
    finished = threading.Event()
    started = threading.Event()
    count = []

    def task() -> None:
        count.append(1)
        started.set()
        time.sleep(0.2)
        finished.set()

    scheduler.register("t", task, every=0.01, first_in=0)
    await wait_for(started.is_set)
    await scheduler.stop()
    assert finished.is_set() and not scheduler.running and scheduler.stopping
    runs = len(count)
    await asyncio.sleep(0.1)
    assert len(count) == runs == 1


async def test_the_extension_starts_it_with_the_server_and_stops_it_at_shutdown(
    jp_serverapp: Any, extension: RaiseExtension
) -> None:
    assert not extension.scheduler.running  # pytest-jupyter starts no event-loop hooks itself
    await jp_serverapp._post_start()  # what ServerApp.start_ioloop does first
    assert extension.scheduler.running
    ran: list[float] = []
    extension.scheduler.register("tick", lambda: ran.append(time.monotonic()), every=0.05, first_in=0)
    await wait_for(lambda: len(ran) >= 3)

    await jp_serverapp.cleanup_extensions()  # the server's shutdown
    assert not extension.scheduler.running
    runs = len(ran)
    await asyncio.sleep(0.2)
    assert len(ran) == runs
