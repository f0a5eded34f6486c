"""Applying a checked write to DuckDB as one commit (DESIGN §3, "every write is a commit").

In one transaction: take the next commit id; deduplicate the incoming rows per (keys, event
time) if they need it (the last row given wins); move the rows they supersede — or, for
``overwrite``, every row — to the history table, tagged with this commit; insert the incoming
rows (an ``upsert`` takes the columns it does not carry from the versions it just moved); log
the commit. The common case — new rows into a group — is one aggregate and one INSERT from the
Arrow scan. A crash at any point
leaves the previous commit intact, because DuckDB makes the transaction all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa

from raise_.storage.ingest import ROW_COLUMN, PreparedWrite
from raise_.storage.layout import COMMIT_COLUMN, SUPERSEDED_COLUMN, GroupLayout
from raise_.storage.offline_store import DuckDBFile, quote
from raise_.storage.records import CommitInfo, RunMarker

__all__ = ["WRITE_MODES", "CommitInfo", "apply_write"]

WRITE_MODES = ("append", "upsert", "overwrite")
_INCOMING = "_raise_incoming"
_NUMBERED = "_raise_incoming_numbered"
_STAGED = "_raise_staged"


def _ensure_tables(store: DuckDBFile, cur: duckdb.DuckDBPyConnection, layout: GroupLayout, w: PreparedWrite) -> None:
    """Create the group's tables on its first write (keys typed as DuckDB reads the data) and add
    the columns of features written for the first time."""
    q = quote
    table, history = layout.table, layout.history_table
    if not store.table_exists(table):
        types = cur.execute(
            f"SELECT {', '.join(f'typeof({q(k)})' for k in w.keys)} FROM {_INCOMING} LIMIT 1"
        ).fetchall()[0]
        base = [f"{q(k)} {t} NOT NULL" for k, t in zip(w.keys, types, strict=True)]
        base += [f"{q(w.event_time)} TIMESTAMPTZ NOT NULL", f"{q(COMMIT_COLUMN)} BIGINT NOT NULL"]
        store.cursor().execute(f"CREATE TABLE {q(table)} ({', '.join(base)})")
        store.cursor().execute(f"CREATE TABLE {q(history)} ({', '.join(base)}, {q(SUPERSEDED_COLUMN)} BIGINT NOT NULL)")
    existing = store.columns(table)
    for f in w.features:
        if f.physical not in existing:
            # Both tables gain the column together, so their column lists stay aligned.
            for t in (table, history):
                store.cursor().execute(f"ALTER TABLE {q(t)} ADD COLUMN {q(f.physical)} {f.dtype.duckdb_type()}")


def apply_write(
    store: DuckDBFile,
    layout: GroupLayout,
    w: PreparedWrite,
    mode: str,
    *,
    actor: str,
    now: datetime,
    marker: RunMarker | None = None,
    before_commit: Callable[[], None] | None = None,
) -> CommitInfo:
    q = quote
    table, history = q(layout.table), q(layout.history_table)
    match_cols = [*w.keys, w.event_time]
    partition = ", ".join(q(c) for c in match_cols)
    try:
        with store.write_lock, store.transaction() as cur:
            cur.register(_INCOMING, w.table)
            try:
                _ensure_tables(store, cur, layout, w)
                all_cols = list(store.columns(layout.table))
                feature_cols = [c for c in all_cols if c not in (*match_cols, COMMIT_COLUMN)]
                given = {f.physical for f in w.features}
                commit_id = int(cur.execute("SELECT nextval('_raise_commit_seq')").fetchall()[0][0])

                # One visible row per (keys, event time): duplicates within the write keep the last row
                # given. Checking costs one aggregate; deduplicating (a window sort) only runs if needed.
                distinct = int(
                    cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM {_INCOMING} GROUP BY {partition})").fetchall()[0][
                        0
                    ]
                )
                source = _INCOMING
                if distinct < w.table.num_rows:
                    # Number the rows only now (it costs ~0.24 s per 10M rows), so the last one given wins.
                    numbered = w.table.append_column(ROW_COLUMN, pa.array(np.arange(w.table.num_rows, dtype=np.int64)))
                    cur.register(_NUMBERED, numbered)
                    try:
                        cur.execute(
                            f"CREATE TEMP TABLE {_STAGED} AS SELECT * EXCLUDE ({q(ROW_COLUMN)}) FROM {_NUMBERED} "
                            f"QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY {q(ROW_COLUMN)} DESC) = 1"
                        )
                    finally:
                        cur.unregister(_NUMBERED)
                    source = _STAGED

                cols = ", ".join(q(c) for c in all_cols)
                has_rows = bool(cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)").fetchall()[0][0])
                moved = 0
                if has_rows and mode == "overwrite":
                    cur.execute(
                        f"INSERT INTO {history} ({cols}, {q(SUPERSEDED_COLUMN)}) "
                        f"SELECT {cols}, {commit_id} FROM {table}"
                    )
                    cur.execute(f"DELETE FROM {table}")
                elif has_rows:
                    on = " AND ".join(f"c.{q(k)} = s.{q(k)}" for k in match_cols)
                    moved = cur.execute(
                        f"INSERT INTO {history} ({cols}, {q(SUPERSEDED_COLUMN)}) "
                        f"SELECT {', '.join('c.' + q(c) for c in all_cols)}, {commit_id} FROM {table} c "
                        f"SEMI JOIN {source} s ON {on}"
                    ).fetchall()[0][0]
                    if moved:  # new keys only (the common append) supersede nothing: skip a second full join
                        cur.execute(
                            f"DELETE FROM {table} USING {source} s WHERE "
                            + " AND ".join(f"{table}.{q(k)} = s.{q(k)}" for k in match_cols)
                        )

                select = [f"s.{q(c)}" for c in match_cols] + [f"{commit_id}"]
                merge = mode == "upsert" and bool(moved)
                for c in feature_cols:
                    if c in given:
                        select.append(f"s.{q(c)}")
                    elif merge:  # an upsert keeps the values it does not carry: from the versions just moved
                        select.append(f"h.{q(c)}")
                    else:
                        select.append("NULL")
                src = f"{source} s"
                if merge:
                    on = " AND ".join(f"h.{q(k)} = s.{q(k)}" for k in match_cols)
                    src += f" LEFT JOIN {history} h ON {on} AND h.{q(SUPERSEDED_COLUMN)} = {commit_id}"
                cur.execute(f"INSERT INTO {table} ({cols}) SELECT {', '.join(select)} FROM {src}")
                if source == _STAGED:
                    cur.execute(f"DROP TABLE {_STAGED}")
            finally:
                cur.unregister(_INCOMING)
            if before_commit is not None:
                before_commit()  # a test's fault point: the rows are in, nothing is committed
            if marker is not None:
                cur.execute(
                    "INSERT INTO _raise_run_commits VALUES ($1, $2, $3, $4, $5)",
                    [commit_id, marker.owner_id, marker.run_id, marker.checkpoint, now],
                )
            cur.execute(
                "INSERT INTO _raise_commits VALUES ($1, $2, $3, $4, $5, $6, $7)",
                [commit_id, layout.table, layout.path, mode, distinct, actor, now],
            )
    finally:
        # Its DDL (a first write, a new column) is now committed or rolled back.
        store.schema_changed(layout.table, layout.history_table)
    return CommitInfo(commit_id, distinct)
