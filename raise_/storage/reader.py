"""Reading a group's data: now, as of a time, as of a commit, its full history, or its changes.

The visible rows as of commit ``N`` are those written by a commit ≤ N and not superseded by a
commit ≤ N: the current table's rows with ``_commit <= N`` plus the history rows with
``_commit <= N < _superseded_by``. Reads of the present touch only the current table.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pyarrow as pa

from raise_.storage.derived import Node, Plan, group_relation, probe_layers
from raise_.storage.layout import COMMIT_COLUMN, SUPERSEDED_COLUMN, FeatureColumn, GroupLayout
from raise_.storage.offline_store import quote
from raise_.storage.sql_engine import SqlEngine

__all__ = ["ReadRequest", "empty_result", "joined_relations", "read_group", "read_relation", "visible_rows_sql"]


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


def joined_relations(
    store: SqlEngine,
    plan: Plan,
    probe_time: str,
    probe_key: Callable[[str], str],
    as_of_commit: int | None,
    params: dict[str, Any],
) -> tuple[list[str], list[str], dict[str, str]]:
    """ASOF joins of every non-probe group's relation: (join clauses, selected columns, and the
    SQL of each joined group's event time by path)."""
    q = quote
    joins: list[str] = []
    select: list[str] = []
    times: dict[str, str] = {}
    for i, layout in enumerate(plan.joined_groups()):
        alias = f"j{i}"
        nodes = plan.group_nodes(layout.path)
        stored = store.columns(layout.table) if store.table_exists(layout.table) else {}
        if not stored or not layout.entity_keys:
            select += [f"CAST(NULL AS {n.column.dtype.duckdb_type()}) AS {n.alias}" for n in nodes]
            select.append(f"CAST(NULL AS TIMESTAMPTZ) AS _t{i}")
            times[layout.path] = f"_t{i}"
            continue
        keys = list(layout.entity_keys)
        written = sorted({n.column.physical for n in nodes if not n.derived and n.column.physical in stored})
        base, base_params = visible_rows_sql(layout, [*keys, layout.event_time, COMMIT_COLUMN, *written], as_of_commit)
        params.update(base_params)
        relation = group_relation(plan, layout, base, stored)
        on = " AND ".join(f"{probe_key(k)} = {alias}.{q(k)}" for k in keys)
        joins.append(f"ASOF LEFT JOIN ({relation}) {alias} ON {on} AND {probe_time} >= {alias}.{q(layout.event_time)}")
        fresh = "TRUE"
        if layout.group.ttl_seconds is not None:  # inclusive: a value exactly ttl old is still fresh
            fresh = f"{probe_time} - {alias}.{q(layout.event_time)} <= to_seconds({int(layout.group.ttl_seconds)})"
        for n in nodes:
            select.append(f"CASE WHEN {fresh} THEN {alias}.{n.alias} END AS {n.alias}")
        select.append(f"CASE WHEN {fresh} THEN {alias}.{q(layout.event_time)} END AS _t{i}")
        times[layout.path] = f"_t{i}"
    return joins, select, times


def read_group(
    store: SqlEngine,
    layout: GroupLayout,
    req: ReadRequest,
    plan: Plan,
    outputs: list[tuple[str, Node]],
) -> pa.Table:
    sql, params = read_relation(store, layout, req, plan, outputs)
    sql += " ORDER BY " + ", ".join(quote(c) for c in [*(layout.entity_keys or []), layout.event_time])
    if req.limit is not None:
        params["limit"] = req.limit
        sql += " LIMIT $limit"
    table: pa.Table = store.query_arrow(sql, params)
    return table


def read_relation(
    store: SqlEngine,
    layout: GroupLayout,
    req: ReadRequest,
    plan: Plan,
    outputs: list[tuple[str, Node]],
) -> tuple[str, dict[str, Any]]:
    """The SQL (and parameters) of the rows a read returns, unordered: the entity keys, the event
    time and each output by its name. Analyses aggregate over it without materialising it."""
    q = quote
    keys = list(layout.entity_keys or [])
    stored = store.columns(layout.table)
    own = plan.group_nodes(layout.path)
    written = sorted({n.column.physical for n in own if not n.derived and n.column.physical in stored})
    base, params = visible_rows_sql(layout, [*keys, layout.event_time, COMMIT_COLUMN, *written], req.as_of_commit)
    if req.as_of is not None:
        params["as_of"] = req.as_of
        base = f"SELECT * FROM ({base}) a WHERE {q(layout.event_time)} <= $as_of"
    sql = f"SELECT * FROM ({group_relation(plan, layout, base, stored)}) g"
    if req.since_commit is not None:
        params["since_commit"] = req.since_commit
        sql += f" WHERE {q(COMMIT_COLUMN)} > $since_commit"
    if not req.history and req.since_commit is None and keys:
        partition = ", ".join(q(k) for k in keys)
        sql += f" QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY {q(layout.event_time)} DESC) = 1"
    probe_time = f"p.{q(layout.event_time)}"
    joins, joined_cols, times = joined_relations(
        store, plan, probe_time, lambda k: f"p.{q(k)}", req.as_of_commit, params
    )
    if joins or joined_cols:
        sql = f"SELECT p.*{''.join(', ' + c for c in joined_cols)} FROM ({sql}) p {' '.join(joins)}"
    times[layout.path] = q(layout.event_time)
    sql = probe_layers(plan, sql, q, lambda n: times[n.layout.path])
    cols = [q(k) for k in keys] + [q(layout.event_time)]
    cols += [f"CAST({n.alias} AS {n.column.dtype.duckdb_type()}) AS {q(name)}" for name, n in outputs]
    if req.since_commit is not None:
        cols.append(q(COMMIT_COLUMN))
    # The filter sees the rows the read returns (e.g. the latest per entity), by their output names.
    sql = f"SELECT * FROM (SELECT {', '.join(cols)} FROM ({sql}) o) r"
    if req.where_sql:
        params.update(req.where_params)
        sql += f" WHERE {req.where_sql}"
    params.update(plan.params.values)
    return sql, params
