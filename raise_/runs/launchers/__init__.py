"""Launchers by name (DESIGN §8 seams): ``"thread"``, ``"subprocess"`` and ``"kubernetes"`` (a
Job per run; imported on first use, since the ``kubernetes`` client is an optional extra)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from raise_.errors import OrchestratorUnavailableError
from raise_.runs.launchers.base import Launcher, RunHandle
from raise_.runs.launchers.subprocess import SubprocessLauncher
from raise_.runs.launchers.thread import ThreadLauncher

__all__ = ["LAUNCHERS", "Launcher", "RunHandle", "SubprocessLauncher", "ThreadLauncher", "make_launcher"]


def _kubernetes_launcher(**options: Any) -> Launcher:
    try:
        from raise_.runs.launchers.kubernetes import KubernetesLauncher

        return KubernetesLauncher(**options)  # imports the client's models and the kubeconfig loader
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("kubernetes"):
            raise
        raise OrchestratorUnavailableError(
            "The Kubernetes launcher needs the kubernetes client: pip install 'raise-featurestore[kubernetes]'.",
            {"orchestrator": "kubernetes", "missing": exc.name},
        ) from None


LAUNCHERS: Final[dict[str, Callable[..., Launcher]]] = {
    "thread": ThreadLauncher,
    "subprocess": SubprocessLauncher,
    "kubernetes": _kubernetes_launcher,
}


def make_launcher(name: str, **options: Any) -> Launcher:
    try:
        factory = LAUNCHERS[name]
    except KeyError:
        raise ValueError(f"Unknown launcher {name!r}; use one of {', '.join(sorted(LAUNCHERS))}.") from None
    return factory(**options)
