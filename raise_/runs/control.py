"""Stopping a run cooperatively: a flag the handler checks, and hooks that interrupt its work.

Python cannot stop a thread, so a run stops when its handler notices: it checks
``ctx.cancelled`` (or calls ``ctx.raise_if_cancelled()``) between steps, and registers hooks for
work that blocks in C (``ctx.on_cancel(cursor.interrupt)`` stops a running DuckDB query, as the
analytics jobs do). A subprocess run is, on top of this, terminated by its launcher.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from raise_.runs.records import StopReason

__all__ = ["RunControl", "RunStopped"]

log = logging.getLogger(__name__)


class RunStopped(BaseException):
    """Raised inside a run to unwind it after a cancel or a timeout.

    A ``BaseException`` so that a handler's ``except Exception`` does not swallow it."""


class RunControl:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reason: StopReason | None = None
        self._hooks: list[Callable[[], object]] = []

    @property
    def cancelled(self) -> bool:
        return self._reason is not None

    @property
    def reason(self) -> StopReason | None:
        return self._reason

    def stop(self, reason: StopReason = "cancelled") -> bool:
        """Ask the run to stop and run its hooks; False when it was asked already."""
        with self._lock:
            if self._reason is not None:
                return False
            self._reason = reason
            hooks = list(self._hooks)
        for hook in hooks:
            _call(hook)
        return True

    def on_cancel(self, hook: Callable[[], object]) -> Callable[[], None]:
        """Call ``hook`` when the run is stopped (at once if it already is); returns a function
        that unregisters it (a hook for a query that finished must not interrupt the next)."""
        with self._lock:
            already = self._reason is not None
            if not already:
                self._hooks.append(hook)
        if already:
            _call(hook)

        def remove() -> None:
            with self._lock:
                if hook in self._hooks:
                    self._hooks.remove(hook)

        return remove

    def raise_if_cancelled(self) -> None:
        if self._reason is not None:
            raise RunStopped(self._reason)


def _call(hook: Callable[[], object]) -> None:
    try:
        hook()
    except Exception:  # the work it interrupts may have just ended
        log.debug("a run's cancel hook failed", exc_info=True)
