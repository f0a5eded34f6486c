"""Comparing two versions of a feature (PRD §11.1, README *Version Diff*).

**Schema**: every catalog attribute that differs (dtype, nullable, default, derived_from,
description, tags, status), as ``{"old": ..., "new": ...}``; an embedding's width change also
reports ``dimension``.

**Data**: each version's row count (rows carrying a value) and null rate (share of the group's
rows without one), and their deltas (B minus A).

**Drift** of B from A, documented binning:

- numbers: ``bins`` bins cut at the quantiles of version A's values (duplicate cut points
  merged), the outer bins open to ±inf, so each bin holds about the same share of A;
- text and flags: one bin per value seen in either version (``categories``, in SQL order);
- vectors: their L2 norms, binned as numbers (so an embedding of a new width still compares).

With ``a`` and ``b`` the shares of A's and B's values per bin, each floored at ``1e-6`` so an
empty bin stays finite: ``psi = Σ (b - a)·ln(b / a)`` and ``kl_divergence = Σ b·ln(b / a)``
(KL of B from A, in nats). ``shares_a``/``shares_b`` are those shares before the floor, per bin
(per category), for the chart.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from raise_.analytics.frame import Frame, plain
from raise_.analytics.specs import VersionDiff
from raise_.storage.offline_store import quote

__all__ = ["EPSILON", "drift_scores", "quantile_cuts", "run_version_diff", "schema_changes"]

EPSILON = 1e-6
_SCHEMA_FIELDS = ("dtype", "nullable", "default", "derived_from", "description", "tags", "status")


def schema_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = {f: {"old": old.get(f), "new": new.get(f)} for f in _SCHEMA_FIELDS if old.get(f) != new.get(f)}
    dims = old.get("dimension"), new.get("dimension")
    if dims[0] != dims[1]:
        out["dimension"] = {"old": dims[0], "new": dims[1]}
    return out


def quantile_cuts(reference: np.ndarray, bins: int) -> np.ndarray:
    """The inner cut points: quantiles of the reference at 1/bins, ..., (bins-1)/bins."""
    if len(reference) == 0 or bins < 2:
        return np.array([], dtype="float64")
    cuts: np.ndarray = np.unique(np.quantile(reference, np.arange(1, bins) / bins))
    return cuts


def drift_scores(a_counts: np.ndarray, b_counts: np.ndarray) -> dict[str, float | None]:
    if a_counts.sum() == 0 or b_counts.sum() == 0:
        return {"psi": None, "kl_divergence": None}
    a = np.maximum(a_counts / a_counts.sum(), EPSILON)
    b = np.maximum(b_counts / b_counts.sum(), EPSILON)
    return {"psi": float(np.sum((b - a) * np.log(b / a))), "kl_divergence": float(np.sum(b * np.log(b / a)))}


def _value_sql(frame: Frame, column: str) -> tuple[str, str]:
    """(SQL of the compared value, basis): the value, or an embedding's L2 norm."""
    t = frame.dtype(column)
    c = quote(column)
    if t is not None and (t.is_vector or t.kind == "array"):
        return f"sqrt(list_sum(list_transform(CAST({c} AS DOUBLE[]), lambda x: x * x)))", "l2_norm"
    if t is not None and t.kind in ("string", "bool"):
        return c, "category"
    if t is not None and t.kind in ("struct", "bytes", "blob_ref"):
        return "", "none"
    return f"CAST({c} AS DOUBLE)", "value"


