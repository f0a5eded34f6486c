"""Point-in-time correct training sets (DESIGN §3; seed 002 US-003).

For each entity row and each requested feature: the value from the group's visible row with the
same entity keys and the greatest event time ≤ the entity row's time, if that row is no older
than the group's TTL; else NULL. One DuckDB ``ASOF LEFT JOIN`` per group, over the current
table only, so no value from the future can appear and no entity row is dropped or duplicated
(the result is ordered by, and checked against, the entity frame's own row numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from raise_.errors import InvalidArgumentError, InvalidDataError
from raise_.storage.ingest import ROW_COLUMN, utc_timestamps
from raise_.storage.layout import FeatureColumn, GroupLayout
from raise_.storage.offline_store import OfflineStore, quote

__all__ = ["GroupRequest", "training_set"]

_ENTITIES = "_raise_entities"
_ENTITY_TIME = "__raise_entity_time"


@dataclass(frozen=True)
class GroupRequest:
    layout: GroupLayout
    features: list[tuple[str, FeatureColumn]]  # (output name, column)


def _entity_times(entity: pa.Table, column: str) -> pa.ChunkedArray:
    if column not in entity.column_names:
        raise InvalidDataError(
            f"The entity frame has no event-time column {column!r}; pass event_time_column= to name it.",
            {"column": column, "columns": entity.column_names},
        )
    return utc_timestamps(entity.column(column), column)


def training_set(store: OfflineStore, entity: pa.Table, event_time_column: str, groups: list[GroupRequest]) -> pa.Table:
    q = quote
    names = entity.column_names
    for g in groups:
        keys = g.layout.entity_keys or []
        missing = [k for k in keys if k not in names]
        if not keys or missing:
            raise InvalidDataError(
                f"The entity frame needs the entity key column(s) {missing or keys} of group "
                f"{g.layout.group.name!r} to join its features.",
                {"group": g.layout.group.name, "missing": missing or keys},
            )
        for out, _ in g.features:
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
    select = [f"e.{q(c)}" for c in names]
    joins: list[str] = []
    for i, g in enumerate(groups):
        alias = f"g{i}"
        layout = g.layout
        stored = store.columns(layout.table)  # empty for a group never written
        keys = layout.entity_keys or []
        for out, f in g.features:
            if f.physical not in stored:
                select.append(f"CAST(NULL AS {f.dtype.duckdb_type()}) AS {q(out)}")
                continue
            value = f"{alias}.{q(f.physical)}"
            if layout.group.ttl_seconds is not None:
                # Inclusive: a value exactly ttl old is still fresh.
                value = (
                    f"CASE WHEN e.{q(_ENTITY_TIME)} - {alias}.{q(layout.event_time)} "
                    f"<= to_seconds({int(layout.group.ttl_seconds)}) THEN {value} END"
                )
            select.append(f"{value} AS {q(out)}")
        if not stored:
            continue
        cols = [*keys, layout.event_time, *sorted({f.physical for _, f in g.features if f.physical in stored})]
        on = " AND ".join(f"e.{q(k)} = {alias}.{q(k)}" for k in keys)
        joins.append(
            f"ASOF LEFT JOIN (SELECT {', '.join(q(c) for c in cols)} FROM {q(layout.table)}) {alias} "
            f"ON {on} AND e.{q(_ENTITY_TIME)} >= {alias}.{q(layout.event_time)}"
        )
    sql = f"SELECT {', '.join(select)} FROM {_ENTITIES} e {' '.join(joins)} ORDER BY e.{q(ROW_COLUMN)}"
    cur = store.cursor()
    cur.register(_ENTITIES, framed)
    try:
        result: pa.Table = cur.sql(sql).to_arrow_table()
    finally:
        cur.unregister(_ENTITIES)
    if result.num_rows != entity.num_rows:  # cannot happen with ASOF LEFT JOIN; checked, not assumed
        raise RuntimeError(f"training set has {result.num_rows} rows for {entity.num_rows} entity rows")
    return result
