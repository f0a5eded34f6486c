"""Launchers by name (DESIGN §8 seams): ``"thread"`` and ``"subprocess"`` today; a Kubernetes
Job launcher is one more file and one more line here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from raise_.runs.launchers.base import Launcher, RunHandle
from raise_.runs.launchers.subprocess import SubprocessLauncher
from raise_.runs.launchers.thread import ThreadLauncher

__all__ = ["LAUNCHERS", "Launcher", "RunHandle", "SubprocessLauncher", "ThreadLauncher", "make_launcher"]

LAUNCHERS: Final[dict[str, Callable[..., Launcher]]] = {
    "thread": ThreadLauncher,
    "subprocess": SubprocessLauncher,
}


def make_launcher(name: str, **options: Any) -> Launcher:
    try:
        factory = LAUNCHERS[name]
    except KeyError:
        raise ValueError(f"Unknown launcher {name!r}; use one of {', '.join(sorted(LAUNCHERS))}.") from None
    return factory(**options)
