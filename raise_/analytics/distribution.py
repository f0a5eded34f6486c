"""Distributions (PRD §11.5): histograms, percentiles, value counts, per segment.

A numeric feature gets a histogram of ``bins`` equal-width bins between its smallest and
largest finite value, binned exactly as ``numpy.histogram`` bins them (the last bin is closed;
a constant feature gets the bins of ``[v - 0.5, v + 0.5]``), and percentiles interpolated as
``numpy.percentile``. Segments share the overall bin edges, so their histograms compare bin by
bin. NaN and ±inf are left out of both and counted in ``non_finite``. A string or boolean
feature gets the counts of its ``bins`` most frequent values (ties in the order of their text)
and of the rest as ``other``, computed in DuckDB. Segments come in :func:`sort_key` order:
numbers by value, then NaN (one segment), text by its characters, then null.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from raise_.analytics.frame import Frame, plain, sort_key
from raise_.analytics.specs import Distribution
from raise_.errors import InvalidAnalysisError
from raise_.storage.offline_store import quote

__all__ = ["histogram_edges", "percentile_key", "run_distribution"]


def percentile_key(p: float) -> str:
    """``50.0`` → ``"p50"``, ``99.9`` → ``"p99.9"``."""
    return f"p{p:g}"


def histogram_edges(lo: float, hi: float, bins: int) -> np.ndarray:
    """``numpy.histogram``'s edges for values between ``lo`` and ``hi``."""
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges: np.ndarray = np.linspace(lo, hi, bins + 1, endpoint=True)
    return edges


def run_distribution(frame: Frame, spec: Distribution) -> dict[str, Any]:
    frame = Frame.windowed(frame, spec.window, spec.end)
    t = frame.dtype(spec.feature)
    payload: dict[str, Any] = {"feature": spec.feature, "segment_by": spec.segment_by}
    if spec.window:
        payload.update(window_start=frame.window_start, window_end=frame.resolved_end)
    if spec.segment_by is not None:
        frame.check_segment(spec.segment_by)
    if t is None or t.kind in ("string", "bool"):  # a flag counts its values (is_numeric takes it as 0/1)
        payload["kind"] = "categorical"
        payload.update(_categorical(frame, spec))
    elif frame.is_numeric(spec.feature):
        payload["kind"] = "numeric"
        payload.update(_numeric(frame, spec))
    else:
        raise InvalidAnalysisError(
            f"Cannot describe the distribution of {spec.feature!r}: it is {t}. "
            "Create a numeric derived feature of it (its norm, a length) and analyze that.",
            {"feature": spec.feature, "dtype": str(t)},
        )
    return payload


def _numeric(frame: Frame, spec: Distribution) -> dict[str, Any]:
    """Histograms and percentiles with numpy on the column in memory (faster than DuckDB's
    sort-based quantiles at 10M rows, and numpy's own binning by construction)."""
    value = frame.numeric(spec.feature, "a distribution")
    seg = f", {quote(spec.segment_by)} AS segment" if spec.segment_by else ""
    table = frame.query(f"SELECT CAST({value} AS DOUBLE) AS v{seg} FROM rows")
    values = table.column("v").to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    finite = np.isfinite(values)
    edges = None
    if "histogram" in spec.metrics and finite.any():
        kept = values[finite]
        edges = histogram_edges(float(kept.min()), float(kept.max()), spec.bins)

    nulls = table.column("v").is_null().to_numpy(zero_copy_only=False)

    def describe(part: np.ndarray, part_nulls: np.ndarray) -> dict[str, Any]:
        ok = np.isfinite(part)
        kept = part[ok]
        count = len(part) - int(part_nulls.sum())  # NaN and ±inf are values (not nulls), left out below
        out: dict[str, Any] = {
            "count": count,
            "null_count": int(part_nulls.sum()),
            "non_finite": count - int(ok.sum()),
            "min": plain(kept.min()) if len(kept) else None,
            "max": plain(kept.max()) if len(kept) else None,
            "mean": plain(kept.mean()) if len(kept) else None,
            "stddev": plain(kept.std(ddof=1)) if len(kept) > 1 else None,
        }
        if "histogram" in spec.metrics:
            counts = np.histogram(kept, bins=edges)[0].tolist() if edges is not None else []
            out["histogram"] = {"bin_edges": [] if edges is None else [float(e) for e in edges], "counts": counts}
        if "percentiles" in spec.metrics:
            qs = np.percentile(kept, spec.percentiles).tolist() if len(kept) else [None] * len(spec.percentiles)
            out["percentiles"] = {percentile_key(p): plain(q) for p, q in zip(spec.percentiles, qs, strict=True)}
        return out

    result = describe(values, nulls)
    if spec.segment_by:
        result["segments"] = [
            {"segment": plain(key), **describe(values[rows], nulls[rows])}
            for key, rows in _segment_rows(table.column("segment"))
        ]
    return result


