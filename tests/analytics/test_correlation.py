"""Correlation matrices against pandas ``DataFrame.corr`` (pairwise complete, with nulls) and
SciPy on complete data; a constant feature has no correlation; empty and one-row groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from analysis_reference import END, in_window, span
from scipy import stats

from raise_ import Correlation, FeatureStore
from raise_.client.group import FeatureGroup
from raise_.errors import FeatureNotFoundError, InvalidAnalysisError

METHODS = ["pearson", "spearman", "kendall"]
FEATURES = ["revenue", "click_count", "impression_count", "ctr", "level", "is_premium", "score"]


def _numbers(rows: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The features as float64, a null, NaN or ±inf as NaN (missing, as the engine documents)."""
    out = pd.DataFrame(index=rows.index)
    for f in features:
        if f == "score":
            values = rows["score"].where(~rows["score_null"])
        else:
            values = rows[f].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        out[f] = np.where(np.isfinite(values), values, np.nan)
    return out


def _matrix(result_matrix: list[list[float | None]]) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in result_matrix], dtype="float64")


@pytest.mark.parametrize("method", METHODS)
def test_matrix_matches_pandas_pairwise_complete(signals: FeatureGroup, frame: pd.DataFrame, method: str):
    result = signals.analyze(Correlation(features=FEATURES, method=method))
    data = _numbers(frame, FEATURES)
    expected = data.corr(method=method, min_periods=2).to_numpy()
    np.testing.assert_allclose(_matrix(result.correlation_matrix), expected, rtol=1e-9, atol=1e-12)
    present = data.notna().to_numpy().astype(int)
    assert result.data["n_obs"] == (present.T @ present).tolist()
    assert result.features == FEATURES
    table = result.to_dataframe()
    assert list(table.index) == FEATURES and list(table.columns) == FEATURES
    np.testing.assert_allclose(table.to_numpy(dtype="float64"), expected, rtol=1e-9, atol=1e-12)


def _two_pass_pearson(data: pd.DataFrame) -> np.ndarray:
    """Pearson's r per pair over the pair's complete rows, deviations from the exact means first."""
    k = data.shape[1]
    out = np.full((k, k), np.nan)
    for i in range(k):
        for j in range(k):
            both = data.iloc[:, [i, j]].dropna().to_numpy()
            a, b = both[:, 0] - both[:, 0].mean(), both[:, 1] - both[:, 1].mean()
            if len(both) >= 2 and a.any() and b.any():
                out[i, j] = (a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum())
    return out


