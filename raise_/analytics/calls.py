"""What every door (SDK, magics, widgets) sends the service for an analysis."""

from __future__ import annotations

from typing import Any

from raise_.analytics.freshness import Freshness
from raise_.analytics.specs import AnalysisSpec, spec_from_dict

__all__ = ["analysis_call"]


def analysis_call(
    analysis: AnalysisSpec | dict[str, Any], freshness: Freshness | str | None
) -> tuple[dict[str, Any], str]:
    """The spec as its dict (checked here, so a bad one fails before any call) and the freshness
    as its text."""
    return spec_from_dict(analysis).to_dict(), Freshness.parse(freshness).to_text()
