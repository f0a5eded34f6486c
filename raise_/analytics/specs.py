"""Analysis specs (PRD §11.1): what to compute, as plain serializable values.

A spec names features of one group by name (``"click_count"``, ``"click_count@v2"``) or, through
``fs.analyze``, by path (``"user-signals.click_count"``). It is checked when it is built, so a bad
metric or test fails at once with ``INVALID_ANALYSIS`` and names the fix. ``to_dict()`` is its
wire and storage form; its hash (:func:`spec_hash`) keys the result cache, so the same spec runs
unchanged in a job, a live table, a chart or an alert.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

import numpy as np

from raise_.durations import parse_duration
from raise_.errors import InvalidAnalysisError, RaiseError
from raise_.hints import suggest

__all__ = [
    "AGGREGATION_METRICS",
    "CORRELATION_METHODS",
    "STAT_TESTS",
    "Aggregation",
    "AnalysisSpec",
    "Correlation",
    "Distribution",
    "RecordLookup",
    "StatTest",
    "VersionDiff",
    "percentile_of",
    "spec_from_dict",
    "spec_hash",
]

AGGREGATION_METRICS: Final = (
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "stddev",
    "variance",
    "null_rate",
    "distinct_count",
)
_PERCENTILE: Final = re.compile(r"^percentile_(\d{1,2}(?:\.\d+)?|100)$")
DISTRIBUTION_METRICS: Final = ("histogram", "percentiles")
CORRELATION_METHODS: Final = ("pearson", "spearman", "kendall")
STAT_TESTS: Final = ("ttest", "mann_whitney", "chi_squared", "ks_test")
ALTERNATIVES: Final = ("two-sided", "less", "greater")
VERSION_DIFF_PARTS: Final = ("schema", "distribution")
DEFAULT_PERCENTILES: Final = (50.0, 75.0, 90.0, 95.0, 99.0)


def _bad(message: str, **details: Any) -> InvalidAnalysisError:
    return InvalidAnalysisError(message, details)


def percentile_of(metric: str) -> float | None:
    """The percentile a ``percentile_XX`` metric asks for (``percentile_99`` → 99.0)."""
    m = _PERCENTILE.match(metric)
    return float(m.group(1)) if m else None


def _feature_name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"{what} must be a feature name such as 'click_count', got {value!r}.", **{what: repr(value)})
    return value.strip()


def _feature_list(value: object, what: str, minimum: int = 1) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _bad(f"{what} must be a list of feature names such as ['clicks', 'revenue'].", **{what: repr(value)})
    names = [_feature_name(v, what) for v in value]
    if len(names) < minimum:
        raise _bad(f"{what} needs at least {minimum} features, got {len(names)}.", **{what: names})
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise _bad(f"Feature {twice[0]!r} is listed twice in {what}.", feature=twice[0])
    return names


def _columns(value: object, what: str) -> list[str]:
    """``group_by``/``segment_by``: one name or a list of names."""
    if value is None:
        return []
    if isinstance(value, str):
        return [_feature_name(value, what)]
    return _feature_list(value, what)


def _choice(value: object, allowed: tuple[str, ...], what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        hint = suggest(value, allowed) if isinstance(value, str) else ""
        raise _bad(
            f"Unknown {what} {value!r}.{hint} Use one of: {', '.join(allowed)}.",
            **{what: repr(value), "allowed": list(allowed)},
        )
    return value


def _positive_int(value: object, what: str, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _bad(f"{what} must be a positive whole number, got {value!r}.", **{what: repr(value)})
    if maximum is not None and value > maximum:
        raise _bad(f"{what} may be at most {maximum}, got {value}.", **{what: value})
    return value


def _window(value: object, what: str = "window") -> str | None:
    if value is None:
        return None
    try:
        parse_duration(value, what)
    except RaiseError as exc:
        raise _bad(exc.message, **exc.details) from exc
    if not isinstance(value, str):
        raise _bad(f"{what} must be written as text such as '7d' or '1h', got {value!r}.", **{what: repr(value)})
    return value.strip()


def _end(value: object) -> str | None:
    """``None`` (the newest event time in the data), ``"now"`` (the wall clock) or a time."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() == "now":
        return "now"
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise _bad(f"end must be 'now', an ISO time or a datetime, got {value!r}.", end=value) from exc
    else:
        raise _bad(f"end must be 'now', an ISO time or a datetime, got {value!r}.", end=repr(value))
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat()


