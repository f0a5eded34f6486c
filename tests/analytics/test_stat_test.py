"""Hypothesis tests against SciPy on the same segments: Welch's t-test (statistic, p, df,
confidence interval, every alternative) with Cohen's d by hand, Mann–Whitney U, two-sample KS,
chi-squared on a pandas crosstab; segments of text, flags, integers and entity keys; empty
segments and groups raise INVALID_ANALYSIS."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from analysis_reference import group_key
from scipy import stats

from raise_ import FeatureStore, StatTest
from raise_.client.group import FeatureGroup
from raise_.errors import FeatureNotFoundError, InvalidAnalysisError

ALTERNATIVES = ["two-sided", "less", "greater"]


def _segment(frame: pd.DataFrame, by: str, value: Any, feature: str) -> np.ndarray:
    """The feature's finite values in one segment, as float64."""
    rows = frame[frame[by] == value]
    if feature == "score":
        values = rows.loc[~rows["score_null"], "score"].to_numpy(dtype="float64")
    else:
        values = rows[feature].dropna().astype("float64").to_numpy()
    return values[np.isfinite(values)]


def _busiest_users(frame: pd.DataFrame) -> tuple[Any, Any]:
    """The two users with the most rows, as numpy integers (as a DataFrame hands them out)."""
    top = frame["user_id"].value_counts().sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    return top.index.to_numpy()[0], top.index.to_numpy()[1]


# -- Welch's t-test ------------------------------------------------------------------------------

TTESTS = [
    pytest.param("revenue", "variant", "control", "treatment", id="float-by-text"),
    pytest.param("ctr", "variant", "control", "treatment", id="derived-by-text"),
    pytest.param("click_count", "is_premium", False, True, id="int-by-flag"),
    pytest.param("is_premium", "country", "US", "DE", id="flag-as-0-1-by-text"),
    pytest.param("revenue", "level", 0, 10, id="float-by-int"),
    pytest.param("latency@v1", "variant", "holdout", "control", id="first-version"),
    pytest.param("impression_count", "tier", "low", "high", id="by-derived-segments"),
]


@pytest.mark.parametrize("confidence", [0.95, 0.9])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize(("feature", "by", "control", "treatment"), TTESTS)
def test_ttest_matches_scipy_welch(
    signals: FeatureGroup,
    frame: pd.DataFrame,
    feature: str,
    by: str,
    control: Any,
    treatment: Any,
    alternative: str,
    confidence: float,
):
    spec = StatTest(
        feature=feature,
        test="ttest",
        segment_by=by,
        control=control,
        treatment=treatment,
        alternative=alternative,
        confidence=confidence,
    )
    result = signals.analyze(spec)
    c, t = _segment(frame, by, control, feature), _segment(frame, by, treatment, feature)
    ref = stats.ttest_ind(t, c, equal_var=False, alternative=alternative)
    assert result.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-8)
    assert result.data["degrees_of_freedom"] == pytest.approx(ref.df, rel=1e-9)
    low, high = ref.confidence_interval(confidence_level=confidence)
    expected_ci = (None if math.isinf(low) else low, None if math.isinf(high) else high)
    assert result.confidence_interval == tuple(None if v is None else pytest.approx(v, rel=1e-9) for v in expected_ci)
    pooled = math.sqrt(((len(t) - 1) * t.var(ddof=1) + (len(c) - 1) * c.var(ddof=1)) / (len(t) + len(c) - 2))
    assert result.effect_size == pytest.approx((t.mean() - c.mean()) / pooled, rel=1e-9)
    assert result.data["effect_size_name"] == "cohens_d"
    assert result.data["difference"] == pytest.approx(t.mean() - c.mean(), rel=1e-9)
    groups = result.data["groups"]
    assert (groups["control"]["n"], groups["treatment"]["n"]) == (len(c), len(t))
    assert groups["control"]["mean"] == pytest.approx(c.mean()) and groups["treatment"]["variance"] == pytest.approx(
        t.var(ddof=1)
    )
    assert result.significant is bool(ref.pvalue < 1 - confidence)


def test_treatment_revenue_is_found_higher(signals: FeatureGroup):
    result = signals.analyze(
        StatTest(feature="revenue", test="ttest", segment_by="variant", control="control", treatment="treatment")
    )
    assert result.significant is True and result.effect_size > 0
    low, high = result.confidence_interval
    assert 0 < low < 1.5 < high


