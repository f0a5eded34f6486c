# ruff: noqa: E501  (the expression table reads best one case per line)
"""Derived feature values from ``group.read`` and ``get_training_data``, checked against a
numpy/pandas reference computed independently from the written data (one expression per function
family, with NULLs and zero divisors in the data)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from raise_ import FeatureStore
from raise_.errors import InvalidExpressionError, LineageBreakError

T0 = pd.Timestamp("2026-03-01", tz="UTC")
USERS = [1, 1, 1, 2, 2, 3, 3, 3, 3, 4]
DAYS = [0, 1, 3, 0, 2, 1, 2, 4, 5, 2]
CLICKS = [1, 2, None, 3, 4, 5, 0, 7, 8, 9]
VIEWS = [10, 0, 5, 10, None, 5, 5, 0, 16, 3]
SCORE = [1.5, 2.0, -3.0, 4.0, 0.25, 5.0, 6.0, None, 7.5, 2.0]
NAME = ["Alice Smith", "bob", None, "  carol ", "dave", "Eve", "frank", "gus", "hal", "ivy"]
EMB = [[3.0, 4.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 2.0, 2.0], None, [2.0, 2.0, 1.0], [0.5, 0.5, 0.5],
       [1.0, 1.0, 1.0], [4.0, 0.0, 3.0], [0.0, 1.0, 0.0]]  # fmt: skip
TARGET = [1.0, 0.0, 0.0]


@pytest.fixture
def data() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": USERS,
            "event_time": [T0 + pd.Timedelta(days=d) for d in DAYS],
            "clicks": pd.array(CLICKS, dtype="Int64"),
            "views": pd.array(VIEWS, dtype="Int64"),
            "score": SCORE,
            "name": NAME,
            "emb": EMB,
            "target": [TARGET] * len(USERS),
        }
    )


@pytest.fixture
def events(fs: FeatureStore, data: pd.DataFrame) -> Any:
    g = fs.create_feature_group("events", entity_keys=["user_id"])
    g.create_features_from_schema(
        {"clicks": "int64", "views": "int64", "score": "float64", "name": "string", "emb": "float32[3]"}
    )
    g.create_feature("target", dtype="float32[3]")
    g.write(data)
    return g


def _num(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA else float(v)


def _div(a: Any, b: Any) -> float | None:
    a, b = _num(a), _num(b)
    return None if a is None or b is None or b == 0 else a / b


def _rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if (not isinstance(v, list | np.ndarray) and pd.isna(v)) else v) for k, v in r.items()}
            for r in df.to_dict("records")]  # fmt: skip


def _expanding(df: pd.DataFrame, column: str, fn: Callable[[pd.Series], float]) -> list[float | None]:
    """A whole-group aggregate as of each row: over every row with event time <= the row's."""
    out = []
    for t in df["event_time"]:
        values = df.loc[df["event_time"] <= t, column].astype("Float64").dropna().astype(float)
        out.append(fn(values) if len(values) else None)
    return out


def _per_user(df: pd.DataFrame, fn: Callable[[pd.DataFrame], list[Any]]) -> list[Any]:
    out: dict[int, Any] = {}
    for _, part in df.sort_values("event_time").groupby("user_id"):
        for idx, value in zip(part.index, fn(part), strict=True):
            out[idx] = value
    return [out[i] for i in df.index]


def _vec(v: Any) -> np.ndarray | None:
    return None if v is None else np.asarray(v, dtype=float)


