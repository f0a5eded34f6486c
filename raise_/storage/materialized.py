"""Materialized results in the DuckDB offline store (live tables, DESIGN §8 "exactly-once").

A result is a table ``_live_<name>`` (and, for incremental refreshes, the partial aggregates it
merges into, ``_live_<name>__state``), replaced in **one transaction** together with its
checkpoint row in ``_raise_materialized``: the commits of each source it has consumed and the
run that wrote it. DuckDB's snapshot isolation gives a reader the old table or the new, never
half of one; a refresh that fails rolls back and leaves the old one (and its checkpoint) as
they were; a retried refresh starts from the checkpoint that was committed with the data.
"""

from __future__ import annotations

import json
from typing import Any, Final

import pyarrow as pa

from raise_.storage.layout import SUPERSEDED_COLUMN
from raise_.storage.offline_store import DuckDBFile, quote
from raise_.storage.records import Checkpoint, CommitEvent

__all__ = [
    "Checkpoint",
    "checkpoint_text",
    "commits_after",
    "data_table",
    "drop_materialized",
    "newest_commit",
    "put_materialized",
    "read_checkpoint",
    "replaced_rows_after",
    "state_table",
]

_INCOMING: Final = "_raise_materialize_incoming"


def data_table(name: str) -> str:
    return f"_live_{name}"


def state_table(name: str) -> str:
    return f"_live_{name}__state"


def put_materialized(
    store: DuckDBFile, name: str, data: pa.Table, state: pa.Table | None, checkpoint: Checkpoint
) -> None:
    """Replace the result ``name`` (and its state) and its checkpoint, all or nothing."""
    table, partials = data_table(name), state_table(name)
    with store.write_lock:
        try:
            with store.transaction() as cur:
                cur.register(_INCOMING, data)
                cur.execute(f"CREATE OR REPLACE TABLE {quote(table)} AS SELECT * FROM {_INCOMING}")
                cur.unregister(_INCOMING)
                if state is None:
                    cur.execute(f"DROP TABLE IF EXISTS {quote(partials)}")
                else:
                    cur.register(_INCOMING, state)
                    cur.execute(f"CREATE OR REPLACE TABLE {quote(partials)} AS SELECT * FROM {_INCOMING}")
                    cur.unregister(_INCOMING)
                record = checkpoint_text(checkpoint)  # in the transaction: a failure here undoes the tables too
                cur.execute(
                    "INSERT OR REPLACE INTO _raise_materialized (name, checkpoint, run_id, rows, written_at) "
                    "VALUES ($1, $2, $3, $4, now())",
                    [name, record, checkpoint.run_id, data.num_rows],
                )
        finally:
            store.schema_changed(table, partials)


def checkpoint_text(checkpoint: Checkpoint) -> str:
    return json.dumps({"cursors": checkpoint.cursors, "shape": checkpoint.shape})


def read_checkpoint(store: DuckDBFile, name: str) -> Checkpoint | None:
    rows = (
        store.cursor().execute("SELECT checkpoint, run_id FROM _raise_materialized WHERE name = $1", [name]).fetchall()
    )
    if not rows:
        return None
    data: dict[str, Any] = json.loads(rows[0][0])
    return Checkpoint({str(k): int(v) for k, v in data["cursors"].items()}, str(data["shape"]), rows[0][1])


def drop_materialized(store: DuckDBFile, name: str) -> None:
    table, partials = data_table(name), state_table(name)
    with store.write_lock:
        try:
            with store.transaction() as cur:
                cur.execute(f"DROP TABLE IF EXISTS {quote(table)}")
                cur.execute(f"DROP TABLE IF EXISTS {quote(partials)}")
                cur.execute("DELETE FROM _raise_materialized WHERE name = $1", [name])
        finally:
            store.schema_changed(table, partials)


def newest_commit(store: DuckDBFile) -> int:
    """The newest commit id of the whole file (0: none): the change feed's cheap poll."""
    rows = store.cursor().execute("SELECT coalesce(max(commit_id), 0) FROM _raise_commits").fetchall()
    return int(rows[0][0])


def commits_after(store: DuckDBFile, commit_id: int, tables: list[str] | None = None) -> list[CommitEvent]:
    """The commits after ``commit_id`` (of ``tables`` only, when given), oldest first."""
    sql = "SELECT group_path, table_name, commit_id, kind FROM _raise_commits WHERE commit_id > $1"
    params: list[Any] = [commit_id]
    if tables is not None:
        sql += " AND list_contains($2, table_name)"
        params.append(tables)
    rows = store.cursor().execute(sql + " ORDER BY commit_id", params).fetchall()
    return [CommitEvent(str(p), str(t), int(c), str(k)) for p, t, c, k in rows]


def replaced_rows_after(store: DuckDBFile, history_table: str, commit_id: int) -> int:
    """How many row versions the commits after ``commit_id`` superseded (0: they only added rows)."""
    if not store.table_exists(history_table):
        return 0
    rows = (
        store.cursor()
        .execute(f"SELECT count(*) FROM {quote(history_table)} WHERE {quote(SUPERSEDED_COLUMN)} > $1", [commit_id])
        .fetchall()
    )
    return int(rows[0][0])
