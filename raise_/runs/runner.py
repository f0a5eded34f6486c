"""Which process holds a run, and whether that process is still there (orphan detection).

A run records ``host:pid`` of the process holding it: the launcher's while it waits, the
executing process's once it runs. The runs this process holds are kept in one process-wide set
because the runner *is* the process: any service object of this process may be asked about a
run another object of the same process launched. A run of this host whose process is gone (or,
for this process, that is not in the set) will never end by itself: it is an orphan.
"""

from __future__ import annotations

import os
import socket
import threading

__all__ = ["LIVE_RUNS", "LiveRuns", "is_orphaned", "process_alive", "runner_id"]


def runner_id() -> str:
    """This process as runs record it (read at each use: a forked child is not its parent)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class LiveRuns:
    """The ids of the runs this process holds and has not finished."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def add(self, run_id: str) -> None:
        with self._lock:
            self._ids.add(run_id)

    def discard(self, run_id: str) -> None:
        with self._lock:
            self._ids.discard(run_id)

    def __contains__(self, run_id: object) -> bool:
        with self._lock:
            return run_id in self._ids


LIVE_RUNS = LiveRuns()


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def is_orphaned(run_id: str, runner: str | None, live: LiveRuns = LIVE_RUNS) -> bool:
    """Whether the run's process is known to be gone. Runs of other machines are theirs to judge;
    a run with no runner yet (created for an outside launcher) is waiting, not orphaned."""
    if not runner:
        return False
    if runner == runner_id():
        return run_id not in live
    host, _, pid = runner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not process_alive(int(pid))
