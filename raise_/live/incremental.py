"""Incremental refresh of decomposable aggregations (issue 18 item 3).

An :class:`~raise_.analytics.specs.Aggregation` whose metrics are all decomposable (count, sum,
avg, min, max, null_rate, variance, stddev) is kept as **partials** per group and time bucket:
rows ``n``, values ``c``, finite values ``cf``, their sum ``s``, mean and ``m2`` (the sum of
squared deviations from the mean), min, max and the newest event time. Partials of the rows a
refresh has not seen merge into the stored ones (Chan et al.'s pairwise update for mean and
``m2``), and the result is assembled from the merged partials exactly as
:func:`raise_.analytics.aggregation.run_aggregation` assembles it from all rows.

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

import pyarrow as pa

from raise_.analytics.aggregation import (
    ROLLING_ORIGIN,
    ROLLING_ORIGIN_US,
    check_aggregation,
    combine_partials,
    epoch_us,
)
from raise_.analytics.frame import Frame, plain, sort_key
from raise_.analytics.specs import Aggregation, AnalysisSpec
from raise_.analytics.tables import result_frame
from raise_.durations import parse_duration
from raise_.storage.offline_store import quote
from raise_.types import Bool

__all__ = [
    "DECOMPOSABLE_METRICS",
    "Partials",
    "assemble",
    "from_table",
    "is_decomposable",
    "merge",
    "partials_of",
    "prune",
    "to_table",
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


def partials_of(frame: Frame, spec: Aggregation, *, all_rows: bool = False) -> Partials:
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
    table = frame.query(f", t AS ({tagged}) {select}", params)
    return from_table(table, groups)


def _first_needed(spec: Aggregation, newest: datetime) -> int:
    """The oldest period (index from the origin) a rolling result ending at ``newest`` reads."""
    width_us = _bucket_width_us(spec) or 1
    last = (epoch_us(newest) - ROLLING_ORIGIN_US) // width_us
    return int(last - (2 * int(spec.periods or 30) - 1) + 1)


def prune(partials: Partials, spec: Aggregation) -> Partials:
    """Drop the periods a rolling result ending at the newest event time will never read again."""
    if not (spec.rolling and spec.end is None):
        return partials
    newest = newest_time(partials.values())
    if newest is None:
        return partials
    first = _first_needed(spec, newest)
    return {key: part for key, part in partials.items() if key[1] >= first}


def from_table(table: pa.Table, groups: list[str]) -> Partials:
    """The partials of a state table (column by column: a state holds one row per group and period)."""
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    keys = list(zip(*(columns[c] for c in groups), strict=True)) if groups else [()] * table.num_rows
    values = [columns[f"_a_{f}"] for f in _FIELDS]
    out: Partials = {}
    for i, (key, bucket) in enumerate(zip(keys, columns["_a_b"], strict=True)):
        out[(tuple(plain(k) for k in key), int(bucket))] = {
            f: column[i] if f == "tmax" else plain(column[i]) for f, column in zip(_FIELDS, values, strict=True)
        }
    return out


def to_table(partials: Partials, groups: list[str], group_types: dict[str, pa.DataType]) -> pa.Table:
    """The partials as the state table stored with the live table's data."""
    keys = sorted(partials, key=lambda k: (tuple(sort_key(x) for x in k[0]), k[1]))
    columns: dict[str, pa.Array] = {}
    for i, name in enumerate(groups):
        columns[name] = pa.array([k[0][i] for k in keys], type=group_types.get(name))
    columns["_a_b"] = pa.array([k[1] for k in keys], type=pa.int64())
    for f in _FIELDS:
        values = [partials[k][f] for k in keys]
        if f in ("n", "c", "cf"):
            columns[f"_a_{f}"] = pa.array(values, type=pa.int64())
        elif f in ("mean", "m2"):
            columns[f"_a_{f}"] = pa.array(values, type=pa.float64())
        elif f == "tmax":
            columns[f"_a_{f}"] = pa.array(values, type=pa.timestamp("us", tz="UTC"))
        elif f == "s":
            columns[f"_a_{f}"] = _number_array(values)
        else:
            columns[f"_a_{f}"] = pa.array(values)
    return pa.table(columns)


