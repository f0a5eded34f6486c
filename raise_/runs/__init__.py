"""The runs core (DESIGN §8 "Runs"): every piece of user work is a run row, started by a launcher.

- :class:`RunService` creates, launches, executes, stops and reads runs;
- :class:`RunKinds` maps a run's kind to its handler (``handler(run, ctx)``);
- launchers by name (:mod:`raise_.runs.launchers`): ``"thread"`` and ``"subprocess"`` — the
  latter runs ``raise run RUN_ID``, the one entry point every out-of-process launcher uses.
"""

from __future__ import annotations

from raise_.runs.context import RunContext
from raise_.runs.control import RunControl, RunStopped
from raise_.runs.errors import RunNotFoundError, RunStateError, UnknownRunKindError
from raise_.runs.launchers import LAUNCHERS, Launcher, SubprocessLauncher, ThreadLauncher, make_launcher
from raise_.runs.records import RUN_STATUSES, TERMINAL_STATUSES, RunError, RunRecord, RunStatus
from raise_.runs.registry import BUILTIN_KINDS, Handler, RunKinds
from raise_.runs.service import RunService

__all__ = [
    "BUILTIN_KINDS",
    "LAUNCHERS",
    "RUN_STATUSES",
    "TERMINAL_STATUSES",
    "Handler",
    "Launcher",
    "RunContext",
    "RunControl",
    "RunError",
    "RunKinds",
    "RunNotFoundError",
    "RunRecord",
    "RunService",
    "RunStateError",
    "RunStatus",
    "RunStopped",
    "SubprocessLauncher",
    "ThreadLauncher",
    "UnknownRunKindError",
    "make_launcher",
]
