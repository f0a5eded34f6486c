"""A store's runs service with its standard launchers, as the composition root (``Engine``)
puts it together: one per store, shared by every subsystem that runs work (analyses, the
scheduler's items, jobs)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from raise_.metadata.database import CatalogDatabase
from raise_.runs.launchers import Launcher, SubprocessLauncher, ThreadLauncher
from raise_.runs.service import RunService

__all__ = ["ANALYSIS_LAUNCHER", "ANALYSIS_WORKERS", "standard_launchers", "store_runs"]

#: A thread launcher of its own for asynchronous analyses: they never wait behind scheduled work
#: nor hold it up, and at most ``ANALYSIS_WORKERS`` run at once (the others wait, pending).
ANALYSIS_LAUNCHER: Final = "analysis"
ANALYSIS_WORKERS: Final = 2


def standard_launchers(analysis_workers: int = ANALYSIS_WORKERS) -> dict[str, Launcher]:
    launchers: dict[str, Launcher] = {
        "thread": ThreadLauncher(),
        ANALYSIS_LAUNCHER: ThreadLauncher(workers=analysis_workers),
        "subprocess": SubprocessLauncher(),
    }
    # A store whose owner is given a cluster (RAISE_K8S_KUBECONFIG and the other RAISE_K8S_*
    # settings) also runs `launcher="kubernetes"` work as Kubernetes Jobs; the client is imported
    # only then.
    if os.environ.get("RAISE_K8S_KUBECONFIG", "").strip():
        from raise_.runs.launchers import make_launcher

        launchers["kubernetes"] = make_launcher("kubernetes")
    return launchers


def store_runs(
    db: CatalogDatabase,
    *,
    actor: Callable[[], str],
    services: Callable[[], Any],
    home: Path | None = None,
    launchers: Mapping[str, Launcher] | None = None,
) -> RunService:
    return RunService(
        db,
        actor,
        services=services,
        launchers=launchers if launchers is not None else standard_launchers(),
        environment={"RAISE_HOME": str(home)} if home is not None else None,
    )
