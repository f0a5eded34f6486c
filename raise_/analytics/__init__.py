"""The analytics engine (PRD §11): aggregations, distributions, correlations, version diffs,
statistical tests and record lookups over a group's data, with a result cache and async jobs.

>>> from raise_ import Aggregation
>>> result = group.analyze(Aggregation(feature="click_count", metrics=["sum"]))  # doctest: +SKIP
"""

from __future__ import annotations

from raise_.analytics.freshness import Freshness
from raise_.analytics.job import AnalysisJob
from raise_.analytics.records import AnalysisJobRecord, AnalysisRecord
from raise_.analytics.refresh_policy import RefreshPolicy
from raise_.analytics.result import AnalysisResult
from raise_.analytics.specs import (
    Aggregation,
    AnalysisSpec,
    Correlation,
    Distribution,
    RecordLookup,
    StatTest,
    VersionDiff,
    spec_from_dict,
)

__all__ = [
    "Aggregation",
    "AnalysisJob",
    "AnalysisJobRecord",
    "AnalysisRecord",
    "AnalysisResult",
    "AnalysisSpec",
    "Correlation",
    "Distribution",
    "Freshness",
    "RecordLookup",
    "RefreshPolicy",
    "StatTest",
    "VersionDiff",
    "spec_from_dict",
]
