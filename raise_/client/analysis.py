"""``analyze`` / ``analyze_async`` on a group (features by name) and on a store (features by path)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raise_.analytics.calls import analysis_call
from raise_.analytics.freshness import Freshness
from raise_.analytics.job import AnalysisJob
from raise_.analytics.result import AnalysisResult
from raise_.analytics.specs import AnalysisSpec

if TYPE_CHECKING:
    from raise_.api.protocol import Backend

__all__ = ["Analyzes"]


class Analyzes:
    """Mixed into ``FeatureGroup`` and ``FeatureStore``: the analysis runs on ``self.path``."""

    _backend: Backend

    @property
    def path(self) -> str:
        raise NotImplementedError

    def analyze(
        self, analysis: AnalysisSpec | dict[str, Any], freshness: Freshness | str | None = None
    ) -> AnalysisResult:
        """Run an analysis (``Aggregation``, ``Distribution``, ``Correlation``, ``VersionDiff``,
        ``StatTest``, ``RecordLookup``): on a group its features by name, on a store by path
        (``"user-signals.clicks"``, all in one group). ``freshness`` may reuse a stored result
        (``Freshness.WITHIN("1h")``, ``Freshness.CACHED``; default: compute now)."""
        spec, policy = analysis_call(analysis, freshness)
        return AnalysisResult(self._backend.analyze(self.path, spec, policy))

    def analyze_async(
        self, analysis: AnalysisSpec | dict[str, Any], freshness: Freshness | str | None = None
    ) -> AnalysisJob:
        """Submit an analysis to run in the background; returns its ``AnalysisJob`` at once."""
        spec, policy = analysis_call(analysis, freshness)
        return AnalysisJob(self._backend, self._backend.analyze_async(self.path, spec, policy))
