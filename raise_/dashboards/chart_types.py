"""The chart types a dashboard draws (PRD §13.2)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from raise_.errors import InvalidChartError

__all__ = ["ChartType"]


class ChartType(StrEnum):
    """What a chart draws; what each needs from its data is in :mod:`raise_.dashboards.charts`."""

    LINE = "line"
    BAR = "bar"
    HISTOGRAM = "histogram"
    SCATTER = "scatter"
    HEATMAP = "heatmap"
    PIE = "pie"
    AREA = "area"
    TABLE = "table"
    METRIC = "metric"
    GAUGE = "gauge"
    BOX = "box"
    VIOLIN = "violin"

    @classmethod
    def parse(cls, value: Any) -> ChartType:
        """``value`` as a chart type: a :class:`ChartType`, or its text in any case (``"Line"``)."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                pass
        allowed = ", ".join(t.value for t in cls)
        raise InvalidChartError(
            f"Unknown chart type {value!r}: use one of {allowed}.",
            {"chart_type": repr(value), "allowed": [t.value for t in cls]},
        )
