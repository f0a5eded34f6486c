"""The nine conditions of PRD §14.2, each judged against the plain comparison it names, and the
value each analysis kind gives an alert."""

from __future__ import annotations

import math

import pytest

from raise_ import Condition
from raise_.alerts.conditions import CONDITION_TYPES, extract_value
from raise_.errors import InvalidConditionError

VALUES = [-1.0, 0.0, 0.04, 0.05, 0.06, 0.5, 1.0, 7.0]
REFERENCE = {
    "greater_than": (Condition.GREATER_THAN(0.05), lambda x: x > 0.05),
    "less_than": (Condition.LESS_THAN(0.05), lambda x: x < 0.05),
    "between": (Condition.BETWEEN(0.04, 0.5), lambda x: 0.04 <= x <= 0.5),
    "outside": (Condition.OUTSIDE(0.04, 0.5), lambda x: x < 0.04 or x > 0.5),
    "equals": (Condition.EQUALS(0.05), lambda x: x == 0.05),
    "not_equals": (Condition.NOT_EQUALS(0.05), lambda x: x != 0.05),
    "psi_greater_than": (Condition.PSI_GREATER_THAN(0.2), lambda x: x > 0.2),
    "p_value_less_than": (Condition.P_VALUE_LESS_THAN(0.05), lambda x: x < 0.05),
    "kl_divergence_greater_than": (Condition.KL_DIVERGENCE_GREATER_THAN(0.5), lambda x: x > 0.5),
}


def test_every_condition_type_has_a_reference() -> None:
    assert sorted(REFERENCE) == sorted(CONDITION_TYPES)


@pytest.mark.parametrize("kind", sorted(REFERENCE))
def test_condition_holds_as_its_comparison(kind: str) -> None:
    condition, reference = REFERENCE[kind]
    assert [condition.holds(v) for v in VALUES] == [reference(v) for v in VALUES]
    assert Condition.from_dict(condition.to_dict()) == condition
    assert repr(condition).startswith(f"Condition.{kind.upper()}(")


def test_equality_tolerates_float_noise() -> None:
    assert Condition.EQUALS(0.3).holds(0.1 + 0.2) and not Condition.NOT_EQUALS(0.3).holds(0.1 + 0.2)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Condition.BETWEEN(2, 1), "low <= high"),
        (lambda: Condition.GREATER_THAN("0.5"), "number"),
        (lambda: Condition.GREATER_THAN(math.nan), "number"),
        (lambda: Condition("greater", value=1), "Unknown condition"),
        (lambda: Condition.from_dict({"type": "less_than", "value": 1, "threshold": 2}), "no field 'threshold'"),
    ],
)
def test_bad_conditions_are_coded_errors(make: object, message: str) -> None:
    with pytest.raises(InvalidConditionError, match=message):
        make()  # type: ignore[operator]


def test_the_value_each_analysis_gives() -> None:
    agg = {"type": "aggregation", "metrics": ["count", "null_rate"]}
    assert (
        extract_value(
            agg, {"metrics": {"count": 10, "null_rate": 0.2}}, Condition.GREATER_THAN(0.1, metric="null_rate")
        )
        == 0.2
    )
    rolling = {"type": "aggregation", "metrics": ["sum"], "rolling": True, "window": "1d"}
    rows = [{"date": "2026-01-01", "sum": 1, "rolling_sum": 1}, {"date": "2026-01-02", "sum": 5, "rolling_sum": 6}]
    assert extract_value(rolling, {"rows": rows}, Condition.GREATER_THAN(1)) == 6
    diff = {"type": "version_diff"}
    drift = {"distribution_drift": {"psi": 0.31, "kl_divergence": 0.12}}
    assert extract_value(diff, drift, Condition.PSI_GREATER_THAN(0.2)) == 0.31
    assert extract_value(diff, drift, Condition.KL_DIVERGENCE_GREATER_THAN(0.2)) == 0.12
    assert extract_value({"type": "stat_test"}, {"p_value": 0.01}, Condition.P_VALUE_LESS_THAN(0.05)) == 0.01
    assert extract_value(agg, {"metrics": {"null_rate": None}}, Condition.GREATER_THAN(0.1, metric="null_rate")) is None
    with pytest.raises(InvalidConditionError, match="metric="):
        Condition.GREATER_THAN(1).check_fits(agg)
    with pytest.raises(InvalidConditionError, match="one value per group"):
        Condition.GREATER_THAN(1).check_fits({"type": "aggregation", "metrics": ["sum"], "group_by": "tier"})
