"""What a run's handler is given besides its record: stop signals, stage timings, metrics, a
log, and the store's services, opened only if the handler asks for them."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from raise_.metadata.database import CatalogDatabase
from raise_.runs.control import RunControl
from raise_.runs.records import RunRecord

__all__ = ["RunContext"]

#: The log column keeps the tail: a chatty handler must not grow a catalog row without bound.
LOG_LIMIT = 64 * 1024


class RunContext:
    def __init__(
        self,
        run: RunRecord,
        control: RunControl,
        db: CatalogDatabase,
        services: Callable[[], Any] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.run = run
        self.control = control
        self.db = db
        self._services = services
        self.clock = clock
        self.timings: dict[str, float] = {}
        self.metrics: dict[str, Any] = {}
        self._log: list[str] = []

    # -- stopping ---------------------------------------------------------------------------------

    @property
    def cancelled(self) -> bool:
        return self.control.cancelled

    def raise_if_cancelled(self) -> None:
        self.control.raise_if_cancelled()

    def on_cancel(self, hook: Callable[[], object]) -> Callable[[], None]:
        return self.control.on_cancel(hook)

    # -- reporting --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a stage of the run; a stage entered twice adds up."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - started

    def metric(self, name: str, value: Any) -> None:
        self.metrics[name] = value

    def log(self, line: str) -> None:
        self._log.append(str(line))

    @property
    def log_text(self) -> str:
        text = "\n".join(self._log)
        return text[-LOG_LIMIT:]

    # -- the store --------------------------------------------------------------------------------

    @functools.cached_property
    def service(self) -> Any:
        """The store's service layer (in-process, or the server's over REST in a child process
        of a server): opened at first use, so a run that needs only the catalog opens nothing."""
        if self._services is None:
            raise RuntimeError(f"run {self.run.id}: no store services were given to this process's runs")
        return self._services()
