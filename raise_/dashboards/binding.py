"""Parameter binding (PRD §13.4), without pasting: a value becomes a field of the analysis spec
(``window``, ``end``, ``periods``, ``filters``...), which the analytics engine binds as query
parameters; a live table's rows are filtered as data (pandas), never through SQL text. An option
holding a quote is just that option.

- ``date_range``: ``"30d"`` sets ``window`` (the last 30 days of the data); ``[start, end]`` sets
  ``end`` and a window of their span. A rolling aggregation keeps its period (``window``) and
  shows the periods that fit the range. Analyses without a time window (a record lookup, a
  version diff) are not bound.
- ``dropdown``: ``filters[column] = value``; ``"all"`` means no filter.
- ``multi_select``: ``filters[column] = [values]``; nothing chosen means no filter.
- ``slider``: sets its ``field`` (``periods``, ``bins``, ``limit``, ``sample``) where the analysis
  has it.

A parameter applies to a chart whose data has its column: ``column=`` when given, else the
column named like the parameter, else the one column ending in ``_NAME`` (``tier`` →
``user_tier``). A chart without such a column is drawn unfiltered.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from raise_.dashboards.specs import ALL, DashboardParameter, parse_date_range
from raise_.errors import InvalidParameterError

__all__ = ["bind_values", "bound_frame", "bound_spec", "column_for"]

_WINDOWED = ("aggregation", "distribution", "correlation", "stat_test")


def bind_values(parameters: list[DashboardParameter], values: dict[str, Any] | None) -> dict[str, Any]:
    """Every parameter's value: the given one (checked) or its default. An unknown name is
    INVALID_PARAMETER naming the dashboard's parameters."""
    given = dict(values or {})
    if not isinstance(values, dict | None):
        raise InvalidParameterError(f"parameters must be a mapping of name to value, got {values!r}.", {})
    names = {p.name: p for p in parameters}
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise InvalidParameterError(
            f"The dashboard has no parameter {unknown[0]!r}; its parameters are: {', '.join(names) or 'none'}.",
            {"parameter": unknown[0], "parameters": list(names)},
        )
    return {name: p.check(given[name]) if name in given else p.default for name, p in names.items()}


def column_for(parameter: DashboardParameter, columns: list[str]) -> str | None:
    """The column of ``columns`` a dropdown or multi-select filters (None: not this chart's)."""
    if parameter.column is not None:
        return parameter.column if parameter.column in columns else None
    if parameter.name in columns:
        return parameter.name
    suffixed = [c for c in columns if c.endswith("_" + parameter.name)]
    return suffixed[0] if len(suffixed) == 1 else None


def _filter_value(parameter: DashboardParameter, value: Any) -> Any:
    """What the filter keeps: a value, a list of values, or None (no filter)."""
    if parameter.type == "dropdown":
        return None if value == ALL else value
    if parameter.type == "multi_select":
        chosen = list(value or [])
        return None if not chosen or ALL in chosen else chosen
    return None


def bound_spec(
    spec: dict[str, Any], parameters: list[DashboardParameter], values: dict[str, Any], columns: list[str]
) -> dict[str, Any]:
    """``spec`` (an analysis' ``to_dict()``) with the parameters' values bound."""
    out = dict(spec)
    kind = out.get("type")
    filters = dict(out.get("filters") or {})
    for p in parameters:
        value = values.get(p.name)
        if p.type == "date_range" and kind in _WINDOWED:
            span = parse_date_range(value)
            if span is None:
                continue
            if isinstance(span, int):
                seconds, end = span, None
            else:
                seconds, end = int((span[1] - span[0]).total_seconds()), span[1].isoformat()
            if end is not None:
                out["end"] = end
            if kind == "aggregation" and out.get("rolling"):
                from raise_.durations import parse_duration

                period = parse_duration(out["window"], "window")
                out["periods"] = max(1, min(10_000, math.ceil(seconds / period)))
            elif seconds > 0:
                out["window"] = f"{seconds}s"
        elif p.type in ("dropdown", "multi_select"):
            column = column_for(p, columns)
            kept = _filter_value(p, value)
            if column is not None and kept is not None:
                filters[column] = kept
        elif p.type == "slider" and p.field is not None and p.field in out and value is not None:
            number = int(value) if float(value).is_integer() else value
            if p.field == "periods" and not out.get("rolling"):
                continue
            if p.field in ("limit", "sample") and out.get(p.field) is None:
                continue  # a lookup takes one of limit and sample: bind the one it uses
            out[p.field] = number
    if filters:
        out["filters"] = filters
    return out


def bound_frame(frame: pd.DataFrame, parameters: list[DashboardParameter], values: dict[str, Any]) -> pd.DataFrame:
    """A live table's rows with the dropdowns and multi-selects applied, compared as values."""
    columns = [str(c) for c in frame.columns]
    keep = pd.Series(True, index=frame.index)
    for p in parameters:
        if p.type not in ("dropdown", "multi_select"):
            continue
        column = column_for(p, columns)
        kept = _filter_value(p, values.get(p.name))
        if column is None or kept is None:
            continue
        wanted = kept if isinstance(kept, list) else [kept]
        keep &= frame[column].isin(wanted)
    return frame[keep].reset_index(drop=True)
