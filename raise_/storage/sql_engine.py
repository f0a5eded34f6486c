"""The SQL side of an offline store (DESIGN §8): what analyses, ``fs.sql`` and the read path's
SQL builders need of it. DuckDB's file (:class:`raise_.storage.offline_store.DuckDBFile`) is the
one implementation today; its dialect is the one the builders write."""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

__all__ = ["SqlEngine"]


class SqlEngine(Protocol):
    def cursor(self) -> Any:
        """This thread's cursor."""
        ...

    def own_cursor(self) -> contextlib.AbstractContextManager[Any]:
        """A cursor of the block's own, so that interrupting it stops only the block's queries."""
        ...

    def table_exists(self, table: str) -> bool: ...

    def columns(self, table: str) -> dict[str, str]:
        """Column name → type of a table, in table order."""
        ...

    def query_arrow(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        """Run a query with named ``$parameters``; a pyarrow Table."""
        ...
