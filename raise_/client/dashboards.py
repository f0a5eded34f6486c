"""``Dashboard``: parameterised charts of analyses and live tables (README *Dashboards*, PRD §13).

>>> dashboard = fs.create_dashboard(name="engagement-overview")                # doctest: +SKIP
>>> dashboard.add_chart(Chart(title="Daily clicks", analysis=Aggregation(...),
...                           chart_type=ChartType.LINE, x="date", y="sum"))   # doctest: +SKIP
>>> dashboard.render(format="html", parameters={"tier": "gold"})             # doctest: +SKIP
"""

from __future__ import annotations

import html
import warnings
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from raise_.dashboards.records import DashboardRecord, DashboardView
from raise_.dashboards.specs import Chart, DashboardParameter
from raise_.errors import InvalidArgumentError, InvalidFileError

if TYPE_CHECKING:
    from raise_.api.protocol import Backend

__all__ = ["Dashboard", "Dashboards", "definition_from_text"]


def definition_from_text(text: str) -> dict[str, Any]:
    """A dashboard definition from YAML or JSON: PRD §13.1's mapping, or what ``render``
    wrote (its ``definition``)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidFileError(f"The dashboard definition is not valid YAML or JSON: {exc}", {}) from None
    if isinstance(data, dict) and isinstance(data.get("definition"), dict):
        data = data["definition"]
    if not isinstance(data, dict):
        raise InvalidFileError("A dashboard definition is a mapping with charts, parameters and layout.", {})
    unknown = sorted(set(data) - {"name", "description", "parameters", "charts", "layout", "refresh_seconds"})
    if unknown:
        raise InvalidFileError(
            f"A dashboard definition has no field {unknown[0]!r} "
            "(name, description, parameters, charts, layout, refresh_seconds).",
            {"field": unknown[0]},
        )
    return data


class Dashboard:
    def __init__(self, backend: Backend, record: DashboardRecord, project: str, home: Path | None = None) -> None:
        self._backend = backend
        self._record = record
        self._project = project
        self._home = home  # an embedded store's folder: where publish() writes the snapshot

    # -- what it is -------------------------------------------------------------------------------

    @property
    def record(self) -> DashboardRecord:
        return self._record

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def description(self) -> str | None:
        return self._record.description

    @property
    def parameters(self) -> list[DashboardParameter]:
        return [DashboardParameter.from_dict(p) for p in self._record.parameters]

    @property
    def charts(self) -> list[Chart]:
        return [Chart.from_dict(c) for c in self._record.charts]

    @property
    def layout(self) -> dict[str, Any]:
        return dict(self._record.layout)

    @property
    def published(self) -> bool:
        return self._record.published

    @property
    def snapshot_at(self) -> datetime | None:
        return self._record.snapshot_at

    def definition(self) -> dict[str, Any]:
        """PRD §13.1's definition: what ``render(format="yaml")`` writes and
        ``fs.create_dashboard(definition=...)`` reads back."""
        return self._record.definition()

    def refresh(self) -> Dashboard:
        """Re-read the dashboard (its snapshot time, a change made elsewhere)."""
        return self.reload()

    def reload(self) -> Dashboard:
        self._record = self._backend.get_dashboard(self._project, self.name)
        return self

    # -- building ---------------------------------------------------------------------------------

    def add_parameter(self, parameter: DashboardParameter | dict[str, Any]) -> Dashboard:
        """Add a control (``DashboardParameter.date_range(...)``, ``.dropdown``, ``.slider``,
        ``.multi_select``) whose value is bound into the charts when the dashboard renders."""
        param = DashboardParameter.from_dict(parameter)
        self._record = self._backend.add_dashboard_parameter(self._project, self.name, param.to_dict())
        return self

    def add_chart(self, chart: Chart | dict[str, Any]) -> Dashboard:
        """Add a chart; it is drawn once now, so a chart type that does not fit its data fails
        here (``INVALID_CHART``) rather than drawing a blank picture."""
        self._record = self._backend.add_dashboard_chart(self._project, self.name, Chart.from_dict(chart).to_dict())
        return self

    def update(
        self,
        *,
        description: str | None = None,
        parameters: list[DashboardParameter | dict[str, Any]] | None = None,
        charts: list[Chart | dict[str, Any]] | None = None,
        layout: dict[str, Any] | None = None,
        refresh: str | int | None = None,
    ) -> Dashboard:
        """Change what is given: the description, parameters, charts, grid layout (PRD §13.1:
        ``{"type": "grid", "columns": 2, "rows": [{"charts": [0, 1]}]}``) or the refresh
        interval of the published page (``"15m"``)."""
        self._record = self._backend.update_dashboard(
            self._project,
            self.name,
            description,
            [DashboardParameter.from_dict(p).to_dict() for p in parameters] if parameters is not None else None,
            [Chart.from_dict(c).to_dict() for c in charts] if charts is not None else None,
            layout,
            refresh,
        )
        return self

    def delete(self) -> bool:
        return self._backend.delete_dashboard(self._project, self.name)

    # -- drawing ----------------------------------------------------------------------------------

    def view(self, parameters: dict[str, Any] | None = None) -> DashboardView:
        """Every chart drawn now with ``parameters`` bound: Vega-Lite specs (or, for a chart you
        may not read, a message)."""
        return self._backend.view_dashboard(self._project, self.name, parameters)

    def render(self, format: str = "json", parameters: dict[str, Any] | None = None) -> str:
        """The dashboard as ``"json"``, ``"yaml"`` (definition, bound parameters, each chart's
        Vega-Lite spec with its data) or ``"html"`` (one self-contained file, Vega inlined)."""
        return self._backend.render_dashboard(self._project, self.name, format, parameters)

    def save(self, path: str | Path, parameters: dict[str, Any] | None = None) -> Path:
        """Write the self-contained HTML to ``path`` (it opens offline in any browser)."""
        target = Path(path).expanduser()
        target.write_text(self.render("html", parameters), encoding="utf-8")
        return target

    def charts_for(self, parameters: dict[str, Any] | None = None) -> list[Any]:
        """The charts as Altair objects (they draw in JupyterLab), a denied one as its message."""
        import altair as alt

        out: list[Any] = []
        for cell in self.view(parameters).charts:
            out.append(alt.Chart.from_dict(cell["spec"]) if cell.get("spec") else cell.get("message"))
        return out

    def widget(self) -> Any:
        """The dashboard in the notebook: its charts with live parameter controls."""
        from raise_jupyter.widgets.dashboard import DashboardWidget

        return DashboardWidget(self)

    # -- publishing -------------------------------------------------------------------------------

    def publish(self) -> str:
        """Store a snapshot and serve it at ``{base_url}raise/dashboards/NAME`` (behind the
        Jupyter server's login), refreshed on the dashboard's interval and when a live table it
        draws refreshes. Without a server (an embedded store) the snapshot is written as an HTML
        file next to the store, and the warning says how to serve it."""
        self._record = self._backend.publish_dashboard(self._project, self.name)
        path = self._record.published_url or ""
        base = getattr(self._backend, "url", None)
        if isinstance(base, str) and base:
            return base.rstrip("/") + "/" + path
        folder = (self._home or Path.cwd()) / "dashboards"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{self._record.org}--{self.name}.html"
        target.write_text(self.render("html"), encoding="utf-8")
        warnings.warn(
            f"No Jupyter server hosts this store, so the snapshot was written to {target}. Serve the store "
            f"with `raise serve` (or JupyterLab with RAISE_HOME set to it) to see it at "
            f"{{base_url}}{path}, refreshed on its interval.",
            UserWarning,
            stacklevel=2,
        )
        return target.as_uri()

    def published_page(self) -> str:
        """The published page as you see it: the stored snapshot, with each chart you may not
        read replaced by a message (what ``{base_url}raise/dashboards/NAME`` serves you)."""
        return self._backend.dashboard_page(self._record.org, self.name)

    def snapshot_time(self) -> datetime | None:
        """When the published snapshot was last drawn (the page polls this to reload)."""
        state = self._backend.dashboard_state(self._record.org, self.name)
        at = state.get("snapshot_at")
        return datetime.fromisoformat(at) if isinstance(at, str) else None

    def unpublish(self) -> Dashboard:
        self._record = self._backend.unpublish_dashboard(self._project, self.name)
        return self

    def __repr__(self) -> str:
        return f"Dashboard({self.name!r}, charts={len(self._record.charts)})"

    def _repr_html_(self) -> str:
        r = self._record
        rows = "".join(
            f"<li>{html.escape(c['title'])} <code>{html.escape(c['chart_type'])}</code></li>" for c in r.charts
        )
        params = ", ".join(html.escape(p["name"]) for p in r.parameters) or "none"
        state = f"published ({html.escape(r.published_url or '')})" if r.published else "not published"
        return (
            f"<b>Dashboard {html.escape(r.name)}</b> <code>{html.escape(r.scope)}</code> · {state}"
            f"<br>parameters: {params}<ul>{rows}</ul>"
        )


class Dashboards:
    """Mixed into ``FeatureStore``: the dashboards of its organization."""

    _backend: Backend

    @property
    def path(self) -> str:
        raise NotImplementedError

    @property
    def home(self) -> Path:
        raise NotImplementedError

    def _dashboard(self, record: DashboardRecord) -> Dashboard:
        return Dashboard(self._backend, record, self.path, self.home)

    def create_dashboard(
        self,
        name: str | None = None,
        description: str | None = None,
        *,
        definition: dict[str, Any] | str | None = None,
        refresh: str | int | None = None,
    ) -> Dashboard:
        """A new dashboard of this project (its name unique in the organization); add parameters
        and charts to it, or give a whole ``definition`` (PRD §13.1 as a mapping, YAML or JSON:
        what ``render(format="yaml")`` wrote)."""
        parameters = charts = layout = None
        if definition is not None:
            data = definition_from_text(definition) if isinstance(definition, str) else dict(definition)
            name = name or data.get("name")
            description = description if description is not None else data.get("description")
            parameters, charts, layout = data.get("parameters"), data.get("charts"), data.get("layout")
            refresh = refresh if refresh is not None else data.get("refresh_seconds")
        if not isinstance(name, str):
            raise InvalidArgumentError("Give the dashboard a name: fs.create_dashboard(name='overview').", {})
        record = self._backend.create_dashboard(
            self.path,
            name,
            description,
            [DashboardParameter.from_dict(p).to_dict() for p in parameters or []],
            [Chart.from_dict(c).to_dict() for c in charts or []],
            layout,
            refresh,
        )
        return self._dashboard(record)

    def get_dashboard(self, name: str) -> Dashboard:
        return self._dashboard(self._backend.get_dashboard(self.path, name))

    def list_dashboards(self) -> list[Dashboard]:
        return [self._dashboard(r) for r in self._backend.list_dashboards(self.path)]

    def delete_dashboard(self, name: str) -> bool:
        return self._backend.delete_dashboard(self.path, name)