def test_ttest_by_entity_key_and_via_fs(store: FeatureStore, frame: pd.DataFrame):
    a, b = _busiest_users(frame)
    result = store.analyze(
        StatTest(
            feature="user-signals.revenue", test="ttest", segment_by="user-signals.user_id", control=a, treatment=b
        )
    )
    ref = stats.ttest_ind(
        _segment(frame, "user_id", b, "revenue"), _segment(frame, "user_id", a, "revenue"), equal_var=False
    )
    assert (result.statistic, result.p_value) == (pytest.approx(ref.statistic), pytest.approx(ref.pvalue))


# -- rank tests ---------------------------------------------------------------------------------

RANK = [
    pytest.param("revenue", "variant", "control", "treatment", id="float-by-text"),
    pytest.param("score", "variant", "control", "treatment", id="nan-and-inf-left-out"),
    pytest.param("click_count", "is_premium", False, True, id="ties-int-by-flag"),
    pytest.param("ctr", "country", "FR", "GB", id="derived"),
    pytest.param("level", "variant", "holdout", "treatment", id="many-ties"),
]


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize(("feature", "by", "control", "treatment"), RANK)
def test_mann_whitney_matches_scipy(
    signals: FeatureGroup, frame: pd.DataFrame, feature: str, by: str, control: Any, treatment: Any, alternative: str
):
    spec = StatTest(
        feature=feature,
        test="mann_whitney",
        segment_by=by,
        control=control,
        treatment=treatment,
        alternative=alternative,
    )
    result = signals.analyze(spec)
    c, t = _segment(frame, by, control, feature), _segment(frame, by, treatment, feature)
    ref = stats.mannwhitneyu(t, c, alternative=alternative)
    assert result.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    # rank-biserial: P(T > C) - P(T < C) over every pair, counted by hand
    greater = (t[:, None] > c[None, :]).sum()
    less = (t[:, None] < c[None, :]).sum()
    assert result.effect_size == pytest.approx((greater - less) / (len(t) * len(c)), rel=1e-9)
    assert result.data["groups"]["control"]["median"] == pytest.approx(np.median(c))
    assert result.confidence_interval is None


# scipy falls back from an exact one-sided KS p-value to the asymptotic one, with a warning
@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful:RuntimeWarning")
@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize(("feature", "by", "control", "treatment"), RANK)
def test_ks_test_matches_scipy(
    signals: FeatureGroup, frame: pd.DataFrame, feature: str, by: str, control: Any, treatment: Any, alternative: str
):
    spec = StatTest(
        feature=feature, test="ks_test", segment_by=by, control=control, treatment=treatment, alternative=alternative
    )
    result = signals.analyze(spec)
    c, t = _segment(frame, by, control, feature), _segment(frame, by, treatment, feature)
    # scipy's "greater" is CDF(first) > CDF(second), i.e. the second sample larger: (control, treatment)
    ref = stats.ks_2samp(c, t, alternative=alternative)
    assert result.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert result.effect_size == result.statistic
    if alternative == "two-sided":  # the largest gap between the two empirical CDFs, by hand
        grid = np.concatenate([c, t])
        gap = np.abs(
            np.searchsorted(np.sort(t), grid, "right") / len(t) - np.searchsorted(np.sort(c), grid, "right") / len(c)
        )
        assert result.statistic == pytest.approx(gap.max())


def test_rank_tests_take_a_one_value_segment(signals: FeatureGroup, frame: pd.DataFrame):
    lonely = frame.loc[frame["revenue"].notna(), "user_id"].value_counts()
    user = int(lonely.index[-1])  # the user with the fewest values
    other = int(lonely.index[0])
    c, t = _segment(frame, "user_id", user, "revenue"), _segment(frame, "user_id", other, "revenue")
    for test, ref in (("mann_whitney", stats.mannwhitneyu(t, c)), ("ks_test", stats.ks_2samp(c, t))):
        result = signals.analyze(
            StatTest(feature="revenue", test=test, segment_by="user_id", control=user, treatment=other)
        )
        assert result.p_value == pytest.approx(ref.pvalue), test


