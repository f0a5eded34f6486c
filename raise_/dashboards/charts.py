"""One dashboard chart drawn from its data: a Vega-Lite 5 spec with the data inline (PRD §13.2).

A chart draws a pandas frame: an analysis' natural table (``result.to_dataframe()``, i.e.
:func:`raise_.analytics.tables.result_frame`) or a live table's rows (the same shape as its
analysis' table). :func:`check_chart` says, before anything is drawn, whether the chart type
fits that data; :func:`chart_spec` draws it. Both follow one plan, so a chart that passes the
check draws.

What each chart type needs (anything else raises ``INVALID_CHART``, saying what does not fit and
which chart types would), and what it draws when ``x``/``y`` are left out:

===========  ===================================================  ============================================
type         needs                                                when x / y are left out
===========  ===================================================  ============================================
line, area   x in order (times or numbers, not categories), a     the first time column (a rolling
             numeric y; one row per x (per x and color). Area:    Aggregation's ``date``), its first metric,
             bands stacked by color                               its group_by as color
bar          a numeric y; one row per x (per x and color;         Aggregation: group (or date) / first metric,
             colors side by side)                                 one row: a bar per metric; Distribution:
                                                                  bins, value counts or percentiles; StatTest:
                                                                  the two groups' means; VersionDiff: deltas
histogram    a Distribution's bins or value counts, or a          the Distribution's bins / value counts
             numeric x of raw values (binned here)
scatter      two different numeric columns of raw values (a       a RecordLookup's first two numeric features
             Correlation holds coefficients, not values)
heatmap      a matrix (a Correlation of two or more features),    Correlation: its matrix; segmented
             or x, y and one numeric value (color=, or the only   Distribution: segment × bin; Aggregation
             number left); one row per cell                       rolling and grouped, or by two columns
pie          a category (x or color) with one row each, a        Aggregation by one column, or a
             numeric y, none negative and some positive           Distribution's value counts
table        anything: the first 50 rows, every column            every column
metric       one row, or a named y and a time column (its latest  the Aggregation's first metric, a StatTest's
             row is shown); y numeric                             p_value, the only (else first) number
gauge        as metric, 0 <= y; the arc's max is spec["max"], 1   as metric
             for rates (null_rate, p_value, ...), else y's
             largest value rounded up to 1, 2 or 5 × 10^k
box          a Distribution's percentiles p25, p50 and p75        the Distribution; a RecordLookup's first
             (whiskers: its lowest and highest), its histogram    numeric feature
             (quartiles estimated within bins), or a numeric y
             of raw values (x: optional categories)
violin       a numeric y of raw values, two or more, x optional   a RecordLookup's first numeric feature
             categories; not a Distribution or Correlation
===========  ===================================================  ============================================

Everywhere: ``x``, ``y`` and ``color`` must name columns of the frame; charts other than tables
draw at most :data:`MAX_ROWS` rows (a larger frame is an error, never a silently cut chart). A
frame without rows (a filter that keeps none, a live table not refreshed yet) draws an empty chart
subtitled "no data" when its columns fit; rows that are there must fit.

The spec passes Vega-Lite 5's schema (``to_dict(validate=True)``) and carries its data as
``"data": {"values": [...]}``: the columns the chart uses (a table: every column), JSON-safe
(NaN and ±inf → null, timestamps as ISO 8601 text). Names from users are never put in Altair's
shorthand: they go in ``field=`` with Vega-Lite's escapes (see :mod:`raise_.analytics.charts`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from raise_.analytics.charts import _field, _free
from raise_.dashboards.chart_types import ChartType
from raise_.errors import InvalidChartError

__all__ = ["MAX_ROWS", "TABLE_ROWS", "chart_spec", "check_chart"]

MAX_ROWS = 10_000  # rows a chart other than a table carries inline
TABLE_ROWS = 50  # rows a table shows

_SUMMARIES = frozenset({"aggregation", "distribution", "correlation", "stat_test", "version_diff"})
_RATES = frozenset({"null_rate", "p_value", "significant", "effect_size_r", "share"})
_PERCENTILE = re.compile(r"p(\d+(?:\.\d+)?)")
_DATA = "__raise_chart_data__"  # the data placeholder's name, replaced by the inline values


class _Misfit(Exception):
    """The chart type does not fit the data (the message says why; the caller adds what would)."""

    def __init__(self, message: str, hint: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint  # whether other chart types may fit the same data


# -- public -------------------------------------------------------------------------------------


def check_chart(
    chart_type: ChartType,
    kind: str,
    spec: dict[str, Any] | None,
    frame: pd.DataFrame,
    x: str | None,
    y: str | None,
    color: str | None,
) -> None:
    """Raise :class:`InvalidChartError` when ``chart_type`` does not fit ``frame`` (see the module's table)."""
    _plan_or_raise(ChartType.parse(chart_type), kind, spec, frame, x, y, color)


def chart_spec(
    chart_type: ChartType,
    kind: str,
    spec: dict[str, Any] | None,
    frame: pd.DataFrame,
    *,
    title: str,
    x: str | None,
    y: str | None,
    color: str | None,
    width: int | None = None,
    height: int | None = None,
) -> dict[str, Any]:
    """The Vega-Lite 5 spec (a JSON-safe dict, data inline) of one chart; raises like :func:`check_chart`."""
    plan = _plan_or_raise(ChartType.parse(chart_type), kind, spec, frame, x, y, color)
    alt = _altair()
    chart = _DRAW[plan.draw](alt, plan, width, height)
    chart = chart.properties(title=_title(alt, title, plan.subtitles))
    out: dict[str, Any] = chart.to_dict(validate=True)
    return _inline(out, _records(plan.data))


# -- the data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Data:
    """The frame to draw, with what is known of it: the analysis kind and spec."""

    frame: pd.DataFrame
    kind: str | None  # the analysis type (for a live table, its analysis'), None if unknown
    spec: dict[str, Any]
    types: dict[str, str]  # column → temporal | quantitative | nominal

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    def numeric(self, exclude: Sequence[str | None] = ()) -> list[str]:
        return [c for c in self.columns if self.types[c] == "quantitative" and c not in exclude]

    def temporal(self) -> list[str]:
        return [c for c in self.columns if self.types[c] == "temporal"]

    def describe(self, column: str) -> str:
        return {"temporal": "time", "quantitative": "numbers", "nominal": "categories (text)"}[self.types[column]]

    def metrics(self) -> list[str]:
        """An Aggregation's metric columns, in the spec's order."""
        if self.kind != "aggregation":
            return []
        return [m for m in self.spec.get("metrics") or [] if m in self.frame]

    def groups(self) -> list[str]:
        """The columns that tell rows of a summary apart: group_by, or a Distribution's segment."""
        if self.kind == "aggregation":
            by = self.spec.get("group_by")
            by = [by] if isinstance(by, str) else list(by or [])
            return [g for g in by if g in self.frame]
        return ["segment"] if "segment" in self.frame and self.kind in (None, "distribution") else []

    def raw(self) -> bool:
        """Whether each row is a value of its own (not a Distribution's or Correlation's summary)."""
        return self.kind not in ("distribution", "correlation") and not (
            _is_bins(self) or _is_value_counts(self) or _percentiles(self) or _matrix(self)
        )


def _prepare(kind: str, spec: dict[str, Any] | None, frame: pd.DataFrame) -> _Data:
    if not isinstance(frame, pd.DataFrame):
        raise InvalidChartError(f"A chart draws a pandas DataFrame, got {type(frame).__name__}.", {})
    spec = dict(spec or {})
    analysis: str | None = kind
    if kind == "live_table":
        analysis = spec.get("type") if isinstance(spec.get("type"), str) else None
    frame = frame.copy(deep=False)
    index = frame.index
    if index.name is not None or not pd.api.types.is_integer_dtype(index.dtype):  # a matrix: features as index
        frame = frame.reset_index(names=_free("feature", [str(c) for c in frame.columns]))
    frame.columns = [str(c) for c in frame.columns]
    if frame.columns.duplicated().any():
        dup = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
        raise InvalidChartError(f"The data has columns of the same name ({', '.join(dup)}): rename them.", {})
    frame = frame.reset_index(drop=True)
    return _Data(frame, analysis, spec, {c: _vtype(frame[c]) for c in frame.columns})


def _vtype(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "nominal"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "temporal"
    if pd.api.types.is_numeric_dtype(dtype):
        return "quantitative"
    values = [v for v in series if not _missing(v)]
    if values and all(isinstance(v, int | float | Decimal | np.number) and not isinstance(v, bool) for v in values):
        return "quantitative"
    if values and all(isinstance(v, datetime | pd.Timestamp) for v in values):
        return "temporal"
    return "nominal"


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _number(value: Any) -> float | None:
    if _missing(value) or isinstance(value, bool | np.bool_):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _is_bins(d: _Data) -> bool:
    cols = set(d.columns)
    return {"bin_start", "bin_end", "count"} <= cols <= {"bin_start", "bin_end", "count", "segment"}


def _is_value_counts(d: _Data) -> bool:
    cols = set(d.columns)
    return d.kind in (None, "distribution") and {"value", "count"} <= cols <= {"value", "count", "segment"}


def _percentiles(d: _Data) -> list[tuple[str, float]]:
    """A percentiles-only Distribution's columns (``p50``, ``p99.9``) with their percentile."""
    if d.kind not in (None, "distribution"):
        return []
    out = []
    for c in d.columns:
        m = _PERCENTILE.fullmatch(c)
        if m:
            out.append((c, float(m.group(1))))
        elif c != "segment":
            return []
    return sorted(out, key=lambda t: t[1])


def _matrix(d: _Data) -> tuple[str, list[str]] | None:
    """A correlation matrix: a column naming the features, one numeric column per feature."""
    if d.kind not in (None, "correlation"):
        return None
    for label in d.columns:
        if d.types[label] != "nominal":
            continue
        names = [str(v) for v in d.frame[label]]
        others = d.numeric(exclude=[label])
        if names and len(set(names)) == len(names) and set(names) == set(others) and len(others) == len(d.columns) - 1:
            return label, names
    return None


def _rolling(d: _Data) -> bool:
    return d.kind == "aggregation" and bool(d.spec.get("rolling")) and "date" in d.frame


def _one_row_numbers(d: _Data) -> bool:
    """An Aggregation without groups: one row of metrics."""
    return len(d.frame) == 1 and d.kind == "aggregation" and not d.groups() and "date" not in d.frame


# -- the plan -----------------------------------------------------------------------------------


@dataclass
class _Plan:
    """What to draw: the rows (``data``, put inline) and the roles of their columns."""

    draw: str
    data: pd.DataFrame
    x: str | None = None
    y: str | None = None
    color: str | None = None
    types: dict[str, str] = field(default_factory=dict)  # column of data → Vega-Lite type
    mark: str = ""
    subtitles: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def _plan_or_raise(
    chart_type: ChartType,
    kind: str,
    spec: dict[str, Any] | None,
    frame: pd.DataFrame,
    x: str | None,
    y: str | None,
    color: str | None,
) -> _Plan:
    d = _prepare(kind, spec, frame)
    try:
        return _plan(chart_type, d, x, y, color)
    except _Misfit as misfit:
        message = misfit.message
        fits: list[str] = []
        if misfit.hint:
            for other in ChartType:
                if other is chart_type:
                    continue
                try:
                    _plan(other, d, x, y, color)
                except _Misfit:
                    continue
                fits.append(other.value)
            message += f" This data fits: {', '.join(fits)}." if fits else ""
        raise InvalidChartError(
            message,
            {"chart_type": chart_type.value, "analysis": d.kind, "columns": d.columns, "fits": fits},
        ) from None


def _plan(chart_type: ChartType, d: _Data, x: str | None, y: str | None, color: str | None) -> _Plan:
    for role, name in (("x", x), ("y", y), ("color", color)):
        if name is not None and name not in d.frame:
            listed = ", ".join(d.columns) or "none"
            raise _Misfit(f"{role}={name!r} names no column of the data; its columns are: {listed}.", hint=False)
    if chart_type is not ChartType.TABLE and len(d.frame) > MAX_ROWS:
        raise _Misfit(
            f"{_a(chart_type.value)} carries its data in the dashboard, at most {MAX_ROWS:,} rows; this data has "
            f"{len(d.frame):,}: summarise it first (an Aggregation or Distribution), or sample fewer records."
        )
    plan = _PLANNERS[chart_type](chart_type, d, x, y, color)
    if not len(plan.data) and chart_type is not ChartType.TABLE and "no data" not in plan.subtitles:
        plan.subtitles.append("no data")  # a filter or a live table may have no rows (yet)
    return plan


def _a(what: str) -> str:
    """``"A line"``, ``"An area"``."""
    return f"{'An' if what[0] in 'aeiou' else 'A'} {what}"


def _need_number(d: _Data, column: str, role: str, what: str) -> None:
    if d.types[column] != "quantitative":
        raise _Misfit(f"{_a(what)} needs numbers for {role}; {column!r} holds {d.describe(column)}.")


def _one_per(d: _Data, keys: list[str], what: str, remedy: str) -> None:
    keys = [k for k in keys if k]
    if keys and d.frame.duplicated(subset=keys).any():
        shown = " and ".join(repr(k) for k in keys)
        raise _Misfit(f"{_a(what)} draws one row per {shown}, and several rows share one: {remedy}")


def _first_value(d: _Data, exclude: Sequence[str | None] = ()) -> str | None:
    """The column a chart shows when y is left out: the first metric, a test's p-value, the only number."""
    metrics = [m for m in d.metrics() if m not in exclude and d.types[m] == "quantitative"]
    if metrics:
        return metrics[0]
    if d.kind == "stat_test" and "p_value" in d.frame and "p_value" not in exclude:
        return "p_value"
    numbers = d.numeric(exclude=exclude)
    return numbers[0] if len(numbers) == 1 else None


def _used(d: _Data, *columns: str | None) -> pd.DataFrame:
    keep = list(dict.fromkeys(c for c in columns if c))
    return d.frame[keep]


def _types(d: _Data, *columns: str | None) -> dict[str, str]:
    return {c: d.types[c] for c in columns if c}


# line / area ---------------------------------------------------------------------------------


def _plan_series(ct: ChartType, d: _Data, x: str | None, y: str | None, color: str | None) -> _Plan:
    what = ct.value  # "line" or "area"
    if x is None:
        times = d.temporal()
        if not times:
            raise _Misfit(
                f"{_a(what)} draws values over time: it needs an x of times (a rolling Aggregation's date) or "
                "numbers, and this data has no time column; name x= a numeric column."
            )
        x = "date" if "date" in times else times[0]
    if d.types[x] not in ("temporal", "quantitative"):
        raise _Misfit(f"{_a(what)} needs an x in order, times or numbers; {x!r} holds {d.describe(x)}.")
    if y is None:
        y = _first_value(d, exclude=[x, color])
        if y is None:
            listed = ", ".join(d.numeric(exclude=[x])) or "none"
            raise _Misfit(f"{_a(what)} needs y= a numeric column to draw over {x!r}; the numeric columns: {listed}.")
    _need_number(d, y, "y", what)
    if y == x:
        raise _Misfit(f"{_a(what)} needs y other than x ({x!r}).")
    if color is None:
        color = next((g for g in d.groups() if g not in (x, y)), None)
    _one_per(d, [x, color or ""], what, "name color= the column that tells the lines apart.")
    return _Plan("series", _used(d, x, y, color), x, y, color, _types(d, x, y, color), mark=what)


# bar ------------------------------------------------------------------------------------------


def _plan_bar(ct: ChartType, d: _Data, x: str | None, y: str | None, color: str | None) -> _Plan:
    if x is None and y is None:
        natural = _natural_bars(d, color)
        if natural is not None:
            return natural
    if x is None:
        x = _category(d, exclude=[y, color])
        if x is None:
            raise _Misfit("A bar needs x= the column of its categories (or times); name one.")
    if y is None:
        y = _first_value(d, exclude=[x, color])
        if y is None:
            listed = ", ".join(d.numeric(exclude=[x])) or "none"
            raise _Misfit(f"A bar needs y= a numeric column for the height of its bars; the numeric columns: {listed}.")
    _need_number(d, y, "y", "bar")
    if y == x:
        raise _Misfit(f"A bar needs y other than x ({x!r}).")
    if color is None:
        color = next((g for g in d.groups() if g not in (x, y)), None)
    _one_per(d, [x, color or ""], "bar", "name color= the column that tells them apart.")
    return _Plan("series", _used(d, x, y, color), x, y, color, _types(d, x, y, color), mark="bar")


def _category(d: _Data, exclude: Sequence[str | None]) -> str | None:
    for column in [*d.groups(), *d.temporal(), *(c for c in d.columns if d.types[c] == "nominal")]:
        if column not in exclude:
            return column
    return None


def _natural_bars(d: _Data, color: str | None) -> _Plan | None:
    """The bars of a summary when x and y are left out, or None (then x and y are worked out as usual)."""
    if _is_bins(d):
        return _bins_plan(d, "bar")
    if _is_value_counts(d):
        seg = color or ("segment" if "segment" in d.frame else None)
        _one_per(d, ["value", seg or ""], "bar", "name color= the column that tells them apart.")
        return _Plan(
            "series", _used(d, "value", "count", seg), "value", "count", seg, _types(d, "value", "count", seg), "bar"
        )
    pcts = _percentiles(d)
    if pcts:
        return _percentile_bars(d, pcts)
    if _one_row_numbers(d):
        metrics = d.metrics() or d.numeric()
        long = pd.DataFrame({"metric": metrics, "value": [d.frame[m].iloc[0] for m in metrics]})
        return _Plan("series", long, "metric", "value", None, {"metric": "nominal", "value": "quantitative"}, "bar")
    if d.kind == "stat_test" and len(d.frame) == 1:
        return _mean_bars(d)
    if d.kind == "version_diff" and {"metric", "delta"} <= set(d.columns):
        return _Plan(
            "series", _used(d, "metric", "delta"), "metric", "delta", None, _types(d, "metric", "delta"), "bar"
        )
    if _matrix(d):
        raise _Misfit("A bar of a correlation matrix needs x= and y= (a feature's coefficients); draw a heatmap.")
    return None


def _percentile_bars(d: _Data, pcts: list[tuple[str, float]]) -> _Plan:
    seg = "segment" if "segment" in d.frame else None
    rows = [
        {**({"segment": row["segment"]} if seg else {}), "percentile": name, "value": row[name]}
        for _, row in d.frame.iterrows()
        for name, _p in pcts
    ]
    long = pd.DataFrame(rows, columns=[*(["segment"] if seg else []), "percentile", "value"])
    types = {"percentile": "nominal", "value": "quantitative", **({"segment": "nominal"} if seg else {})}
    return _Plan("series", long, "percentile", "value", seg, types, "bar")


def _mean_bars(d: _Data) -> _Plan:
    row = d.frame.iloc[0]
    means = [(side, row.get(f"mean_{side}"), row.get(f"n_{side}")) for side in ("control", "treatment")]
    if any(_number(mean) is None for _, mean, _n in means):
        raise _Misfit(
            "A bar of a statistical test draws the two groups' means, and this test has none (a chi-squared "
            "test compares counts); draw its p_value as a metric, or a table."
        )
    long = pd.DataFrame({"group": [m[0] for m in means], "mean": [m[1] for m in means], "n": [m[2] for m in means]})
    types = {"group": "nominal", "mean": "quantitative", "n": "quantitative"}
    return _Plan("series", long, "group", "mean", None, types, "bar", extra={"tooltip": ["n"]})


# histogram ------------------------------------------------------------------------------------


def _bins_plan(d: _Data, what: str) -> _Plan:
    seg = "segment" if "segment" in d.frame else None
    data = _used(d, seg, "bin_start", "bin_end", "count")
    types = _types(d, seg, "bin_start", "bin_end", "count")
    return _Plan("bins", data, "bin_start", "count", seg, types, mark=what)


def _plan_histogram(ct: ChartType, d: _Data, x: str | None, y: str | None, color: str | None) -> _Plan:
    if _is_bins(d) or _is_value_counts(d):
        expected = ("bin_start", "count") if _is_bins(d) else ("value", "count")
        if (x or expected[0]) != expected[0] or (y or expected[1]) != expected[1]:
            raise _Misfit(
                f"A histogram of a Distribution draws its bins ({expected[0]} against {expected[1]}): leave x and "
                "y out.",
                hint=False,
            )
        if _is_bins(d):
            return _bins_plan(d, "histogram")
        seg = color or ("segment" if "segment" in d.frame else None)
        _one_per(d, ["value", seg or ""], "histogram", "name color= the column that tells them apart.")
        return _Plan(
            "series", _used(d, "value", "count", seg), "value", "count", seg, _types(d, "value", "count", seg), "bar"
        )
    if _percentiles(d):
        raise _Misfit(
            "A histogram needs bins: this Distribution has percentiles only; ask for "
            "Distribution(metrics=['histogram']) (or both)."
        )
    if not d.raw():
        raise _Misfit(
            "A histogram needs a Distribution's bins or a column of raw values (x=); a correlation matrix has neither."
        )
    if x is None:
        x = _default_raw(d)
        if x is None:
            raise _Misfit("A histogram of rows needs x= the numeric column whose values it counts.")
    _need_number(d, x, "x", "histogram")
    if y is not None:
        raise _Misfit("A histogram of rows counts x's values: leave y out (it is the count).", hint=False)
    return _Plan("raw_bins", _used(d, x, color), x, None, color, _types(d, x, color), mark="histogram")


def _default_raw(d: _Data, n: int = 1) -> str | None:
    """A RecordLookup's first numeric feature(s), when its spec names features."""
    found = _raw_numbers(d)
    return found[n - 1] if len(found) >= n else None


def _raw_numbers(d: _Data) -> list[str]:
    if d.kind != "record_lookup":
        return []
    named = d.spec.get("features") or []
    return [f for f in named if f in d.frame and d.types[f] == "quantitative"]


# scatter --------------------------------------------------------------------------------------


def _plan_scatter(ct: ChartType, d: _Data, x: str | None, y: str | None, color: str | None) -> _Plan:
    if _matrix(d) or d.kind == "correlation":
        raise _Misfit(
            "A scatter needs two numeric columns of raw values (x and y); a Correlation holds only their "
            "coefficients: draw it as a heatmap, or a scatter of a RecordLookup of the features."
        )
    if not d.raw():
        raise _Misfit("A scatter needs two numeric columns of raw values (x and y); a Distribution is a summary.")
    if x is None or y is None:
        found = [f for f in _raw_numbers(d) if f not in (x, y)]
        x = x or (found.pop(0) if found else None)
        y = y or (found.pop(0) if found else None)
        if x is None or y is None:
            listed = ", ".join(d.numeric()) or "none"
            raise _Misfit(f"A scatter needs x= and y=, two numeric columns; the numeric columns: {listed}.")
    _need_number(d, x, "x", "scatter")
    _need_number(d, y, "y", "scatter")
    if x == y:
        raise _Misfit(f"A scatter needs two different columns; x and y are both {x!r}.")
    return _Plan("scatter", _used(d, x, y, color), x, y, color, _types(d, x, y, color), mark="scatter")


# heatmap ----------------------------------------------------------------------------------------


_HEATMAP_NEEDS = (
    "A heatmap needs a matrix: a Correlation of two or more features, or x, y and a value column (color=, "
    "or the only numeric column left)"
)


def _plan_heatmap(ct: ChartType, d: _Data, x: str | None, y: str | None, color: str | None) -> _Plan:
    if x is None and y is None:
        matrix = _matrix(d)
        if matrix is None and d.kind == "correlation" and not len(d.frame):
            matrix = ("feature", [])  # no rows: an empty matrix
        if matrix is not None and (len(matrix[1]) >= 2 or not matrix[1]):
            names = matrix[1]
            cells = [
                {"feature_x": a, "feature_y": b, "r": row[b]}
                for a, (_, row) in zip(names, d.frame.iterrows(), strict=True)
                for b in names
            ]
            types = {"feature_x": "nominal", "feature_y": "nominal", "r": "quantitative"}
            data = pd.DataFrame(cells, columns=list(types))
            return _Plan("heat", data, "feature_x", "feature_y", "r", types, extra={"order": names, "matrix": True})
        if matrix is not None:
            raise _Misfit(f"{_HEATMAP_NEEDS}; this correlation has one feature ({matrix[1][0]}).")
        x, y = _natural_cells(d)
        if x is None or y is None:
            what = f"a {d.kind.replace('_', ' ').title().replace(' ', '')}" if d.kind else "this data"
            raise _Misfit(f"{_HEATMAP_NEEDS}; {what} has none: name x= and y= (and color= for the value).")
    if x is None or y is None:
        raise _Misfit(f"{_HEATMAP_NEEDS}: name both x= and y=.")
    if x == y:
        raise _Misfit(f"A heatmap needs two different columns for x and y; both are {x!r}.")
    value = color
    if value is None:
        if _is_bins(d) or _is_value_counts(d):
            value = "count"
        else:
            left = [m for m in d.metrics() if m not in (x, y)] or d.numeric(exclude=[x, y])
            if len(left) != 1 and not d.metrics():
                listed = ", ".join(left) or "none"
                raise _Misfit(f"{_HEATMAP_NEEDS}; name color= the value column, one of: {listed}.")
            if not left:
                raise _Misfit(f"{_HEATMAP_NEEDS}; no numeric column is left for the value.")
            value = left[0]
    _need_number(d, value, "its value (color)", "heatmap")
    _one_per(d, [x, y], "heatmap cell", "name x and y that tell rows apart (or filter the data).")
    return _Plan("heat", _used(d, x, y, value), x, y, value, _types(d, x, y, value))


def _natural_cells(d: _Data) -> tuple[str | None, str | None]:
    groups = d.groups()
    if _is_bins(d) and groups:
        return "bin_start", "segment"
    if _is_value_counts(d) and groups:
        return "value", "segment"
    if d.kind == "aggregation" and d.metrics():
        if _rolling(d) and groups:
            return "date", groups[0]
        if len(groups) >= 2:
            return groups[0], groups[1]
    return None, None


# pie ------------------------------------------------------------------------------------------


def _plan_pie(ct: ChartType, d: _Data, x: str | None, y: str | None, color: str | None) -> _Plan:
    if x is not None and color is not None and x != color:
        raise _Misfit(f"A pie has one category: give x= or color=, not two ({x!r} and {color!r}).", hint=False)
    category = x or color
    if category is None and y is None:
        groups = d.groups()
        if _is_value_counts(d) and "segment" not in d.frame:
            category, y = "value", "count"
        elif d.kind == "aggregation" and len(groups) == 1 and not _rolling(d) and d.metrics():
            category, y = groups[0], _first_value(d, exclude=groups)
        else:
            raise _Misfit(
                "A pie shows parts of a whole: it needs a category (x=) with one row each and a numeric y=, as an "
                "Aggregation grouped by one column or a Distribution's value counts."
            )
    if category is None:
        category = _category(d, exclude=[y])
        if category is None:
            raise _Misfit("A pie needs x= the column of its categories.")
    if y is None:
        y = _first_value(d, exclude=[category])
        if y is None:
            raise _Misfit("A pie needs y= the numeric column of its slices' sizes.")
    _need_number(d, y, "y", "pie")
    _one_per(d, [category], "pie slice", "filter the data to one row per category, or draw a bar.")
    values = [_number(v) for v in d.frame[y]]
    negative = [v for v in values if v is not None and v < 0]
    if negative:
        raise _Misfit(
            f"A pie shows parts of a whole and {y!r} has negative values ({len(negative)}, e.g. {negative[0]:g}): "
            "a share cannot be negative."
        )
    if len(values) and not any(v for v in values):
        raise _Misfit(f"A pie needs some positive value of {y!r}; they are all zero or missing.")
    return _Plan("pie", _used(d, category, y), category, y, category, _types(d, category, y))


# metric / gauge -------------------------------------------------------------------------------


def _plan_number(ct: ChartType, d: _Data, x: str | None, y: str | None, color: str | None) -> _Plan:
    what = ct.value
    rows = d.frame
    if y is None:
        if len(rows) > 1:
            raise _Misfit(
                f"A {what} shows one number, and this data has {len(rows)} rows: name y= the column to show "
                "(with a time column, the latest row is shown)."
            )
        y = _first_value(d, exclude=[x, color]) or next(iter(d.numeric(exclude=[x, color])), None)
        if y is None:
            raise _Misfit(f"A {what} shows one number, and this data has no numeric column.")
    _need_number(d, y, "y", what)
    subtitles = [y]
    if len(rows) > 1:
        time = x if x is not None and d.types[x] == "temporal" else next(iter(d.temporal()), None)
        if time is None:
            raise _Misfit(
                f"A {what} shows one number, and {y!r} has {len(rows)} rows with no time column to pick the latest "
                "from: filter the data to one row, or draw a bar."
            )
        valued = rows[rows[y].map(lambda v: _number(v) is not None)]
        latest = valued[time].max() if len(valued) else rows[time].max()
        rows = (valued if len(valued) else rows)[lambda f: f[time] == latest]
        if len(rows) > 1:
            raise _Misfit(
                f"A {what} shows one number, and the latest {time} has {len(rows)} rows of {y!r} (one per group): "
                "filter the data to one group, or draw a line."
            )
        subtitles = [f"{y}, latest {time}: {_when(latest)}"]
    value = _number(rows[y].iloc[0]) if len(rows) else None
    data = rows[[y]]
    extra: dict[str, Any] = {"value": value}
    if ct is ChartType.GAUGE:
        if value is not None and value < 0:
            raise _Misfit(
                f"A gauge fills an arc from 0 to a maximum, and {y!r} is negative ({value:g}): draw a metric."
            )
        top = _gauge_max(d, y) if len(rows) else _number(d.spec.get("max")) or 1.0
        if top is None or top <= 0:
            raise _Misfit(f"A gauge fills an arc from 0 to a maximum, and {y!r} has no positive value to scale by.")
        extra["max"] = top
        subtitles = [f"{subtitles[0]} (of {top:g})"]
    return _Plan("number", data, None, y, None, _types(d, y), mark=what, subtitles=subtitles, extra=extra)


def _when(value: Any) -> str:
    if isinstance(value, pd.Timestamp | datetime):
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_convert("UTC") if stamp.tzinfo else stamp
        return str(stamp.strftime("%Y-%m-%d %H:%M" if (stamp.hour or stamp.minute) else "%Y-%m-%d"))
    return str(value)


def _gauge_max(d: _Data, y: str) -> float | None:
    given = _number(d.spec.get("max"))
    if given is not None:
        return given
    if y in _RATES or y.endswith("_rate"):
        return 1.0
    values = [v for v in (_number(v) for v in d.frame[y]) if v is not None]
    return _nice_ceiling(max(values)) if values else None


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at or above ``value`` (``value`` itself when not positive)."""
    if value <= 0:
        return value
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value * (1 - 1e-12):
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


# box / violin -----------------------------------------------------------------------------------


def _plan_box(ct: ChartType, d: _Data, x: str | None, y: str | None, color: str | None) -> _Plan:
    pcts = _percentiles(d)
    if pcts:
        return _box_from_percentiles(d, pcts)
    if _is_bins(d):
        return _box_from_bins(d)
    if _is_value_counts(d):
        raise _Misfit("A box summarises numbers, and this Distribution counts categories: draw a bar or a pie.")
    if not d.raw():
        raise _Misfit("A box needs a Distribution's percentiles or histogram, or a column of raw values (y=).")
    return _raw_values_plan(ct, d, x, y, color, "box_raw")


def _raw_values_plan(ct: ChartType, d: _Data, x: str | None, y: str | None, color: str | None, draw: str) -> _Plan:
    what = ct.value
    if y is None:
        y = _default_raw(d)
        if y is None:
            listed = ", ".join(d.numeric(exclude=[x, color])) or "none"
            raise _Misfit(f"A {what} of rows needs y= the numeric column of its values; the numeric columns: {listed}.")
    _need_number(d, y, "y", what)
    for role, name in (("x", x), ("color", color)):
        if name is not None and d.types[name] == "quantitative" and name != "segment":
            raise _Misfit(f"A {what} groups values by {role}, a category; {name!r} holds numbers.")
    count = sum(1 for v in d.frame[y] if _number(v) is not None)
    if draw == "violin" and count < 2 and len(d.frame):
        raise _Misfit(f"A violin estimates the density of {y!r}, and it has {count} value(s): it needs two or more.")
    return _Plan(draw, _used(d, x, y, color), x, y, color, _types(d, x, y, color), mark=what)


def _box_from_percentiles(d: _Data, pcts: list[tuple[str, float]]) -> _Plan:
    have = {p: c for c, p in pcts}
    missing = [f"p{p}" for p in (25, 50, 75) if float(p) not in have]
    if missing:
        shown = ", ".join(c for c, _ in pcts)
        raise _Misfit(
            f"A box needs the quartiles p25, p50 and p75; this Distribution has {shown}: add 25 (and 75) to its "
            "percentiles, or ask for its histogram (the quartiles are then estimated from the bins)."
        )
    low, high = pcts[0][0], pcts[-1][0]
    rows = []
    for i, row in d.frame.iterrows():
        label = row["segment"] if "segment" in d.frame else d.spec.get("feature") or "values"
        rows.append(
            {
                "group": "(none)" if _missing(label) else str(label),
                "low": row[low],
                "q1": row[have[25.0]],
                "median": row[have[50.0]],
                "q3": row[have[75.0]],
                "high": row[high],
            }
        )
        del i
    subtitle = f"box: p25–p75, line: p50, whiskers: {low}–{high}"
    return _box_summary_plan(d, pd.DataFrame(rows), subtitle)


def _box_from_bins(d: _Data) -> _Plan:
    parts = d.frame.groupby("segment", sort=False, dropna=False) if "segment" in d.frame else [(None, d.frame)]
    rows = []
    for segment, bins in parts:
        summary = _quartiles_of_bins(bins)
        if summary is None:
            continue
        label = segment if segment is not None else d.spec.get("feature") or "values"
        rows.append({"group": "(none)" if _missing(label) else str(label), **summary})
    if not rows and len(d.frame):
        raise _Misfit("A box needs values, and this histogram counts none.")
    rows_ = pd.DataFrame(rows, columns=["group", "low", "q1", "median", "q3", "high"])
    return _box_summary_plan(d, rows_, "quartiles estimated from the histogram; whiskers: min–max")


def _quartiles_of_bins(bins: pd.DataFrame) -> dict[str, float] | None:
    """The quartiles of a histogram's values, each read linearly within its bin; whiskers: the filled range."""
    starts = [float(v) for v in bins["bin_start"]]
    ends = [float(v) for v in bins["bin_end"]]
    counts = [float(_number(v) or 0.0) for v in bins["count"]]
    total = sum(counts)
    if total <= 0:
        return None
    filled = [i for i, n in enumerate(counts) if n > 0]
    out = {"low": starts[filled[0]], "high": ends[filled[-1]]}
    for name, q in (("q1", 0.25), ("median", 0.5), ("q3", 0.75)):
        target, seen = q * total, 0.0
        for start, end, n in zip(starts, ends, counts, strict=True):
            if n > 0 and seen + n >= target:
                out[name] = start + (end - start) * (target - seen) / n
                break
            seen += n
    return {k: out[k] for k in ("low", "q1", "median", "q3", "high")}


def _box_summary_plan(d: _Data, rows: pd.DataFrame, subtitle: str) -> _Plan:
    types = {"group": "nominal", **{k: "quantitative" for k in ("low", "q1", "median", "q3", "high")}}
    value = str(d.spec.get("feature") or "value")
    return _Plan("box_summary", rows, "group", "median", None, types, "box", [subtitle], {"value": value})


def _plan_violin(ct: ChartType, d: _Data, x: str | None, y: str | None, color: str | None) -> _Plan:
    if not d.raw():
        raise _Misfit(
            "A violin needs raw values (y= a numeric column, one value per row: a RecordLookup or a live table of "
            "rows); a Distribution or Correlation is already summarised: draw a box (its percentiles or bins) or "
            "a histogram."
        )
    return _raw_values_plan(ct, d, x, y, color, "violin")


# table ----------------------------------------------------------------------------------------


def _plan_table(ct: ChartType, d: _Data, x: str | None, y: str | None, color: str | None) -> _Plan:
    shown = d.frame.head(TABLE_ROWS)
    subtitles = [f"first {TABLE_ROWS} of {len(d.frame):,} rows"] if len(d.frame) > TABLE_ROWS else []
    if not len(d.frame):
        subtitles.append("no rows")
    return _Plan("table", shown, types=dict(d.types), subtitles=subtitles)


_PLANNERS: dict[ChartType, Callable[[ChartType, _Data, str | None, str | None, str | None], _Plan]] = {
    ChartType.LINE: _plan_series,
    ChartType.AREA: _plan_series,
    ChartType.BAR: _plan_bar,
    ChartType.HISTOGRAM: _plan_histogram,
    ChartType.SCATTER: _plan_scatter,
    ChartType.HEATMAP: _plan_heatmap,
    ChartType.PIE: _plan_pie,
    ChartType.TABLE: _plan_table,
    ChartType.METRIC: _plan_number,
    ChartType.GAUGE: _plan_number,
    ChartType.BOX: _plan_box,
    ChartType.VIOLIN: _plan_violin,
}


# -- drawing ------------------------------------------------------------------------------------


def _altair() -> Any:
    try:
        import altair as alt
    except ImportError as exc:  # pragma: no cover - altair is a dependency of the dashboards
        raise InvalidChartError("Dashboard charts need Altair: pip install 'altair>=5,<6'.", {}) from exc
    return alt


def _base(alt: Any, width: int | None, height: int | None, **defaults: Any) -> Any:
    """An empty chart on the data placeholder, sized."""
    size = {k: v for k, v in (("width", width), ("height", height)) if v is not None}
    for key, value in defaults.items():
        size.setdefault(key, value)
    return alt.Chart(alt.InlineData(values=[], name=_DATA)).properties(**size)


def _enc(alt: Any, channel: str, plan: _Plan, column: str, **kw: Any) -> Any:
    """A channel on a column of the plan's data (escaped field, the column's own name as title)."""
    vtype = plan.types[column]
    if vtype == "temporal" and channel in ("X", "Y"):
        kw.setdefault("scale", alt.Scale(type="utc"))
    kw.setdefault("title", column)
    return getattr(alt, channel)(field=_field(column), type=vtype, **kw)


def _tooltip(alt: Any, plan: _Plan, *columns: str | None) -> list[Any]:
    out = []
    for column in dict.fromkeys(c for c in columns if c):
        vtype = plan.types[column]
        kw: dict[str, Any] = {"format": "%Y-%m-%d %H:%M", "formatType": "utc"} if vtype == "temporal" else {}
        out.append(alt.Tooltip(field=_field(column), type=vtype, title=column, **kw))
    return out


def _draw_series(alt: Any, plan: _Plan, width: int | None, height: int | None) -> Any:
    assert plan.x is not None and plan.y is not None
    kw: dict[str, Any] = {}
    if plan.mark == "bar" and plan.types[plan.x] == "nominal":
        kw["sort"] = None
    x = _enc(alt, "X", plan, plan.x, **kw)
    y = _enc(alt, "Y", plan, plan.y, stack="zero" if plan.mark == "area" else None)
    enc: dict[str, Any] = {"x": x, "y": y}
    if plan.color:
        enc["color"] = alt.Color(field=_field(plan.color), type="nominal", title=plan.color)
        if plan.mark == "bar":
            enc["xOffset"] = alt.XOffset(field=_field(plan.color), type="nominal")
    enc["tooltip"] = _tooltip(alt, plan, plan.x, plan.color, plan.y, *plan.extra.get("tooltip", []))
    base = _base(alt, width, height)
    if plan.mark == "line":
        return base.mark_line(point=True).encode(**enc)
    if plan.mark == "area":
        return base.mark_area(opacity=0.8, line=True).encode(**enc)
    return base.mark_bar().encode(**enc)


def _draw_bins(alt: Any, plan: _Plan, width: int | None, height: int | None) -> Any:
    enc: dict[str, Any] = {
        "x": alt.X(field="bin_start", type="quantitative", bin="binned", title="value"),
        "x2": alt.X2(field="bin_end"),
        "y": alt.Y(field="count", type="quantitative", stack=None, title="count"),
        "tooltip": _tooltip(alt, plan, plan.color, "bin_start", "bin_end", "count"),
    }
    if plan.color:
        enc["color"] = alt.Color(field=_field(plan.color), type="nominal", title=plan.color)
        return _base(alt, width, height).mark_bar(opacity=0.55).encode(**enc)
    return _base(alt, width, height).mark_bar().encode(**enc)


def _draw_raw_bins(alt: Any, plan: _Plan, width: int | None, height: int | None) -> Any:
    assert plan.x is not None
    enc: dict[str, Any] = {
        "x": alt.X(field=_field(plan.x), type="quantitative", bin=alt.Bin(maxbins=30), title=plan.x),
        "y": alt.Y(aggregate="count", type="quantitative", stack=None, title="count"),
    }
    if plan.color:
        enc["color"] = alt.Color(field=_field(plan.color), type="nominal", title=plan.color)
        return _base(alt, width, height).mark_bar(opacity=0.55).encode(**enc)
    return _base(alt, width, height).mark_bar().encode(**enc)


def _draw_scatter(alt: Any, plan: _Plan, width: int | None, height: int | None) -> Any:
    assert plan.x is not None and plan.y is not None
    enc: dict[str, Any] = {
        "x": _enc(alt, "X", plan, plan.x, scale=alt.Scale(zero=False)),
        "y": _enc(alt, "Y", plan, plan.y, scale=alt.Scale(zero=False)),
        "tooltip": _tooltip(alt, plan, plan.color, plan.x, plan.y),
    }
    if plan.color:
        enc["color"] = alt.Color(field=_field(plan.color), type="nominal", title=plan.color)
    return _base(alt, width, height).mark_circle(opacity=0.7).encode(**enc)


def _discrete(alt: Any, channel: str, plan: _Plan, column: str, data: pd.DataFrame, order: list[str] | None) -> Any:
    """A heatmap's axis: categories in their order; numbers and times as ordered labels."""
    vtype = plan.types[column]
    kw: dict[str, Any] = {"title": None if plan.extra.get("matrix") else column}
    if vtype == "temporal":
        stamps = pd.to_datetime(data[column], utc=True).dropna()
        midnight = bool(len(stamps)) and bool((stamps == stamps.dt.normalize()).all())
        kw["timeUnit"] = "utcyearmonthdate" if midnight else "utcyearmonthdatehoursminutes"
        return getattr(alt, channel)(field=_field(column), type="ordinal", **kw)
    if vtype == "quantitative":
        return getattr(alt, channel)(field=_field(column), type="ordinal", sort="ascending", **kw)
    return getattr(alt, channel)(field=_field(column), type="nominal", sort=order, **kw)


def _draw_heat(alt: Any, plan: _Plan, width: int | None, height: int | None) -> Any:
    assert plan.x is not None and plan.y is not None and plan.color is not None
    order = plan.extra.get("order")
    matrix = bool(plan.extra.get("matrix"))
    base = _base(alt, width, height).encode(
        x=_discrete(alt, "X", plan, plan.x, plan.data, order),
        y=_discrete(alt, "Y", plan, plan.y, plan.data, order),
    )
    scale = alt.Scale(scheme="redblue", domain=[-1, 1]) if matrix else alt.Scale(scheme="viridis")
    value = alt.Color(field=_field(plan.color), type="quantitative", title=plan.color, scale=scale)
    heat = base.mark_rect().encode(color=value, tooltip=_tooltip(alt, plan, plan.x, plan.y, plan.color))
    label = alt.Text(field=_field(plan.color), type="quantitative", format=".2f" if matrix else ",.3~s")
    ink = alt.value("black")
    if matrix:  # white on the dark ends of the red–blue scale
        ink = alt.condition("abs(datum.r) > 0.6", alt.value("white"), alt.value("black"))
    text = base.mark_text(baseline="middle").encode(text=label, color=ink)
    chart = alt.layer(heat, text, data=alt.InlineData(values=[], name=_DATA))
    step = 64 if matrix else 48
    return chart.properties(width=width or alt.Step(step), height=height or alt.Step(step if matrix else 28))


def _draw_pie(alt: Any, plan: _Plan, width: int | None, height: int | None) -> Any:
    assert plan.x is not None and plan.y is not None
    return (
        _base(alt, width, height)
        .mark_arc(innerRadius=0)
        .encode(
            theta=alt.Theta(field=_field(plan.y), type="quantitative", stack=True, title=plan.y),
            color=alt.Color(field=_field(plan.x), type="nominal", title=plan.x, sort=None),
            order=alt.Order(field=_field(plan.y), type="quantitative", sort="descending"),
            tooltip=_tooltip(alt, plan, plan.x, plan.y),
        )
    )


def _number_format(value: float | None) -> str:
    if value is None or value == 0 or (abs(value) >= 1 and float(value).is_integer()):
        return ",.0f"
    if abs(value) >= 1:
        return ",.2f"
    return ".3~g"


def _draw_number(alt: Any, plan: _Plan, width: int | None, height: int | None) -> Any:
    assert plan.y is not None
    w, h = width or 300, height or 140
    value = plan.extra["value"]
    text = alt.Text(field=_field(plan.y), type="quantitative", format=_number_format(value))
    if plan.mark == "metric":
        return (
            _base(alt, w, h)
            .mark_text(fontSize=min(48, h // 2), fontWeight="bold", align="center", baseline="middle")
            .encode(x=alt.value(w / 2), y=alt.value(h / 2), text=text, tooltip=_tooltip(alt, plan, plan.y))
            .configure_view(stroke=None)
        )
    top = float(plan.extra["max"])
    radius = max(20.0, min(w / 2, h) * 0.9)
    start, end = 1.5 * math.pi, 2.5 * math.pi  # 9 o'clock to 3 o'clock, clockwise over the top
    center = {"x": alt.value(w / 2), "y": alt.value(h * 0.95)}
    track = _base(alt, w, h).mark_arc(
        theta=start, theta2=end, radius=radius, radius2=radius * 0.65, color="#e6e6e6", tooltip=None
    )
    scale = alt.Scale(domain=[0, top], range=[start, end], clamp=True, zero=True)
    fill = (
        _base(alt, w, h)
        .mark_arc(radius=radius, radius2=radius * 0.65, color="#4c78a8")
        .encode(
            theta=alt.Theta(field=_field(plan.y), type="quantitative", scale=scale, stack=False),
            theta2=alt.Theta2(datum=0),
            tooltip=_tooltip(alt, plan, plan.y),
            **center,
        )
    )
    label = (
        _base(alt, w, h)
        .mark_text(fontSize=min(32, h // 4), fontWeight="bold", align="center", baseline="bottom")
        .encode(text=text, **center)
    )
    chart = alt.layer(track.encode(**center), fill, label, data=alt.InlineData(values=[], name=_DATA))
    return chart.properties(width=w, height=h).configure_view(stroke=None)


def _draw_box_summary(alt: Any, plan: _Plan, width: int | None, height: int | None) -> Any:
    base = _base(alt, width, height).encode(
        x=alt.X(field="group", type="nominal", sort=None, title=None),
        tooltip=_tooltip(alt, plan, "group", "low", "q1", "median", "q3", "high"),
    )
    whisker = base.mark_rule().encode(
        y=alt.Y(field="low", type="quantitative", title=plan.extra["value"], scale=alt.Scale(zero=False)),
        y2=alt.Y2(field="high"),
    )
    box = base.mark_bar(size=28).encode(y=alt.Y(field="q1", type="quantitative"), y2=alt.Y2(field="q3"))
    median = base.mark_tick(color="white", size=28, thickness=2).encode(y=alt.Y(field="median", type="quantitative"))
    return alt.layer(whisker, box, median, data=alt.InlineData(values=[], name=_DATA)).properties(
        width=width or alt.Step(60)
    )


def _draw_box_raw(alt: Any, plan: _Plan, width: int | None, height: int | None) -> Any:
    assert plan.y is not None
    enc: dict[str, Any] = {"y": alt.Y(field=_field(plan.y), type="quantitative", title=plan.y)}
    if plan.x:
        enc["x"] = alt.X(field=_field(plan.x), type="nominal", title=plan.x)
    if plan.color:
        enc["color"] = alt.Color(field=_field(plan.color), type="nominal", title=plan.color)
    chart = _base(alt, width, height).mark_boxplot(extent="min-max", size=28).encode(**enc)
    return chart.properties(width=alt.Step(60)) if plan.x and width is None else chart


def _draw_violin(alt: Any, plan: _Plan, width: int | None, height: int | None) -> Any:
    assert plan.y is not None
    taken = list(plan.data.columns)
    value, density = _free("value", taken), _free("density", taken)
    groups = [c for c in dict.fromkeys((plan.x, plan.color)) if c]
    chart = (
        _base(alt, width or (100 if plan.x else 200), height)
        .transform_density(_field(plan.y), as_=[value, density], groupby=[_field(g) for g in groups])
        .mark_area(orient="horizontal", opacity=0.8)
    )
    enc: dict[str, Any] = {
        "y": alt.Y(field=value, type="quantitative", title=plan.y),
        "x": alt.X(
            field=density, type="quantitative", stack="center", impute=None, title=None,
            axis=alt.Axis(labels=False, values=[0], grid=False, ticks=True),
        ),
    }  # fmt: skip
    if plan.color or plan.x:
        key = plan.color or plan.x
        assert key is not None
        enc["color"] = alt.Color(field=_field(key), type="nominal", title=key)
    if plan.x:
        enc["column"] = alt.Column(
            field=_field(plan.x),
            type="nominal",
            title=plan.x,
            header=alt.Header(labelOrient="bottom", titleOrient="bottom"),
        )
        return chart.encode(**enc).properties(spacing=0)
    return chart.encode(**enc)


def _draw_table(alt: Any, plan: _Plan, width: int | None, height: int | None) -> Any:
    columns = list(plan.data.columns)
    row = _free("row", columns)
    rows = max(1, len(plan.data))
    w = width or max(240, 120 * len(columns))
    h = height or 22 * rows
    layers = []
    for column in columns or [""]:
        base = _base(alt, w, h).transform_window(**{row: "row_number()"})
        y = alt.Y(field=row, type="ordinal", axis=None)
        x = alt.X(
            datum=column, type="nominal",
            scale=alt.Scale(domain=columns or [""]),
            axis=alt.Axis(orient="top", title=None, labelAngle=0, domain=False, ticks=False, labelFontWeight="bold"),
        )  # fmt: skip
        if not columns:
            layers.append(base.mark_text().encode(x=x, y=y, text=alt.value("no columns")))
            continue
        vtype = plan.types[column]
        if vtype == "quantitative":
            integral = pd.api.types.is_integer_dtype(plan.data[column].dtype)
            text = alt.Text(field=_field(column), type="quantitative", format="d" if integral else ",.6~r")
        else:
            text = alt.Text(field=_field(column), type="nominal")
        layers.append(base.mark_text(limit=115, align="center").encode(x=x, y=y, text=text))
    chart = alt.layer(*layers, data=alt.InlineData(values=[], name=_DATA)).properties(width=w, height=h)
    return chart.configure_view(stroke=None)


_DRAW: dict[str, Callable[[Any, _Plan, int | None, int | None], Any]] = {
    "series": _draw_series,
    "bins": _draw_bins,
    "raw_bins": _draw_raw_bins,
    "scatter": _draw_scatter,
    "heat": _draw_heat,
    "pie": _draw_pie,
    "number": _draw_number,
    "box_summary": _draw_box_summary,
    "box_raw": _draw_box_raw,
    "violin": _draw_violin,
    "table": _draw_table,
}


def _title(alt: Any, title: str, subtitles: list[str]) -> Any:
    return alt.TitleParams(text=title, subtitle=subtitles) if subtitles else alt.TitleParams(text=title)


# -- inline data --------------------------------------------------------------------------------


def _inline(spec: dict[str, Any], values: list[dict[str, Any]]) -> dict[str, Any]:
    """The spec with every use of the placeholder data replaced by the values (layers share the top one)."""

    def walk(node: Any, top: bool) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "data" and isinstance(value, dict) and value.get("name") == _DATA:
                    if top:
                        out[key] = {"values": values}
                    continue  # an inner view reads its parent's data
                out[key] = walk(value, False)
            return out
        if isinstance(node, list):
            return [walk(v, False) for v in node]
        return node

    out: dict[str, Any] = walk(spec, True)
    out.pop("datasets", None)
    if "data" not in out:
        out["data"] = {"values": values}
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as JSON-safe dicts: NaN, NA and ±inf → None, timestamps → ISO 8601, numpy → Python."""
    columns = [(str(c), [_json_value(v) for v in frame[c].tolist()]) for c in frame.columns]
    return [{name: values[i] for name, values in columns} for i in range(len(frame))]


def _json_value(value: Any) -> Any:
    if _missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        return value
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return str(value)
    if isinstance(value, np.ndarray | list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)