# (dtype, expression, reference computed from the data frame row by row or as a whole column)
ROW_CASES: list[tuple[str, str, Callable[[dict[str, Any]], Any]]] = [
    ("float64", "clicks / views", lambda r: _div(r["clicks"], r["views"])),
    ("float64", "clicks / NULLIF(views, 0)", lambda r: _div(r["clicks"], r["views"])),
    ("int64", "clicks + views * 2", lambda r: None if r["clicks"] is None or r["views"] is None else r["clicks"] + 2 * r["views"]),
    ("int64", "clicks % views", lambda r: None if r["clicks"] is None or not r["views"] else r["clicks"] % r["views"]),
    ("int64", "COALESCE(clicks, -1)", lambda r: -1 if r["clicks"] is None else r["clicks"]),
    ("int64", "IFNULL(views, 0) + NVL(clicks, 0)", lambda r: (r["views"] or 0) + (r["clicks"] or 0)),
    ("bool", "clicks IS NULL", lambda r: r["clicks"] is None),
    ("bool", "views IS NOT NULL AND views > 4", lambda r: r["views"] is not None and r["views"] > 4),
    ("string", "IF(score > 2, 'high', 'low')", lambda r: "high" if r["score"] is not None and r["score"] > 2 else "low"),
    ("string", "IIF(clicks >= 5, 'many', 'few')", lambda r: "many" if r["clicks"] is not None and r["clicks"] >= 5 else "few"),
    ("string", "CASE WHEN score > 5 THEN 'platinum' WHEN score > 1 THEN 'gold' ELSE 'bronze' END",
     lambda r: "platinum" if r["score"] is not None and r["score"] > 5 else "gold" if r["score"] is not None and r["score"] > 1 else "bronze"),
    ("float64", "ABS(score) + SIGN(score)", lambda r: None if r["score"] is None else abs(r["score"]) + np.sign(r["score"])),
    ("float64", "ROUND(score * 1.234, 2)", lambda r: None if r["score"] is None else round(r["score"] * 1.234, 2)),
    ("float64", "CEIL(score) - FLOOR(score)", lambda r: None if r["score"] is None else math.ceil(r["score"]) - math.floor(r["score"])),
    ("float64", "SQRT(ABS(score)) + EXP(0) + LN(2.0) + LOG10(100) + POWER(2, 3)",
     lambda r: None if r["score"] is None else math.sqrt(abs(r["score"])) + 1 + math.log(2) + 2 + 8),
    # GREATEST/LEAST and CONCAT skip NULLs (as in PostgreSQL).
    ("float64", "GREATEST(score, 2.0) + LEAST(score, 2.0)", lambda r: 4.0 if r["score"] is None else max(r["score"], 2) + min(r["score"], 2)),
    ("string", "UPPER(TRIM(name))", lambda r: None if r["name"] is None else r["name"].strip().upper()),
    ("int64", "LENGTH(name)", lambda r: None if r["name"] is None else len(r["name"])),
    ("string", "CONCAT(LOWER(name), '-', SUBSTRING(name, 1, 2))", lambda r: "-" if r["name"] is None else r["name"].lower() + "-" + r["name"][:2]),
    ("string", "REPLACE(name, 'a', 'A')", lambda r: None if r["name"] is None else r["name"].replace("a", "A")),
    ("string", "SPLIT_PART(name, ' ', 1)", lambda r: None if r["name"] is None else r["name"].split(" ")[0]),
    ("bool", "REGEXP_MATCH(name, '^[A-Z]')", lambda r: None if r["name"] is None else bool(r["name"][:1].isupper())),
    ("int64", "EXTRACT(DAY FROM event_time) + DATE_PART('hour', event_time)", lambda r: r["event_time"].day + r["event_time"].hour),
    ("timestamp", "DATE_TRUNC('month', event_time) + INTERVAL '1 day'",
     lambda r: r["event_time"].to_period("M").start_time.tz_localize("UTC") + pd.Timedelta(days=1)),
    ("string", "TO_CHAR(event_time, 'YYYY-MM-DD')", lambda r: r["event_time"].strftime("%Y-%m-%d")),
    ("float32", "DOT(emb, target)", lambda r: None if r["emb"] is None else float(np.dot(_vec(r["emb"]), TARGET))),
    ("float64", "COSINE_SIMILARITY(emb, target)",
     lambda r: None if r["emb"] is None or not np.any(_vec(r["emb"])) else float(np.dot(_vec(r["emb"]), TARGET) / np.linalg.norm(_vec(r["emb"])))),
    ("float64", "L2_DISTANCE(emb, target)", lambda r: None if r["emb"] is None else float(np.linalg.norm(_vec(r["emb"]) - TARGET))),
    ("float64", "L1_DISTANCE(emb, target)", lambda r: None if r["emb"] is None else float(np.abs(_vec(r["emb"]) - TARGET).sum())),
    ("float64", "NORM(emb)", lambda r: None if r["emb"] is None else float(np.linalg.norm(_vec(r["emb"])))),
    ("float32[3]", "NORMALIZE(emb)",
     lambda r: None if r["emb"] is None or not np.any(_vec(r["emb"])) else list(_vec(r["emb"]) / np.linalg.norm(_vec(r["emb"])))),
    ("float32[3]", "VEC_ADD(emb, target)", lambda r: None if r["emb"] is None else list(_vec(r["emb"]) + TARGET)),
    ("float32[3]", "VEC_SUB(emb, target)", lambda r: None if r["emb"] is None else list(_vec(r["emb"]) - TARGET)),
    ("float32[3]", "VEC_MUL(emb, 2.5)", lambda r: None if r["emb"] is None else list(_vec(r["emb"]) * 2.5)),
]  # fmt: skip


def _same(actual: Any, expected: Any) -> bool:
    if expected is None:
        return actual is None or (isinstance(actual, float) and math.isnan(actual))
    if actual is None:
        return False
    if isinstance(expected, list | np.ndarray):
        return bool(np.allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float), rtol=1e-5))
    if isinstance(expected, float | np.floating):
        return math.isclose(float(actual), float(expected), rel_tol=1e-5, abs_tol=1e-9)
    if isinstance(expected, pd.Timestamp):
        return pd.Timestamp(actual) == expected
    return bool(actual == expected)