# -- chi-squared ---------------------------------------------------------------------------------

CHI = [
    pytest.param("country", "variant", None, None, id="text-by-all-segments"),
    pytest.param("country", "variant", "control", "treatment", id="text-by-two-segments"),
    pytest.param("is_premium", "variant", "control", "treatment", id="flag-2x2-yates"),
    pytest.param("level", "country", None, None, id="int-by-text"),
    pytest.param("variant", "is_premium", None, None, id="text-by-flag"),
    pytest.param("tier", "variant", None, None, id="derived-text-by-text"),
    pytest.param("country", "tier", None, None, id="text-by-derived-segments"),
]


@pytest.mark.parametrize(("feature", "by", "control", "treatment"), CHI)
def test_chi_squared_matches_scipy_on_a_crosstab(
    signals: FeatureGroup, frame: pd.DataFrame, feature: str, by: str, control: Any, treatment: Any
):
    result = signals.analyze(
        StatTest(feature=feature, test="chi_squared", segment_by=by, control=control, treatment=treatment)
    )
    rows = frame[frame[by].notna() & frame[feature].notna()]
    if control is not None:
        rows = rows[rows[by].isin([control, treatment])]
    # rows: control then treatment when given, else the segments in order; numbers by value (10 after 9)
    crosstab = pd.crosstab(rows[by].map(group_key), rows[feature].map(group_key))
    index = [control, treatment] if control is not None else sorted(crosstab.index)
    crosstab = crosstab.reindex(index=index, columns=sorted(crosstab.columns))
    ref = stats.chi2_contingency(crosstab.to_numpy())
    assert result.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert result.data["degrees_of_freedom"] == ref.dof
    table = result.contingency_table
    assert table.to_numpy().tolist() == crosstab.to_numpy().tolist()
    assert [str(v) for v in table.index] == [str(v) for v in crosstab.index]
    assert [str(v) for v in table.columns] == [str(v) for v in crosstab.columns]
    np.testing.assert_allclose(result.data["contingency_table"]["expected"], ref.expected_freq, rtol=1e-12)
    # Cramér's V of the uncorrected statistic (Yates' correction is for the p-value of a 2x2 only)
    n, k = crosstab.to_numpy().sum(), min(crosstab.shape) - 1
    plain_chi2 = stats.chi2_contingency(crosstab.to_numpy(), correction=False).statistic
    assert result.effect_size == pytest.approx(math.sqrt(plain_chi2 / (n * k)), rel=1e-9)
    assert result.data["effect_size_name"] == "cramers_v"


def test_chi_squared_orders_numbers_by_value(signals: FeatureGroup, frame: pd.DataFrame):
    result = signals.analyze(StatTest(feature="level", test="chi_squared", segment_by="country"))
    assert result.data["contingency_table"]["values"] == list(range(11))  # 10 after 9, not after 1
    assert result.data["contingency_table"]["segments"] == ["DE", "FR", "GB", "US"]
    by_level = signals.analyze(StatTest(feature="country", test="chi_squared", segment_by="level"))
    assert by_level.data["contingency_table"]["segments"] == list(range(11))


@pytest.fixture
def arms(fs: FeatureStore) -> FeatureGroup:
    """20 users in two arms (a float segment 1.0/2.0, a text one), with a perfectly associated flag
    and outcome, and a value clearly larger in arm 2."""
    group = fs.create_feature_group("arms", entity_keys=["user_key"], event_time="event_time")
    group.create_features_from_schema(
        {"arm": "float64", "arm_name": "string", "converted": "bool", "outcome": "string", "value": "float64"}
    )
    rng = np.random.default_rng(11)
    group.write(
        [
            {
                "user_key": f"u{i:02d}",
                "event_time": "2024-01-01",
                "arm": 1.0 if i < 10 else 2.0,
                "arm_name": "a" if i < 10 else "b",
                "converted": i >= 10,
                "outcome": "no" if i < 10 else "yes",
                "value": float(rng.normal(0.0, 1.0)) + (0.0 if i < 10 else 5.0),
            }
            for i in range(20)
        ]
    )
    return group


