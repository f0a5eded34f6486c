"""The local subprocess launcher: jobs and inference in a child process running ``raise run RUN_ID``.

User code then runs in a process of its own: a crash, ``os._exit``, a segfault or the kernel's
out-of-memory killer ends the child, never the parent, and the parent records the run as failed
with the exit status and the tail of the child's output. The child is started in a session of
its own, so a Ctrl-C in the parent's terminal does not reach it, and stopping it stops every
process it started. Stopping (cancel, timeout) sends SIGTERM — the child records the run as
stopped — then SIGKILL after ``grace_seconds``.

The child opens the same catalog (``RAISE_CATALOG_URL``), acts as the run's actor
(``RAISE_USER``), sees the parent's import path (``PYTHONPATH``) and run kinds
(``RAISE_RUN_KINDS``), so it runs exactly the handler the parent would.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING

from raise_.runs.records import RunRecord, StopReason
from raise_.runs.registry import ENV_RUN_KINDS
from raise_.runs.runner import LIVE_RUNS

if TYPE_CHECKING:
    from raise_.runs.service import RunService

__all__ = ["ENV_MEMORY_LIMIT", "SubprocessLauncher"]

log = logging.getLogger(__name__)

#: Bytes of address space the child may use (``resource.RLIMIT_AS``), applied by ``raise run``.
ENV_MEMORY_LIMIT = "RAISE_RUN_MEMORY_LIMIT"
_OUTPUT_TAIL = 16 * 1024


class _ProcessHandle:
    def __init__(self) -> None:
        self.done = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)


class SubprocessLauncher:
    name = "subprocess"

    def __init__(
        self,
        command: Sequence[str] | None = None,
        *,
        poll_seconds: float = 0.2,
        grace_seconds: float = 5.0,
        memory_limit_bytes: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        # The same interpreter as this process: the child imports the same code.
        self.command = list(command or [sys.executable, "-m", "raise_.cli"])
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        self.memory_limit_bytes = memory_limit_bytes
        self.env = dict(env or {})
        self._stops: dict[str, StopReason] = {}
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def child_environment(self, run: RunRecord, runs: RunService) -> dict[str, str]:
        env = dict(os.environ)
        env.update(runs.environment)
        env.update(self.env)
        env["RAISE_CATALOG_URL"] = runs.db.url
        env["RAISE_USER"] = run.actor
        env[ENV_RUN_KINDS] = json.dumps(runs.kinds.importable())
        paths = [p for p in sys.path if p and os.path.isdir(p)]
        inherited = env.get("PYTHONPATH")
        env["PYTHONPATH"] = os.pathsep.join([*paths, *([inherited] if inherited else [])])
        if self.memory_limit_bytes:
            env[ENV_MEMORY_LIMIT] = str(self.memory_limit_bytes)
        return env

    def launch(self, run: RunRecord, runs: RunService) -> _ProcessHandle:
        # Closed by the monitor once the child has ended (its tail goes into the run's log).
        output = tempfile.TemporaryFile(prefix=f"raise-run-{run.id}-")  # noqa: SIM115
        try:
            proc = subprocess.Popen(
                [*self.command, "run", run.id],
                env=self.child_environment(run, runs),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except BaseException:
            output.close()
            raise
        handle = _ProcessHandle()
        with self._lock:
            self._procs[run.id] = proc
        threading.Thread(
            target=self._monitor,
            args=(run, runs, proc, output, handle),
            name=f"raise-run-{run.id[:8]}",
            daemon=True,
        ).start()
        return handle

    def stop(self, run_id: str, reason: StopReason) -> bool:
        with self._lock:
            if run_id not in self._procs:
                return False
            self._stops.setdefault(run_id, reason)
        return True

    def shutdown(self) -> None:
        """Child processes go on (they record their runs themselves); only their monitors end
        with this process."""

    # -- watching the child -----------------------------------------------------------------------

    def _monitor(
        self, run: RunRecord, runs: RunService, proc: subprocess.Popen[bytes], output: IO[bytes], handle: _ProcessHandle
    ) -> None:
        deadline = time.monotonic() + run.timeout_seconds if run.timeout_seconds else None
        terminated_at: float | None = None
        try:
            while True:
                try:
                    returncode = proc.wait(timeout=self.poll_seconds)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if terminated_at is None:
                    if self._should_stop(run, runs, deadline):
                        _signal_group(proc, signal.SIGTERM)
                        terminated_at = time.monotonic()
                elif time.monotonic() - terminated_at > self.grace_seconds:
                    _signal_group(proc, signal.SIGKILL)
            runs.record_exit(run.id, returncode, _tail(output))
        except Exception:  # the run is then reported by orphan detection
            log.exception("watching the process of run %s", run.id)
        finally:
            output.close()
            with self._lock:
                self._procs.pop(run.id, None)
                self._stops.pop(run.id, None)
            LIVE_RUNS.discard(run.id)
            handle.done.set()

    def _should_stop(self, run: RunRecord, runs: RunService, deadline: float | None) -> bool:
        with self._lock:
            local = self._stops.get(run.id)
        if local is not None:
            runs.request_stop(run.id, local)
            return True
        if deadline is not None and time.monotonic() >= deadline:
            runs.request_stop(run.id, "timed_out")
            return True
        try:
            return run.id in runs.stop_requests([run.id])
        except Exception:  # the catalog blinked: look again next round
            return False


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # it has just ended
        os.killpg(proc.pid, sig)


def _tail(output: IO[bytes]) -> str:
    output.seek(0, os.SEEK_END)
    size = output.tell()
    output.seek(max(0, size - _OUTPUT_TAIL))
    return output.read().decode("utf-8", errors="replace")