@pytest.mark.parametrize("method", METHODS)
def test_a_feature_far_from_zero_keeps_its_digits(signals: FeatureGroup, frame: pd.DataFrame, method: str):
    # big = 1e9 + N(0, 1): pandas' Pearson loses ~6 digits here, so Pearson is checked against a
    # two-pass computation (the ranked methods rank first, where pandas is exact).
    features = ["big", "revenue", "ctr"]
    result = signals.analyze(Correlation(features=features, method=method))
    data = _numbers(frame, features)
    expected = _two_pass_pearson(data) if method == "pearson" else data.corr(method=method).to_numpy()
    np.testing.assert_allclose(_matrix(result.correlation_matrix), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_a_constant_feature_has_no_correlation(signals: FeatureGroup, method: str):
    result = signals.analyze(Correlation(features=["revenue", "constant", "level"], method=method))
    m = result.correlation_matrix
    assert m[1] == [None, None, None]
    assert [row[1] for row in m] == [None, None, None]
    assert m[0][0] == pytest.approx(1.0) and m[2][2] == pytest.approx(1.0)
    assert m[0][2] is not None and m[0][2] == m[2][0]


@pytest.mark.parametrize("method", METHODS)
def test_an_empty_window_has_no_correlation(signals: FeatureGroup, method: str):
    result = signals.analyze(Correlation(features=["revenue", "ctr"], method=method, window="7d", end="2020-01-01"))
    assert result.correlation_matrix == [[None, None], [None, None]]
    assert result.data["n_obs"] == [[0, 0], [0, 0]]


@pytest.mark.parametrize("method", METHODS)
def test_windowed_matrix(signals: FeatureGroup, frame: pd.DataFrame, method: str):
    end = END - pd.Timedelta(days=12)
    result = signals.analyze(
        Correlation(features=["revenue", "ctr", "click_count"], method=method, window="5d", end=end.isoformat())
    )
    rows = in_window(frame, span("5d"), end)
    expected = _numbers(rows, ["revenue", "ctr", "click_count"]).corr(method=method, min_periods=2).to_numpy()
    np.testing.assert_allclose(_matrix(result.correlation_matrix), expected, rtol=1e-9, atol=1e-12)
    assert result.data["window_end"] == end


def test_fs_analyze_by_path(store: FeatureStore, signals: FeatureGroup):
    by_path = store.analyze(Correlation(features=["user-signals.ctr", "user-signals.revenue"], method="spearman"))
    by_group = signals.analyze(Correlation(features=["ctr", "revenue"], method="spearman"))
    assert by_path.correlation_matrix == by_group.correlation_matrix
    assert by_path.features == ["ctr", "revenue"]


# -- complete data against SciPy (a fresh store, on each catalog backend) -------------------------


@pytest.fixture
def complete(fs: FeatureStore) -> tuple[FeatureGroup, pd.DataFrame]:
    rng = np.random.default_rng(11)
    n = 400
    x = rng.normal(0, 1, n)
    data = pd.DataFrame(
        {
            "item_id": np.arange(n),
            "event_time": pd.Timestamp("2024-05-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="min"),
            "x": x,
            "y": 2 * x + rng.normal(0, 1, n),
            "k": rng.integers(0, 5, n),  # many ties
        }
    )
    group = fs.create_feature_group("items", entity_keys=["item_id"], event_time="event_time")
    group.create_features_from_schema({"x": "float64", "y": "float64", "k": "int64"})
    group.create_feature("xy", dtype="float64", derived_from="x * y")
    group.write(data)
    data["xy"] = data["x"] * data["y"]
    return group, data


SCIPY = [
    pytest.param("pearson", lambda a, b: stats.pearsonr(a, b).statistic, id="pearson"),
    pytest.param("spearman", lambda a, b: stats.spearmanr(a, b).statistic, id="spearman"),
    pytest.param("kendall", lambda a, b: stats.kendalltau(a, b).statistic, id="kendall-tau-b"),
]


@pytest.mark.parametrize(("method", "reference"), SCIPY)
def test_complete_data_matches_scipy(complete: tuple[FeatureGroup, pd.DataFrame], method: str, reference):
    group, data = complete
    features = ["x", "y", "k", "xy"]
    result = group.analyze(Correlation(features=features, method=method))
    for i, a in enumerate(features):
        for j, b in enumerate(features):
            want = 1.0 if i == j else float(reference(data[a].to_numpy(float), data[b].to_numpy(float)))
            assert result.correlation_matrix[i][j] == pytest.approx(want, rel=1e-9, abs=1e-12), (a, b)
    assert result.data["n_obs"] == [[len(data)] * 4] * 4


# -- empty and single-row groups, errors -----------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_a_group_without_writes_or_with_one_row_has_no_correlation(
    no_writes: FeatureGroup, one_row: FeatureGroup, method: str
):
    for group, n in ((no_writes, 0), (one_row, 1)):
        result = group.analyze(Correlation(features=["revenue", "ctr"], method=method))
        assert result.correlation_matrix == [[None, None], [None, None]]
        assert result.data["n_obs"] == [[n, n], [n, n]]


def test_a_text_feature_cannot_be_correlated(signals: FeatureGroup):
    with pytest.raises(InvalidAnalysisError) as err:
        signals.analyze(Correlation(features=["revenue", "country"]))
    assert err.value.code == "INVALID_ANALYSIS" and err.value.details["feature"] == "country"


def test_unknown_feature_is_not_found(signals: FeatureGroup):
    with pytest.raises(FeatureNotFoundError):
        signals.analyze(Correlation(features=["revenue", "clicks"]))


@pytest.mark.parametrize(
    "bad",
    [
        {"features": ["revenue"]},
        {"features": "revenue"},
        {"features": ["revenue", "revenue"]},
        {"features": ["revenue", "ctr"], "method": "pearsons"},
        {"features": ["revenue", "ctr"], "method": "distance"},
    ],
)
def test_bad_correlation_specs_are_invalid(bad: dict):
    with pytest.raises(InvalidAnalysisError) as err:
        Correlation(**bad)
    assert err.value.code == "INVALID_ANALYSIS"
