"""Numeric kernels over feature values streamed out of DuckDB as Arrow batches into numpy.

Where a whole matrix of moments is wanted (a correlation over k features needs k² sums) one
pass of BLAS products over each batch beats k²/2 SQL aggregates, and ``numpy.histogram`` /
``numpy.percentile`` on a column in memory beat DuckDB's sort-based quantiles (measured in
``bench/analytics.py``). Values travel as float64; a null, a NaN or an infinity is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

__all__ = ["PairwiseMoments", "batch_matrix", "pairwise_pearson"]


def batch_matrix(batch: pa.RecordBatch) -> np.ndarray:
    """The batch's columns as a float64 matrix (rows × columns), NaN where a value is null."""
    columns = []
    for column in batch.columns:
        array = column.cast(pa.float64()) if column.type != pa.float64() else column
        columns.append(array.to_numpy(zero_copy_only=False))
    if not columns:
        return np.empty((batch.num_rows, 0))
    return np.column_stack(columns).astype(np.float64, copy=False)


@dataclass
class PairwiseMoments:
    """Sums over the rows where both features of a pair are present, for every pair.

    Values are shifted by a per-feature constant (the first batch's means) before summing, so
    the variances and covariances computed from the sums keep their precision when a feature's
    mean is large against its spread.
    """

    n: np.ndarray  # n[i, j]: rows where i and j are both present
    sx: np.ndarray  # sx[i, j]: Σ x_i over those rows
    sxx: np.ndarray  # sxx[i, j]: Σ x_i² over those rows
    sxy: np.ndarray  # sxy[i, j]: Σ x_i x_j over those rows
    shift: np.ndarray | None = None

    @classmethod
    def empty(cls, k: int) -> PairwiseMoments:
        z = np.zeros((k, k))
        return cls(z.copy(), z.copy(), z.copy(), z.copy())

    def add(self, x: np.ndarray) -> None:
        if self.shift is None:
            with np.errstate(all="ignore"):
                means = np.nanmean(np.where(np.isfinite(x), x, np.nan), axis=0) if len(x) else np.zeros(x.shape[1])
            self.shift = np.nan_to_num(means)
        present = np.isfinite(x)  # ±inf would poison every sum: treated as missing, like NaN
        if present.all():  # the common case: one product, no masks (masks cost more than the BLAS call)
            xz = x - self.shift
            self.n += len(x)
            self.sx += xz.sum(axis=0)[:, None]
            self.sxx += np.einsum("ij,ij->j", xz, xz)[:, None]
            self.sxy += xz.T @ xz
            return
        m = present.astype(np.float64)
        xz = np.where(present, x - self.shift, 0.0)
        self.n += m.T @ m
        self.sx += xz.T @ m
        self.sxx += (xz * xz).T @ m
        self.sxy += xz.T @ xz

    def correlation(self) -> np.ndarray:
        """Pearson's r per pair (NaN for fewer than two rows or no spread)."""
        with np.errstate(all="ignore"):
            n = np.where(self.n > 0, self.n, np.nan)
            mean_i = self.sx / n  # mean of x_i over the pair's rows
            mean_j = self.sx.T / n
            cov = self.sxy / n - mean_i * mean_j
            var_i = self.sxx / n - mean_i**2
            var_j = self.sxx.T / n - mean_j**2
            r = cov / np.sqrt(var_i * var_j)
        r[(var_i <= 0) | (var_j <= 0)] = np.nan
        np.fill_diagonal(r, np.where(np.isnan(np.diag(r)), np.nan, 1.0))
        r[self.n < 2] = np.nan
        return np.clip(r, -1.0, 1.0)


def pairwise_pearson(batches: Iterator[pa.RecordBatch], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Pearson's r and the number of rows of every pair, pairwise complete, in one pass."""
    moments = PairwiseMoments.empty(k)
    for batch in batches:
        if batch.num_rows:
            moments.add(batch_matrix(batch))
    return moments.correlation(), moments.n.astype(np.int64)
