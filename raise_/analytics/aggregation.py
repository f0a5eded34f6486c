"""Aggregations (PRD §11.2–11.4): metrics of one feature, whole, per group, or per period.

SQL semantics, stated once: ``count`` counts non-null values (a float's NaN and ±inf count, but
every other metric leaves them out, as distributions and correlations do); ``null_rate`` is the share of
rows (in the window, group or period) whose value is null; ``stddev`` and ``variance`` are the
sample statistics (n - 1); ``percentile_XX`` interpolates linearly between the two nearest
values (``numpy.percentile``'s default). A metric over no values is None.

Rolling (``rolling=True``): the last ``periods`` calendar periods of length ``window`` up to
``end``: ``[start, start + window)`` with starts aligned on Monday 2000-01-03 00:00 UTC (days at
midnight, hours on the hour, weeks on Mondays, as DuckDB's ``time_bucket``), the last one holding
``end``; each row is labelled by its period's start (``date``) and carries its own metrics and
``rolling_<metric>`` over the ``periods`` periods ending with it. Counts, sums, means, extremes,
null rates and variances (Chan's merge of count, mean and M2) roll from per-period partials;
distinct counts and percentiles are recomputed from the rows of each span.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from raise_.analytics.frame import Frame, plain, plain_rows, sort_key
from raise_.analytics.specs import Aggregation, percentile_of
from raise_.durations import parse_duration
from raise_.errors import InvalidAnalysisError
from raise_.storage.offline_store import quote
from raise_.types import Bool

__all__ = [
    "ROLLING_ORIGIN",
    "ROLLING_ORIGIN_US",
    "check_aggregation",
    "combine_partials",
    "epoch_us",
    "rolling_rows",
    "run_aggregation",
]

_NUMERIC = {"sum", "avg", "stddev", "variance"}
_ORDERED = {"min", "max"}


def check_aggregation(frame: Frame, spec: Aggregation) -> None:
    """INVALID_ANALYSIS where a metric does not fit the feature's type or a group column cannot group."""
    for metric in spec.metrics:
        if metric in _NUMERIC or percentile_of(metric) is not None:
            frame.numeric(spec.feature, metric)
        elif metric in _ORDERED and not frame.is_orderable(spec.feature):
            raise InvalidAnalysisError(
                f"{metric} needs values that can be ordered; {spec.feature!r} is {frame.dtype(spec.feature)}.",
                {"feature": spec.feature, "metric": metric},
            )
    # A result row holds each group column, the metrics, and for rolling periods "date",
    # "period_end" and rolling_<metric>; AnalysisResult.metrics reads them by those names.
    payload_keys = {"date", "period_end", *spec.metrics, *(f"rolling_{m}" for m in spec.metrics)}
    for column in spec.group_columns:
        t = frame.dtype(column)
        if t is not None and (t.is_vector or t.kind in ("array", "struct", "blob_ref")):
            raise InvalidAnalysisError(
                f"Cannot group by {column!r}: it is {t}; group by a key, a string, a number or a flag.",
                {"group_by": column},
            )
        if column in payload_keys:
            raise InvalidAnalysisError(
                f"Cannot group by {column!r}: each result row has a field {column!r} of its own "
                f"({'a metric' if column in spec.metrics else 'the result'}), and the two would clash. "
                f"Group by a derived feature of {column!r} under another name.",
                {"group_by": column, "clash": column},
            )


def _metric_sql(frame: Frame, spec: Aggregation, finite: bool = True) -> list[tuple[str, str]]:
    """(output name, SQL) of each metric; the percentiles share one sort. ``finite=False`` leaves
    a float's NaN and ±inf in (exact only for data without them: see ``run_aggregation``)."""
    v = quote(spec.feature)
    out: list[tuple[str, str]] = []
    ps = [m for m in spec.metrics if percentile_of(m) is not None]

    def keep(value: str) -> str:
        return _finite(frame, spec.feature, value) if finite else value

    def num(metric: str) -> str:
        return keep(frame.numeric(spec.feature, metric))

    for metric in spec.metrics:
        if metric == "count":
            out.append((metric, f"count({v})"))
        elif metric == "sum":
            out.append((metric, f"sum({num(metric)})"))
        elif metric == "avg":
            out.append((metric, f"avg({num(metric)})"))
        elif metric in ("min", "max"):
            out.append((metric, f"{metric}({keep(v)})"))
        elif metric == "stddev":
            out.append((metric, f"stddev_samp({num(metric)})"))
        elif metric == "variance":
            out.append((metric, f"var_samp({num(metric)})"))
        elif metric == "null_rate":
            out.append((metric, f"CASE WHEN count(*) = 0 THEN NULL ELSE (count(*) - count({v})) / count(*) END"))
        elif metric == "distinct_count":
            out.append((metric, f"count(DISTINCT {keep(v)})"))
    if ps:
        fractions = ", ".join(repr(percentile_of(m) / 100.0) for m in ps)  # type: ignore[operator]
        out.append(("_a_percentiles", f"quantile_cont({num(ps[0])}, [{fractions}])"))
    return out


