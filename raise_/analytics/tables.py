"""Each analysis type's natural table (``result.to_dataframe()``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["result_frame"]


def result_frame(kind: str, data: dict[str, Any], spec: dict[str, Any]) -> pd.DataFrame:
    build = _BUILDERS.get(kind)
    if build is None:
        return pd.DataFrame([data])
    return build(data, spec)


def _aggregation(data: dict[str, Any], spec: dict[str, Any]) -> pd.DataFrame:
    if "metrics" in data:
        return pd.DataFrame([data["metrics"]])
    frame = pd.DataFrame(data.get("rows") or [])
    for col in ("date", "period_end"):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def _histogram_rows(hist: dict[str, Any], segment: Any = None, with_segment: bool = False) -> list[dict[str, Any]]:
    edges, counts = hist.get("bin_edges") or [], hist.get("counts") or []
    rows = []
    for i, n in enumerate(counts):
        row = {"bin_start": edges[i], "bin_end": edges[i + 1], "count": n}
        rows.append({"segment": segment, **row} if with_segment else row)
    return rows


def _value_rows(counts: dict[str, Any], segment: Any = None, with_segment: bool = False) -> list[dict[str, Any]]:
    rows = [{"value": v, "count": n} for v, n in zip(counts["values"], counts["counts"], strict=True)]
    if counts.get("other"):
        rows.append({"value": "(other)", "count": counts["other"]})
    return [{"segment": segment, **r} for r in rows] if with_segment else rows


def _distribution(data: dict[str, Any], spec: dict[str, Any]) -> pd.DataFrame:
    """One row per bin (numeric) or value (categorical), per segment when segmented; a
    percentiles-only distribution gives one row of percentiles (per segment)."""
    segmented = bool(data.get("segments"))
    parts = data["segments"] if segmented else [data]
    rows: list[dict[str, Any]] = []
    for part in parts:
        seg = part.get("segment")
        if data.get("kind") == "categorical":
            rows += _value_rows(part["value_counts"], seg, segmented)
        elif "histogram" in part:
            rows += _histogram_rows(part["histogram"], seg, segmented)
        else:
            row = dict(part.get("percentiles") or {})
            rows.append({"segment": seg, **row} if segmented else row)
    return pd.DataFrame(rows)


def _correlation(data: dict[str, Any], spec: dict[str, Any]) -> pd.DataFrame:
    features = data["features"]
    matrix = [[float("nan") if v is None else v for v in row] for row in data["matrix"]]
    return pd.DataFrame(matrix, index=features, columns=features)


def _version_diff(data: dict[str, Any], spec: dict[str, Any]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    a, b = data["version_a"], data["version_b"]
    for name, change in (data.get("schema_changes") or {}).items():
        rows.append({"metric": f"schema.{name}", a: change["old"], b: change["new"], "delta": None})
    if "row_counts" in data:
        rc, nr = data["row_counts"], data["null_rates"]
        rows.append({"metric": "row_count", a: rc["a"], b: rc["b"], "delta": rc["delta"]})
        rows.append({"metric": "null_rate", a: nr["a"], b: nr["b"], "delta": nr["delta"]})
        drift = data.get("distribution_drift") or {}
        for key in ("psi", "kl_divergence"):
            rows.append({"metric": key, a: None, b: None, "delta": drift.get(key)})
    return pd.DataFrame(rows, columns=["metric", a, b, "delta"])


def _stat_test(data: dict[str, Any], spec: dict[str, Any]) -> pd.DataFrame:
    ci = data.get("confidence_interval") or [None, None]
    row = {
        "test": data["test"],
        "statistic": data.get("statistic"),
        "p_value": data.get("p_value"),
        "effect_size": data.get("effect_size"),
        "effect_size_name": data.get("effect_size_name"),
        "ci_low": ci[0],
        "ci_high": ci[1],
        "significant": data.get("significant"),
    }
    for side in ("control", "treatment"):
        group = (data.get("groups") or {}).get(side) or {}
        row[f"n_{side}"] = group.get("n")
        row[f"mean_{side}"] = group.get("mean")
    return pd.DataFrame([row])


def _record_lookup(data: dict[str, Any], spec: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(data.get("records") or [], columns=data.get("columns"))


_BUILDERS = {
    "aggregation": _aggregation,
    "distribution": _distribution,
    "correlation": _correlation,
    "version_diff": _version_diff,
    "stat_test": _stat_test,
    "record_lookup": _record_lookup,
}
