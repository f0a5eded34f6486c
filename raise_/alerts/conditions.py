"""Alert conditions (PRD §14.2) and the one value of an analysis they judge.

``Condition.GREATER_THAN(0.05)`` ... ``Condition.KL_DIVERGENCE_GREATER_THAN(0.1)``: nine kinds,
each with ``metric`` naming the value of the result it watches when the analysis has several
(an aggregation's ``null_rate`` of ``metrics=["count", "null_rate"]``). Which value a result
gives:

- aggregation: ``metrics[metric]`` (the only metric when there is one); a rolling aggregation's
  newest period (its rolling value); a grouped one has one value per group, so it needs
  ``filters=`` to pick one group (an alert watches one number);
- distribution: ``mean``, ``stddev``, ``min``, ``max``, ``count`` or ``percentile_XX``;
- stat test: ``p_value`` (``P_VALUE_LESS_THAN``) or ``statistic``;
- version diff: ``psi`` (``PSI_GREATER_THAN``) or ``kl_divergence`` of the distribution drift;
- record lookup: ``count``, the number of records found (alert when any row matches a filter).

A missing value (no rows; an aggregation of nulls) never fires: the check is recorded with no
value, and the state stays as it was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from raise_.errors import InvalidConditionError

__all__ = ["CONDITION_TYPES", "Condition", "extract_value"]

CONDITION_TYPES: Final = (
    "greater_than",
    "less_than",
    "between",
    "outside",
    "equals",
    "not_equals",
    "psi_greater_than",
    "p_value_less_than",
    "kl_divergence_greater_than",
)
_RANGED: Final = ("between", "outside")
#: Conditions that judge a value of one analysis kind only, and that value.
_BOUND_TO: Final = {
    "psi_greater_than": ("version_diff", "psi"),
    "kl_divergence_greater_than": ("version_diff", "kl_divergence"),
    "p_value_less_than": ("stat_test", "p_value"),
}
_SYMBOLS: Final = {
    "greater_than": ">",
    "less_than": "<",
    "equals": "==",
    "not_equals": "!=",
    "psi_greater_than": "PSI >",
    "p_value_less_than": "p <",
    "kl_divergence_greater_than": "KL >",
}


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise InvalidConditionError(f"A condition's {what} is a number, got {value!r}.", {what: repr(value)})
    return float(value)


@dataclass(frozen=True)
class Condition:
    """When an alert fires: ``type`` (one of :data:`CONDITION_TYPES`) on ``value`` or on
    ``low``..``high``, judging the result's ``metric`` (None: the analysis' only value)."""

    type: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    metric: str | None = None

    GREATER_THAN: ClassVar[Any]
    LESS_THAN: ClassVar[Any]
    BETWEEN: ClassVar[Any]
    OUTSIDE: ClassVar[Any]
    EQUALS: ClassVar[Any]
    NOT_EQUALS: ClassVar[Any]
    PSI_GREATER_THAN: ClassVar[Any]
    P_VALUE_LESS_THAN: ClassVar[Any]
    KL_DIVERGENCE_GREATER_THAN: ClassVar[Any]

    def __post_init__(self) -> None:
        kind = str(self.type).strip().lower() if isinstance(self.type, str) else self.type
        if kind not in CONDITION_TYPES:
            raise InvalidConditionError(
                f"Unknown condition {self.type!r}: use one of {', '.join(t.upper() for t in CONDITION_TYPES)}.",
                {"type": repr(self.type)},
            )
        object.__setattr__(self, "type", kind)
        if kind in _RANGED:
            low, high = _number(self.low, "low"), _number(self.high, "high")
            if low > high:
                raise InvalidConditionError(f"{kind.upper()} needs low <= high, got {low} > {high}.", {})
            object.__setattr__(self, "low", low)
            object.__setattr__(self, "high", high)
            if self.value is not None:
                raise InvalidConditionError(f"{kind.upper()} takes low and high, not value.", {})
        else:
            object.__setattr__(self, "value", _number(self.value, "value"))
            if self.low is not None or self.high is not None:
                raise InvalidConditionError(f"{kind.upper()} takes one value, not low and high.", {})
        if self.metric is not None and (not isinstance(self.metric, str) or not self.metric.strip()):
            raise InvalidConditionError(f"metric names a value of the result, got {self.metric!r}.", {})

    def holds(self, x: float) -> bool:
        """Whether ``x`` meets the condition (the alert fires while it does)."""
        t = self.type
        if t in _RANGED:
            assert self.low is not None and self.high is not None
            inside = self.low <= x <= self.high
            return inside if t == "between" else not inside
        v = self.value
        assert v is not None
        if t in ("greater_than", "psi_greater_than", "kl_divergence_greater_than"):
            return x > v
        if t in ("less_than", "p_value_less_than"):
            return x < v
        if t == "equals":
            return math.isclose(x, v, rel_tol=1e-9, abs_tol=1e-12)
        return not math.isclose(x, v, rel_tol=1e-9, abs_tol=1e-12)

    def describe(self) -> str:
        """``null_rate > 0.05``: the condition as people read it."""
        what = self.metric or "value"
        if self.type in _RANGED:
            word = "between" if self.type == "between" else "outside"
            return f"{what} {word} {self.low:g} and {self.high:g}"
        return f"{what} {_SYMBOLS[self.type]} {self.value:g}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for key in ("value", "low", "high", "metric"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_dict(cls, data: object) -> Condition:
        if isinstance(data, Condition):
            return data
        if not isinstance(data, dict) or "type" not in data:
            raise InvalidConditionError(
                f"A condition is Condition.GREATER_THAN(0.05) or a mapping with a type, got {data!r}.", {}
            )
        unknown = sorted(set(data) - {"type", "value", "low", "high", "metric"})
        if unknown:
            raise InvalidConditionError(
                f"A condition has no field {unknown[0]!r} (type, value, low, high, metric).", {}
            )
        return cls(**data)

    def __repr__(self) -> str:
        args = f"{self.low:g}, {self.high:g}" if self.type in _RANGED else f"{self.value:g}"
        metric = f", metric={self.metric!r}" if self.metric else ""
        return f"Condition.{self.type.upper()}({args}{metric})"

    def check_fits(self, analysis: dict[str, Any]) -> None:
        """INVALID_CONDITION unless the analysis gives the one value this condition judges."""
        kind = analysis.get("type")
        bound = _BOUND_TO.get(self.type)
        if bound is not None and kind != bound[0]:
            raise InvalidConditionError(
                f"{self.type.upper()} judges a {bound[0].replace('_', ' ')}'s {bound[1]}, not a "
                f"{str(kind).replace('_', ' ')}: use a {'VersionDiff' if bound[0] == 'version_diff' else 'StatTest'}.",
                {"condition": self.type, "analysis": kind},
            )
        if kind == "aggregation":
            metrics = list(analysis.get("metrics") or [])
            if self.metric is None and len(metrics) != 1:
                raise InvalidConditionError(
                    f"The aggregation computes {', '.join(metrics)}: say which one the alert watches "
                    f"with metric=, e.g. Condition.{self.type.upper()}(..., metric={metrics[0]!r}).",
                    {"metrics": metrics},
                )
            if self.metric is not None and self.metric not in metrics:
                raise InvalidConditionError(
                    f"The aggregation computes no {self.metric!r}; it computes {', '.join(metrics)}.", {}
                )
            if analysis.get("group_by") and not analysis.get("rolling"):
                raise InvalidConditionError(
                    "A grouped aggregation has one value per group and an alert watches one: drop group_by (watch all "
                    "rows), or drop it and keep one group with filters={'user_tier': 'gold'}.",
                    {"group_by": analysis.get("group_by")},
                )
        if kind == "correlation":
            raise InvalidConditionError(
                "A correlation is a matrix, not one value: watch one pair's Aggregation or a StatTest instead.", {}
            )


def _binder(kind: str, ranged: bool) -> Any:
    if ranged:

        def make_range(low: float, high: float, metric: str | None = None) -> Condition:
            return Condition(kind, low=low, high=high, metric=metric)

        return staticmethod(make_range)

    def make(value: float, metric: str | None = None) -> Condition:
        return Condition(kind, value=value, metric=metric)

    return staticmethod(make)


for _kind in CONDITION_TYPES:
    setattr(Condition, _kind.upper(), _binder(_kind, _kind in _RANGED))


def extract_value(analysis: dict[str, Any], data: dict[str, Any], condition: Condition) -> float | None:
    """The value ``condition`` judges in an analysis result (``data`` of its type)."""
    kind = analysis.get("type")
    bound = _BOUND_TO.get(condition.type)
    metric = condition.metric or (bound[1] if bound else None)
    value: Any = None
    if kind == "aggregation":
        name = metric or (analysis.get("metrics") or [None])[0]
        if "metrics" in data:
            value = (data.get("metrics") or {}).get(name)
        else:
            rows = data.get("rows") or []
            if analysis.get("rolling") and rows:
                last = rows[-1]
                value = last.get(f"rolling_{name}", last.get(name))
            elif len(rows) == 1:
                value = rows[0].get(name)
    elif kind == "version_diff":
        drift = data.get("distribution_drift") or {}
        value = drift.get(metric or "psi")
    elif kind == "stat_test":
        value = data.get(metric or "p_value")
    elif kind == "distribution":
        name = metric or "mean"
        stats = data.get("stats") or data
        if name.startswith("percentile_"):
            pct = data.get("percentiles") or {}
            value = pct.get(name) or pct.get(name.removeprefix("percentile_"))
        else:
            value = stats.get(name) if isinstance(stats, dict) else None
    elif kind == "record_lookup":
        value = len(data.get("records") or data.get("rows") or [])
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidConditionError(f"The result's {metric or 'value'} is not a number: {value!r}.", {}) from None
    return None if math.isnan(number) else number