def _finite(frame: Frame, feature: str, value: str) -> str:
    """A float feature's value without NaN and ±inf (as Distribution and Correlation leave them
    out); other types as they are. ``count`` still counts them: they are values, not nulls."""
    if frame.is_float(feature):
        return f"CASE WHEN isfinite({value}) THEN {value} END"
    return value


def _unpack(row: dict[str, Any], spec: Aggregation) -> dict[str, Any]:
    ps = [m for m in spec.metrics if percentile_of(m) is not None]
    values = row.pop("_a_percentiles", None) or [None] * len(ps)
    row.update(dict(zip(ps, values, strict=True)))
    return {m: plain(row[m]) for m in spec.metrics}


def run_aggregation(frame: Frame, spec: Aggregation) -> dict[str, Any]:
    check_aggregation(frame, spec)
    if spec.rolling:
        # The periods are cut here from the rows; the frame itself keeps every row.
        frame = Frame.windowed(frame, None, spec.end)
        if frame.resolved_end is None:
            frame.resolved_end = frame.end_time()
        return _rolling(frame, spec)
    frame = Frame.windowed(frame, spec.window, spec.end)
    payload: dict[str, Any] = {"feature": spec.feature, **_window_info(frame)}
    groups = spec.group_columns
    cols = ", ".join(quote(g) for g in groups)
    floats = frame.is_float(spec.feature)
    # Leaving NaN and ±inf out costs a CASE per value and metric (+50% on a 10M-row sum). Data
    # rarely holds them, and then a plain sum says so (any of them makes it non-finite): compute
    # plainly with that sum as a sentinel, and again without them only when it is not finite.
    attempts = (False, True) if floats else (True,)
    for finite in attempts:
        metrics = _metric_sql(frame, spec, finite)
        if floats and not finite:
            metrics.append(("_a_sentinel", f"sum(CAST({quote(spec.feature)} AS DOUBLE))"))
        select = ", ".join(f"{sql} AS {quote(name)}" for name, sql in metrics)
        if groups:
            query = f"SELECT {cols}, {select} FROM rows GROUP BY {cols} ORDER BY {cols} NULLS LAST"
        else:
            query = f"SELECT {select} FROM rows"
        rows = frame.query(query).to_pylist()
        sentinels = [r.pop("_a_sentinel", None) for r in rows]
        if all(x is None or math.isfinite(x) for x in sentinels):
            break
    if not groups:
        payload["metrics"] = _unpack(rows[0], spec)
        return payload
    payload["group_by"] = groups
    payload["rows"] = [{**{g: plain(r[g]) for g in groups}, **_unpack(r, spec)} for r in rows]
    return payload


def _window_info(frame: Frame) -> dict[str, Any]:
    return {"window_start": frame.window_start, "window_end": frame.resolved_end if frame.window_seconds else None}


# -- rolling ------------------------------------------------------------------------------------

# Per period and group: rows, values, finite values, sum, mean, M2, min and max (each SQL column
# is named _a_<partial>, so no group column can take its name).
_PARTIAL = ("n", "c", "cf", "s", "mean", "m2", "mn", "mx")


# Periods are aligned on this Monday at midnight UTC, as DuckDB's time_bucket aligns them: days
# start at midnight, hours on the hour, weeks on Mondays.
ROLLING_ORIGIN = datetime(2000, 1, 3, tzinfo=UTC)
ROLLING_ORIGIN_US = 946_857_600_000_000