def _filters(value: object) -> dict[str, Any] | None:
    """``filters``: column → value (rows where the column equals it) or list of values (rows
    where it is one of them). Values are bound as parameters, never pasted into SQL."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad(
            "filters must map column names to a value or a list of values, e.g. {'user_tier': 'gold'}.",
            filters=repr(value),
        )
    out: dict[str, Any] = {}
    for column in sorted(value, key=str):
        name = _feature_name(column, "filters")
        wanted = value[column]
        items = list(wanted) if isinstance(wanted, list | tuple) else [wanted]
        for item in items:
            if isinstance(item, np.generic):
                item = item.item()
            if item is None or not isinstance(item, str | int | float | bool):
                raise _bad(
                    f"A filter on {name!r} compares with text, numbers or flags, got {item!r}.",
                    column=name,
                    value=repr(item),
                )
        if not items:
            raise _bad(f"The filter on {name!r} lists no values.", column=name)
        plain_items = [i.item() if isinstance(i, np.generic) else i for i in items]
        out[name] = plain_items if isinstance(wanted, list | tuple) else plain_items[0]
    return out or None


@dataclass(frozen=True)
class AnalysisSpec:
    """Base of every analysis: ``type`` names it in ``to_dict()``. ``filters`` (every kind, keyword
    only) keeps the rows whose columns equal the given values: a dashboard's dropdown binds it."""

    type: ClassVar[str] = ""
    filters: dict[str, Any] | None = field(default=None, kw_only=True, compare=True, hash=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "filters" and value is None:
                continue  # absent unless given: specs and their hashes stay as they were
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def features_used(self) -> list[str]:
        """Every feature (or entity key) the analysis reads, in a stable order."""
        raise NotImplementedError

    def with_names(self, rename: dict[str, str]) -> AnalysisSpec:
        """The same spec with feature references renamed (paths → names in their group)."""
        data = self.to_dict()
        data.pop("type")
        for key in _NAME_FIELDS:
            if key in data and data[key] is not None:
                value = data[key]
                data[key] = [rename.get(v, v) for v in value] if isinstance(value, list) else rename.get(value, value)
        if data.get("filters"):
            data["filters"] = {rename.get(k, k): v for k, v in data["filters"].items()}
        return type(self)(**data)

    @property
    def relative_to_now(self) -> bool:
        """Whether the result depends on the wall clock (``end="now"``), not only on the data."""
        return getattr(self, "end", None) == "now"


_NAME_FIELDS: Final = ("feature", "features", "group_by", "segment_by")


@dataclass(frozen=True)
class Aggregation(AnalysisSpec):
    """Metrics of one feature (PRD §11.2), optionally over the last ``window`` of event time,
    per ``group_by`` value, or per period of ``window`` for the last ``periods`` periods
    (``rolling=True``, each with the metric over the ``periods`` periods ending there)."""

    type: ClassVar[str] = "aggregation"
    feature: str = ""
    metrics: list[str] = field(default_factory=lambda: ["count", "avg", "min", "max", "null_rate"])
    window: str | None = None
    group_by: str | list[str] | None = None
    rolling: bool = False
    periods: int | None = None
    end: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", _filters(self.filters))
        set_ = object.__setattr__
        set_(self, "feature", _feature_name(self.feature, "feature"))
        if isinstance(self.metrics, str) or not isinstance(self.metrics, list | tuple) or not self.metrics:
            raise _bad("metrics must be a non-empty list such as ['count', 'avg'].", metrics=repr(self.metrics))
        for m in self.metrics:
            if not isinstance(m, str) or (m not in AGGREGATION_METRICS and percentile_of(m) is None):
                _choice(m, (*AGGREGATION_METRICS, "percentile_XX"), "metric")
        if len(set(self.metrics)) != len(self.metrics):
            raise _bad("A metric is listed twice in metrics.", metrics=list(self.metrics))
        set_(self, "metrics", list(self.metrics))
        set_(self, "window", _window(self.window))
        group = _columns(self.group_by, "group_by")
        set_(self, "group_by", None if not group else group[0] if isinstance(self.group_by, str) else group)
        if not isinstance(self.rolling, bool):
            raise _bad(f"rolling must be True or False, got {self.rolling!r}.", rolling=repr(self.rolling))
        if self.rolling:
            if self.window is None:
                raise _bad("A rolling aggregation needs a window: the length of one period, e.g. window='1d'.")
            set_(self, "periods", _positive_int(self.periods if self.periods is not None else 30, "periods", 10_000))
        elif self.periods is not None:
            raise _bad("periods applies to rolling aggregations only: add rolling=True.", periods=self.periods)
        set_(self, "end", _end(self.end))

    @property
    def group_columns(self) -> list[str]:
        return _columns(self.group_by, "group_by")

    def features_used(self) -> list[str]:
        return [self.feature, *(c for c in self.group_columns if c != self.feature)]


@dataclass(frozen=True)
class Distribution(AnalysisSpec):
    """A histogram (``bins`` equal-width bins, as ``numpy.histogram``) and percentiles of one
    feature; value counts for a string or boolean feature; per ``segment_by`` value with shared
    bin edges."""

    type: ClassVar[str] = "distribution"
    feature: str = ""
    metrics: list[str] = field(default_factory=lambda: ["histogram", "percentiles"])
    bins: int = 50
    percentiles: list[float] = field(default_factory=lambda: list(DEFAULT_PERCENTILES))
    segment_by: str | None = None
    window: str | None = None
    end: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", _filters(self.filters))
        set_ = object.__setattr__
        set_(self, "feature", _feature_name(self.feature, "feature"))
        if isinstance(self.metrics, str) or not isinstance(self.metrics, list | tuple) or not self.metrics:
            raise _bad("metrics must be a non-empty list such as ['histogram', 'percentiles'].")
        set_(self, "metrics", [_choice(m, DISTRIBUTION_METRICS, "metric") for m in self.metrics])
        set_(self, "bins", _positive_int(self.bins, "bins", 10_000))
        if isinstance(self.percentiles, str) or not isinstance(self.percentiles, list | tuple) or not self.percentiles:
            raise _bad("percentiles must be a non-empty list of numbers between 0 and 100, e.g. [50, 90, 99].")
        ps = []
        for p in self.percentiles:
            if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 100:
                raise _bad(f"A percentile must be a number between 0 and 100, got {p!r}.", percentile=repr(p))
            ps.append(float(p))
        set_(self, "percentiles", ps)
        if self.segment_by is not None:
            set_(self, "segment_by", _feature_name(self.segment_by, "segment_by"))
        set_(self, "window", _window(self.window))
        set_(self, "end", _end(self.end))

    def features_used(self) -> list[str]:
        return [self.feature, *([self.segment_by] if self.segment_by and self.segment_by != self.feature else [])]


@dataclass(frozen=True)
class Correlation(AnalysisSpec):
    """The correlation matrix of numeric features, each pair over the rows where both are set
    (pairwise complete, as ``pandas.DataFrame.corr``)."""

    type: ClassVar[str] = "correlation"
    features: list[str] = field(default_factory=list)
    method: str = "pearson"
    window: str | None = None
    end: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", _filters(self.filters))
        object.__setattr__(self, "features", _feature_list(self.features, "features", minimum=2))
        object.__setattr__(self, "method", _choice(self.method, CORRELATION_METHODS, "method"))
        object.__setattr__(self, "window", _window(self.window))
        object.__setattr__(self, "end", _end(self.end))

    def features_used(self) -> list[str]:
        return list(self.features)


@dataclass(frozen=True)
class VersionDiff(AnalysisSpec):
    """Two versions of one feature: their schema differences, and how the distribution of
    version B's values drifted from version A's (PSI and KL divergence over ``bins`` bins)."""

    type: ClassVar[str] = "version_diff"
    feature: str = ""
    version_a: str = ""
    version_b: str = ""
    compare: list[str] = field(default_factory=lambda: ["schema", "distribution"])
    bins: int = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", _filters(self.filters))
        set_ = object.__setattr__
        set_(self, "feature", _feature_name(self.feature, "feature"))
        if "@" in self.feature:
            raise _bad("Name the feature without a version and give version_a and version_b.", feature=self.feature)
        for what in ("version_a", "version_b"):
            value = getattr(self, what)
            if not isinstance(value, str) or not re.fullmatch(r"v?\d+", value.strip()):
                raise _bad(f"{what} must be a version such as 'v1', got {value!r}.", **{what: repr(value)})
            set_(self, what, "v" + value.strip().lstrip("v"))
        if self.version_a == self.version_b:
            raise _bad(f"version_a and version_b are both {self.version_a}: compare two different versions.")
        if isinstance(self.compare, str) or not isinstance(self.compare, list | tuple) or not self.compare:
            raise _bad("compare must be a non-empty list such as ['schema', 'distribution'].")
        set_(self, "compare", [_choice(c, VERSION_DIFF_PARTS, "comparison") for c in self.compare])
        set_(self, "bins", _positive_int(self.bins, "bins", 1_000))

    def features_used(self) -> list[str]:
        return [f"{self.feature}@{self.version_a}", f"{self.feature}@{self.version_b}"]


@dataclass(frozen=True)
class StatTest(AnalysisSpec):
    """A hypothesis test of ``feature`` between the ``control`` and ``treatment`` values of
    ``segment_by`` (PRD §11.7). ``chi_squared`` tests independence of a categorical feature and
    the segments (all segments when control and treatment are not given)."""

    type: ClassVar[str] = "stat_test"
    feature: str = ""
    test: str = "ttest"
    segment_by: str = ""
    control: Any = None
    treatment: Any = None
    confidence: float = 0.95
    alternative: str = "two-sided"
    window: str | None = None
    end: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", _filters(self.filters))
        set_ = object.__setattr__
        set_(self, "feature", _feature_name(self.feature, "feature"))
        set_(self, "test", _choice(self.test, STAT_TESTS, "test"))
        set_(self, "segment_by", _feature_name(self.segment_by, "segment_by"))
        for what in ("control", "treatment"):  # a value taken from a DataFrame is a numpy scalar
            value = getattr(self, what)
            if isinstance(value, np.generic):
                set_(self, what, value.item())
        if self.segment_by == self.feature:
            raise _bad("segment_by must be another feature than the one tested.", feature=self.feature)
        both = self.control is not None and self.treatment is not None
        if self.test != "chi_squared" and not both:
            raise _bad(
                f"The {self.test} test compares two segments: give control= and treatment= "
                f"(values of {self.segment_by!r}).",
                test=self.test,
            )
        if (self.control is None) != (self.treatment is None):
            raise _bad("Give both control and treatment, or neither (chi_squared over every segment).")
        if both and self.control == self.treatment:
            raise _bad(f"control and treatment are both {self.control!r}: name two different segments.")
        for what in ("control", "treatment"):
            value = getattr(self, what)
            if value is not None and not isinstance(value, str | int | float | bool):
                raise _bad(f"{what} must be a segment value (text or number), got {value!r}.", **{what: repr(value)})
        if isinstance(self.confidence, bool) or not isinstance(self.confidence, int | float):
            raise _bad(f"confidence must be a number between 0 and 1, got {self.confidence!r}.")
        if not 0 < self.confidence < 1:
            raise _bad(f"confidence must be between 0 and 1 (e.g. 0.95), got {self.confidence!r}.")
        set_(self, "confidence", float(self.confidence))
        set_(self, "alternative", _choice(self.alternative, ALTERNATIVES, "alternative"))
        set_(self, "window", _window(self.window))
        set_(self, "end", _end(self.end))

    def features_used(self) -> list[str]:
        return [self.feature, self.segment_by]


@dataclass(frozen=True)
class RecordLookup(AnalysisSpec):
    """Records to look at: a reproducible random ``sample`` (``seed``), the rows matching a SQL
    ``filter`` (parsed, never pasted), the first ``limit`` rows. Each record carries the entity
    keys and event time with the features."""

    type: ClassVar[str] = "record_lookup"
    features: list[str] | None = None
    sample: int | None = None
    seed: int = 0
    filter: str | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", _filters(self.filters))
        set_ = object.__setattr__
        if self.features is not None:
            set_(self, "features", _feature_list(self.features, "features"))
        if self.sample is not None:
            set_(self, "sample", _positive_int(self.sample, "sample", 1_000_000))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise _bad(f"seed must be a whole number, got {self.seed!r}.", seed=repr(self.seed))
        if self.filter is not None and (not isinstance(self.filter, str) or not self.filter.strip()):
            raise _bad("filter must be a SQL condition such as \"user_tier = 'gold'\".", filter=repr(self.filter))
        if self.limit is not None:
            set_(self, "limit", _positive_int(self.limit, "limit", 1_000_000))
        if self.sample is not None and self.limit is not None:
            raise _bad("Give sample= (random records) or limit= (the first records), not both.")
        if self.sample is None and self.limit is None:
            set_(self, "limit", 100)

    def features_used(self) -> list[str]:
        return list(self.features or [])


_KINDS: Final[dict[str, type[AnalysisSpec]]] = {
    cls.type: cls for cls in (Aggregation, Distribution, Correlation, VersionDiff, StatTest, RecordLookup)
}


def spec_from_dict(data: object) -> AnalysisSpec:
    """Rebuild a spec from ``to_dict()`` (or a YAML/JSON body with ``type``), checking it."""
    if isinstance(data, AnalysisSpec):
        return data
    if not isinstance(data, dict):
        raise _bad(f"An analysis spec must be a mapping with a 'type', got {type(data).__name__}.")
    kind = str(data.get("type", "")).strip().lower().replace("-", "_")
    aliases = {"versiondiff": "version_diff", "stattest": "stat_test", "recordlookup": "record_lookup"}
    kind = aliases.get(kind, kind)
    if kind not in _KINDS:
        _choice(kind or None, tuple(_KINDS), "analysis type")
    cls = _KINDS[kind]
    known = {f.name for f in fields(cls)}
    args = {k: v for k, v in data.items() if k != "type"}
    unknown = sorted(set(args) - known)
    if unknown:
        raise _bad(
            f"{cls.__name__} has no field {unknown[0]!r}; its fields are {', '.join(sorted(known))}.",
            field=unknown[0],
        )
    return cls(**args)


def spec_hash(spec: AnalysisSpec, scope: str, resolved: list[str]) -> str:
    """The cache key of a spec run on ``scope`` (a group path) with its features resolved to
    ``name@version``: a redefined feature (a new version) is a new analysis."""
    text = json.dumps({"spec": spec.to_dict(), "scope": scope, "resolved": resolved}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
