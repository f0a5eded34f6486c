"""What the dashboard doors return: plain frozen values (the codec sends them over REST)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["DashboardRecord", "DashboardView"]


@dataclass(frozen=True)
class DashboardRecord:
    """A dashboard (PRD §3 ``dashboards``): ``scope`` is the project it belongs to (its charts'
    bare feature names and live tables are found there); ``parameters``, ``charts`` and
    ``layout`` are the definition as ``to_dict()`` values; ``published_url`` is the page's path
    under the server's base URL once published; ``snapshot_at`` the time of the stored snapshot."""

    id: str
    org: str
    scope: str
    name: str
    description: str | None
    parameters: list[dict[str, Any]]
    charts: list[dict[str, Any]]
    layout: dict[str, Any]
    published: bool
    published_url: str | None
    refresh_seconds: int | None
    owner: str
    snapshot_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def definition(self) -> dict[str, Any]:
        """The dashboard as PRD §13.1 writes it: what JSON/YAML renders and reads back."""
        out: dict[str, Any] = {"name": self.name, "description": self.description}
        out["parameters"] = [dict(p) for p in self.parameters]
        out["charts"] = [dict(c) for c in self.charts]
        out["layout"] = dict(self.layout)
        if self.refresh_seconds is not None:
            out["refresh_seconds"] = self.refresh_seconds
        return out


@dataclass(frozen=True)
class DashboardView:
    """A dashboard's charts drawn with bound parameters: each chart a Vega-Lite 5 spec with its
    data inline, or ``message`` (and no data) when it cannot be shown to the caller."""

    name: str
    parameters: dict[str, Any]
    rendered_at: datetime
    charts: list[dict[str, Any]] = field(default_factory=list)  # {"title", "spec" | None, "message" | None}
