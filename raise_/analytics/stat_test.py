"""Hypothesis tests between segments (PRD §11.7), with SciPy.

The difference is always *treatment minus control*, and ``alternative="greater"`` means the
treatment is larger.

- ``ttest``: Welch's t-test (unequal variances) from each segment's count, mean and variance
  (computed in DuckDB); ``effect_size`` is Cohen's d with the pooled standard deviation;
  ``confidence_interval`` is the Welch interval of the difference of means.
- ``mann_whitney``: the U statistic of the treatment; ``effect_size`` is the rank-biserial
  correlation ``2U / (n_t n_c) - 1``.
- ``ks_test``: the two-sample Kolmogorov–Smirnov statistic (also the effect size).
- ``chi_squared``: independence of a categorical feature and the segments, from their
  contingency table (Yates' correction on a 2×2 table, as SciPy); ``effect_size`` is Cramér's V.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from raise_.analytics.frame import Frame, plain
from raise_.analytics.specs import StatTest
from raise_.errors import InvalidAnalysisError
from raise_.storage.offline_store import quote

__all__ = ["run_stat_test"]

_MAX_CATEGORIES = 1_000


def run_stat_test(frame: Frame, spec: StatTest) -> dict[str, Any]:
    frame = Frame.windowed(frame, spec.window, spec.end)
    seg_type = frame.dtype(spec.segment_by)
    if seg_type is not None and not (seg_type.is_numeric or seg_type.kind in ("string", "bool")):
        raise InvalidAnalysisError(
            f"Cannot segment by {spec.segment_by!r}: it is {seg_type}.", {"segment_by": spec.segment_by}
        )
    payload: dict[str, Any] = {
        "feature": spec.feature,
        "test": spec.test,
        "segment_by": spec.segment_by,
        "control": spec.control,
        "treatment": spec.treatment,
        "alternative": spec.alternative,
        "confidence": spec.confidence,
    }
    if spec.window:
        payload.update(window_start=frame.window_start, window_end=frame.resolved_end)
    if spec.test == "chi_squared":
        payload.update(_chi_squared(frame, spec))
    else:
        value = frame.numeric(spec.feature, f"the {spec.test} test")
        if spec.test == "ttest":
            payload.update(_ttest(frame, spec, value))
        else:
            payload.update(_rank_test(frame, spec, value))
    p = payload.get("p_value")
    payload["significant"] = None if p is None else bool(p < 1.0 - spec.confidence)
    return payload


def _segment_is(frame: Frame, spec: StatTest, param: str) -> str:
    """SQL of ``segment = $param``, the parameter read as the segment column's type."""
    s = quote(spec.segment_by)
    t = frame.dtype(spec.segment_by)
    if t is not None:
        cast = t.duckdb_type()
    else:  # an entity key: its type is the stored column's
        found = frame.query(f"SELECT typeof({s}) AS t FROM rows LIMIT 1").to_pylist()
        cast = found[0]["t"] if found else "VARCHAR"
    return f"{s} = TRY_CAST(${param} AS {cast})"


def _as_param(value: Any) -> Any:
    return value if isinstance(value, bool) else str(value)


def _segment_values(frame: Frame, spec: StatTest, value: str, which: Any) -> np.ndarray:
    table = frame.query(
        f"SELECT {value} AS v FROM rows WHERE {_segment_is(frame, spec, '_s_value')} AND isfinite({value})",
        {"_s_value": _as_param(which)},
    )
    arr: np.ndarray = table.column("v").to_numpy(zero_copy_only=False).astype("float64")
    return arr


def _no_rows(frame: Frame, spec: StatTest, which: Any, n: int, needed: int) -> InvalidAnalysisError:
    s = quote(spec.segment_by)
    seen = (
        frame.query(f"SELECT DISTINCT {s} AS s FROM rows WHERE {s} IS NOT NULL ORDER BY s LIMIT 20")
        .column("s")
        .to_pylist()
    )
    return InvalidAnalysisError(
        f"Segment {spec.segment_by}={which!r} has {n} value(s) of {spec.feature!r}; the {spec.test} test "
        f"needs at least {needed}. Segments present: {', '.join(map(repr, seen)) or 'none'}.",
        {"segment_by": spec.segment_by, "segment": which, "values": n, "segments": [plain(v) for v in seen]},
    )


def _ttest(frame: Frame, spec: StatTest, value: str) -> dict[str, Any]:
    is_segment = _segment_is(frame, spec, "_s_value")
    sides: dict[str, dict[str, Any]] = {}
    for side, which in (("control", spec.control), ("treatment", spec.treatment)):
        row = frame.query(
            f"SELECT count({value}) AS n, avg({value}) AS mean, var_samp({value}) AS var FROM rows "
            f"WHERE {is_segment} AND isfinite({value})",
            {"_s_value": _as_param(which)},
        ).to_pylist()[0]
        if int(row["n"]) < 2:
            raise _no_rows(frame, spec, which, int(row["n"]), 2)
        sides[side] = {"n": int(row["n"]), "mean": float(row["mean"]), "variance": float(row["var"])}
    c, t = sides["control"], sides["treatment"]
    res = stats.ttest_ind_from_stats(
        t["mean"], math.sqrt(t["variance"]), t["n"],
        c["mean"], math.sqrt(c["variance"]), c["n"],
        equal_var=False, alternative=spec.alternative,
    )  # fmt: skip
    diff = t["mean"] - c["mean"]
    se2 = t["variance"] / t["n"] + c["variance"] / c["n"]
    se = math.sqrt(se2)
    denom = (t["variance"] / t["n"]) ** 2 / (t["n"] - 1) + (c["variance"] / c["n"]) ** 2 / (c["n"] - 1)
    df = se2**2 / denom if denom > 0 else float("nan")
    ci = _welch_interval(diff, se, df, spec.confidence, spec.alternative)
    pooled = math.sqrt(((t["n"] - 1) * t["variance"] + (c["n"] - 1) * c["variance"]) / (t["n"] + c["n"] - 2))
    return {
        "statistic": plain(res.statistic),
        "p_value": plain(res.pvalue),
        "degrees_of_freedom": plain(df),
        "difference": diff,
        "effect_size": plain(diff / pooled) if pooled > 0 else None,
        "effect_size_name": "cohens_d",
        "confidence_interval": ci,
        "groups": {"control": c, "treatment": t},
    }


