"""Correlation matrices (PRD §11.6), pairwise complete as ``pandas.DataFrame.corr``: each pair
over the rows where both features are set (a null, NaN or infinity is missing). Pearson sums
every pair's moments in one streamed pass (:mod:`raise_.analytics.columnar`); Spearman and Kendall
rank, so they load the features' values once and use pandas. A pair with fewer than two rows in
common, or a constant feature, has no correlation (None)."""

from __future__ import annotations

from typing import Any

import numpy as np

from raise_.analytics.columnar import pairwise_pearson
from raise_.analytics.frame import Frame, plain
from raise_.analytics.specs import Correlation
from raise_.storage.offline_store import quote

__all__ = ["run_correlation"]


def run_correlation(frame: Frame, spec: Correlation) -> dict[str, Any]:
    frame = Frame.windowed(frame, spec.window, spec.end)
    values = {f: frame.numeric(f, "a correlation") for f in spec.features}
    cols = ", ".join(f"CAST({values[f]} AS DOUBLE) AS {quote(f)}" for f in spec.features)
    select = f"SELECT {cols} FROM rows"
    if spec.method == "pearson":
        r, n_obs = pairwise_pearson(frame.batches(select), len(spec.features))
    else:
        data = frame.query(select).to_pandas()
        data = data.where(np.isfinite(data))  # ±inf is missing, as NaN and null are
        r = data.corr(method=spec.method, min_periods=2).to_numpy(copy=True)
        # pandas puts 1.0 on the diagonal for Kendall even when a feature has no spread.
        np.fill_diagonal(r, np.where(data.nunique().to_numpy() >= 2, np.diag(r), np.nan))
        present = data.notna().to_numpy().astype(np.int64)
        n_obs = present.T @ present
    matrix = [[plain(v) for v in row] for row in r.tolist()]
    payload: dict[str, Any] = {
        "features": list(spec.features),
        "method": spec.method,
        "matrix": matrix,
        "n_obs": n_obs.astype(int).tolist(),
    }
    if spec.window:
        payload.update(window_start=frame.window_start, window_end=frame.resolved_end)
    return payload
