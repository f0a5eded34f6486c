"""Correlation matrices (PRD §11.6), pairwise complete as ``pandas.DataFrame.corr``: each pair
over the rows where both features are set. Pearson runs in DuckDB in one scan for every pair;
Spearman and Kendall rank, so they load the features' values once and use pandas. A pair with
fewer than two rows in common, or a constant feature, has no correlation (None)."""

from __future__ import annotations

from typing import Any

import numpy as np

from raise_.analytics.frame import Frame, plain
from raise_.analytics.specs import Correlation
from raise_.storage.offline_store import quote

__all__ = ["run_correlation"]


def run_correlation(frame: Frame, spec: Correlation) -> dict[str, Any]:
    frame = Frame.windowed(frame, spec.window, spec.end)
    values = {f: frame.numeric(f, "a correlation") for f in spec.features}
    n = len(spec.features)
    counts = _pair_counts(frame, spec.features, values)
    matrix = _pearson(frame, spec.features, values) if spec.method == "pearson" else _ranked(frame, spec, values)
    for i in range(n):
        for j in range(n):
            if counts[i][j] < 2:
                matrix[i][j] = None
    payload: dict[str, Any] = {
        "features": list(spec.features),
        "method": spec.method,
        "matrix": matrix,
        "n_obs": counts,
    }
    if spec.window:
        payload.update(window_start=frame.window_start, window_end=frame.resolved_end)
    return payload


def _pair_counts(frame: Frame, features: list[str], values: dict[str, str]) -> list[list[int]]:
    n = len(features)
    exprs = []
    for i in range(n):
        for j in range(i, n):
            a, b = values[features[i]], values[features[j]]
            exprs.append(f"count(*) FILTER ({a} IS NOT NULL AND {b} IS NOT NULL) AS c{i}_{j}")
    row = frame.query(f"SELECT {', '.join(exprs)} FROM rows").to_pylist()[0]
    out = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            out[i][j] = out[j][i] = int(row[f"c{i}_{j}"])
    return out


def _pearson(frame: Frame, features: list[str], values: dict[str, str]) -> list[list[float | None]]:
    n = len(features)
    exprs = []
    for i in range(n):
        exprs.append(f"var_samp({values[features[i]]}) AS v{i}")
        for j in range(i + 1, n):
            exprs.append(f"corr({values[features[i]]}, {values[features[j]]}) AS r{i}_{j}")
    row = frame.query(f"SELECT {', '.join(exprs)} FROM rows").to_pylist()[0]
    matrix: list[list[float | None]] = [[None] * n for _ in range(n)]
    for i in range(n):
        variance = plain(row[f"v{i}"])
        matrix[i][i] = 1.0 if variance else None
        for j in range(i + 1, n):
            r = plain(row[f"r{i}_{j}"])
            if r is not None:
                r = float(np.clip(r, -1.0, 1.0))
            matrix[i][j] = matrix[j][i] = r
    return matrix


def _ranked(frame: Frame, spec: Correlation, values: dict[str, str]) -> list[list[float | None]]:
    cols = ", ".join(f"{values[f]} AS {quote(f)}" for f in spec.features)
    data = frame.query(f"SELECT {cols} FROM rows").to_pandas()
    data = data.astype("float64")
    corr = data.corr(method=spec.method, min_periods=2)
    return [[plain(corr.iloc[i, j]) for j in range(len(spec.features))] for i in range(len(spec.features))]
