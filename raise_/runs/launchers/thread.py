"""The in-process thread launcher: cheap work (async analyses, alert checks) on a thread pool.

The run executes as its submitter: the worker runs it in a copy of the submitting thread's
context (the server's request actor lives in a context variable). Stopping is cooperative
(see :mod:`raise_.runs.control`); a watcher thread turns timeouts and stop requests written by
other processes (``stop_requested`` in the catalog) into the run's stop signal and hooks.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from raise_.runs.control import RunControl
from raise_.runs.records import RunRecord, StopReason
from raise_.runs.runner import LIVE_RUNS

if TYPE_CHECKING:
    from raise_.runs.service import RunService

__all__ = ["ThreadLauncher"]

log = logging.getLogger(__name__)


class _FutureHandle:
    def __init__(self, future: Future[None]) -> None:
        self._future = future

    def wait(self, timeout: float | None = None) -> bool:
        try:
            self._future.result(timeout)
        except TimeoutError:
            return False
        except BaseException:  # recorded on the run by the executor
            return True
        return True


@dataclass
class _Held:
    runs: RunService
    control: RunControl
    deadline: float | None


class ThreadLauncher:
    name = "thread"

    def __init__(self, workers: int = 4, poll_seconds: float = 0.25) -> None:
        self._workers = workers
        self.poll_seconds = poll_seconds
        self._pool: ThreadPoolExecutor | None = None
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def launch(self, run: RunRecord, runs: RunService) -> _FutureHandle:
        control = RunControl()
        deadline = time.monotonic() + run.timeout_seconds if run.timeout_seconds else None
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="raise-run")
            pool = self._pool
            self._held[run.id] = _Held(runs, control, deadline)
            self._start_watcher()
        context = contextvars.copy_context()
        return _FutureHandle(pool.submit(context.run, self._execute, run.id, runs, control))

    def _execute(self, run_id: str, runs: RunService, control: RunControl) -> None:
        try:
            runs.execute(run_id, control)
        finally:
            with self._lock:
                self._held.pop(run_id, None)

    def stop(self, run_id: str, reason: StopReason) -> bool:
        with self._lock:
            held = self._held.get(run_id)
        if held is None:
            return False
        held.control.stop(reason)
        return True

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            held = dict(self._held)
        for run_id, h in held.items():
            h.control.stop("cancelled")
            LIVE_RUNS.discard(run_id)  # one that never starts is an orphan, reported failed
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    # -- the watcher ------------------------------------------------------------------------------

    def _start_watcher(self) -> None:
        if self._watcher is None or not self._watcher.is_alive():
            self._watcher = threading.Thread(target=self._watch, name="raise-run-watcher", daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        while True:
            time.sleep(self.poll_seconds)
            with self._lock:
                held = dict(self._held)
                if not held:
                    self._watcher = None
                    return
            now = time.monotonic()
            by_service: dict[int, tuple[RunService, list[str]]] = {}
            for run_id, h in held.items():
                if h.control.cancelled:
                    continue
                if h.deadline is not None and now >= h.deadline:
                    h.runs.request_stop(run_id, "timed_out")
                    h.control.stop("timed_out")
                else:
                    by_service.setdefault(id(h.runs), (h.runs, []))[1].append(run_id)
            for runs, ids in by_service.values():
                try:
                    requested = runs.stop_requests(ids)
                except Exception:  # the catalog blinked: look again next round
                    log.debug("reading stop requests", exc_info=True)
                    continue
                for run_id, reason in requested.items():
                    held[run_id].control.stop(reason)
