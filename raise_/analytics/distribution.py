"""Distributions (PRD §11.5): histograms, percentiles, value counts, per segment.

A numeric feature gets a histogram of ``bins`` equal-width bins between its smallest and
largest finite value, binned exactly as ``numpy.histogram`` bins them (the last bin is closed;
a constant feature gets the bins of ``[v - 0.5, v + 0.5]``), and percentiles interpolated as
``numpy.percentile``. Segments share the overall bin edges, so their histograms compare bin by
bin. NaN and ±inf are left out of both and counted in ``non_finite``. A string or boolean
feature gets the counts of its ``bins`` most frequent values (and of the rest as ``other``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from raise_.analytics.frame import Frame, plain
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
        st = frame.dtype(spec.segment_by)
        if st is not None and not (st.is_numeric or st.kind in ("string", "bool")):
            raise InvalidAnalysisError(
                f"Cannot segment by {spec.segment_by!r}: it is {st}.", {"segment_by": spec.segment_by}
            )
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


def _segment_sql(spec: Distribution) -> tuple[str, str]:
    if spec.segment_by is None:
        return "", ""
    s = quote(spec.segment_by)
    return f"{s} AS segment, ", "GROUP BY ALL ORDER BY segment NULLS LAST"


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
        order: dict[Any, list[int]] = {}
        for i, key in enumerate(table.column("segment").to_pylist()):
            order.setdefault(key, []).append(i)
        keys = sorted((k for k in order if k is not None), key=_sort_key) + ([None] if None in order else [])
        result["segments"] = [
            {"segment": plain(key), **describe(values[np.asarray(order[key])], nulls[np.asarray(order[key])])}
            for key in keys
        ]
    return result


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float) and not isinstance(value, bool) else (1, str(value))


def _categorical(frame: Frame, spec: Distribution) -> dict[str, Any]:
    v = quote(spec.feature)
    seg, _group = _segment_sql(spec)
    segcol = "segment, " if seg else ""
    sql = (
        f"SELECT {seg}{v} AS value, count(*) AS n FROM rows WHERE {v} IS NOT NULL GROUP BY ALL "
        f"ORDER BY {segcol}n DESC, value"
    )
    nulls_sql = f"SELECT {seg}count(*) AS rows, count({v}) AS count FROM rows" + (" GROUP BY ALL" if seg else "")
    rows = frame.query(sql).to_pylist()
    totals = frame.query(nulls_sql).to_pylist()

    def counts(items: list[tuple[Any, int]]) -> dict[str, Any]:
        merged: dict[Any, int] = {}
        for value, n in items:
            merged[value] = merged.get(value, 0) + n
        ordered = sorted(merged.items(), key=lambda kv: (-kv[1], str(kv[0])))
        top = ordered[: spec.bins]
        return {
            "values": [plain(k) for k, _ in top],
            "counts": [n for _, n in top],
            "other": sum(n for _, n in ordered[spec.bins :]),
            "distinct": len(ordered),
        }

    overall_total = {"rows": sum(t["rows"] for t in totals), "count": sum(t["count"] for t in totals)}
    result: dict[str, Any] = {
        "count": overall_total["count"],
        "null_count": overall_total["rows"] - overall_total["count"],
        "value_counts": counts([(r["value"], int(r["n"])) for r in rows]),
    }
    if seg:
        by_segment: dict[Any, list[tuple[Any, int]]] = {}
        for r in rows:
            by_segment.setdefault(r["segment"], []).append((r["value"], int(r["n"])))
        result["segments"] = [
            {
                "segment": plain(t["segment"]),
                "count": int(t["count"]),
                "null_count": int(t["rows"]) - int(t["count"]),
                "value_counts": counts(by_segment.get(t["segment"], [])),
            }
            for t in sorted(totals, key=lambda t: (t["segment"] is None, str(t["segment"])))
        ]
    return result