def run_version_diff(frame: Frame, spec: VersionDiff, schemas: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    a_col, b_col = spec.features_used()
    payload: dict[str, Any] = {"feature": spec.feature, "version_a": spec.version_a, "version_b": spec.version_b}
    if "schema" in spec.compare:
        payload["schema_changes"] = schema_changes(*schemas)
    if "distribution" not in spec.compare:
        return payload
    a, b = quote(a_col), quote(b_col)
    row = frame.query(f"SELECT count(*) AS rows, count({a}) AS a, count({b}) AS b FROM rows").to_pylist()[0]
    rows = int(row["rows"])
    counts = {"a": int(row["a"]), "b": int(row["b"])}
    null_rates = {k: (rows - v) / rows if rows else None for k, v in counts.items()}
    payload["row_counts"] = {**counts, "delta": counts["b"] - counts["a"]}
    payload["null_rates"] = {
        **null_rates,
        "delta": None if rows == 0 else plain(null_rates["b"] - null_rates["a"]),  # type: ignore[operator]
    }
    (a_sql, a_basis), (b_sql, b_basis) = _value_sql(frame, a_col), _value_sql(frame, b_col)
    if "none" in (a_basis, b_basis) or (a_basis == "category") != (b_basis == "category"):
        payload["distribution_drift"] = {"psi": None, "kl_divergence": None, "basis": None, "bins": 0}
        return payload
    if a_basis == "category":
        table = frame.query(
            f"SELECT v, sum(na) AS na, sum(nb) AS nb FROM (SELECT {a_sql} AS v, 1 AS na, 0 AS nb FROM rows "
            f"WHERE {a} IS NOT NULL UNION ALL SELECT {b_sql}, 0, 1 FROM rows WHERE {b} IS NOT NULL) "
            "GROUP BY v ORDER BY v"
        ).to_pydict()
        a_counts, b_counts = np.array(table["na"], dtype="float64"), np.array(table["nb"], dtype="float64")
        payload["distribution_drift"] = {
            **drift_scores(a_counts, b_counts),
            "basis": "category",
            "bins": len(table["v"]),
            "categories": [plain(v) for v in table["v"]],
            **_shares(a_counts, b_counts),
        }
        return payload
    reference = frame.query(f"SELECT {a_sql} AS v FROM rows WHERE {a} IS NOT NULL AND isfinite({a_sql})")
    ref = reference.column("v").to_numpy(zero_copy_only=False).astype("float64")
    cuts = quantile_cuts(ref, spec.bins)
    a_counts = _binned(frame, a_sql, a, cuts)
    b_counts = _binned(frame, b_sql, b, cuts)
    basis = "l2_norm" if "l2_norm" in (a_basis, b_basis) else "value"
    payload["distribution_drift"] = {
        **drift_scores(a_counts, b_counts),
        "basis": basis,
        "bins": len(cuts) + 1,
        "cut_points": [float(c) for c in cuts],
        **_shares(a_counts, b_counts),
    }
    return payload


def _shares(a_counts: np.ndarray, b_counts: np.ndarray) -> dict[str, list[float]]:
    """Each version's share of its values per bin (all 0 for a version without values)."""
    return {
        "shares_a": plain((a_counts / max(a_counts.sum(), 1)).tolist()),
        "shares_b": plain((b_counts / max(b_counts.sum(), 1)).tolist()),
    }


def _binned(frame: Frame, value: str, column: str, cuts: np.ndarray) -> np.ndarray:
    """Counts per bin: bin i holds values in (cuts[i-1], cuts[i]] (numpy ``searchsorted`` left)."""
    bins = len(cuts) + 1
    if len(cuts) == 0:
        n = frame.query(f"SELECT count(*) AS n FROM rows WHERE {column} IS NOT NULL AND isfinite({value})")
        return np.array([float(n.column("n")[0].as_py())])
    # Bin = how many cut points lie strictly below the value.
    sql = (
        f"SELECT len(list_filter($_cuts, lambda c: c < v)) AS bin, count(*) AS n FROM "
        f"(SELECT {value} AS v FROM rows WHERE {column} IS NOT NULL AND isfinite({value})) GROUP BY bin"
    )
    out = np.zeros(bins)
    for r in frame.query(sql, {"_cuts": [float(c) for c in cuts]}).to_pylist():
        out[int(r["bin"])] = int(r["n"])
    return out
