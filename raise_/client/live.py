"""``LiveTable``: an analysis kept materialized and refreshed (README *Live Tables*, PRD §12).

>>> daily = group.create_live_table(name="daily_engagement", analysis=Aggregation(...),
...                                 refresh="on_change")                      # doctest: +SKIP
>>> daily.query(filter="user_tier = 'gold'")                                  # doctest: +SKIP
"""

from __future__ import annotations

import html
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from raise_.analytics.refresh_policy import RefreshPolicy
from raise_.analytics.specs import AnalysisSpec, spec_from_dict
from raise_.client.html_table import key_value_table
from raise_.errors import InvalidArgumentError
from raise_.live.records import LiveTableRecord, RefreshEventRecord

if TYPE_CHECKING:
    import pandas as pd

    from raise_.api.protocol import Backend

__all__ = ["LiveTable", "LiveTables", "live_table_call"]


def live_table_call(
    analysis: AnalysisSpec | dict[str, Any], refresh: RefreshPolicy | str | dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The spec and the policy as the service takes them (both checked here first)."""
    return spec_from_dict(analysis).to_dict(), RefreshPolicy.parse(refresh).to_dict()


class LiveTable:
    def __init__(self, backend: Backend, record: LiveTableRecord) -> None:
        self._backend = backend
        self._record = record

    # -- what it is -------------------------------------------------------------------------------

    @property
    def record(self) -> LiveTableRecord:
        return self._record

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def group(self) -> str:
        """The path of the feature group it belongs to."""
        return self._record.group

    @property
    def description(self) -> str | None:
        return self._record.description

    @property
    def analysis(self) -> AnalysisSpec:
        return spec_from_dict(self._record.analysis)

    @property
    def refresh_policy(self) -> RefreshPolicy:
        return RefreshPolicy.parse(self._record.refresh_policy)

    @property
    def status(self) -> str:
        """``"active"``, ``"paused"`` or ``"failed"`` (``error_code``/``error_message`` say why;
        the last good data is still queried). As of the last call: ``reload()`` asks again."""
        return self._record.status

    @property
    def error_code(self) -> str | None:
        return self._record.error_code

    @property
    def error_message(self) -> str | None:
        return self._record.error_message

    @property
    def last_refresh(self) -> datetime | None:
        return self._record.last_refresh

    @property
    def row_count(self) -> int:
        return self._record.row_count

    @property
    def owner(self) -> str:
        """Whose access its refreshes run with."""
        return self._record.owner

    @property
    def columns(self) -> list[str]:
        return list(self._record.columns)

    # -- reading ----------------------------------------------------------------------------------

    def query(
        self, filter: str | None = None, columns: list[str] | None = None, limit: int | None = None
    ) -> pd.DataFrame:
        """The rows of the last good refresh: ``filter`` a predicate over its columns
        (``"user_tier = 'gold'"``, values bound as parameters), ``columns`` a projection,
        ``limit`` the most rows."""
        table = self._backend.query_live_table(self.group, self.name, filter, columns, limit)
        frame: pd.DataFrame = table.to_pandas()
        return frame

    def refresh_history(self, limit: int = 20) -> list[RefreshEventRecord]:
        """Its refreshes, newest first (status, trigger, mode, rows processed, error)."""
        return self._backend.live_table_history(self.group, self.name, limit)

    def reload(self) -> LiveTable:
        """Ask the store again for its status, last refresh and row count."""
        self._record = self._backend.get_live_table(self.group, self.name)
        return self

    def wait_for_refresh(self, after: datetime | None = None, timeout: float = 10.0) -> LiveTable:
        """Wait until it has refreshed after ``after`` (default: its last refresh as now known),
        e.g. after a write to an on-change table; a ``TimeoutError`` after ``timeout`` seconds."""
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise InvalidArgumentError(f"timeout must be a positive number of seconds, got {timeout!r}.", {})
        since = after if after is not None else self.last_refresh
        deadline = time.monotonic() + timeout
        while True:
            self.reload()
            if self.last_refresh is not None and (since is None or self.last_refresh > since):
                return self
            if time.monotonic() >= deadline:
                raise TimeoutError(f"Live table {self.name!r} did not refresh within {timeout:g} s.")
            time.sleep(0.05)

    # -- changing ---------------------------------------------------------------------------------

    def refresh(self) -> RefreshEventRecord:
        """Refresh now, whatever the policy; the event (``status`` ``"completed"`` or ``"failed"``)."""
        event = self._backend.refresh_live_table(self.group, self.name)
        self.reload()
        return event

    def pause(self) -> LiveTable:
        """No automatic refreshes until ``resume()`` (its data stays queryable)."""
        self._record = self._backend.pause_live_table(self.group, self.name)
        return self

    def resume(self) -> LiveTable:
        self._record = self._backend.resume_live_table(self.group, self.name)
        return self

    def delete(self) -> None:
        """Delete it with its data and history."""
        self._backend.delete_live_table(self.group, self.name)

    # -- showing ----------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"LiveTable({self.group}/{self.name!r}, status={self.status!r}, refresh={self.refresh_policy!r}, "
            f"rows={self.row_count}, last_refresh={self.last_refresh.isoformat() if self.last_refresh else None})"
        )

    def _repr_html_(self) -> str:
        r = self._record
        cells = [
            ("analysis", r.analysis.get("type", "")),
            ("refresh", repr(self.refresh_policy)),
            ("status", r.status + (f" ({r.error_code}: {r.error_message})" if r.error_code else "")),
            ("last refresh", r.last_refresh.isoformat(timespec="seconds") if r.last_refresh else "never"),
            ("rows", str(r.row_count)),
        ]
        return f"<b>Live table {html.escape(r.name)}</b> <code>{html.escape(r.group)}</code>" + key_value_table(cells)


class LiveTables:
    """Mixed into ``FeatureGroup``: its live tables."""

    _backend: Backend

    @property
    def path(self) -> str:
        raise NotImplementedError

    def create_live_table(
        self,
        name: str,
        analysis: AnalysisSpec | dict[str, Any],
        refresh: RefreshPolicy | str | dict[str, Any] = "on_change",
        description: str | None = None,
    ) -> LiveTable:
        """Materialize ``analysis`` and keep it fresh: ``refresh`` is ``"on_change"`` (after each
        commit to the data it reads), ``"hourly"``, ``"daily"``, ``"manual"`` or a
        ``RefreshPolicy`` (``RefreshPolicy.cron("0 */6 * * *")``)."""
        spec, policy = live_table_call(analysis, refresh)
        return LiveTable(self._backend, self._backend.create_live_table(self.path, name, spec, policy, description))

    def get_live_table(self, name: str) -> LiveTable:
        return LiveTable(self._backend, self._backend.get_live_table(self.path, name))

    def list_live_tables(self) -> list[LiveTable]:
        return [LiveTable(self._backend, r) for r in self._backend.list_live_tables(self.path)]
