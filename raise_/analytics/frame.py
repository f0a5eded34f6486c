"""The rows an analysis runs over, as SQL that DuckDB aggregates without materialising them.

An analysis sees every visible row of its group (each entity at each event time, not only the
latest row per entity: aggregations over time need the history), with the features it names
by name, derived features computed point in time as for ``read``. A ``window`` keeps the rows
whose event time lies in ``(end - window, end]``; ``end`` is the newest event time in the data
unless the spec says ``"now"`` or gives a time, so a result depends on the data alone and a
cached result stays exact until the next write.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa

from raise_.durations import parse_duration
from raise_.errors import InvalidAnalysisError
from raise_.storage.offline_store import quote
from raise_.storage.sql_engine import SqlEngine
from raise_.types import Bool, FeatureType
from raise_.types.dtypes import IntegerType

__all__ = ["Frame", "plain", "plain_rows", "sort_key"]


@dataclass
class Frame:
    store: SqlEngine
    sql: str  # the visible rows: entity keys, event time and each feature by its name
    params: dict[str, Any]
    event_time: str
    keys: list[str]
    dtypes: dict[str, FeatureType]  # feature name (as the spec wrote it) → type
    window_seconds: int | None = None
    end: str | None = None  # None (newest event time), "now" or an ISO time
    resolved_end: datetime | None = field(default=None, init=False)

    @classmethod
    def windowed(cls, frame: Frame, window: str | None, end: str | None) -> Frame:
        out = Frame(frame.store, frame.sql, dict(frame.params), frame.event_time, frame.keys, frame.dtypes)
        out.window_seconds = parse_duration(window, "window") if window else None
        out.end = end
        if window is not None or end is not None:
            out.resolved_end = out.end_time()
        return out

    def end_time(self) -> datetime | None:
        """The end the spec asks for: the wall clock (``"now"``), a given time, or the newest event
        time in the data (None when there are no rows)."""
        if self.end == "now":
            return datetime.now(UTC)
        if self.end is not None:
            return datetime.fromisoformat(self.end)
        t = quote(self.event_time)
        value = self.store.query_arrow(f"SELECT max({t}) AS t FROM ({self.sql}) r", self.params).column(0)[0]
        moment = value.as_py()
        return None if moment is None else moment.astimezone(UTC)

    @property
    def window_start(self) -> datetime | None:
        if self.resolved_end is None or self.window_seconds is None:
            return None
        return self.resolved_end - timedelta(seconds=self.window_seconds)

    def rows_sql(self) -> tuple[str, dict[str, Any]]:
        """The rows in the window (all rows without one), and their parameters."""
        params = dict(self.params)
        if self.resolved_end is None and (self.window_seconds is not None or self.end is not None):
            # No rows at all (no newest event time): keep the empty relation.
            return f"SELECT * FROM ({self.sql}) r WHERE FALSE", params
        conditions = []
        t = quote(self.event_time)
        if self.resolved_end is not None:
            params["_a_end"] = self.resolved_end
            conditions.append(f"{t} <= $_a_end")
        if self.window_start is not None:
            params["_a_start"] = self.window_start
            conditions.append(f"{t} > $_a_start")  # (end - window, end]: "7d" of daily rows is 7 days
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return f"SELECT * FROM ({self.sql}) r{where}", params

    def query(self, select: str, params: dict[str, Any] | None = None) -> pa.Table:
        """Run ``select``, which reads the relation ``rows``."""
        rows, base = self.rows_sql()
        table: pa.Table = self.store.query_arrow(f"WITH rows AS ({rows}) {select}", {**base, **(params or {})})
        return table

    def batches(
        self, select: str, params: dict[str, Any] | None = None, rows: int = 1 << 20
    ) -> Iterator[pa.RecordBatch]:
        """``select`` (reading ``rows``) as a stream of Arrow batches, for numpy kernels."""
        rows_sql, base = self.rows_sql()
        relation = self.store.cursor().sql(f"WITH rows AS ({rows_sql}) {select}", params={**base, **(params or {})})
        # DuckDB 1.5 renamed fetch_record_batch (now deprecated, warning) to to_arrow_reader.
        if hasattr(relation, "to_arrow_reader"):
            yield from relation.to_arrow_reader(rows)
        else:  # pragma: no cover - DuckDB < 1.5
            yield from relation.fetch_record_batch(rows)

    # -- types ---------------------------------------------------------------------------------

    def dtype(self, name: str) -> FeatureType | None:
        """A feature's type; None for an entity key or the event time."""
        return self.dtypes.get(name)

    def is_numeric(self, name: str) -> bool:
        t = self.dtypes.get(name)
        return t is not None and (t.is_numeric or isinstance(t, Bool))

    def is_float(self, name: str) -> bool:
        """A float feature: the only kind whose values may be NaN or ±inf."""
        t = self.dtypes.get(name)
        return t is not None and t.is_numeric and t.kind.startswith("float")

    def numeric(self, name: str, metric: str) -> str:
        """The SQL of a numeric feature's value (booleans count as 0/1); INVALID_ANALYSIS otherwise."""
        if not self.is_numeric(name):
            t = self.dtypes.get(name)
            raise InvalidAnalysisError(
                f"{metric} needs a numeric feature, but {name!r} is "
                f"{t if t is not None else 'an entity key or the event time'}; "
                "use count, null_rate or distinct_count, or a numeric derived feature of it.",
                {"feature": name, "metric": metric, "dtype": str(t) if t is not None else None},
            )
        t = self.dtypes[name]
        return f"CAST({quote(name)} AS DOUBLE)" if isinstance(t, Bool) else quote(name)

    def check_segment(self, name: str) -> None:
        """INVALID_ANALYSIS unless ``name`` can label segments: a key, a number, a string or a flag."""
        t = self.dtypes.get(name)
        if t is not None and not (t.is_numeric or t.kind in ("string", "bool")):
            raise InvalidAnalysisError(f"Cannot segment by {name!r}: it is {t}.", {"segment_by": name})

    def is_orderable(self, name: str) -> bool:
        t = self.dtypes.get(name)
        return t is None or t.is_numeric or t.kind in ("bool", "string", "timestamp")

    def is_categorical(self, name: str) -> bool:
        """Strings, booleans, integers and keys: values that name categories."""
        t = self.dtypes.get(name)
        return t is None or isinstance(t, IntegerType) or t.kind in ("string", "bool")


def plain(value: Any) -> Any:
    """A value fit for JSON and for people: NaN and ±inf as None, HUGEINT sums as int."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def plain_rows(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: plain(v) for k, v in row.items()} for row in table.to_pylist()]


def sort_key(value: Any) -> tuple[int, Any, str]:
    """The order of segment and group labels: numbers by value (10 after 9), then NaN, then any
    other value by its text (flags False before True), then None."""
    if value is None:
        return (3, 0, "")
    if isinstance(value, int | float | Decimal | np.integer | np.floating) and not isinstance(value, bool | np.bool_):
        if isinstance(value, float | np.floating) and math.isnan(value):
            return (1, 0, "")
        return (0, value, "")
    return (2, 0, str(value))