def test_cramers_v_of_a_perfect_2x2_association_is_one(arms: FeatureGroup):
    table = np.array([[10, 0], [0, 10]])
    result = arms.analyze(StatTest(feature="converted", test="chi_squared", segment_by="arm_name"))
    assert result.data["contingency_table"]["counts"] == table.tolist()
    assert result.effect_size == pytest.approx(1.0)
    assert result.effect_size == pytest.approx(stats.contingency.association(table, method="cramer"))
    # the statistic and p-value stay those of SciPy's test (Yates-corrected on a 2x2)
    ref = stats.chi2_contingency(table)
    assert (result.statistic, result.p_value) == (pytest.approx(ref.statistic), pytest.approx(ref.pvalue))


@pytest.mark.parametrize(("control", "treatment"), [(1, 2), (1.0, 2.0), ("1", "2.0")])
def test_chi_squared_of_a_float_segment_given_as_whole_numbers(arms: FeatureGroup, control: Any, treatment: Any):
    result = arms.analyze(
        StatTest(feature="outcome", test="chi_squared", segment_by="arm", control=control, treatment=treatment)
    )
    table = result.data["contingency_table"]
    assert table["segments"] == [control, treatment] and table["values"] == ["no", "yes"]
    assert table["counts"] == [[10, 0], [0, 10]]
    assert result.p_value == pytest.approx(stats.chi2_contingency(np.array([[10, 0], [0, 10]])).pvalue)


def test_chi_squared_control_and_treatment_rows_come_in_that_order(arms: FeatureGroup):
    result = arms.analyze(
        StatTest(feature="outcome", test="chi_squared", segment_by="arm_name", control="b", treatment="a")
    )
    assert result.data["contingency_table"]["segments"] == ["b", "a"]
    assert result.data["contingency_table"]["counts"] == [[0, 10], [10, 0]]


def test_a_text_entity_key_segment_is_compared_as_text(arms: FeatureGroup):
    result = arms.analyze(
        StatTest(feature="value", test="mann_whitney", segment_by="user_key", control="u01", treatment="u12")
    )
    assert (result.data["groups"]["control"]["n"], result.data["groups"]["treatment"]["n"]) == (1, 1)
    with pytest.raises(InvalidAnalysisError) as err:
        arms.analyze(
            StatTest(feature="outcome", test="chi_squared", segment_by="user_key", control="u01", treatment="x")
        )
    assert err.value.details["segment"] == "x" and "u01" in err.value.details["segments"]


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful:RuntimeWarning")
@pytest.mark.parametrize("test", ["ttest", "mann_whitney", "ks_test"])
def test_greater_means_the_treatment_is_larger_in_every_test(arms: FeatureGroup, test: str):
    """Arm 2's values are 5 sd above arm 1's: every test finds "greater" and not "less"."""
    found = {
        alternative: arms.analyze(
            StatTest(
                feature="value", test=test, segment_by="arm_name", control="a", treatment="b", alternative=alternative
            )
        )
        for alternative in ALTERNATIVES
    }
    assert found["greater"].significant is True and found["greater"].p_value < 0.001
    assert found["less"].significant is False and found["less"].p_value > 0.5
    assert found["two-sided"].significant is True
    # the other way round, the other way round
    back = arms.analyze(
        StatTest(feature="value", test=test, segment_by="arm_name", control="b", treatment="a", alternative="less")
    )
    assert back.significant is True


# -- segments without rows, bad tests -----------------------------------------------------------


@pytest.mark.parametrize(
    ("test", "feature", "control", "treatment"),
    [
        pytest.param("ttest", "revenue", "ghost", "control", id="ttest-segment-whose-values-are-all-null"),
        pytest.param("ttest", "revenue", "control", "nobody", id="ttest-segment-absent"),
        pytest.param("mann_whitney", "revenue", "ghost", "control", id="mann-whitney-empty-segment"),
        pytest.param("ks_test", "revenue", "control", "nobody", id="ks-absent-segment"),
        pytest.param("chi_squared", "country", "control", "nobody", id="chi-squared-absent-segment"),
    ],
)
def test_a_segment_without_values_is_invalid(
    signals: FeatureGroup, test: str, feature: str, control: Any, treatment: Any
):
    with pytest.raises(InvalidAnalysisError) as err:
        signals.analyze(
            StatTest(feature=feature, test=test, segment_by="variant", control=control, treatment=treatment)
        )
    assert err.value.code == "INVALID_ANALYSIS"
    assert err.value.details["segment_by"] == "variant"
    assert "control" in err.value.details["segments"]


