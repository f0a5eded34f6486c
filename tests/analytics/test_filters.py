"""``filters=`` on every analysis: rows whose column equals a value, or is one of several, the
values bound as parameters (a quote is data); compared with pandas on the same rows."""

from __future__ import annotations

import pandas as pd
import pytest

from raise_ import Aggregation, Correlation, Distribution, RecordLookup
from raise_.client import FeatureGroup
from raise_.errors import FeatureNotFoundError, InvalidAnalysisError


def test_an_aggregation_over_one_value_and_over_several(signals: FeatureGroup, frame: pd.DataFrame) -> None:
    country = frame["country"].dropna().iloc[0]
    got = signals.analyze(Aggregation(feature="click_count", metrics=["count", "sum"], filters={"country": country}))
    rows = frame[frame["country"] == country]
    assert got.metrics == {"count": int(rows["click_count"].count()), "sum": int(rows["click_count"].sum())}
    several = sorted(frame["country"].dropna().unique())[:2]
    got = signals.analyze(Aggregation(feature="click_count", metrics=["count"], filters={"country": several}))
    assert got.metrics["count"] == int(frame[frame["country"].isin(several)]["click_count"].count())


def test_a_quote_in_a_value_is_data(signals: FeatureGroup) -> None:
    got = signals.analyze(Aggregation(feature="click_count", metrics=["count"], filters={"country": "x' OR '1'='1"}))
    assert got.metrics["count"] == 0


def test_filters_reach_every_kind_and_the_cache_keeps_them_apart(signals: FeatureGroup, frame: pd.DataFrame) -> None:
    country = frame["country"].dropna().iloc[0]
    rows = frame[frame["country"] == country]
    dist = signals.analyze(Distribution(feature="click_count", metrics=["histogram"], filters={"country": country}))
    assert sum(dist.data["histogram"]["counts"]) == int(rows["click_count"].count())
    corr = signals.analyze(Correlation(features=["click_count", "impression_count"], filters={"country": country}))
    expected = rows[["click_count", "impression_count"]].astype(float).corr().iloc[0, 1]
    assert corr.correlation_matrix[0][1] == pytest.approx(expected)
    lookup = signals.analyze(RecordLookup(features=["click_count"], limit=1000, filters={"country": country}))
    assert len(lookup.data["records"]) == min(1000, len(rows))
    plain = signals.analyze(Aggregation(feature="click_count", metrics=["count"]))
    assert plain.metrics["count"] == int(frame["click_count"].count())  # not the filtered result


def test_bad_filters_are_coded_errors(signals: FeatureGroup) -> None:
    with pytest.raises(FeatureNotFoundError):
        signals.analyze(Aggregation(feature="click_count", metrics=["count"], filters={"no_such": 1}))
    with pytest.raises(InvalidAnalysisError, match="compares with text, numbers or flags"):
        Aggregation(feature="click_count", metrics=["count"], filters={"country": {"a": 1}})
    with pytest.raises(InvalidAnalysisError, match="lists no values"):
        Aggregation(feature="click_count", metrics=["count"], filters={"country": []})


def test_a_value_of_another_type_is_a_coded_error(signals: FeatureGroup, frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidAnalysisError, match="compares with values of that type"):
        signals.analyze(Aggregation(feature="click_count", metrics=["count"], filters={"click_count": "abc"}))
    key = frame["user_id"].iloc[0]
    got = signals.analyze(Aggregation(feature="click_count", metrics=["count"], filters={"user_id": str(key)}))
    assert got.metrics["count"] == int(frame[frame["user_id"] == key]["click_count"].count())
