"""Feature lineage: the graph of what each derived feature reads, and its renderings (text, DOT, OpenLineage)."""

from __future__ import annotations

from raise_.lineage.graph import LineageEdge, LineageGraph, LineageJob, LineageNode

__all__ = ["LineageEdge", "LineageGraph", "LineageJob", "LineageNode"]