def test_a_ttest_segment_with_one_value_is_invalid(fs: FeatureStore):
    group = fs.create_feature_group("arms", entity_keys=["user_id"], event_time="event_time")
    group.create_features_from_schema({"revenue": "float64", "arm": "string"})
    group.write(
        [
            {"user_id": 1, "event_time": "2024-01-01", "revenue": 1.0, "arm": "a"},
            {"user_id": 2, "event_time": "2024-01-01", "revenue": None, "arm": "a"},
            {"user_id": 3, "event_time": "2024-01-01", "revenue": 2.0, "arm": "b"},
            {"user_id": 4, "event_time": "2024-01-01", "revenue": 4.0, "arm": "b"},
        ]
    )
    with pytest.raises(InvalidAnalysisError) as err:
        group.analyze(StatTest(feature="revenue", test="ttest", segment_by="arm", control="a", treatment="b"))
    assert err.value.details["segment"] == "a" and err.value.details["values"] == 1
    # the rank tests need one value a side
    result = group.analyze(
        StatTest(feature="revenue", test="mann_whitney", segment_by="arm", control="a", treatment="b")
    )
    assert result.p_value == pytest.approx(stats.mannwhitneyu([2.0, 4.0], [1.0]).pvalue)


@pytest.mark.parametrize("test", ["ttest", "mann_whitney", "ks_test", "chi_squared"])
def test_empty_and_single_row_groups_are_invalid(no_writes: FeatureGroup, one_row: FeatureGroup, test: str):
    feature = "country" if test == "chi_squared" else "revenue"
    for group in (no_writes, one_row):
        with pytest.raises(InvalidAnalysisError):
            group.analyze(
                StatTest(feature=feature, test=test, segment_by="variant", control="control", treatment="treatment")
            )


def test_chi_squared_of_one_segment_value_is_invalid(one_row: FeatureGroup):
    with pytest.raises(InvalidAnalysisError) as err:
        one_row.analyze(StatTest(feature="country", test="chi_squared", segment_by="variant"))
    assert err.value.details == {"segments": 1, "values": 1}


@pytest.mark.parametrize(
    ("test", "feature"),
    [
        ("ttest", "country"),
        ("mann_whitney", "variant"),
        ("ks_test", "country"),
        ("chi_squared", "revenue"),
        ("chi_squared", "ctr"),
    ],
)
def test_a_feature_of_the_wrong_kind_is_invalid(signals: FeatureGroup, test: str, feature: str):
    with pytest.raises(InvalidAnalysisError) as err:
        signals.analyze(StatTest(feature=feature, test=test, segment_by="is_premium", control=False, treatment=True))
    assert err.value.code == "INVALID_ANALYSIS" and err.value.details["feature"] == feature


def test_unknown_features_are_not_found(signals: FeatureGroup):
    with pytest.raises(FeatureNotFoundError):
        signals.analyze(StatTest(feature="revenue", segment_by="arm", control="a", treatment="b"))
    with pytest.raises(FeatureNotFoundError):
        signals.analyze(StatTest(feature="revenu", segment_by="variant", control="control", treatment="treatment"))


@pytest.mark.parametrize("test", ["ttest", "mann_whitney", "ks_test"])
def test_a_window_tests_only_its_rows(signals: FeatureGroup, frame: pd.DataFrame, test: str):
    from analysis_reference import END, in_window, span

    result = signals.analyze(
        StatTest(
            feature="revenue", test=test, segment_by="variant", control="control", treatment="treatment", window="7d"
        )
    )
    recent = in_window(frame, span("7d"), END)
    assert len(recent) < len(frame)  # the window really leaves rows out
    treat, ctrl = _segment(recent, "variant", "treatment", "revenue"), _segment(recent, "variant", "control", "revenue")
    reference = {
        "ttest": lambda: stats.ttest_ind(treat, ctrl, equal_var=False),
        "mann_whitney": lambda: stats.mannwhitneyu(treat, ctrl),
        "ks_test": lambda: stats.ks_2samp(ctrl, treat),
    }[test]()
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-9)
    assert result.data["window_end"] == END
