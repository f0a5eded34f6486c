"""Incremental refresh of decomposable aggregations (issue 18 item 3).

An :class:`~raise_.analytics.specs.Aggregation` whose metrics are all decomposable (count, sum,
avg, min, max, null_rate, variance, stddev) is kept as **partials** per group and time bucket:
rows ``n``, values ``c``, finite values ``cf``, their sum ``s``, mean and ``m2`` (the sum of
squared deviations from the mean), min, max and the newest event time, in a table of the
offline store next to the result. The partials of the rows a refresh has not seen are merged
into the stored ones in the store's SQL (:func:`merge_tables`: one pass whatever the number of
groups), and the result is assembled from the merged partials as
:func:`raise_.analytics.aggregation.run_aggregation` computes it from all rows (in SQL; rolling
periods in Python, as the analysis does).

Buckets: one (0) without rolling periods; with ``rolling=True`` the absolute period index of
each row (periods of ``window`` aligned on Monday 2000-01-03 UTC, as the analysis aligns them), so
the last ``periods`` periods can be assembled whatever the newest event time becomes. A
non-rolling ``window`` that ends at the newest event time (or "now") moves with the data: rows
leave it, which partials cannot subtract, so such a table recomputes; with a fixed ``end`` it
is decomposable (rows outside the fixed window are left out as they arrive).

Only appends are merged: an upsert or overwrite (or an append that replaced rows) changes rows
the partials already hold, and the caller recomputes instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Final

import pandas as pd
import pyarrow as pa

from raise_.analytics.aggregation import (
    ROLLING_ORIGIN,
    ROLLING_ORIGIN_US,
    check_aggregation,
    epoch_us,
    rolling_rows,
)
from raise_.analytics.frame import Frame, plain
from raise_.analytics.specs import Aggregation, AnalysisSpec
from raise_.analytics.tables import result_frame
from raise_.durations import parse_duration
from raise_.storage.offline_store import quote
from raise_.storage.sql_engine import SqlEngine
from raise_.types import Bool

__all__ = [
    "DECOMPOSABLE_METRICS",
    "Partials",
    "assemble",
    "from_table",
    "is_decomposable",
    "merge_tables",
    "partials_table",
]

DECOMPOSABLE_METRICS: Final = frozenset({"count", "sum", "avg", "min", "max", "null_rate", "variance", "stddev"})
_FIELDS: Final = ("n", "c", "cf", "s", "mean", "m2", "mn", "mx", "tmax")

#: (group values, bucket) → partial (the keys of _FIELDS).
Partials = dict[tuple[tuple[Any, ...], int], dict[str, Any]]


def is_decomposable(spec: AnalysisSpec) -> bool:
    """Whether the live table of ``spec`` can merge appended rows instead of recomputing."""
    if not isinstance(spec, Aggregation) or not set(spec.metrics) <= DECOMPOSABLE_METRICS:
        return False
    if spec.end == "now":
        return False
    return spec.window is None or spec.rolling or spec.end is not None


def _bucket_width_us(spec: Aggregation) -> int | None:
    return parse_duration(spec.window, "window") * 1_000_000 if spec.rolling and spec.window else None


def partials_table(frame: Frame, spec: Aggregation, *, all_rows: bool = False) -> pa.Table:
    """The partials of the frame's rows (the spec's window is applied here only when its end is
    fixed, else in :func:`assemble`). Rolling periods ending at the newest event time need only
    the last ``2 * periods - 1`` periods: unless ``all_rows``, older rows are left out (with
    appends only, the newest event time never moves back)."""
    check_aggregation(frame, spec)  # the same errors as the analysis gives
    groups = spec.group_columns
    t, v = quote(frame.event_time), quote(spec.feature)
    finite = f"CASE WHEN isfinite({v}) THEN {v} END" if frame.is_float(spec.feature) else v
    value = "CAST(_a_fv AS DOUBLE)" if isinstance(frame.dtype(spec.feature), Bool) else "_a_fv"
    width = _bucket_width_us(spec)
    bucket = f"(epoch_us({t}) - {ROLLING_ORIGIN_US}) // {width}" if width else "0"
    conditions, params = [], {}
    if spec.end is not None:  # fixed (spec.end == "now" is never decomposable)
        params["_l_end"] = datetime.fromisoformat(spec.end)
        conditions.append(f"{t} <= $_l_end")
        if spec.window and not spec.rolling:
            params["_l_start"] = params["_l_end"] - timedelta(seconds=parse_duration(spec.window, "window"))
            conditions.append(f"{t} > $_l_start")
    if width and spec.end is None and not all_rows:
        newest = frame.end_time()
        if newest is not None:
            params["_l_from"] = ROLLING_ORIGIN + timedelta(microseconds=_first_needed(spec, newest) * width)
            conditions.append(f"{t} >= $_l_from")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    g = "".join(f"{quote(c)}, " for c in groups)
    numeric = frame.is_numeric(spec.feature)
    orderable = frame.is_orderable(spec.feature)
    tagged = f"SELECT {g}{v} AS _a_v, {finite} AS _a_fv, {t} AS _a_t, {bucket} AS _a_b FROM rows{where}"
    select = (
        f"SELECT {g}_a_b, count(*) AS _a_n, count(_a_v) AS _a_c, count(_a_fv) AS _a_cf, "
        + (
            f"sum({value}) AS _a_s, avg(CAST(_a_fv AS DOUBLE)) AS _a_mean, "
            "var_pop(CAST(_a_fv AS DOUBLE)) * count(_a_fv) AS _a_m2, "
            if numeric
            else "NULL AS _a_s, NULL AS _a_mean, NULL AS _a_m2, "
        )
        + ("min(_a_fv) AS _a_mn, max(_a_fv) AS _a_mx, " if orderable else "NULL AS _a_mn, NULL AS _a_mx, ")
        + f"max(_a_t) AS _a_tmax FROM t GROUP BY {g}_a_b"
    )
    partials: pa.Table = frame.query(f", t AS ({tagged}) {select}", params)
    return partials


def _first_needed(spec: Aggregation, newest: datetime) -> int:
    """The oldest period (index from the origin) a rolling result ending at ``newest`` reads."""
    width_us = _bucket_width_us(spec) or 1
    last = (epoch_us(newest) - ROLLING_ORIGIN_US) // width_us
    return int(last - (2 * int(spec.periods or 30) - 1) + 1)


def from_table(table: pa.Table, groups: list[str]) -> Partials:
    """The partials of a state table (column by column: a state holds one row per group and period)."""
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    keys = list(zip(*(columns[c] for c in groups), strict=True)) if groups else [()] * table.num_rows
    # Counts, means, M2 and times are plain Python values already; sums, extremes and group
    # values may be DuckDB's (a HUGEINT sum arrives as a Decimal).
    for f in ("s", "mn", "mx"):
        columns[f"_a_{f}"] = [plain(v) for v in columns[f"_a_{f}"]]
    keys = [tuple(plain(k) for k in key) for key in keys]
    values = [columns[f"_a_{f}"] for f in _FIELDS]
    out: Partials = {}
    for i, (key, bucket) in enumerate(zip(keys, columns["_a_b"], strict=True)):
        out[(key, int(bucket))] = {f: column[i] for f, column in zip(_FIELDS, values, strict=True)}
    return out


_MERGE_STATE: Final = "_raise_live_state"
_MERGE_NEW: Final = "_raise_live_new"


def merge_tables(store: SqlEngine, state: str | None, new: pa.Table, spec: Aggregation) -> pa.Table:
    """The partials of ``state`` (a relation of the store; None: nothing yet) and ``new`` merged
    per group and period, in the store's SQL (one pass, whatever the number of groups): counts
    and sums add, extremes and newest times take the extreme, and mean and M2 merge around the
    common mean (M2 = sum of M2_i + n_i (mean_i - mean)^2). A rolling table ending at the newest
    event time keeps only the periods it can still show (with appends only, that end never
    moves back)."""
    groups = [quote(c) for c in spec.group_columns]
    by = ", ".join([*groups, "_a_b"])
    cursor = store.cursor()
    cursor.register(_MERGE_NEW, new)
    try:
        union = f"SELECT * FROM {_MERGE_NEW}"
        if state is not None:
            union = f"SELECT * FROM {state} UNION ALL BY NAME {union}"
        keep = ""
        width = _bucket_width_us(spec)
        if width and spec.end is None:
            span = 2 * int(spec.periods or 30) - 1
            keep = f" WHERE _a_b > (SELECT (epoch_us(max(_a_tmax)) - {ROLLING_ORIGIN_US}) // {width} FROM m) - {span}"
        sql = (
            f"WITH u AS ({union}), "
            f"w AS (SELECT *, sum(_a_cf * _a_mean) OVER p / nullif(sum(_a_cf) OVER p, 0) AS _a_g "
            f"FROM u WINDOW p AS (PARTITION BY {by})), "
            f"m AS (SELECT {by}, CAST(sum(_a_n) AS BIGINT) AS _a_n, CAST(sum(_a_c) AS BIGINT) AS _a_c, "
            "CAST(sum(_a_cf) AS BIGINT) AS _a_cf, sum(_a_s) AS _a_s, "
            "CASE WHEN sum(_a_cf) > 0 THEN max(_a_g) END AS _a_mean, "
            "sum(coalesce(_a_m2, 0) + _a_cf * (_a_mean - _a_g) * (_a_mean - _a_g)) AS _a_m2, "
            "min(_a_mn) AS _a_mn, max(_a_mx) AS _a_mx, max(_a_tmax) AS _a_tmax "
            f"FROM w GROUP BY {by}) "
            f"SELECT * FROM m{keep}"
        )
        merged: pa.Table = store.query_arrow(sql)
    finally:
        cursor.unregister(_MERGE_NEW)
    return merged


def _output_sql(spec: Aggregation, integer_sum: bool) -> str:
    """The metrics of one merged partial row, as the analysis computes them from all rows."""
    variance = "CASE WHEN _a_cf >= 2 THEN greatest(_a_m2 / (_a_cf - 1), 0.0) END"
    exprs = {
        "count": "_a_c",
        "sum": "CAST(_a_s AS BIGINT)" if integer_sum else "_a_s",
        "avg": "_a_mean",
        "min": "_a_mn",
        "max": "_a_mx",
        "null_rate": "CASE WHEN _a_n = 0 THEN NULL ELSE (_a_n - _a_c) / _a_n END",
        "variance": variance,
        "stddev": f"sqrt({variance})",
    }
    return ", ".join(f"{exprs[m]} AS {quote(m)}" for m in spec.metrics)


def assemble(store: SqlEngine, merged: pa.Table, spec: Aggregation, integer_sum: bool) -> pd.DataFrame:
    """The analysis' table (``result.to_dataframe()``) from the merged partials of all its rows."""
    if spec.rolling:
        return result_frame(
            "aggregation", _rolling_payload(from_table(merged, spec.group_columns), spec), spec.to_dict()
        )
    groups = [quote(c) for c in spec.group_columns]
    cursor = store.cursor()
    cursor.register(_MERGE_STATE, merged)
    try:
        if groups:
            cols = ", ".join(groups)
            sql = f"SELECT {cols}, {_output_sql(spec, integer_sum)} FROM {_MERGE_STATE} ORDER BY {cols} NULLS LAST"
        else:  # one row (of at most one partial), also without any: count 0, the rest null
            sql = (
                f"SELECT {_output_sql(spec, integer_sum)} FROM (SELECT coalesce(sum(_a_n), 0) AS _a_n, "
                "coalesce(sum(_a_c), 0) AS _a_c, coalesce(sum(_a_cf), 0) AS _a_cf, max(_a_s) AS _a_s, "
                "max(_a_mean) AS _a_mean, max(_a_m2) AS _a_m2, max(_a_mn) AS _a_mn, max(_a_mx) AS _a_mx "
                f"FROM {_MERGE_STATE})"
            )
        frame: pd.DataFrame = store.query_arrow(sql).to_pandas()
    finally:
        cursor.unregister(_MERGE_STATE)
    return frame


def newest_time(partials: Iterable[dict[str, Any]]) -> datetime | None:
    times = [p["tmax"] for p in partials if p["tmax"] is not None]
    return max(times) if times else None


def _rolling_payload(partials: Partials, spec: Aggregation) -> dict[str, Any]:
    periods = int(spec.periods or 30)
    width_us = parse_duration(spec.window, "window") * 1_000_000
    groups = spec.group_columns
    end = datetime.fromisoformat(spec.end) if spec.end is not None else newest_time(partials.values())
    payload: dict[str, Any] = {"feature": spec.feature, "group_by": groups or None, "rows": []}
    if end is None:
        return payload
    last = (epoch_us(end) - ROLLING_ORIGIN_US) // width_us
    span = 2 * periods - 1
    per_group: dict[tuple[Any, ...], dict[int, dict[str, Any]]] = {}
    for (key, bucket), part in partials.items():
        k = last - bucket  # the k-th period before the last
        if 0 <= k < span:
            per_group.setdefault(key, {})[k] = part
    payload["rows"] = rolling_rows(per_group, spec, ROLLING_ORIGIN + timedelta(microseconds=last * width_us))
    return payload
