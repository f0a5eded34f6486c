"""What a dashboard is made of (PRD §13.1): parameters, charts and a grid layout, as plain values.

``Chart`` and ``DashboardParameter`` are built in a notebook and travel as ``to_dict()`` (the
form stored in the catalog, rendered as JSON or YAML and read back by ``from_dict``), so a
dashboard written as YAML (``%%raise dashboard``) and one built call by call are the same thing.
Each is checked when it is built: a bad parameter type or chart type fails at once with a coded
error that names the fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

from raise_.analytics.specs import AnalysisSpec, spec_from_dict
from raise_.dashboards.chart_types import ChartType
from raise_.durations import parse_duration
from raise_.errors import InvalidArgumentError, InvalidChartError, InvalidParameterError, RaiseError

__all__ = ["PARAMETER_TYPES", "SLIDER_FIELDS", "Chart", "DashboardParameter", "check_layout", "parse_date_range"]

PARAMETER_TYPES: Final = ("date_range", "dropdown", "slider", "multi_select")
#: The analysis fields a number slider may bind (each exists on some analysis kinds only).
SLIDER_FIELDS: Final = ("periods", "bins", "limit", "sample")
ALL: Final = "all"


def _text(value: object, what: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{what} must be non-empty text, got {value!r}.", {what: repr(value)})
    return value.strip()


def _scalar(value: object, what: str) -> str | int | float | bool:
    if isinstance(value, str | int | float | bool) and not (isinstance(value, float) and math.isnan(value)):
        return value
    raise InvalidParameterError(f"{what} must be text or a number, got {value!r}.", {what: repr(value)})


def _moment(value: object, what: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidParameterError(
                f"{what} must be a date or time such as '2026-01-31', got {value!r}.", {what: value}
            ) from None
    else:
        raise InvalidParameterError(f"{what} must be a date or time such as '2026-01-31', got {value!r}.", {})
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_date_range(value: object) -> tuple[datetime, datetime] | int | None:
    """A date-range value: ``None``/``"all"`` (no window), a duration (``"30d"``: the last 30
    days of the data, in seconds) or a ``[start, end]`` pair of dates or times."""
    if value is None or (isinstance(value, str) and value.strip().lower() == ALL):
        return None
    if isinstance(value, str):
        try:
            return parse_duration(value, "date_range")
        except RaiseError:
            raise InvalidParameterError(
                f"A date range is 'all', a duration such as '30d' or [start, end], got {value!r}.", {"value": value}
            ) from None
    if isinstance(value, list | tuple) and len(value) == 2:
        start, end = _moment(value[0], "start"), _moment(value[1], "end")
        if not start < end:
            raise InvalidParameterError(f"A date range's start must be before its end, got {value!r}.", {})
        return start, end
    raise InvalidParameterError(
        f"A date range is 'all', a duration such as '30d' or [start, end], got {value!r}.", {"value": repr(value)}
    )


@dataclass(frozen=True)
class DashboardParameter:
    """A control of a dashboard whose value is bound into its charts' analyses when it renders.

    - ``date_range``: the window of event time (``"30d"`` or ``[start, end]``; ``"all"``: none);
    - ``dropdown``: one of ``options``; a filter on ``column`` (default: the column named like the
      parameter, e.g. ``tier`` → ``user_tier``); ``"all"`` means no filter;
    - ``multi_select``: several of ``options``: rows whose ``column`` is one of them;
    - ``slider``: a number between ``min`` and ``max`` bound to an analysis field
      (``field``: ``periods``, ``bins``, ``limit`` or ``sample``).
    """

    name: str
    type: str
    label: str | None = None
    options: list[Any] | None = None
    default: Any = None
    column: str | None = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    field: str | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "name", _text(self.name, "name"))
        if self.type not in PARAMETER_TYPES:
            raise InvalidParameterError(
                f"Unknown parameter type {self.type!r}: use one of {', '.join(PARAMETER_TYPES)}.", {"type": self.type}
            )
        set_(self, "label", _text(self.label, "label", optional=True) or self.name)
        set_(self, "column", _text(self.column, "column", optional=True))
        if self.type in ("dropdown", "multi_select"):
            if isinstance(self.options, str) or not isinstance(self.options, list | tuple) or not self.options:
                raise InvalidParameterError(
                    f"A {self.type} needs options, e.g. options=['all', 'gold', 'silver'].", {"parameter": self.name}
                )
            options = [_scalar(o, "an option") for o in self.options]
            if len(set(map(repr, options))) != len(options):
                raise InvalidParameterError(f"An option of {self.name!r} is listed twice.", {"parameter": self.name})
            set_(self, "options", options)
            default = self.default
            if self.type == "dropdown":
                default = ALL if default is None and ALL in options else default
                if default is None:
                    default = options[0]
                self.check(default)
            else:
                default = [] if default is None else list(default) if isinstance(default, list | tuple) else [default]
                self.check(default)
            set_(self, "default", default)
        elif self.options is not None:
            raise InvalidParameterError(f"A {self.type} parameter takes no options.", {"parameter": self.name})
        if self.type == "slider":
            for what in ("min", "max"):
                v = getattr(self, what)
                if isinstance(v, bool) or not isinstance(v, int | float):
                    raise InvalidParameterError(
                        f"A slider needs a numeric {what}, got {v!r}.", {"parameter": self.name}
                    )
            assert self.min is not None and self.max is not None
            if not self.min < self.max:
                raise InvalidParameterError(f"A slider's min must be below its max ({self.min} >= {self.max}).", {})
            step = 1 if self.step is None else self.step
            if isinstance(step, bool) or not isinstance(step, int | float) or step <= 0:
                raise InvalidParameterError(f"A slider's step must be a positive number, got {step!r}.", {})
            set_(self, "step", step)
            if self.field not in SLIDER_FIELDS:
                raise InvalidParameterError(
                    f"A slider binds an analysis field: field= one of {', '.join(SLIDER_FIELDS)}, got {self.field!r}.",
                    {"parameter": self.name},
                )
            set_(self, "default", self.min if self.default is None else self.default)
            self.check(self.default)
        elif self.field is not None or self.min is not None or self.max is not None:
            raise InvalidParameterError(f"Only a slider takes min, max and field ({self.name!r}).", {})
        if self.type == "date_range":
            parse_date_range(self.default)
            if isinstance(self.default, tuple):
                set_(self, "default", list(self.default))

    # -- constructors (README *Dashboards*) --------------------------------------------------------

    @classmethod
    def date_range(cls, name: str = "date_range", label: str | None = None, default: Any = None) -> DashboardParameter:
        return cls(name=name, type="date_range", label=label, default=default)

    @classmethod
    def dropdown(
        cls, name: str, options: list[Any], label: str | None = None, default: Any = None, column: str | None = None
    ) -> DashboardParameter:
        return cls(name=name, type="dropdown", label=label, options=list(options), default=default, column=column)

    @classmethod
    def multi_select(
        cls, name: str, options: list[Any], label: str | None = None, default: Any = None, column: str | None = None
    ) -> DashboardParameter:
        return cls(name=name, type="multi_select", label=label, options=list(options), default=default, column=column)

    @classmethod
    def slider(
        cls,
        name: str,
        min: float,
        max: float,
        field: str,
        label: str | None = None,
        step: float | None = None,
        default: float | None = None,
    ) -> DashboardParameter:
        return cls(name=name, type="slider", label=label, min=min, max=max, step=step, default=default, field=field)

    # -- values ----------------------------------------------------------------------------------

    def check(self, value: Any) -> Any:
        """``value`` if this parameter accepts it (INVALID_PARAMETER otherwise), normalised."""
        if self.type == "dropdown":
            options = self.options or []
            if value not in options:
                raise InvalidParameterError(
                    f"{value!r} is not an option of {self.name!r}: choose one of {options!r}.",
                    {"parameter": self.name, "value": repr(value), "options": options},
                )
            return value
        if self.type == "multi_select":
            values = list(value) if isinstance(value, list | tuple) else [value]
            bad = [v for v in values if v not in (self.options or [])]
            if bad:
                raise InvalidParameterError(
                    f"{bad[0]!r} is not an option of {self.name!r}: choose among {self.options!r}.",
                    {"parameter": self.name, "value": repr(bad[0]), "options": self.options},
                )
            return values
        if self.type == "slider":
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                raise InvalidParameterError(f"{self.name!r} takes a number, got {value!r}.", {"parameter": self.name})
            assert self.min is not None and self.max is not None
            if not self.min <= value <= self.max:
                raise InvalidParameterError(
                    f"{self.name!r} takes a number from {self.min} to {self.max}, got {value!r}.",
                    {"parameter": self.name, "value": value},
                )
            return value
        parse_date_range(value)
        return list(value) if isinstance(value, tuple) else value

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "label": self.label}
        for key in ("options", "default", "column", "min", "max", "step", "field"):
            value = getattr(self, key)
            if value is not None:
                out[key] = [_plain_moment(v) for v in value] if isinstance(value, list) else value
        return out

    @classmethod
    def from_dict(cls, data: object) -> DashboardParameter:
        if isinstance(data, DashboardParameter):
            return data
        if not isinstance(data, dict):
            raise InvalidParameterError(f"A parameter is a mapping with name and type, got {data!r}.", {})
        known = {"name", "type", "label", "options", "default", "column", "min", "max", "step", "field"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidParameterError(
                f"A dashboard parameter has no field {unknown[0]!r}; its fields are {', '.join(sorted(known))}.", {}
            )
        return cls(**data)


def _plain_moment(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


@dataclass
class Chart:
    """One chart of a dashboard: the ``analysis`` it runs (``Aggregation(...)``, ...) or the
    ``live_table`` it reads (by name; ``group`` says whose when the project has two), drawn as
    ``chart_type`` with ``x``/``y``/``color`` naming columns of that data (defaults fit the
    analysis: a histogram's bins, a correlation's matrix)."""

    title: str
    analysis: AnalysisSpec | dict[str, Any] | None = None
    live_table: str | None = None
    chart_type: ChartType | str = ChartType.TABLE
    x: str | None = None
    y: str | None = None
    color: str | None = None
    group: str | None = None
    description: str | None = None
    width: int | None = None
    height: int | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.title = _text(self.title, "title") or ""
        if (self.analysis is None) == (self.live_table is None):
            raise InvalidChartError(
                f"Chart {self.title!r} needs exactly one source: analysis=Aggregation(...) or live_table='name'.",
                {"chart": self.title},
            )
        if self.analysis is not None:
            self.analysis = spec_from_dict(self.analysis)
        if self.live_table is not None:
            self.live_table = _text(self.live_table, "live_table")
        self.chart_type = ChartType.parse(self.chart_type)
        for what in ("x", "y", "color", "group", "description"):
            setattr(self, what, _text(getattr(self, what), what, optional=True))
        for what in ("width", "height"):
            v = getattr(self, what)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 50 <= v <= 4000):
                raise InvalidChartError(f"{what} is a number of pixels from 50 to 4000, got {v!r}.", {})
        if not isinstance(self.options, dict):
            raise InvalidChartError(f"options must be a mapping, got {self.options!r}.", {})

    @property
    def spec(self) -> AnalysisSpec | None:
        return self.analysis if isinstance(self.analysis, AnalysisSpec) else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title, "chart_type": str(self.chart_type)}
        spec = self.spec
        if spec is not None:
            out["analysis"] = spec.to_dict()
        else:
            out["live_table"] = self.live_table
        for key in ("x", "y", "color", "group", "description", "width", "height"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.options:
            out["options"] = dict(self.options)
        return out

    @classmethod
    def from_dict(cls, data: object) -> Chart:
        if isinstance(data, Chart):
            return data
        if not isinstance(data, dict):
            raise InvalidChartError(f"A chart is a mapping with a title, got {data!r}.", {})
        known = {"title", "analysis", "live_table", "chart_type", "x", "y", "color", "group", "description"}
        known |= {"width", "height", "options"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidChartError(
                f"A chart has no field {unknown[0]!r}; its fields are {', '.join(sorted(known))}.", {}
            )
        return cls(**data)


def check_layout(layout: object, charts: int) -> dict[str, Any]:
    """PRD §13.1's grid: ``{"type": "grid", "columns": N, "rows": [{"charts": [0, 1]}, ...]}``
    naming each chart by its index at most once (the HTML's :func:`grid_rows` checks that, and
    places the charts no row names after the rows); ``None`` is a grid of two columns."""
    from raise_.dashboards.html import grid_rows

    if layout is None:
        return {"type": "grid", "columns": 2}
    if not isinstance(layout, dict):
        raise InvalidArgumentError(
            "layout is a grid: {'type': 'grid', 'columns': 2, 'rows': [{'charts': [0, 1]}]}.", {"layout": repr(layout)}
        )
    unknown = sorted(set(layout) - {"type", "columns", "rows"})
    if unknown:
        raise InvalidArgumentError(f"A grid layout has no field {unknown[0]!r} (type, columns, rows).", {})
    columns, _placed = grid_rows(layout, charts)
    out: dict[str, Any] = {"type": "grid", "columns": columns}
    if "rows" in layout:
        rows = [list(r["charts"]) for r in layout["rows"] or []]
        wide = [r for r in rows if len(r) > columns]
        if wide:
            raise InvalidArgumentError(f"A layout row has {len(wide[0])} charts but the grid {columns} columns.", {})
        out["rows"] = [{"charts": r} for r in rows]
    return out