@pytest.mark.parametrize(("dtype", "expression", "reference"), ROW_CASES, ids=[c[1][:50] for c in ROW_CASES])
def test_row_expression_matches_reference(events: Any, data: pd.DataFrame, dtype: str, expression: str, reference: Callable[[dict[str, Any]], Any]) -> None:  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        events.create_feature("d", dtype=dtype, derived_from=expression)
    got = events.read(["d"], history=True).to_pandas()
    expected = data.sort_values(["user_id", "event_time"]).reset_index(drop=True)
    assert list(got["user_id"]) == list(expected["user_id"])
    for (_, row), actual in zip(expected.iterrows(), got["d"], strict=True):
        want = reference(
            {k: (None if not isinstance(v, list | np.ndarray) and pd.isna(v) else v) for k, v in row.items()}
        )
        actual = None if actual is None or (not isinstance(actual, list | np.ndarray) and pd.isna(actual)) else actual
        assert _same(actual, want), f"{expression}: row {dict(row)} gave {actual!r}, expected {want!r}"


WINDOW_CASES: list[tuple[str, str, Callable[[pd.DataFrame], list[Any]]]] = [
    ("float64", "(score - AVG(score)) / STDDEV(score)",
     lambda df: [None if m is None or s is None or s == 0 or x is None or pd.isna(x) else (x - m) / s
                 for x, m, s in zip(df["score"], _expanding(df, "score", np.mean),
                                    _expanding(df, "score", lambda v: v.std(ddof=1) if len(v) > 1 else None), strict=True)]),
    ("int64", "COUNT(*)", lambda df: [int((df["event_time"] <= t).sum()) for t in df["event_time"]]),
    ("float64", "MAX(score) - MIN(score)", lambda df: [None if a is None else a - b for a, b in zip(_expanding(df, "score", np.max), _expanding(df, "score", np.min), strict=True)]),
    ("int64", "LAG(clicks)", lambda df: _per_user(df, lambda p: [None, *list(p["clicks"])[:-1]])),
    ("int64", "LAG(clicks, 1, 0) OVER (PARTITION BY user_id ORDER BY event_time)", lambda df: _per_user(df, lambda p: [0, *list(p["clicks"])[:-1]])),
    ("float64", "LEAD(score) OVER (PARTITION BY user_id ORDER BY event_time)", lambda df: _per_user(df, lambda p: [*list(p["score"])[1:], None])),
    ("int64", "ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY event_time)", lambda df: _per_user(df, lambda p: list(range(1, len(p) + 1)))),
    ("int64", "RANK() OVER (PARTITION BY user_id ORDER BY views DESC NULLS LAST)",
     lambda df: _per_user(df, lambda p: list(p["views"].astype("Float64").rank(method="min", ascending=False, na_option="bottom").astype(int)))),
    ("int64", "FIRST_VALUE(clicks) OVER (PARTITION BY user_id ORDER BY event_time)", lambda df: _per_user(df, lambda p: [p["clicks"].iloc[0]] * len(p))),
    ("float64", "LAST_VALUE(score) OVER (PARTITION BY user_id ORDER BY event_time)", lambda df: _per_user(df, lambda p: list(p["score"]))),
    ("float64", "NTH_VALUE(score, 2) OVER (PARTITION BY user_id ORDER BY event_time)", lambda df: _per_user(df, lambda p: [None] + [p["score"].iloc[1] if len(p) > 1 else None] * (len(p) - 1))),
    ("float64", "SUM(score) OVER (PARTITION BY user_id ORDER BY event_time ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)",
     lambda df: _per_user(df, lambda p: [None if pd.isna(a) and pd.isna(b) else np.nansum([a, b]) for a, b in zip(list(p["score"]), [np.nan, *list(p["score"])[:-1]], strict=True)])),
]  # fmt: skip


@pytest.mark.parametrize(("dtype", "expression", "reference"), WINDOW_CASES, ids=[c[1][:50] for c in WINDOW_CASES])
def test_window_expression_matches_reference(events: Any, data: pd.DataFrame, dtype: str, expression: str, reference: Callable[[pd.DataFrame], list[Any]]) -> None:  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        events.create_feature("w", dtype=dtype, derived_from=expression)
    got = events.read(["w"], history=True).to_pandas()
    expected_df = data.sort_values(["user_id", "event_time"]).reset_index(drop=True)
    want = reference(expected_df)
    for i, (actual, w) in enumerate(zip(got["w"], want, strict=True)):
        w = None if w is None or (isinstance(w, float) and math.isnan(w)) or w is pd.NA else w
        actual = None if pd.isna(actual) else actual
        assert _same(actual, w), f"{expression}: row {i} gave {actual!r}, expected {w!r}"


