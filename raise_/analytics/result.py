"""``AnalysisResult``: what ``analyze`` returns, with the README's fields and formats.

Fields read the payload of the analysis' type (``result.metrics``, ``result.histogram``,
``result.correlation_matrix``, ``result.p_value``, ...); one that does not belong to the type
is None. ``to_dataframe()`` gives the natural table of each type, ``plot()`` its chart.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from raise_.analytics.records import AnalysisRecord
from raise_.analytics.specs import AnalysisSpec, spec_from_dict
from raise_.codec import to_wire

if TYPE_CHECKING:
    import altair
    import pandas as pd

__all__ = ["AnalysisResult"]


class AnalysisResult:
    def __init__(self, record: AnalysisRecord) -> None:
        self._record = record

    # -- provenance ------------------------------------------------------------------------------

    @property
    def record(self) -> AnalysisRecord:
        return self._record

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def type(self) -> str:
        return self._record.type

    @property
    def spec(self) -> AnalysisSpec:
        return spec_from_dict(self._record.spec)

    @property
    def group(self) -> str:
        return self._record.scope

    @property
    def computed_at(self) -> datetime:
        return self._record.computed_at

    @property
    def from_cache(self) -> bool:
        return self._record.from_cache

    @property
    def stale(self) -> bool:
        """Whether the data changed after this (cached) result was computed."""
        return self._record.stale

    @property
    def data_version(self) -> str:
        return self._record.data_version

    @property
    def duration_ms(self) -> float:
        return self._record.duration_ms

    @property
    def data(self) -> dict[str, Any]:
        """The raw payload (PRD §11.1's output of the type)."""
        return self._record.data

    def _get(self, key: str) -> Any:
        return self._record.data.get(key)

    # -- the README's fields ---------------------------------------------------------------------

    @property
    def metrics(self) -> dict[Any, Any] | None:
        """Aggregation: ``{metric: value}``; grouped, ``{group value: {metric: value}}`` (a tuple
        of values when grouped by several columns); rolling, ``{period start: {metric: value}}``."""
        if self.type != "aggregation":
            return None
        if "metrics" in self.data:
            return dict(self.data["metrics"])
        spec_metrics = self._record.spec.get("metrics", [])
        groups = self.data.get("group_by") or []
        out: dict[Any, Any] = {}
        for row in self.data.get("rows", []):
            key: Any = row.get("date")
            if groups:
                values = tuple(row[g] for g in groups)
                group_key = values[0] if len(values) == 1 else values
                key = group_key if key is None else (*(values if len(values) > 1 else (group_key,)), key)
            out[key] = {m: row.get(m) for m in spec_metrics} | {
                f"rolling_{m}": row[f"rolling_{m}"] for m in spec_metrics if f"rolling_{m}" in row
            }
        return out

    @property
    def rows(self) -> list[dict[str, Any]] | None:
        """Grouped or rolling aggregation: one dict per group (or period)."""
        return cast("list[dict[str, Any]] | None", self._get("rows"))

    @property
    def histogram(self) -> dict[str, Any] | None:
        return cast("dict[str, Any] | None", self._get("histogram") or self._get("value_counts"))

    @property
    def percentiles(self) -> dict[str, float | None] | None:
        return cast("dict[str, float | None] | None", self._get("percentiles"))

    @property
    def segments(self) -> list[dict[str, Any]] | None:
        return cast("list[dict[str, Any]] | None", self._get("segments"))

    @property
    def correlation_matrix(self) -> list[list[float | None]] | None:
        return cast("list[list[float | None]] | None", self._get("matrix"))

    @property
    def features(self) -> list[str] | None:
        return cast("list[str] | None", self._get("features"))

    @property
    def schema_changes(self) -> dict[str, Any] | None:
        return cast("dict[str, Any] | None", self._get("schema_changes"))

    @property
    def distribution_drift(self) -> dict[str, Any] | None:
        drift = self._get("distribution_drift")
        return None if drift is None else dict(drift)

    @property
    def p_value(self) -> float | None:
        return cast("float | None", self._get("p_value"))

    @property
    def statistic(self) -> float | None:
        return cast("float | None", self._get("statistic"))

    @property
    def effect_size(self) -> float | None:
        return cast("float | None", self._get("effect_size"))

    @property
    def confidence_interval(self) -> tuple[float | None, float | None] | None:
        ci = self._get("confidence_interval")
        return None if ci is None else (ci[0], ci[1])

    @property
    def significant(self) -> bool | None:
        return cast("bool | None", self._get("significant"))

    @property
    def contingency_table(self) -> pd.DataFrame | None:
        table = self._get("contingency_table")
        if table is None:
            return None
        import pandas as pd

        return pd.DataFrame(table["counts"], index=table["segments"], columns=table["values"])

    @property
    def records(self) -> list[dict[str, Any]] | None:
        return cast("list[dict[str, Any]] | None", self._get("records"))

    # -- formats ---------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        r = self._record
        return {
            "id": r.id,
            "type": r.type,
            "group": r.scope,
            "spec": r.spec,
            "computed_at": r.computed_at.isoformat(),
            "from_cache": r.from_cache,
            "stale": r.stale,
            "data_version": r.data_version,
            "duration_ms": r.duration_ms,
            "result": _jsonable(r.data),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_dataframe(self) -> pd.DataFrame:
        from raise_.analytics.tables import result_frame

        return result_frame(self.type, self.data, self._record.spec)

    def to_csv(self) -> str:
        frame = self.to_dataframe()
        keep_index = self.type == "correlation"
        text: str = frame.to_csv(index=keep_index)
        return text

    def plot(self) -> altair.Chart | altair.LayerChart | altair.FacetChart:
        """An Altair chart fit for the analysis: a histogram, a heatmap, bars by segment or group,
        a line over time."""
        from raise_.analytics.charts import chart_for

        return cast("altair.Chart | altair.LayerChart | altair.FacetChart", chart_for(self))

    def _summary(self) -> str:
        where = "cache" if self.from_cache else "computed"
        stale = ", stale" if self.stale else ""
        return f"{self.type} of {self.group} ({where} {self.computed_at:%Y-%m-%d %H:%M:%S} UTC{stale})"

    def _headline(self) -> Any:
        """The fields a person looks at first, by type."""
        if self.type == "aggregation":
            return self.metrics
        if self.type == "distribution":
            return {"histogram": self.histogram, "percentiles": self.percentiles}
        if self.type == "correlation":
            return {"features": self.features, "matrix": self.correlation_matrix}
        if self.type == "version_diff":
            return {"schema_changes": self.schema_changes, "drift": self.distribution_drift}
        if self.type == "stat_test":
            return {"p_value": self.p_value, "effect_size": self.effect_size, "ci": self.confidence_interval}
        if self.type == "record_lookup":
            return {"records": len(self.records or [])}
        return self.data

    def __repr__(self) -> str:
        return f"AnalysisResult({self._summary()}: {self._headline()!r})"

    def _repr_html_(self) -> str:
        table = self.to_dataframe().to_html(max_rows=30, index=self.type == "correlation", border=0)
        return f"<div><p><b>{html.escape(self._summary())}</b></p>{table}</div>"


def _jsonable(value: Any) -> Any:
    """Plain JSON: times as ISO text (``to_wire`` would tag them for the codec)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return to_wire(value) if not isinstance(value, str | int | float | bool | type(None)) else value
