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
from raise_.types import FeatureType

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


def _is_float(t: FeatureType | None) -> bool:
    return t is not None and t.is_numeric and t.kind.startswith("float")


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
    if frame.is_numeric(spec.feature):
        payload["kind"] = "numeric"
        payload.update(_numeric(frame, spec, _is_float(t)))
    elif t is None or t.kind in ("string", "bool"):
        payload["kind"] = "categorical"
        payload.update(_categorical(frame, spec))
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


def _numeric(frame: Frame, spec: Distribution, floats: bool) -> dict[str, Any]:
    value = frame.numeric(spec.feature, "a distribution")
    finite = f"isfinite({value})" if floats else f"{value} IS NOT NULL"
    fractions = ", ".join(repr(p / 100.0) for p in spec.percentiles)
    seg, group = _segment_sql(spec)
    stats_sql = (
        f"SELECT {seg}count(*) AS rows, count({value}) AS count, count(*) FILTER ({finite}) AS finite, "
        f"min({value}) FILTER ({finite}) AS min, max({value}) FILTER ({finite}) AS max, "
        f"avg({value}) FILTER ({finite}) AS mean, stddev_samp({value}) FILTER ({finite}) AS stddev, "
        f"quantile_cont({value}, [{fractions}]) FILTER ({finite}) AS q FROM rows "
    )
    overall = frame.query(stats_sql.replace(seg, "")).to_pylist()[0]
    segments = frame.query(stats_sql + group).to_pylist() if spec.segment_by else []
    edges = None
    if "histogram" in spec.metrics and overall["min"] is not None:
        edges = histogram_edges(float(overall["min"]), float(overall["max"]), spec.bins)
    counts = _histograms(frame, spec, value, finite, edges) if edges is not None else {}

    def describe(stats: dict[str, Any], key: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "count": int(stats["count"]),
            "null_count": int(stats["rows"]) - int(stats["count"]),
            "non_finite": int(stats["count"]) - int(stats["finite"]),
            "min": plain(stats["min"]),
            "max": plain(stats["max"]),
            "mean": plain(stats["mean"]),
            "stddev": plain(stats["stddev"]),
        }
        if "histogram" in spec.metrics:
            out["histogram"] = {
                "bin_edges": [] if edges is None else [float(e) for e in edges],
                "counts": counts.get(key, [0] * spec.bins) if edges is not None else [],
            }
        if "percentiles" in spec.metrics:
            qs = stats["q"] or [None] * len(spec.percentiles)
            out["percentiles"] = {percentile_key(p): plain(q) for p, q in zip(spec.percentiles, qs, strict=True)}
        return out

    result = describe(overall, "__all__")
    if spec.segment_by:
        result["segments"] = [{"segment": plain(s["segment"]), **describe(s, s["segment"])} for s in segments]
    return result


def _histograms(frame: Frame, spec: Distribution, value: str, finite: str, edges: np.ndarray) -> dict[Any, list[int]]:
    """Bin counts, overall (key ``"__all__"``) and per segment, by numpy's binning rule: the
    index from the scaled offset, then corrected against the actual edges (values within an ulp
    of an edge land where numpy puts them)."""
    bins = spec.bins
    lo, hi = float(edges[0]), float(edges[-1])
    raw = f"LEAST(GREATEST(CAST(floor(({value} - $_h_lo) * $_h_norm) AS BIGINT), 0), {bins - 1})"
    # DuckDB lists are 1-based: edges[i + 1] is numpy's edges[i].
    fixed = (
        f"CASE WHEN {value} < $_h_edges[i + 1] THEN i - 1 "
        f"WHEN i < {bins - 1} AND {value} >= $_h_edges[i + 2] THEN i + 1 ELSE i END"
    )
    seg = f"{quote(spec.segment_by)} AS segment, " if spec.segment_by else ""
    sql = (
        f", binned AS (SELECT {seg}{fixed} AS bin FROM (SELECT *, {raw} AS i FROM rows WHERE {finite}) b) "
        f"SELECT {'segment, ' if seg else ''}bin, count(*) AS n FROM binned GROUP BY ALL"
    )
    params = {"_h_lo": lo, "_h_norm": bins / (hi - lo), "_h_edges": [float(e) for e in edges]}
    out: dict[Any, list[int]] = {"__all__": [0] * bins}
    for r in frame.query(sql, params).to_pylist():
        b = int(r["bin"])
        out["__all__"][b] += int(r["n"])
        if seg:
            out.setdefault(r["segment"], [0] * bins)[b] += int(r["n"])
    return out


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
