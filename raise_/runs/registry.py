"""Run kinds: which handler runs a run of each kind.

A subsystem adds a kind by naming its handler, ``"package.module:function"``, in
:data:`BUILTIN_KINDS` (a new file holds the handler) or by :meth:`RunKinds.register`. A handler
known by its import path runs in any launcher: a child process (``raise run RUN_ID``) loads it
by that path, from the built-in table or from ``RAISE_RUN_KINDS`` (JSON ``{kind: path}``, which
the subprocess launcher sets from its parent's registry). A handler given as a closure runs only
in-process (the thread launcher).

A handler is ``handler(run: RunRecord, ctx: RunContext) -> Mapping | None``; what it returns is
the run's ``result``.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from raise_.runs.errors import UnknownRunKindError
from raise_.runs.records import RunRecord

if TYPE_CHECKING:
    from raise_.runs.context import RunContext

__all__ = ["BUILTIN_KINDS", "ENV_RUN_KINDS", "Handler", "RunKinds", "import_path_of"]

Handler = Callable[[RunRecord, "RunContext"], Mapping[str, Any] | None]

BUILTIN_KINDS: Final[Mapping[str, str]] = {
    "analysis": "raise_.analytics.jobs:run_analysis",
    "audit-alerts": "raise_.scheduling.audit_alerts:check_all_audit_alerts",
    "job-compute": "raise_.jobs.execution:run_job_compute",
    "live-refresh": "raise_.live.refresh:run_live_refresh",
    "model-validate": "raise_.inference.validation:run_model_validation",
}
ENV_RUN_KINDS: Final = "RAISE_RUN_KINDS"


def import_path_of(handler: Callable[..., Any]) -> str | None:
    """``module:qualname`` of a module-level function, or None when another process could not
    import it (a closure, a lambda, something defined in ``__main__``)."""
    module = getattr(handler, "__module__", None)
    qualname = getattr(handler, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname:
        return None
    return f"{module}:{qualname}"


def _load(path: str) -> Handler:
    module_name, _, attr = path.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise TypeError(f"{path} is not callable")
    handler: Handler = target
    return handler


class RunKinds:
    def __init__(self, kinds: Mapping[str, str | Handler] | None = None) -> None:
        self._kinds: dict[str, str | Handler] = dict(BUILTIN_KINDS if kinds is None else kinds)

    @classmethod
    def from_env(cls) -> RunKinds:
        """The built-in kinds and those ``RAISE_RUN_KINDS`` names (a child process's registry)."""
        kinds = cls()
        extra = os.environ.get(ENV_RUN_KINDS, "").strip()
        if extra:
            for kind, path in dict(json.loads(extra)).items():
                kinds.register(str(kind), str(path), replace=True)
        return kinds

    def register(self, kind: str, handler: str | Handler, *, replace: bool = False) -> None:
        if not kind or len(kind) > 64:
            raise ValueError(f"a run kind is a name of 1 to 64 characters, got {kind!r}")
        if kind in self._kinds and not replace and self._kinds[kind] != handler:
            raise ValueError(f"run kind {kind!r} is registered already")
        self._kinds[kind] = handler

    def __contains__(self, kind: object) -> bool:
        return kind in self._kinds

    def kinds(self) -> list[str]:
        return sorted(self._kinds)

    def handler(self, kind: str) -> Handler:
        entry = self._kinds.get(kind)
        if entry is None:
            known = ", ".join(sorted(self._kinds)) or "none"
            raise UnknownRunKindError(f"No handler for runs of kind {kind!r}; known kinds: {known}.", {"kind": kind})
        return _load(entry) if isinstance(entry, str) else entry

    def importable(self) -> dict[str, str]:
        """Every kind another process can load, by import path (for ``RAISE_RUN_KINDS``)."""
        paths: dict[str, str] = {}
        for kind, entry in self._kinds.items():
            path = entry if isinstance(entry, str) else import_path_of(entry)
            if path is not None:
                paths[kind] = path
        return paths