def _segment_rows(column: pa.ChunkedArray) -> list[tuple[Any, np.ndarray]]:
    """Each segment's value and row numbers (ascending), segments in :func:`sort_key` order: one
    dictionary encoding of the column, not a Python pass over its rows. NaN is one segment."""
    encoded = column.combine_chunks().dictionary_encode()
    labels: list[Any] = encoded.dictionary.to_pylist()
    codes = encoded.indices.fill_null(len(labels)).to_numpy(zero_copy_only=False).astype(np.int64)
    labels.append(None)  # the code of null
    nans = [i for i, x in enumerate(labels) if isinstance(x, float) and np.isnan(x)]
    if len(nans) > 1:  # NaNs of different bits: one segment
        codes[np.isin(codes, nans[1:])] = nans[0]
    order = np.argsort(codes, kind="stable")  # rows by segment, each segment's rows in row order
    sizes = np.bincount(codes, minlength=len(labels))
    starts = np.concatenate([[0], np.cumsum(sizes)])
    present = sorted((i for i in range(len(labels)) if sizes[i]), key=lambda i: sort_key(labels[i]))
    return [(labels[i], order[starts[i] : starts[i + 1]]) for i in present]


def _categorical(frame: Frame, spec: Distribution) -> dict[str, Any]:
    """Value counts, computed in DuckDB (the values of a key with 10M distinct values stay there)."""
    overall = _top_values(frame, spec, None)
    whole: dict[str, Any] = overall[0] if overall else {"rows": 0, "count": 0, "value_counts": _counts([], [], 0, 0)}
    result: dict[str, Any] = {
        "count": whole["count"],
        "null_count": whole["rows"] - whole["count"],
        "value_counts": whole["value_counts"],
    }
    if spec.segment_by:
        parts = sorted(_top_values(frame, spec, quote(spec.segment_by)), key=lambda p: sort_key(p["segment"]))
        result["segments"] = [
            {
                "segment": plain(p["segment"]),
                "count": p["count"],
                "null_count": p["rows"] - p["count"],
                "value_counts": p["value_counts"],
            }
            for p in parts
        ]
    return result


def _top_values(frame: Frame, spec: Distribution, segment: str | None) -> list[dict[str, Any]]:
    """Per segment (one part when ``segment`` is None; none without rows): its rows, values and
    value counts. One pass groups (segment, value), nulls included; windows rank each segment's
    values (most frequent first, ties by their text) and sum its rows, values and distinct values;
    only the top ``bins`` values of each segment leave DuckDB."""
    v = quote(spec.feature)
    sql = (
        f", c AS (SELECT {segment or 'NULL'} AS segment, {v} AS value, count(*) AS n FROM rows GROUP BY ALL), "
        "r AS (SELECT segment, value, n, sum(n) OVER w AS _rows, "
        "sum(CASE WHEN value IS NOT NULL THEN n ELSE 0 END) OVER w AS _count, count(value) OVER w AS _distinct, "
        "row_number() OVER (PARTITION BY segment ORDER BY value IS NULL, n DESC, CAST(value AS VARCHAR)) AS _rank "
        "FROM c WINDOW w AS (PARTITION BY segment) QUALIFY _rank <= $_d_top) "
        "SELECT segment, any_value(_rows) AS _rows, any_value(_count) AS _count, any_value(_distinct) AS _distinct, "
        "list(value ORDER BY _rank) FILTER (WHERE value IS NOT NULL) AS _values, "
        "list(n ORDER BY _rank) FILTER (WHERE value IS NOT NULL) AS _counts "
        "FROM r GROUP BY segment"
    )
    out = []
    for r in frame.query(sql, {"_d_top": spec.bins}).to_pylist():
        count = int(r["_count"])
        values = _counts(r["_values"] or [], r["_counts"] or [], count, int(r["_distinct"]))
        out.append({"segment": r["segment"], "rows": int(r["_rows"]), "count": count, "value_counts": values})
    return out


def _counts(values: list[Any], counts: list[int], total: int, distinct: int) -> dict[str, Any]:
    top = [int(n) for n in counts]
    return {"values": [plain(x) for x in values], "counts": top, "other": total - sum(top), "distinct": distinct}