def epoch_us(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _rolling(frame: Frame, spec: Aggregation) -> dict[str, Any]:
    periods = int(spec.periods or 30)
    width = parse_duration(spec.window, "window")
    end = frame.resolved_end
    groups = spec.group_columns
    payload: dict[str, Any] = {
        "feature": spec.feature,
        "group_by": groups or None,
        "window": spec.window,
        "periods": periods,
        "window_end": end,
        "rows": [],
    }
    if end is None:
        return payload
    t, v = quote(frame.event_time), quote(spec.feature)
    span = 2 * periods - 1  # the rolling value of the oldest period shown reaches this far back
    tagged = (
        f"SELECT {''.join(quote(g) + ', ' for g in groups)}{v} AS _a_v, {_finite(frame, spec.feature, v)} AS _a_fv, "
        f"$_r_last - (epoch_us({t}) - $_r_first_us) // $_r_width AS _a_k FROM rows "
        f"WHERE {t} <= $_r_end AND {t} >= $_r_first"
    )
    # Calendar periods: [start, start + window) with starts at ORIGIN + i·window, the last one the
    # period holding ``end``; period k is the k-th before it. Integer microseconds throughout.
    width_us = width * 1_000_000
    last_bucket = (epoch_us(end) - ROLLING_ORIGIN_US) // width_us
    first_us = ROLLING_ORIGIN_US + (last_bucket - span + 1) * width_us
    first = ROLLING_ORIGIN + timedelta(microseconds=first_us - ROLLING_ORIGIN_US)
    params = {"_r_end": end, "_r_width": width_us, "_r_first": first, "_r_first_us": first_us, "_r_last": span - 1}
    g_cols = [quote(g) for g in groups]
    by = ", ".join([*g_cols, "_a_k"])
    numeric = frame.is_numeric(spec.feature)
    value = "CAST(_a_fv AS DOUBLE)" if isinstance(frame.dtype(spec.feature), Bool) else "_a_fv"
    as_double = "CAST(_a_fv AS DOUBLE)"
    partial_sql = (
        f"SELECT {by}, count(*) AS _a_n, count(_a_v) AS _a_c, count(_a_fv) AS _a_cf, "
        + (
            f"sum({value}) AS _a_s, avg({as_double}) AS _a_mean, var_pop({as_double}) * count(_a_fv) AS _a_m2, "
            if numeric
            else "NULL AS _a_s, NULL AS _a_mean, NULL AS _a_m2, "
        )
        + (
            "min(_a_fv) AS _a_mn, max(_a_fv) AS _a_mx "
            if frame.is_orderable(spec.feature)
            else "NULL AS _a_mn, NULL AS _a_mx "
        )
        + f"FROM t GROUP BY {by}"
    )
    partials = frame.query(f", t AS ({tagged}) {partial_sql}", params).to_pylist()
    per_group: dict[tuple[Any, ...], dict[int, dict[str, Any]]] = {}
    for r in partials:
        key = tuple(plain(r[g]) for g in groups)
        per_group.setdefault(key, {})[int(r["_a_k"])] = {p: r[f"_a_{p}"] for p in _PARTIAL}
    heavy = [m for m in spec.metrics if m == "distinct_count" or percentile_of(m) is not None]
    own_heavy, rolled_heavy = _heavy_metrics(frame, spec, heavy, tagged, params, groups, periods)

    def heavy_values(key: tuple[Any, ...], k: int, metric: str) -> tuple[Any, Any]:
        # A span without rows has no row in the heavy query: 0 distinct values, no percentile.
        empty = 0 if metric == "distinct_count" else None
        return own_heavy.get((key, k), {}).get(metric, empty), rolled_heavy.get((key, k), {}).get(metric, empty)

    last_start = first + timedelta(seconds=width * (span - 1))
    payload["rows"] = rolling_rows(per_group, spec, last_start, set(heavy), heavy_values)
    return payload


def rolling_rows(
    per_group: dict[tuple[Any, ...], dict[int, dict[str, Any]]],
    spec: Aggregation,
    last_start: datetime,
    heavy: set[str] | None = None,
    heavy_values: Callable[[tuple[Any, ...], int, str], tuple[Any, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The rows of a rolling aggregation from per-period partials (``per_group[key][k]``: the
    k-th period before the last, which starts at ``last_start``): per group, its last
    ``periods`` periods oldest first, each with its own metrics and ``rolling_<metric>`` over the
    ``periods`` periods ending with it. Metrics in ``heavy`` come from ``heavy_values(key, k,
    metric)`` (own, rolling) instead of the partials."""
    groups, periods = spec.group_columns, int(spec.periods or 30)
    width = timedelta(seconds=parse_duration(spec.window, "window"))
    if not groups:
        per_group.setdefault((), {})
    rows: list[dict[str, Any]] = []
    for key in sorted(per_group, key=lambda k: tuple(sort_key(x) for x in k)):
        ks = per_group[key]
        for k in range(periods - 1, -1, -1):  # oldest first
            row: dict[str, Any] = dict(zip(groups, key, strict=True))
            row["date"] = last_start - width * k
            row["period_end"] = row["date"] + width
            own = combine_partials([ks[k]] if k in ks else [])
            rolled = combine_partials([ks[j] for j in range(k, k + periods) if j in ks])
            for m in spec.metrics:
                if heavy and m in heavy and heavy_values is not None:
                    row[m], row[f"rolling_{m}"] = heavy_values(key, k, m)
                else:
                    row[m] = own[m]
                    row[f"rolling_{m}"] = rolled[m]
            rows.append(row)
    return rows


def combine_partials(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The decomposable metrics of the union of periods, from their partial sums."""
    n = sum(int(p["n"]) for p in parts)
    c = sum(int(p["c"]) for p in parts)
    sums = [p["s"] for p in parts if p["s"] is not None]
    s = plain(sum(sums)) if sums else None
    mins = [p["mn"] for p in parts if p["mn"] is not None]
    maxs = [p["mx"] for p in parts if p["mx"] is not None]
    # Chan et al.: merge (count, mean, M2) pairwise; M2 = sum of squared deviations from the mean.
    # (A running sum of squares minus sum²/n cancels catastrophically for values far from zero.)
    seen, mean, m2 = 0, 0.0, 0.0
    for p in parts:
        k = int(p["cf"])  # the finite values the mean and M2 are over
        if k == 0 or p["mean"] is None or p["m2"] is None:
            continue
        delta = float(p["mean"]) - mean
        total = seen + k
        mean += delta * k / total
        m2 += float(p["m2"]) + delta * delta * seen * k / total
        seen = total
    numeric = seen > 0
    variance = max(m2 / (seen - 1), 0.0) if numeric and seen >= 2 else None
    return {
        "count": c,
        "sum": s,
        "avg": plain(mean) if numeric else None,
        "min": plain(min(mins)) if mins else None,
        "max": plain(max(maxs)) if maxs else None,
        "stddev": math.sqrt(variance) if variance is not None else None,
        "variance": variance,
        "null_rate": (n - c) / n if n else None,
    }


def _heavy_metrics(
    frame: Frame,
    spec: Aggregation,
    heavy: list[str],
    tagged: str,
    params: dict[str, Any],
    groups: list[str],
    periods: int,
) -> tuple[dict[tuple[Any, int], dict[str, Any]], dict[tuple[Any, int], dict[str, Any]]]:
    """Distinct counts and percentiles per period, and over each rolling span (from the rows)."""
    if not heavy:
        return {}, {}
    exprs = []
    for m in heavy:
        if m == "distinct_count":  # finite values only, as every metric but count and null_rate
            exprs.append(f"count(DISTINCT _a_fv) AS {quote(m)}")
        else:
            exprs.append(f"quantile_cont(CAST(_a_fv AS DOUBLE), {percentile_of(m) / 100.0!r}) AS {quote(m)}")  # type: ignore[operator]
    select = ", ".join(exprs)
    g_cols = [quote(g) for g in groups]
    own_sql = f"SELECT {', '.join([*g_cols, '_a_k'])}, {select} FROM t WHERE _a_k < {periods} GROUP BY ALL"
    rolled_sql = (
        f"SELECT {', '.join([*(f't.{c}' for c in g_cols), 'o.range AS _a_k'])}, {select} "
        f"FROM t JOIN range(0, {periods}) o ON t._a_k BETWEEN o.range AND o.range + {periods - 1} GROUP BY ALL"
    )
    out = []
    for sql in (own_sql, rolled_sql):
        rows = plain_rows(frame.query(f", t AS ({tagged}) {sql}", params))
        out.append({(tuple(r[g] for g in groups), int(r["_a_k"])): r for r in rows})
    return out[0], out[1]