def test_latest_read_and_filter_use_derived_values(events: Any) -> None:
    events.create_feature("ctr", dtype="float64", derived_from="clicks / NULLIF(views, 0)")
    events.create_feature("tier", dtype="string", derived_from="CASE WHEN ctr >= 0.5 THEN 'hi' ELSE 'lo' END")
    latest = events.read(["ctr", "tier"]).to_pandas()
    # user 1's latest row (day 3) has clicks NULL; user 2's (day 2) views NULL; user 3's (day 5) 8/16.
    assert latest["user_id"].tolist() == [1, 2, 3, 4]
    assert latest["ctr"].isna().tolist() == [True, True, False, False]
    assert latest["ctr"].iloc[2] == pytest.approx(0.5) and latest["ctr"].iloc[3] == pytest.approx(3.0)
    assert latest["tier"].tolist() == ["lo", "lo", "hi", "hi"]
    filtered = events.read(["ctr"], filter="ctr > 1").to_pandas()
    assert filtered["user_id"].tolist() == [4]


def test_cross_group_reference_is_point_in_time(fs: FeatureStore, events: Any) -> None:
    profile = fs.create_feature_group("profile", entity_keys=["user_id"])
    profile.create_feature("age", dtype="int64")
    profile.write(pd.DataFrame({"user_id": [1, 1, 3], "event_time": [T0, T0 + pd.Timedelta(days=2), T0 + pd.Timedelta(days=4)], "age": [20, 40, 50]}))  # fmt: skip
    events.create_feature("per_age", dtype="float64", derived_from="score / profile.age")
    got = events.read(["score", "per_age"], history=True).to_pandas()
    ages = {1: [(0, 20), (2, 40)], 3: [(4, 50)]}
    for _, r in got.iterrows():
        day = (r["event_time"] - T0).days
        known = [a for d, a in ages.get(r["user_id"], []) if d <= day]
        want = None if not known or pd.isna(r["score"]) else r["score"] / known[-1]
        assert _same(None if pd.isna(r["per_age"]) else r["per_age"], want), (r.to_dict(), want)
    # A training set computes the value from inputs as of the entity row's time.
    entity = pd.DataFrame({"user_id": [1, 1, 3], "event_time": [T0 + pd.Timedelta(days=1), T0 + pd.Timedelta(days=6), T0 + pd.Timedelta(days=3)]})  # fmt: skip
    ts = fs.get_training_data(entity, ["events.per_age", "events.score", "profile.age"]).to_pandas()
    # user 1 at day 1: score 2.0 (day 1) / age 20 (day 0); at day 6: score -3.0 (day 3) / age 40 (day 2);
    # user 3 at day 3: score 6.0 (day 2) / no age yet → NULL.
    assert ts["per_age"].iloc[0] == pytest.approx(0.1)
    assert ts["per_age"].iloc[1] == pytest.approx(-3.0 / 40)
    assert pd.isna(ts["per_age"].iloc[2])
    assert ts["age"].tolist()[:2] == [20, 40]


def test_training_set_with_windowed_feature_matches_reference(
    fs: FeatureStore, events: Any, data: pd.DataFrame
) -> None:
    events.create_feature("z", dtype="float64", derived_from="(score - AVG(score)) / STDDEV(score)")
    history = events.read(["z"], history=True).to_pandas()
    entity = pd.DataFrame({"user_id": [3, 1, 2], "event_time": [T0 + pd.Timedelta(days=4, hours=1), T0 + pd.Timedelta(days=9), T0]})  # fmt: skip
    ts = fs.get_training_data(entity, ["events.z"]).to_pandas()
    for i, e in entity.iterrows():
        rows = history[(history["user_id"] == e["user_id"]) & (history["event_time"] <= e["event_time"])]
        want = None if rows.empty else rows["z"].iloc[-1]
        got = ts["z"].iloc[i]
        assert _same(None if pd.isna(got) else got, None if want is None or pd.isna(want) else want)


def test_reading_a_derived_feature_with_a_missing_input_says_so(events: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        events.create_feature("pending", dtype="float64", derived_from="clicks / not_yet")
    with pytest.raises(InvalidExpressionError, match="not_yet"):
        events.read(["pending"])
    events.create_feature("not_yet", dtype="int64")
    assert len(events.read(["pending"])) == 4  # values NULL: not_yet was never written


def test_deleted_upstream_breaks_reads_with_a_coded_error(events: Any) -> None:
    events.create_feature("ratio", dtype="float64", derived_from="clicks / views@v1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        events.feature("views").delete()
    with pytest.raises(LineageBreakError):
        events.read(["ratio"])
