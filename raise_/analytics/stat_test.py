"""Hypothesis tests between segments (PRD §11.7), with SciPy.

The difference is always *treatment minus control*, and ``alternative="greater"`` means the
treatment is larger.

- ``ttest``: Welch's t-test (unequal variances) from each segment's count, mean and variance
  (computed in DuckDB); ``effect_size`` is Cohen's d with the pooled standard deviation;
  ``confidence_interval`` is the Welch interval of the difference of means.
- ``mann_whitney``: the U statistic of the treatment; ``effect_size`` is the rank-biserial
  correlation ``2U / (n_t n_c) - 1``.
- ``ks_test``: the two-sample Kolmogorov–Smirnov statistic (also the effect size); one-sided,
  ``"greater"`` says the treatment's values are stochastically larger (its CDF lies below).
- ``chi_squared``: independence of a categorical feature and the segments, from their
  contingency table (Yates' correction on a 2×2 table, as SciPy); ``effect_size`` is Cramér's V
  of the uncorrected statistic (SciPy's ``association``), so a perfect association is 1. With
  control and treatment, the table has their two rows (labelled in SQL); without, one row per
  segment. Segments and values are in SQL's order: numbers by value, text by its characters.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from raise_.analytics.frame import Frame, plain
from raise_.analytics.specs import StatTest
from raise_.errors import InvalidAnalysisError
from raise_.storage.offline_store import quote


def _stats() -> Any:
    """SciPy's ``stats``, imported on the first test: importing it costs ~0.6 s, which every
    process opening a store paid (``raise jobs run`` in each Airflow task, ``raise run``)."""
    from scipy import stats

    return stats


__all__ = ["run_stat_test"]

_MAX_CATEGORIES = 1_000


def run_stat_test(frame: Frame, spec: StatTest) -> dict[str, Any]:
    frame = Frame.windowed(frame, spec.window, spec.end)
    frame.check_segment(spec.segment_by)
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
    """SQL of ``segment = $param``: a feature's value against the parameter read as its type, an
    entity key's (whose type is the stored column's) as text against the parameter's text."""
    s = quote(spec.segment_by)
    t = frame.dtype(spec.segment_by)
    if t is None:
        return f"CAST({s} AS VARCHAR) = ${param}"
    return f"{s} = TRY_CAST(${param} AS {t.duckdb_type()})"


def _as_param(frame: Frame, spec: StatTest, value: Any) -> Any:
    """The parameter :func:`_segment_is` compares with: text, or a flag as it is."""
    return value if isinstance(value, bool) and frame.dtype(spec.segment_by) is not None else str(value)


def _segment_values(frame: Frame, spec: StatTest, value: str, which: Any) -> np.ndarray:
    table = frame.query(
        f"SELECT {value} AS v FROM rows WHERE {_segment_is(frame, spec, '_s_value')} AND isfinite({value})",
        {"_s_value": _as_param(frame, spec, which)},
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
            {"_s_value": _as_param(frame, spec, which)},
        ).to_pylist()[0]
        if int(row["n"]) < 2:
            raise _no_rows(frame, spec, which, int(row["n"]), 2)
        sides[side] = {"n": int(row["n"]), "mean": float(row["mean"]), "variance": float(row["var"])}
    c, t = sides["control"], sides["treatment"]
    res = _stats().ttest_ind_from_stats(
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
        q = float(_stats().t.ppf(0.5 + confidence / 2, df))
        return [diff - q * se, diff + q * se]
    q = float(_stats().t.ppf(confidence, df))
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
        res = _stats().mannwhitneyu(treatment, control, alternative=spec.alternative)
        u = float(res.statistic)
        return {
            "statistic": u,
            "p_value": plain(res.pvalue),
            "effect_size": 2.0 * u / (len(treatment) * len(control)) - 1.0,
            "effect_size_name": "rank_biserial",
            "confidence_interval": None,
            "groups": groups,
        }
    # SciPy's "greater" is CDF(first) > CDF(second): the second sample (the treatment) is larger.
    ks = _stats().ks_2samp(control, treatment, alternative=spec.alternative)
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
    two = spec.control is not None
    params: dict[str, Any] = {}
    segment = s
    if two:  # rows labelled 0 (control) and 1 (treatment) in SQL; every other row left out
        is_c, is_t = _segment_is(frame, spec, "_s_c"), _segment_is(frame, spec, "_s_t")
        segment = f"CASE WHEN {is_c} THEN 0 WHEN {is_t} THEN 1 END"
        params = {"_s_c": _as_param(frame, spec, spec.control), "_s_t": _as_param(frame, spec, spec.treatment)}
    cells = (
        f", cells AS (SELECT * FROM (SELECT {segment} AS segment, {v} AS value FROM rows WHERE {v} IS NOT NULL) "
        "WHERE segment IS NOT NULL) "
    )
    sides = ", count(*) FILTER (WHERE segment = 0) AS c, count(*) FILTER (WHERE segment = 1) AS t" if two else ""
    sizes = frame.query(f"{cells}SELECT count(DISTINCT value) AS k{sides} FROM cells", params).to_pylist()[0]
    if two:
        for which, side in ((spec.control, "c"), (spec.treatment, "t")):
            if not sizes[side]:
                raise _no_rows(frame, spec, which, 0, 1)
    distinct = int(sizes["k"])
    if distinct > _MAX_CATEGORIES:
        raise InvalidAnalysisError(
            f"{spec.feature!r} has {distinct} distinct values; chi_squared takes at most {_MAX_CATEGORIES}.",
            {"feature": spec.feature, "distinct": distinct},
        )
    # Segments and values in SQL's order (numbers by value, text by its characters), numbered.
    cols = frame.query(
        f"{cells}SELECT segment, value, n, dense_rank() OVER (ORDER BY segment) - 1 AS i, "
        "dense_rank() OVER (ORDER BY value) - 1 AS j "
        "FROM (SELECT segment, value, count(*) AS n FROM cells GROUP BY ALL)",
        params,
    ).to_pydict()
    segments: list[Any] = [None] * (max(cols["i"], default=-1) + 1)
    values: list[Any] = [None] * (max(cols["j"], default=-1) + 1)
    table = np.zeros((len(segments), len(values)), dtype=np.int64)
    for seg, val, n, i, j in zip(cols["segment"], cols["value"], cols["n"], cols["i"], cols["j"], strict=True):
        segments[i], values[j] = seg, val
        table[i, j] = n
    if two:
        segments = [spec.control, spec.treatment]
    if len(segments) < 2 or len(values) < 2:
        raise InvalidAnalysisError(
            f"chi_squared needs at least two segments and two values of {spec.feature!r}; "
            f"found {len(segments)} segment(s) and {len(values)} value(s).",
            {"segments": len(segments), "values": len(values)},
        )
    res = _stats().chi2_contingency(table)  # Yates' correction on a 2x2 table, for the p-value
    return {
        "statistic": float(res.statistic),
        "p_value": plain(res.pvalue),
        "degrees_of_freedom": int(res.dof),
        # Cramér's V is of the uncorrected statistic (Yates' would make a perfect 2x2 association < 1)
        "effect_size": float(_stats().contingency.association(table, method="cramer")),
        "effect_size_name": "cramers_v",
        "confidence_interval": None,
        "contingency_table": {
            "segments": [plain(x) for x in segments],
            "values": [plain(x) for x in values],
            "counts": table.tolist(),
            "expected": [[float(x) for x in row] for row in res.expected_freq],
        },
    }
