"""The ``Launcher`` seam (DESIGN §8): where a run's work executes.

A launcher is given a pending run and the service that owns it, starts the work somewhere (a
thread of this process, a child process, later a Kubernetes Job) and returns a handle to wait on.
Whatever it launches ends by calling :meth:`RunService.execute` on the run — in this process, or
in the process ``raise run RUN_ID`` starts — so every launcher records runs the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from raise_.runs.records import RunRecord, StopReason

if TYPE_CHECKING:
    from raise_.runs.service import RunService

__all__ = ["Launcher", "RunHandle"]


class RunHandle(Protocol):
    def wait(self, timeout: float | None = None) -> bool:
        """True once the launched work has ended (its run is then recorded)."""
        ...


class Launcher(Protocol):
    name: str

    def launch(self, run: RunRecord, runs: RunService) -> RunHandle: ...

    def stop(self, run_id: str, reason: StopReason) -> bool:
        """Stop a run this launcher holds (False: it holds no such run)."""
        ...

    def shutdown(self) -> None:
        """Stop taking runs; runs not started yet are left to orphan detection."""
        ...