def _number_array(values: list[Any]) -> pa.Array:
    """Sums: exact integers while they fit, else doubles (a HUGEINT sum has no Arrow type)."""
    if all(v is None or (isinstance(v, int) and -(2**63) <= v < 2**63) for v in values):
        return pa.array(values, type=pa.int64())
    return pa.array([None if v is None else float(v) for v in values], type=pa.float64())


def _merge_one(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = {"n": a["n"] + b["n"], "c": a["c"] + b["c"], "cf": a["cf"] + b["cf"]}
    sums = [x for x in (a["s"], b["s"]) if x is not None]
    out["s"] = sum(sums) if sums else None
    ka, kb = int(a["cf"]), int(b["cf"])
    if ka and a["mean"] is not None and kb and b["mean"] is not None:
        delta = float(b["mean"]) - float(a["mean"])
        total = ka + kb
        out["mean"] = float(a["mean"]) + delta * kb / total
        out["m2"] = float(a["m2"]) + float(b["m2"]) + delta * delta * ka * kb / total
    elif kb and b["mean"] is not None:
        out["mean"], out["m2"] = b["mean"], b["m2"]
    else:
        out["mean"], out["m2"] = a["mean"], a["m2"]
    for f, pick in (("mn", min), ("mx", max), ("tmax", max)):
        present = [x for x in (a[f], b[f]) if x is not None]
        out[f] = pick(present) if present else None
    return out


def merge(state: Partials, new: Partials) -> Partials:
    """``state`` with ``new`` merged in (neither is changed)."""
    out = dict(state)
    for key, part in new.items():
        out[key] = _merge_one(out[key], part) if key in out else dict(part)
    return out


def assemble(partials: Partials, spec: Aggregation, payload_extra: dict[str, Any] | None = None) -> Any:
    """The analysis' table (``result.to_dataframe()``) from the partials of all its rows."""
    groups = spec.group_columns
    if spec.rolling:
        payload = _rolling_payload(partials, spec)
    else:
        per_group: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for (key, _bucket), part in partials.items():
            per_group.setdefault(key, []).append(part)
        if groups:
            rows = []
            for key in sorted(per_group, key=lambda k: tuple(sort_key(x) for x in k)):
                metrics = _metrics(combine_partials(per_group[key]), spec)
                rows.append({**dict(zip(groups, key, strict=True)), **metrics})
            payload = {"feature": spec.feature, "group_by": groups, "rows": rows}
        else:
            payload = {"feature": spec.feature, "metrics": _metrics(combine_partials(per_group.get((), [])), spec)}
    payload.update(payload_extra or {})
    return result_frame("aggregation", payload, spec.to_dict())


def _metrics(combined: dict[str, Any], spec: Aggregation) -> dict[str, Any]:
    return {m: plain(combined[m]) for m in spec.metrics}


def newest_time(partials: Iterable[dict[str, Any]]) -> datetime | None:
    times = [p["tmax"] for p in partials if p["tmax"] is not None]
    return max(times) if times else None


def _rolling_payload(partials: Partials, spec: Aggregation) -> dict[str, Any]:
    periods = int(spec.periods or 30)
    width = parse_duration(spec.window, "window")
    width_us = width * 1_000_000
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
    if not groups:
        per_group.setdefault((), {})
    for key in sorted(per_group, key=lambda x: tuple(sort_key(v) for v in x)):
        ks = per_group[key]
        for k in range(periods - 1, -1, -1):  # oldest first
            start = ROLLING_ORIGIN + timedelta(microseconds=(last - k) * width_us)
            row: dict[str, Any] = dict(zip(groups, key, strict=True))
            row["date"] = start
            row["period_end"] = start + timedelta(seconds=width)
            own = combine_partials([ks[k]] if k in ks else [])
            rolled = combine_partials([ks[j] for j in range(k, k + periods) if j in ks])
            for m in spec.metrics:
                row[m] = plain(own[m])
                row[f"rolling_{m}"] = plain(rolled[m])
            payload["rows"].append(row)
    return payload
