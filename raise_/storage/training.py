"""Point-in-time correct training sets (DESIGN §3; seed 002 US-003).

For each entity row and each requested feature: the value from the group's visible row with the
same entity keys and the greatest event time ≤ the entity row's time, if that row is no older
than the group's TTL; else NULL. One DuckDB ``ASOF LEFT JOIN`` per group, over the current
table only, so no value from the future can appear and no entity row is dropped or duplicated
(the result is ordered by, and checked against, the entity frame's own row numbers).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from raise_.errors import InvalidArgumentError, InvalidDataError
from raise_.metadata.naming import ENTITY_TIME_COLUMN, ROW_COLUMN
from raise_.storage.derived import Node, Plan, probe_layers
from raise_.storage.ingest import utc_timestamps
from raise_.storage.offline_store import DuckDBFile, quote
from raise_.storage.reader import joined_relations

__all__ = ["training_set"]

_ENTITIES = "_raise_entities"
_ENTITY_TIME = ENTITY_TIME_COLUMN


def _entity_times(entity: pa.Table, column: str) -> pa.ChunkedArray:
    if column not in entity.column_names:
        raise InvalidDataError(
            f"The entity frame has no event-time column {column!r}; pass event_time_column= to name it.",
            {"column": column, "columns": entity.column_names},
        )
    return utc_timestamps(entity.column(column), column)


def training_set(
    store: DuckDBFile,
    entity: pa.Table,
    event_time_column: str,
    plan: Plan,
    outputs: list[tuple[str, Node]],
) -> pa.Table:
    q = quote
    names = entity.column_names
    for layout in plan.groups.values():
        keys = layout.entity_keys or []
        missing = [k for k in keys if k not in names]
        if not keys or missing:
            raise InvalidDataError(
                f"The entity frame needs the entity key column(s) {missing or keys} of group "
                f"{layout.group.name!r} to join its features.",
                {"group": layout.group.name, "missing": missing or keys},
            )
    for out, _ in outputs:
        if out in names:
            raise InvalidArgumentError(
                f"The entity frame already has a column {out!r}; rename it or drop it before asking for "
                f"the feature {out!r}.",
                {"column": out},
            )
    times = _entity_times(entity, event_time_column)
    framed = entity.append_column(_ENTITY_TIME, times).append_column(
        ROW_COLUMN, pa.array(np.arange(entity.num_rows, dtype=np.int64))
    )
    params: dict[str, Any] = {}
    joins, joined_cols, group_times = joined_relations(
        store, plan, f"e.{q(_ENTITY_TIME)}", lambda k: f"e.{q(k)}", None, params
    )
    sql = f"SELECT e.*{''.join(', ' + c for c in joined_cols)} FROM {_ENTITIES} e {' '.join(joins)}"
    sql = probe_layers(plan, sql, q, lambda n: group_times[n.layout.path])
    select = [q(c) for c in names]
    select += [f"CAST({n.alias} AS {n.column.dtype.duckdb_type()}) AS {q(out)}" for out, n in outputs]
    sql = f"SELECT {', '.join(select)} FROM ({sql}) t ORDER BY {q(ROW_COLUMN)}"
    params.update(plan.params.values)
    cur = store.cursor()
    cur.register(_ENTITIES, framed)
    try:
        result: pa.Table = cur.sql(sql, params=params).to_arrow_table()
    finally:
        cur.unregister(_ENTITIES)
    if result.num_rows != entity.num_rows:  # cannot happen with ASOF LEFT JOIN; checked, not assumed
        raise RuntimeError(f"training set has {result.num_rows} rows for {entity.num_rows} entity rows")
    return result
