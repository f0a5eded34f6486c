"""The dashboard in a notebook: its parameter controls and its charts, redrawn by Python.

The front end only shows controls and pictures. When a control changes it sets ``values``;
Python binds them with ``dashboard.view(values)`` and answers in ``charts``: per chart its title,
its Vega-Lite spec and that spec drawn as SVG (``vl_convert``, offline), or the message that stands
in for a chart the caller may not read. A refused value (``INVALID_PARAMETER``) lands in ``error``
and the last good charts stay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import traitlets

from raise_.errors import RaiseError
from raise_jupyter.widgets.base import STATIC, RaiseWidget, error_payload

if TYPE_CHECKING:
    from raise_.client.dashboards import Dashboard
    from raise_.dashboards.records import DashboardView

__all__ = ["DashboardWidget", "chart_svg"]


def chart_svg(spec: dict[str, Any]) -> str | None:
    """A Vega-Lite spec drawn as SVG text, or ``None`` when it cannot be drawn here."""
    try:
        import vl_convert
    except ImportError:  # pragma: no cover - vl-convert ships with the dashboards extra
        return None
    try:
        return str(vl_convert.vegalite_to_svg(spec))
    except Exception:
        return None


class DashboardWidget(RaiseWidget):
    """``DashboardWidget(fs.get_dashboard("engagement-overview"))`` (or ``dashboard.widget()``)."""

    _esm = STATIC / "dashboard.js"
    _css = STATIC / "dashboard.css"

    dashboard_name = traitlets.Unicode("").tag(sync=True)
    description = traitlets.Unicode("").tag(sync=True)
    #: The parameters as stored (``DashboardParameter.to_dict()``): what controls to draw.
    controls = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: The value of each parameter now, by name; the front end sets it when a control changes.
    values = traitlets.Dict().tag(sync=True)
    #: The bound parameters the charts were drawn with (as ``view`` answered them).
    bound = traitlets.Dict().tag(sync=True)
    #: ``[{"title", "spec" | None, "message" | None, "svg" | None}]``
    charts = traitlets.List(traitlets.Dict()).tag(sync=True)
    columns = traitlets.Int(1).tag(sync=True)
    error = traitlets.Dict().tag(sync=True)

    def __init__(self, dashboard: Dashboard, *, svg: bool = True, **kwargs: Any) -> None:
        self._dashboard = dashboard
        self._svg = svg
        self.last_view: DashboardView | None = None
        params = [p.to_dict() for p in dashboard.parameters]
        layout = dashboard.layout or {}
        columns = layout.get("columns", 1) if isinstance(layout, dict) else 1
        super().__init__(
            dashboard_name=dashboard.name,
            description=dashboard.description or "",
            controls=params,
            values={p["name"]: p.get("default") for p in params},
            columns=columns if isinstance(columns, int) and columns > 0 else 1,
            **kwargs,
        )
        self.on_msg(self._on_message)
        self.refresh()

    @property
    def dashboard(self) -> Dashboard:
        return self._dashboard

    @traitlets.observe("values")
    def _on_values(self, change: dict[str, Any]) -> None:
        self.refresh()

    def _on_message(self, widget: Any, content: Any, buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "refresh":
            self.refresh()

    def set_parameter(self, name: str, value: Any) -> DashboardView | None:
        """Set one control, as the front end does, and redraw."""
        self.values = {**self.values, name: value}
        return self.last_view

    def refresh(self) -> DashboardView | None:
        """Draw every chart with the current values; ``None`` (and ``error`` set) when refused."""
        parameters = {k: v for k, v in self.values.items() if v is not None}
        try:
            view = self._dashboard.view(parameters)
        except RaiseError as exc:
            self.error = error_payload(exc)
            return None
        self.error = {}
        self.last_view = view
        self.bound = _plain(view.parameters)
        cells = []
        for cell in view.charts:
            spec = cell.get("spec")
            cells.append(
                {
                    "title": cell.get("title"),
                    "spec": spec,
                    "message": cell.get("message"),
                    "svg": chart_svg(spec) if spec and self._svg else None,
                }
            )
        self.charts = _plain(cells)
        return view

    def __repr__(self) -> str:
        lines = [f"DashboardWidget({self.dashboard_name})"]
        if self.controls:
            shown = ", ".join(f"{c['name']}={self.values.get(c['name'])!r}" for c in self.controls)
            lines.append(f"  parameters: {shown}")
        for cell in self.charts:
            lines.append(f"  {cell['title']}: " + ("drawn" if cell.get("spec") else cell.get("message") or "empty"))
        if self.error:
            lines.append(f"  error: {self.error['text']}")
        return "\n".join(lines)


def _plain(value: Any) -> Any:
    """JSON-ready: dates as ISO text, tuples as lists, NaN as None (widget state is JSON)."""
    import json
    import math
    from datetime import date, datetime

    def default(o: Any) -> Any:
        if isinstance(o, datetime | date):
            return o.isoformat()
        if hasattr(o, "item"):  # numpy scalars
            return o.item()
        return str(o)

    def clean(o: Any) -> Any:
        if isinstance(o, float) and not math.isfinite(o):
            return None
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, list):
            return [clean(v) for v in o]
        return o

    return clean(json.loads(json.dumps(value, default=default)))
