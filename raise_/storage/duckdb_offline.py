"""The DuckDB offline store (DESIGN §3): one file, ``$RAISE_HOME/features.duckdb``.

The implementation of :class:`raise_.storage.offline.OfflineStore` that Raise ships. Its SQL lives
here and in the modules it drives (``writer``, ``reader``, ``training``), never in a service. The
file is opened on first use, so catalog-only work never takes DuckDB's file lock.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from raise_.storage import materialized
from raise_.storage.derived import Plan
from raise_.storage.ingest import PreparedWrite
from raise_.storage.layout import COMMIT_COLUMN, SUPERSEDED_COLUMN, GroupLayout
from raise_.storage.offline import Outputs
from raise_.storage.offline_store import DuckDBFile, quote
from raise_.storage.reader import ReadRequest, read_group
from raise_.storage.records import Checkpoint, CommitEvent, CommitInfo, CommitRecord, RunMarker, SnapshotRecord
from raise_.storage.training import training_set
from raise_.storage.writer import apply_write

__all__ = ["DuckDBOfflineStore"]


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DuckDBOfflineStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._file: DuckDBFile | None = None
        self._lock = threading.Lock()

    @property
    def sql(self) -> DuckDBFile:
        """The DuckDB file (opened now if it is not yet): the SQL engine of analyses and queries."""
        if self._file is None:
            with self._lock:
                if self._file is None:
                    self._file = DuckDBFile(self.path)
        return self._file

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    # -- the change feed and materialized results (raise_.storage.materialized) ------------------

    def newest_commit(self) -> int:
        return materialized.newest_commit(self.sql)

    def commits_after(self, commit_id: int, layouts: list[GroupLayout] | None = None) -> list[CommitEvent]:
        tables = None if layouts is None else [layout.table for layout in layouts]
        return materialized.commits_after(self.sql, commit_id, tables)

    def replaced_rows_after(self, layout: GroupLayout, commit_id: int) -> int:
        return materialized.replaced_rows_after(self.sql, layout.history_table, commit_id)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        with self.sql.transaction():
            yield

    def put_materialized(self, name: str, data: pa.Table, state: pa.Table | None, checkpoint: Checkpoint) -> None:
        materialized.put_materialized(self.sql, name, data, state, checkpoint)

    def materialized_checkpoint(self, name: str) -> Checkpoint | None:
        return materialized.read_checkpoint(self.sql, name)

    def materialized_relation(self, name: str, state: bool = False) -> str | None:
        table = materialized.state_table(name) if state else materialized.data_table(name)
        return quote(table) if self.sql.table_exists(table) else None

    def materialized_columns(self, name: str) -> list[str]:
        table = materialized.data_table(name)
        return list(self.sql.columns(table)) if self.sql.table_exists(table) else []

    def drop_materialized(self, name: str) -> None:
        materialized.drop_materialized(self.sql, name)

    def has_data(self, layout: GroupLayout) -> bool:
        return self.sql.table_exists(layout.table)

    def key_types(self, layout: GroupLayout) -> dict[str, pa.DataType]:
        if not layout.entity_keys or not self.has_data(layout):
            return {}
        cols = ", ".join(quote(k) for k in layout.entity_keys)
        schema = self.sql.query_arrow(f"SELECT {cols} FROM {quote(layout.table)} LIMIT 0").schema
        return {f.name: f.type for f in schema}

    def commit(
        self,
        layout: GroupLayout,
        prepared: PreparedWrite,
        mode: str,
        *,
        actor: str,
        now: datetime,
        marker: RunMarker | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> CommitInfo:
        return apply_write(
            self.sql, layout, prepared, mode, actor=actor, now=now, marker=marker, before_commit=before_commit
        )

    def run_commits(self, owner_id: str, run_id: str | None = None) -> list[RunMarker]:
        sql = "SELECT owner_id, run_id, checkpoint, committed_at, commit_id FROM _raise_run_commits WHERE owner_id = $o"
        params: dict[str, Any] = {"o": owner_id}
        if run_id is not None:
            sql += " AND run_id = $r"
            params["r"] = run_id
        rows = self.sql.cursor().execute(sql + " ORDER BY commit_id DESC", params).fetchall()
        return [RunMarker(str(o), str(r), c, t, int(i)) for o, r, c, t, i in rows]

    def scan(self, layout: GroupLayout, request: ReadRequest, plan: Plan, outputs: Outputs) -> pa.Table:
        return read_group(self.sql, layout, request, plan, outputs)

    def as_of_join(self, entity: pa.Table, event_time_column: str, plan: Plan, outputs: Outputs) -> pa.Table:
        return training_set(self.sql, entity, event_time_column, plan, outputs)

    # -- commits and snapshots -----------------------------------------------------------------

    def commits(self, layout: GroupLayout) -> list[CommitRecord]:
        rows = self.sql.query_arrow(
            "SELECT commit_id, kind, rows, actor, committed_at FROM _raise_commits WHERE table_name = $table "
            "ORDER BY commit_id",
            {"table": layout.table},
        ).to_pylist()
        return [CommitRecord(r["commit_id"], r["kind"], r["rows"], r["actor"], as_utc(r["committed_at"])) for r in rows]

    def snapshots(self, layout: GroupLayout) -> list[SnapshotRecord]:
        rows = self.sql.query_arrow(
            "SELECT name, commit_id, description, created_by, created_at FROM _raise_snapshots "
            "WHERE table_name = $table ORDER BY commit_id, name",
            {"table": layout.table},
        ).to_pylist()
        return [
            SnapshotRecord(r["name"], r["commit_id"], r["description"], r["created_by"], as_utc(r["created_at"]))
            for r in rows
        ]

    def snapshot_commit(self, layout: GroupLayout, name: str) -> int | None:
        rows = (
            self.sql.cursor()
            .execute("SELECT commit_id FROM _raise_snapshots WHERE table_name = $1 AND name = $2", [layout.table, name])
            .fetchall()
        )
        return int(rows[0][0]) if rows else None

    def add_snapshot(self, layout: GroupLayout, snapshot: SnapshotRecord) -> bool:
        with self.sql.write_lock, self.sql.transaction() as cur:
            existing = cur.execute(
                "SELECT count(*) FROM _raise_snapshots WHERE table_name = $1 AND name = $2",
                [layout.table, snapshot.name],
            ).fetchall()[0][0]
            if existing:
                return False
            cur.execute(
                "INSERT INTO _raise_snapshots VALUES ($1, $2, $3, $4, $5, $6)",
                [
                    layout.table,
                    snapshot.name,
                    snapshot.commit_id,
                    snapshot.description,
                    snapshot.created_by,
                    snapshot.created_at,
                ],
            )
        return True

    # -- compaction ----------------------------------------------------------------------------

    def compact(self, layout: GroupLayout, cutoff: datetime) -> int:
        if not self.has_data(layout):
            return 0
        q = quote
        with self.sql.write_lock, self.sql.transaction() as cur:
            horizon_rows = cur.execute(
                "SELECT max(commit_id) FROM _raise_commits WHERE table_name = $1 AND committed_at < $2",
                [layout.table, cutoff],
            ).fetchall()
            horizon = horizon_rows[0][0]
            if horizon is None:
                return 0
            needed = (
                "EXISTS (SELECT 1 FROM _raise_snapshots s WHERE s.table_name = $table "
                f"AND h.{q(COMMIT_COLUMN)} <= s.commit_id AND s.commit_id < h.{q(SUPERSEDED_COLUMN)})"
            )
            params = {"table": layout.table, "horizon": int(horizon)}
            count = cur.sql(
                f"SELECT count(*) FROM {q(layout.history_table)} h WHERE h.{q(SUPERSEDED_COLUMN)} <= $horizon "
                f"AND NOT {needed}",
                params=params,
            ).fetchall()[0][0]
            cur.execute(
                f"DELETE FROM {q(layout.history_table)} h WHERE h.{q(SUPERSEDED_COLUMN)} <= $horizon AND NOT {needed}",
                params,
            )
            cur.execute(
                "CREATE TABLE IF NOT EXISTS _raise_compactions (table_name VARCHAR PRIMARY KEY, horizon BIGINT)"
            )
            cur.execute("INSERT OR REPLACE INTO _raise_compactions VALUES ($1, $2)", [layout.table, int(horizon)])
        return int(count)

    def compaction_horizon(self, layout: GroupLayout) -> int | None:
        if not self.sql.table_exists("_raise_compactions"):
            return None
        rows = (
            self.sql.cursor()
            .execute("SELECT horizon FROM _raise_compactions WHERE table_name = $1", [layout.table])
            .fetchall()
        )
        return int(rows[0][0]) if rows else None