def _welch_interval(diff: float, se: float, df: float, confidence: float, alternative: str) -> list[float | None]:
    if not math.isfinite(df) or se == 0:
        return [plain(diff), plain(diff)] if se == 0 else [None, None]
    if alternative == "two-sided":
        q = float(stats.t.ppf(0.5 + confidence / 2, df))
        return [diff - q * se, diff + q * se]
    q = float(stats.t.ppf(confidence, df))
    return [diff - q * se, None] if alternative == "greater" else [None, diff + q * se]


def _rank_test(frame: Frame, spec: StatTest, value: str) -> dict[str, Any]:
    control = _segment_values(frame, spec, value, spec.control)
    treatment = _segment_values(frame, spec, value, spec.treatment)
    for which, arr in ((spec.control, control), (spec.treatment, treatment)):
        if len(arr) < 1:
            raise _no_rows(frame, spec, which, len(arr), 1)
    groups = {
        "control": {"n": len(control), "mean": float(control.mean()), "median": float(np.median(control))},
        "treatment": {"n": len(treatment), "mean": float(treatment.mean()), "median": float(np.median(treatment))},
    }
    if spec.test == "mann_whitney":
        res = stats.mannwhitneyu(treatment, control, alternative=spec.alternative)
        u = float(res.statistic)
        return {
            "statistic": u,
            "p_value": plain(res.pvalue),
            "effect_size": 2.0 * u / (len(treatment) * len(control)) - 1.0,
            "effect_size_name": "rank_biserial",
            "confidence_interval": None,
            "groups": groups,
        }
    ks = stats.ks_2samp(treatment, control, alternative=spec.alternative)
    return {
        "statistic": float(ks.statistic),
        "p_value": plain(ks.pvalue),
        "effect_size": float(ks.statistic),
        "effect_size_name": "ks_statistic",
        "confidence_interval": None,
        "groups": groups,
    }


def _chi_squared(frame: Frame, spec: StatTest) -> dict[str, Any]:
    if not frame.is_categorical(spec.feature):
        raise InvalidAnalysisError(
            f"The chi_squared test needs a categorical feature (text, flag or integer); {spec.feature!r} is "
            f"{frame.dtype(spec.feature)}. Compare means with ttest or mann_whitney, or bin it in a derived feature.",
            {"feature": spec.feature, "test": "chi_squared"},
        )
    s, v = quote(spec.segment_by), quote(spec.feature)
    where = f"{s} IS NOT NULL AND {v} IS NOT NULL"
    params: dict[str, Any] = {}
    if spec.control is not None:
        where += f" AND ({_segment_is(frame, spec, '_s_c')} OR {_segment_is(frame, spec, '_s_t')})"
        params = {"_s_c": _as_param(spec.control), "_s_t": _as_param(spec.treatment)}
    rows = frame.query(
        f"SELECT {s} AS segment, {v} AS value, count(*) AS n FROM rows WHERE {where} GROUP BY ALL", params
    ).to_pylist()
    segments = sorted({r["segment"] for r in rows}, key=str)
    values = sorted({r["value"] for r in rows}, key=str)
    if spec.control is not None:
        for which in (spec.control, spec.treatment):
            if str(which) not in {str(x) for x in segments}:
                raise _no_rows(frame, spec, which, 0, 1)
    if len(values) > _MAX_CATEGORIES:
        raise InvalidAnalysisError(
            f"{spec.feature!r} has {len(values)} distinct values; chi_squared takes at most {_MAX_CATEGORIES}.",
            {"feature": spec.feature, "distinct": len(values)},
        )
    if len(segments) < 2 or len(values) < 2:
        raise InvalidAnalysisError(
            f"chi_squared needs at least two segments and two values of {spec.feature!r}; "
            f"found {len(segments)} segment(s) and {len(values)} value(s).",
            {"segments": len(segments), "values": len(values)},
        )
    index = {(r["segment"], r["value"]): int(r["n"]) for r in rows}
    table = np.array([[index.get((sg, val), 0) for val in values] for sg in segments], dtype=np.int64)
    res = stats.chi2_contingency(table)
    n = int(table.sum())
    k = min(table.shape) - 1
    return {
        "statistic": float(res.statistic),
        "p_value": plain(res.pvalue),
        "degrees_of_freedom": int(res.dof),
        "effect_size": math.sqrt(float(res.statistic) / (n * k)) if n and k else None,
        "effect_size_name": "cramers_v",
        "confidence_interval": None,
        "contingency_table": {
            "segments": [plain(x) for x in segments],
            "values": [plain(x) for x in values],
            "counts": table.tolist(),
            "expected": [[float(x) for x in row] for row in res.expected_freq],
        },
    }
