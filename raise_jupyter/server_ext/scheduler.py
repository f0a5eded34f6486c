"""The server's scheduler (DESIGN §2): periodic work of later subsystems, off the event loop.

Live-table refreshes, alert checks and job schedules need something that wakes up on its own in
the process that owns the store. :class:`Scheduler` is that: started with the extension on the
server's event loop, stopped with it, and holding a registry of periodic tasks::

    scheduler = extension.scheduler
    scheduler.register("audit-alerts", check_alerts, every=60)       # seconds
    scheduler.register("live:daily", refresh, every=5, first_in=0)  # first run right away

A task is a plain callable with no arguments. It runs in the scheduler's own thread pool, never on
the event loop (so a slow task cannot stall requests) and never twice at once; the next run is
``every`` seconds after the previous one *ended*, so a task slower than its interval does not
pile up. A task that raises is logged with its traceback and tried again ``retry_in`` seconds
later (default: its interval); it never stops the scheduler or the other tasks.

``stop()`` (the extension's ``stop_extension``) ends the loop, starts nothing new, and waits a
bounded time for running tasks to return: Python cannot interrupt a thread, so a task that must
stop promptly should check :attr:`Scheduler.stopping`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PeriodicTask", "Scheduler"]

_LOG = logging.getLogger("raise_jupyter.scheduler")


@dataclass
class PeriodicTask:
    """One registered task and what it has done so far."""

    name: str
    fn: Callable[[], Any]
    every: float
    retry_in: float
    next_run: float  # time.monotonic() of the next run
    runs: int = 0  # completed runs, failed ones included
    failures: int = 0
    consecutive_failures: int = 0
    running: bool = False
    last_started: float | None = None  # time.time()
    last_duration: float | None = None  # seconds
    last_error: str | None = None
    _future: asyncio.Future[Any] | None = field(default=None, repr=False)


class Scheduler:
    """A registry of periodic tasks and the loop that runs them (see the module's docs)."""

    def __init__(self, *, max_workers: int = 4, log: logging.Logger | None = None) -> None:
        self._tasks: dict[str, PeriodicTask] = {}
        self._lock = threading.Lock()  # register() may be called from any thread
        self._max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = threading.Event()
        self.log = log or _LOG

    # -- the registry ----------------------------------------------------------------------------

    def register(
        self,
        name: str,
        fn: Callable[[], Any],
        *,
        every: float,
        first_in: float | None = None,
        retry_in: float | None = None,
        replace: bool = False,
    ) -> PeriodicTask:
        """Run ``fn()`` every ``every`` seconds, the first time ``first_in`` seconds from now
        (default: one interval). ``replace=True`` swaps a task of the same name."""
        if every <= 0:
            raise ValueError(f"task {name!r}: every must be a positive number of seconds, got {every}")
        if not callable(fn):
            raise TypeError(f"task {name!r}: {fn!r} is not callable")
        if asyncio.iscoroutinefunction(fn):
            raise TypeError(f"task {name!r}: tasks run in threads; pass a plain function, not a coroutine function")
        task = PeriodicTask(
            name=name,
            fn=fn,
            every=float(every),
            retry_in=float(every if retry_in is None else retry_in),
            next_run=time.monotonic() + (every if first_in is None else first_in),
        )
        with self._lock:
            if name in self._tasks and not replace:
                raise ValueError(f"a task named {name!r} is already registered")
            self._tasks[name] = task
        self._poke()
        return task

    def unregister(self, name: str) -> None:
        """Forget a task (a run in progress finishes; no other starts)."""
        with self._lock:
            self._tasks.pop(name, None)
        self._poke()

    def tasks(self) -> list[PeriodicTask]:
        with self._lock:
            return list(self._tasks.values())

    def get(self, name: str) -> PeriodicTask:
        with self._lock:
            return self._tasks[name]

    # -- running ---------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` began: long tasks may check it to return early."""
        return self._stopping.is_set()

    def start(self) -> None:
        """Start the loop on the running event loop (the server's)."""
        if self.running:
            return
        self._stopping.clear()
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=self._max_workers, thread_name_prefix="raise-scheduler")
        self._runner = self._loop.create_task(self._run(), name="raise-scheduler")

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop, start nothing more, and wait up to ``timeout`` s for running tasks."""
        self._stopping.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            if self._wake is not None:
                self._wake.set()  # the loop sees `stopping` and returns
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        running = [t._future for t in self.tasks() if t._future is not None and not t._future.done()]
        if running:
            _, late = await asyncio.wait(running, timeout=timeout)
            for task in self.tasks():
                if task._future in late:
                    self.log.warning("Raise scheduler: task %r still running at shutdown; not waiting", task.name)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(wake.set)

    async def _run(self) -> None:
        assert self._loop is not None and self._wake is not None
        while not self._stopping.is_set():
            try:
                delay = self._start_due()
            except Exception:  # a bug here must not end the scheduler
                self.log.exception("Raise scheduler: unexpected error; continuing")
                delay = 1.0
            self._wake.clear()
            # Not asyncio.wait_for: before Python 3.12 it can swallow a cancellation that arrives
            # just as the event is set, and the loop would never end.
            timer = self._loop.call_later(delay, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                timer.cancel()

    def _start_due(self) -> float:
        """Start every task that is due; the seconds until the next one is."""
        now = time.monotonic()
        next_due = now + 60.0
        for task in self.tasks():
            if task.running:
                continue
            if task.next_run <= now:
                self._launch(task)
            else:
                next_due = min(next_due, task.next_run)
        return max(0.0, next_due - now)

    def _launch(self, task: PeriodicTask) -> None:
        assert self._loop is not None and self._executor is not None
        task.running = True
        task.last_started = time.time()
        started = time.monotonic()
        future = self._loop.run_in_executor(self._executor, task.fn)
        task._future = future

        def done(f: asyncio.Future[Any]) -> None:
            ended = time.monotonic()
            task.running = False
            task.runs += 1
            task.last_duration = ended - started
            error = None if f.cancelled() else f.exception()
            if f.cancelled() or error is None:
                task.consecutive_failures = 0
                task.last_error = None
                task.next_run = ended + task.every
            else:
                task.failures += 1
                task.consecutive_failures += 1
                task.last_error = f"{type(error).__name__}: {error}"
                task.next_run = ended + task.retry_in
                self.log.error(
                    "Raise scheduler: task %r failed (%d in a row); retrying in %g s",
                    task.name,
                    task.consecutive_failures,
                    task.retry_in,
                    exc_info=error,
                )
            if self._wake is not None:
                self._wake.set()

        future.add_done_callback(done)
