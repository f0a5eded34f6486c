"""The DuckDB file that holds feature values (DESIGN §3), and its bookkeeping tables.

One file, ``$RAISE_HOME/features.duckdb``, opened by one process (DuckDB allows one writer
process per file; inside Jupyter the server extension is that process). Per feature group it
holds two tables:

- ``{group table}``: the *visible* row per (entity keys, event time), tagged with ``_commit``,
  the commit that wrote it. Everyday reads and point-in-time joins scan only this table.
- ``{group table}__history``: row versions that a later commit superseded, with
  ``_superseded_by``. Time travel unions them back in; nothing else reads them.

and, for the whole file, the commit log ``_raise_commits`` (one row per write, in the same
transaction as the write, so a commit exists exactly when its rows do) and named snapshots
``_raise_snapshots``. Every timestamp is UTC: the connection's time zone is pinned to UTC.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

__all__ = ["DuckDBFile", "OfflineStore", "quote"]

_BOOKKEEPING = (
    "CREATE SEQUENCE IF NOT EXISTS _raise_commit_seq START 1",
    """CREATE TABLE IF NOT EXISTS _raise_commits (
        commit_id BIGINT PRIMARY KEY,
        table_name VARCHAR NOT NULL,
        group_path VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        rows BIGINT NOT NULL,
        actor VARCHAR,
        committed_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS _raise_snapshots (
        table_name VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        commit_id BIGINT NOT NULL,
        description VARCHAR,
        created_by VARCHAR,
        created_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (table_name, name)
    )""",
    # Materialized results (live tables) and the checkpoint each was written with:
    # raise_.storage.materialized.
    """CREATE TABLE IF NOT EXISTS _raise_materialized (
        name VARCHAR PRIMARY KEY,
        checkpoint VARCHAR NOT NULL,
        run_id VARCHAR,
        rows BIGINT NOT NULL,
        written_at TIMESTAMPTZ NOT NULL
    )""",
    # Which run (of a job, ...) made a commit and the checkpoint it advanced, written in the
    # commit's own transaction (DESIGN §8 "exactly-once"): raise_.storage.run_commits.
    """CREATE TABLE IF NOT EXISTS _raise_run_commits (
        commit_id BIGINT PRIMARY KEY,
        owner_id VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL,
        checkpoint VARCHAR,
        committed_at TIMESTAMPTZ NOT NULL
    )""",
)


def quote(identifier: str) -> str:
    """A DuckDB quoted identifier. Names reaching SQL are validated first; quoting is the belt."""
    return '"' + identifier.replace('"', '""') + '"'


class DuckDBFile:
    """A DuckDB database file with one connection; each thread works on its own cursor."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = duckdb.connect(str(self.path))
        self._conn.execute("SET TimeZone = 'UTC'")
        for statement in _BOOKKEEPING:
            self._conn.execute(statement)
        self._local = threading.local()
        self._schemas: dict[str, dict[str, str]] = {}
        self._schema_lock = threading.Lock()
        self._schema_generation = 0  # bumped by every schema change: a look that spans one is not kept
        # DuckDB serialises writers inside one process anyway; holding our own lock around a
        # whole write keeps commit ids in the order writes become visible.
        self.write_lock = threading.RLock()
        # Every thread's cursor, closed with the file: a cursor left to a thread-local of a pool
        # thread would keep the database (and DuckDB's own threads) alive into interpreter exit.
        self._cursors: list[duckdb.DuckDBPyConnection] = []

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._conn.cursor()
            cur.execute("SET TimeZone = 'UTC'")
            self._local.cursor = cur
            with self._schema_lock:
                self._cursors.append(cur)
        return cur

    @contextlib.contextmanager
    def own_cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of this thread's own for the block (closed after it), so that interrupting it
        (``cursor.interrupt()``, from another thread) can only stop this block's queries."""
        previous = getattr(self._local, "cursor", None)
        cur = self._conn.cursor()
        cur.execute("SET TimeZone = 'UTC'")
        self._local.cursor = cur
        try:
            yield cur
        finally:
            self._local.cursor = previous
            cur.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One DuckDB transaction on this thread's cursor: committed on success, else rolled back."""
        cur = self.cursor()
        cur.execute("BEGIN TRANSACTION")
        self._local.in_transaction = True
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        finally:
            self._local.in_transaction = False
        cur.execute("COMMIT")

    def table_exists(self, table: str) -> bool:
        if not self._in_transaction() and table in self._schemas:
            return True
        rows = (
            self.cursor()
            # duckdb_tables() rather than information_schema.tables (a view over tables and views): half the time
            .execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = $1", [table])
            .fetchall()
        )
        return bool(rows[0][0])

    def _in_transaction(self) -> bool:
        return bool(getattr(self._local, "in_transaction", False))

    def columns(self, table: str) -> dict[str, str]:
        """Column name → DuckDB type of a table, in table order.

        Kept after the first look (information_schema costs milliseconds, more than a small
        query): this process owns the file, and the writer calls :meth:`schema_changed` after
        every write that may have created a table or added a column. Inside a transaction (a
        write, which may have just added a column) the catalog is always asked."""
        if self._in_transaction():
            return self._columns_now(table)
        known = self._schemas.get(table)
        if known is not None:
            return dict(known)
        with self._schema_lock:
            generation = self._schema_generation
        found = self._columns_now(table)
        with self._schema_lock:
            # A write that committed DDL while we looked makes what we saw stale: do not keep it.
            if found and generation == self._schema_generation:
                self._schemas[table] = found
        return dict(found)

    def _columns_now(self, table: str) -> dict[str, str]:
        rows = (
            self.cursor()
            .execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 "
                "ORDER BY ordinal_position",
                [table],
            )
            .fetchall()
        )
        return {name: dtype for name, dtype in rows}

    def schema_changed(self, *tables: str) -> None:
        """Forget what :meth:`columns` knows of ``tables`` (after DDL, committed or rolled back)."""
        with self._schema_lock:
            self._schema_generation += 1
            for table in tables:
                self._schemas.pop(table, None)

    def query_arrow(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        """Run a query (named ``$parameters``) on this thread's cursor and return a pyarrow Table."""
        return self.cursor().sql(sql, params=params or {}).to_arrow_table()

    def close(self) -> None:
        with self._schema_lock:
            cursors, self._cursors = self._cursors, []
        for cur in cursors:
            with contextlib.suppress(Exception):  # closed already, or its thread is gone
                cur.close()
        self._conn.close()


#: The old name of :class:`DuckDBFile`, from before the offline store seam
#: (:class:`raise_.storage.offline.OfflineStore` is the protocol now).
OfflineStore = DuckDBFile
