"""Reading a group's data: now, as of a time, as of a commit, its full history, or its changes.

The visible rows as of commit ``N`` are those written by a commit ≤ N and not superseded by a
commit ≤ N: the current table's rows with ``_commit <= N`` plus the history rows with
``_commit <= N < _superseded_by``. Reads of the present touch only the current table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa

from raise_.storage.layout import COMMIT_COLUMN, SUPERSEDED_COLUMN, FeatureColumn, GroupLayout
from raise_.storage.offline_store import OfflineStore, quote

__all__ = ["ReadRequest", "empty_result", "read_group", "visible_rows_sql"]


class ReadRequest:
    def __init__(
        self,
        features: list[tuple[str, FeatureColumn]],
        *,
        as_of: datetime | None = None,
        as_of_commit: int | None = None,
        history: bool = False,
        where_sql: str | None = None,
        where_params: dict[str, Any] | None = None,
        limit: int | None = None,
        since_commit: int | None = None,
    ) -> None:
        self.features = features  # (output name, column)
        self.as_of = as_of
        self.as_of_commit = as_of_commit
        self.history = history
        self.where_sql = where_sql
        self.where_params = where_params or {}  # named $parameters of where_sql
        self.limit = limit
        self.since_commit = since_commit


def visible_rows_sql(layout: GroupLayout, columns: list[str], as_of_commit: int | None) -> tuple[str, dict[str, Any]]:
    """SQL (and named parameters) for the group's visible rows, now or as of a commit."""
    q = quote
    cols = ", ".join(q(c) for c in columns)
    if as_of_commit is None:
        return f"SELECT {cols} FROM {q(layout.table)}", {}
    return (
        f"SELECT {cols} FROM {q(layout.table)} WHERE {q(COMMIT_COLUMN)} <= $as_of_commit "
        f"UNION ALL SELECT {cols} FROM {q(layout.history_table)} "
        f"WHERE {q(COMMIT_COLUMN)} <= $as_of_commit AND {q(SUPERSEDED_COLUMN)} > $as_of_commit",
        {"as_of_commit": as_of_commit},
    )


def empty_result(layout: GroupLayout, req: ReadRequest, key_types: dict[str, pa.DataType]) -> pa.Table:
    fields = [pa.field(k, key_types.get(k, pa.string())) for k in layout.entity_keys or []]
    fields.append(pa.field(layout.event_time, pa.timestamp("us", tz="UTC")))
    fields += [pa.field(name, f.arrow_type) for name, f in req.features]
    return pa.schema(fields).empty_table()


def read_group(store: OfflineStore, layout: GroupLayout, req: ReadRequest) -> pa.Table:
    q = quote
    keys = list(layout.entity_keys or [])
    stored = store.columns(layout.table)
    written = sorted({f.physical for _, f in req.features if f.physical in stored})
    inner_cols = [*keys, layout.event_time, COMMIT_COLUMN, *written]
    base, params = visible_rows_sql(layout, inner_cols, req.as_of_commit)
    conditions: list[str] = []
    if req.as_of is not None:
        params["as_of"] = req.as_of
        conditions.append(f"{q(layout.event_time)} <= $as_of")
    if req.since_commit is not None:
        params["since_commit"] = req.since_commit
        conditions.append(f"{q(COMMIT_COLUMN)} > $since_commit")
    outputs = [q(k) for k in keys] + [q(layout.event_time)]
    for name, f in req.features:
        if f.physical in stored:
            outputs.append(f"{q(f.physical)} AS {q(name)}")
        else:  # a feature created but never written: a column of NULLs of its type
            outputs.append(f"CAST(NULL AS {f.dtype.duckdb_type()}) AS {q(name)}")
    if req.since_commit is not None:
        outputs.append(q(COMMIT_COLUMN))
    inner = f"SELECT {', '.join(outputs)} FROM ({base}) v"
    if conditions:
        inner += " WHERE " + " AND ".join(conditions)
    if not req.history and req.since_commit is None and keys:
        partition = ", ".join(q(k) for k in keys)
        inner += f" QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY {q(layout.event_time)} DESC) = 1"
    # The filter sees the rows the read returns (e.g. the latest per entity), by their output names.
    sql = f"SELECT * FROM ({inner}) r"
    if req.where_sql:
        params.update(req.where_params)
        sql += f" WHERE {req.where_sql}"
    sql += " ORDER BY " + ", ".join(q(c) for c in [*keys, layout.event_time])
    if req.limit is not None:
        params["limit"] = req.limit
        sql += " LIMIT $limit"
    table: pa.Table = store.query_arrow(sql, params)
    return table
