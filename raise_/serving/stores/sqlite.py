"""The default online store: one SQLite file, a table per feature group.

Each group's table has the entity's key text as its primary key (``WITHOUT ROWID``: a lookup is
one B-tree descent), its event time and commit, and a column per materialized feature label, so a
lookup of 15 features reads one row. WAL mode: lookups on other connections go on while a
materialization writes. Each thread has its own connection (SQLite connections are not shared).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from raise_.serving.stores.base import OnlineBatch, StoredEntity

__all__ = ["SQLiteOnlineStore"]

_STATE: Final = "_raise_online_state"
#: SQLite allows 32,766 host parameters per statement; lookups of more keys go in chunks.
_CHUNK: Final = 900


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class SQLiteOnlineStore:
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._columns: dict[str, list[str]] = {}
        self._queries: dict[tuple[str, tuple[str, ...]], tuple[list[str], str]] = {}  # (table, labels) → SELECT
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {_STATE} (tbl TEXT PRIMARY KEY, state TEXT NOT NULL)")
        conn.commit()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at each checkpoint, fast commits
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @staticmethod
    def _table(table: str) -> str:
        return _q(f"online__{table}")

    def _existing_columns(self, conn: sqlite3.Connection, table: str) -> list[str]:
        known = self._columns.get(table)
        if known is None:
            rows = conn.execute(f"PRAGMA table_info({self._table(table)})").fetchall()
            known = [r[1] for r in rows]
            if known:
                self._columns[table] = known
        return known

    def _ensure(self, conn: sqlite3.Connection, table: str, labels: Sequence[str]) -> None:
        existing = self._existing_columns(conn, table)
        if not existing:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table(table)} "
                "(k TEXT PRIMARY KEY, t INTEGER NOT NULL, c INTEGER NOT NULL) WITHOUT ROWID"
            )
            existing = ["k", "t", "c"]
        for label in labels:
            if label not in existing:
                conn.execute(f"ALTER TABLE {self._table(table)} ADD COLUMN {_q(label)}")
                existing = [*existing, label]
        self._columns[table] = list(existing)

    def write(self, table: str, batch: OnlineBatch, *, only_newer: bool = False) -> int:
        conn = self._conn()
        labels = list(batch.values)
        with self._lock:
            self._ensure(conn, table, labels)
            columns = self._columns[table]
        # Replaced whole: a feature this batch does not carry is null for these entities.
        names = ["k", "t", "c", *labels]
        others = [c for c in columns if c not in names]
        target = ", ".join(_q(n) for n in [*names, *others])
        values = f"VALUES ({', '.join('?' for _ in names)}{', NULL' * len(others)})"
        if only_newer:  # the store keeps an entity whose stored row is newer: one statement decides
            assignments = ", ".join(f"{_q(n)} = excluded.{_q(n)}" for n in [*names[1:], *others])
            sql = (
                f"INSERT INTO {self._table(table)} ({target}) {values} "
                f"ON CONFLICT(k) DO UPDATE SET {assignments} WHERE excluded.t >= {self._table(table)}.t"
            )
        else:
            sql = f"INSERT OR REPLACE INTO {self._table(table)} ({target}) {values}"
        rows = zip(
            batch.keys, batch.event_times, batch.commits, *(batch.values[label] for label in labels), strict=True
        )
        conn.execute("BEGIN IMMEDIATE")
        before = conn.total_changes
        try:
            conn.executemany(sql, rows)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        written = conn.total_changes - before
        conn.execute("COMMIT")
        return written

    def clear(self, table: str) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"DROP TABLE IF EXISTS {self._table(table)}")
        conn.execute(f"DELETE FROM {_STATE} WHERE tbl = ?", (table,))
        conn.execute("COMMIT")
        with self._lock:
            self._columns.pop(table, None)
            self._queries = {k: v for k, v in self._queries.items() if k[0] != table}

    def read(self, table: str, keys: Sequence[str], labels: Sequence[str]) -> list[StoredEntity | None]:
        conn = self._conn()
        query = self._queries.get((table, tuple(labels)))
        if query is None:
            query = self._query(conn, table, labels)
            if query is None:
                return [None] * len(keys)
        present, select = query
        found: dict[str, StoredEntity] = {}
        if len(keys) == 1:  # the common case, one B-tree descent: kept lean
            for row in conn.execute(f"{select} WHERE k = ?", (keys[0],)):
                found[row[0]] = StoredEntity(row[1], row[2], dict(zip(present, row[3:], strict=True)))
            return [found.get(keys[0])]
        for start in range(0, len(keys), _CHUNK):
            chunk = list(keys[start : start + _CHUNK])
            marks = ", ".join("?" for _ in chunk)
            for row in conn.execute(f"{select} WHERE k IN ({marks})", chunk):
                found[row[0]] = StoredEntity(row[1], row[2], dict(zip(present, row[3:], strict=True)))
        return [found.get(k) for k in keys]

    def _query(self, conn: sqlite3.Connection, table: str, labels: Sequence[str]) -> tuple[list[str], str] | None:
        """The SELECT (without its WHERE) of ``labels`` from ``table``, kept per label list: the
        labels the table has (another process may have added some since: looked up again once)."""
        columns = set(self._columns.get(table) or self._existing_columns(conn, table))
        if any(label not in columns for label in labels):
            self._columns.pop(table, None)
            columns = set(self._existing_columns(conn, table))
        if not columns:
            return None
        present = [label for label in labels if label in columns]
        select = f"SELECT {', '.join(['k', 't', 'c', *(_q(label) for label in present)])} FROM {self._table(table)}"
        if len(present) == len(labels):  # complete: reusable until the table changes
            self._queries[(table, tuple(labels))] = (present, select)
        return present, select

    def count(self, table: str) -> int:
        conn = self._conn()
        if not self._existing_columns(conn, table):
            return 0
        return int(conn.execute(f"SELECT count(*) FROM {self._table(table)}").fetchone()[0])

    def state(self, table: str) -> dict[str, Any] | None:
        row = self._conn().execute(f"SELECT state FROM {_STATE} WHERE tbl = ?", (table,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def set_state(self, table: str, state: dict[str, Any]) -> None:
        self._conn().execute(
            f"INSERT OR REPLACE INTO {_STATE} (tbl, state) VALUES (?, ?)", (table, json.dumps(state, sort_keys=True))
        )

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed from its own thread already
                conn.close()
        self._local = threading.local()
