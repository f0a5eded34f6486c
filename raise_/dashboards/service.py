"""The dashboard service (PRD §13): parameterised charts of analyses and live tables.

A dashboard belongs to an organization (names are unique there, PRD §3) and to the project it
was made in (its ``scope``): creating, changing and deleting it need write on that project,
reading its definition needs read there. Its charts read data, so **drawing a chart needs read
on every feature the chart reads**, checked for whoever looks: a chart the viewer may not read
says so and carries no data, while the others draw.

A chart's data is its analysis run through the analytics service (reusing a stored result of
the same data: a warm render costs no query) or its live table's rows; parameters are bound as
spec fields and query parameters (:mod:`raise_.dashboards.binding`), never pasted into SQL.

Publishing stores a snapshot (every chart drawn as the owner, with its time) that the server's
page ``{base_url}raise/dashboards/NAME`` shows, each chart checked against the viewer; the
snapshot is refreshed by the scheduler on the dashboard's interval and right after a live table
it draws refreshes.
"""

from __future__ import annotations

import contextvars
import json
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import yaml
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from raise_.analytics.service import AnalyticsService
from raise_.analytics.tables import result_frame
from raise_.catalog.lookup import find_organization, find_project
from raise_.catalog.namespace_service import NamespaceService
from raise_.catalog.org_scoped import audit_org_scoped, find_org_scoped
from raise_.catalog.paths import parse_project_path
from raise_.dashboards import binding
from raise_.dashboards.models import DashboardModel
from raise_.dashboards.records import DashboardRecord, DashboardView
from raise_.dashboards.specs import Chart, DashboardParameter, check_layout
from raise_.errors import (
    CrossOrgAccessError,
    DashboardExistsError,
    DashboardNotFoundError,
    InvalidArgumentError,
    LiveTableNotFoundError,
    PermissionDeniedError,
    RaiseError,
)
from raise_.governance.access import Level
from raise_.governance.context import Service, ServiceContext
from raise_.governance.guard import Target, filtered, guarded, internal
from raise_.governance.identity import acting_as
from raise_.live.models import LiveTableModel
from raise_.live.service import LiveTableService
from raise_.metadata.models import FeatureGroupModel
from raise_.metadata.naming import validate_namespace_name

if TYPE_CHECKING:
    from raise_.scheduling.scheduler import Scheduler

__all__ = ["DASHBOARD_REFRESH_KIND", "DashboardService", "register_dashboard_schedules"]

#: The scheduler's item kind that refreshes a published dashboard's snapshot.
DASHBOARD_REFRESH_KIND: Final = "dashboard-refresh"
FORMATS: Final = ("json", "yaml", "html")
DEFAULT_REFRESH_SECONDS: Final = 3600
#: Charts of one dashboard drawn at once.
DRAW_THREADS: Final = 4
#: Analysis results reused for a chart: any computed on exactly the data there is now.
_SAME_DATA: Final = "same_data"


def _item_name(dashboard_id: uuid.UUID | str) -> str:
    return f"dashboard:{dashboard_id}"


def page_path(org: str, name: str) -> str:
    """Where the server shows a published dashboard, under its base URL."""
    from urllib.parse import quote

    return f"raise/dashboards/{quote(name, safe='')}?org={quote(org, safe='')}"


def _record(row: DashboardModel, org: str) -> DashboardRecord:
    return DashboardRecord(
        id=str(row.id),
        org=org,
        scope=row.scope,
        name=row.name,
        description=row.description,
        parameters=[dict(p) for p in row.parameters or []],
        charts=[dict(c) for c in row.charts or []],
        layout=dict(row.layout or {}),
        published=bool(row.published),
        published_url=row.published_url,
        refresh_seconds=row.refresh_seconds,
        owner=row.owner,
        snapshot_at=row.snapshot_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _refresh_seconds(value: object) -> int | None:
    if value is None:
        return None
    from raise_.durations import parse_duration

    seconds = parse_duration(value, "refresh interval")
    if seconds < 60:
        raise InvalidArgumentError(f"A dashboard refreshes at most once a minute, got {value!r}.", {})
    return seconds


class DashboardService(Service):
    def __init__(
        self,
        context: ServiceContext,
        analytics: AnalyticsService,
        live: LiveTableService,
        namespaces: NamespaceService,
        *,
        schedules: Callable[[], Scheduler] | None = None,
    ) -> None:
        super().__init__(context)
        self.analytics = analytics
        self.live = live
        self.namespace_service = namespaces
        self._schedules = schedules
        self._snapshot_lock = threading.Lock()
        #: Called after a dashboard is published (the store's process starts its scheduler).
        self.on_published: list[Callable[[], None]] = []
        live.on_refreshed.append(self._live_table_refreshed)

    # -- rows -------------------------------------------------------------------------------------

    def _row(self, s: Any, project_path: str, name: object, level: Level = "read") -> DashboardModel:
        """The dashboard ``name`` of the project's organization, the caller's ``level`` on its
        project checked."""
        row = find_org_scoped(
            s, DashboardModel, project_path, name, what="dashboard", missing=DashboardNotFoundError,
            lister="fs.list_dashboards()",
        )  # fmt: skip
        self.authorize(level, Target.path(row.scope), f"{'read' if level == 'read' else 'change'} the dashboard of")
        return row

    def _audit(self, s: Any, action: str, row: DashboardModel, **details: Any) -> None:
        audit_org_scoped(s, self.actor(), action, row, "dashboard", "dashboards", **details)

    # -- the doors: definition --------------------------------------------------------------------

    @guarded("write", lambda a: Target.path(a["project_path"]), "create dashboards in")
    def create_dashboard(
        self,
        project_path: str,
        name: str,
        description: str | None = None,
        parameters: list[dict[str, Any]] | None = None,
        charts: list[dict[str, Any]] | None = None,
        layout: dict[str, Any] | None = None,
        refresh_seconds: int | str | None = None,
    ) -> DashboardRecord:
        """A dashboard in the project's organization (a whole definition may be given at once:
        what ``render(format="yaml")`` wrote reads back as the same dashboard)."""
        validate_namespace_name("dashboard", name)
        context = parse_project_path(project_path)
        if description is not None and not isinstance(description, str):
            raise InvalidArgumentError(f"description must be text, got {description!r}.", {})
        params = self._parameters(parameters or [])
        drawn = [self._resolve_chart(project_path, c, params) for c in (charts or [])]
        grid = check_layout(layout, len(drawn))
        interval = _refresh_seconds(refresh_seconds)
        try:
            with self.db.transaction() as s:
                org = find_organization(s, context.org)
                find_project(s, context.org, context.domain, context.project)
                taken = s.scalar(
                    select(DashboardModel.scope).where(DashboardModel.org_id == org.id, DashboardModel.name == name)
                )
                if taken is not None:
                    raise DashboardExistsError(
                        f"Dashboard {name!r} already exists in {context.org} (in {taken}); open it with "
                        f"fs.get_dashboard({name!r}) or delete it first.",
                        {"organization": context.org, "name": name},
                    )
                row = DashboardModel(
                    id=uuid.uuid4(),
                    org_id=org.id,
                    scope=str(context),
                    name=name,
                    description=description,
                    charts=drawn,
                    parameters=[p.to_dict() for p in params],
                    layout=grid,
                    published=False,
                    refresh_seconds=interval,
                    owner=self.actor(),
                )
                s.add(row)
                s.flush()
                self._audit(s, "CREATE", row, charts=len(drawn))
                return _record(row, context.org)
        except IntegrityError:
            raise DashboardExistsError(
                f"Dashboard {name!r} already exists in {context.org}.", {"organization": context.org, "name": name}
            ) from None

    @filtered("checks read on the dashboard's project")
    def get_dashboard(self, project_path: str, name: str) -> DashboardRecord:
        with self.db.reader() as s:
            row = self._row(s, project_path, name)
            return _record(row, parse_project_path(project_path).org)

    @filtered("lists the dashboards of the organization whose project the caller may read")
    def list_dashboards(self, project_path: str) -> list[DashboardRecord]:
        context = parse_project_path(project_path)
        with self.db.reader() as s:
            org = find_organization(s, context.org)
            rows = s.scalars(
                select(DashboardModel).where(DashboardModel.org_id == org.id).order_by(DashboardModel.name)
            ).all()
            return [_record(r, context.org) for r in rows if self.access.can("read", Target.path(r.scope))]

    @filtered("checks write on the dashboard's project")
    def update_dashboard(
        self,
        project_path: str,
        name: str,
        description: str | None = None,
        parameters: list[dict[str, Any]] | None = None,
        charts: list[dict[str, Any]] | None = None,
        layout: dict[str, Any] | None = None,
        refresh_seconds: int | str | None = None,
    ) -> DashboardRecord:
        """Change what is given (PATCH): the description, the parameters, the charts, the layout
        or the refresh interval; the rest stays."""
        with self.db.reader() as s:
            row = self._row(s, project_path, name, "write")
            scope = row.scope
            current_params = [DashboardParameter.from_dict(p) for p in row.parameters or []]
            current_charts = [dict(c) for c in row.charts or []]
            current_layout = dict(row.layout or {})
        if description is not None and not isinstance(description, str):
            raise InvalidArgumentError(f"description must be text, got {description!r}.", {})
        params = self._parameters(parameters) if parameters is not None else current_params
        drawn = [self._resolve_chart(scope, c, params) for c in charts] if charts is not None else current_charts
        interval = _refresh_seconds(refresh_seconds) if refresh_seconds is not None else None
        layout = layout if layout is not None else current_layout
        return self._store(project_path, name, description, params, drawn, layout, interval)

    def _store(
        self,
        project_path: str,
        name: str,
        description: str | None,
        params: list[DashboardParameter],
        drawn: list[dict[str, Any]],
        layout: dict[str, Any],
        interval: int | None,
    ) -> DashboardRecord:
        """Write a checked definition (charts already resolved and drawn once)."""
        grid = check_layout(layout, len(drawn))
        with self.db.transaction() as s:
            row = self._row(s, project_path, name, "write")
            if description is not None:
                row.description = description
            row.parameters = [p.to_dict() for p in params]
            row.charts = drawn
            row.layout = grid
            if interval is not None:
                row.refresh_seconds = interval
            self._audit(s, "UPDATE_METADATA", row, charts=len(drawn))
            record = _record(row, parse_project_path(project_path).org)
        if record.published:
            self._schedule(record)
        return record

    @filtered("checks write on the dashboard's project")
    def add_dashboard_parameter(self, project_path: str, name: str, parameter: dict[str, Any]) -> DashboardRecord:
        """Add a parameter (``DashboardParameter.to_dict()``); its name must be new."""
        added = DashboardParameter.from_dict(parameter)
        current = self.get_dashboard(project_path, name)
        if any(p["name"] == added.name for p in current.parameters):
            raise InvalidArgumentError(
                f"Dashboard {name!r} already has a parameter {added.name!r}.", {"parameter": added.name}
            )
        return self.update_dashboard(project_path, name, parameters=[*current.parameters, added.to_dict()])

    @filtered("checks write on the dashboard's project and read on what the chart reads")
    def add_dashboard_chart(self, project_path: str, name: str, chart: dict[str, Any]) -> DashboardRecord:
        """Add a chart (``Chart.to_dict()``): its source is resolved (the group of its features
        or live table), run once and checked to fit its chart type."""
        current = self.get_dashboard(project_path, name)
        params = [DashboardParameter.from_dict(p) for p in current.parameters]
        added = self._resolve_chart(current.scope, chart, params)  # the charts already there are not drawn again
        return self._store(project_path, name, None, params, [*current.charts, added], current.layout, None)

    @filtered("checks write on the dashboard's project")
    def delete_dashboard(self, project_path: str, name: str) -> bool:
        with self.db.transaction() as s:
            row = self._row(s, project_path, name, "write")
            self._audit(s, "DELETE", row)
            dashboard_id = row.id
            s.execute(delete(DashboardModel).where(DashboardModel.id == dashboard_id))
        self._unschedule(str(dashboard_id))
        return True

    # -- the doors: drawing -----------------------------------------------------------------------

    @filtered("checks read on the dashboard's project; each chart checks read on what it reads")
    def view_dashboard(self, project_path: str, name: str, parameters: dict[str, Any] | None = None) -> DashboardView:
        """Every chart drawn now with ``parameters`` bound (defaults for those not given)."""
        record = self.get_dashboard(project_path, name)
        return self._draw(record, parameters)

    @filtered("checks read on the dashboard's project; each chart checks read on what it reads")
    def render_dashboard(
        self, project_path: str, name: str, format: str = "json", parameters: dict[str, Any] | None = None
    ) -> str:
        """The dashboard as ``json`` or ``yaml`` (its definition, the bound parameters and each
        chart's Vega-Lite spec with its data: ``definition`` reads back as an equal dashboard)
        or ``html`` (one self-contained page, the Vega libraries inlined)."""
        if format not in FORMATS:
            raise InvalidArgumentError(f"Unknown format {format!r}: use one of {', '.join(FORMATS)}.", {})
        record = self.get_dashboard(project_path, name)
        view = self._draw(record, parameters)
        if format == "html":
            return self._html(record, view.charts, view.rendered_at, view.parameters)
        document = {
            "definition": record.definition(),
            "parameters": view.parameters,
            "rendered_at": view.rendered_at.isoformat(),
            "charts": view.charts,
        }
        if format == "json":
            return json.dumps(document, default=str, indent=2)
        return yaml.safe_dump(json.loads(json.dumps(document, default=str)), sort_keys=False, allow_unicode=True)

    @filtered("checks write on the dashboard's project")
    def publish_dashboard(self, project_path: str, name: str) -> DashboardRecord:
        """Store a snapshot and serve it at ``published_url`` (under the server's base URL),
        refreshed every ``refresh_seconds`` (an hour unless set) and when a live table it draws
        refreshes."""
        with self.db.transaction() as s:
            row = self._row(s, project_path, name, "write")
            row.published = True
            row.published_url = page_path(parse_project_path(project_path).org, row.name)
            if row.refresh_seconds is None:
                row.refresh_seconds = DEFAULT_REFRESH_SECONDS
            self._audit(s, "UPDATE_METADATA", row, published=True)
            dashboard_id = str(row.id)
        self.refresh_snapshot(dashboard_id)
        record = self.get_dashboard(project_path, name)
        self._schedule(record)
        for hook in list(self.on_published):
            hook()
        return record

    @filtered("checks write on the dashboard's project")
    def unpublish_dashboard(self, project_path: str, name: str) -> DashboardRecord:
        with self.db.transaction() as s:
            row = self._row(s, project_path, name, "write")
            row.published, row.published_url, row.snapshot, row.snapshot_at = False, None, None, None
            self._audit(s, "UPDATE_METADATA", row, published=False)
            dashboard_id = str(row.id)
        self._unschedule(dashboard_id)
        return self.get_dashboard(project_path, name)

    @filtered("checks read on the dashboard's project; each chart checks read on what it reads")
    def dashboard_page(self, org: str, name: str) -> str:
        """The published page: the stored snapshot, each chart the viewer may not read replaced by
        a message saying so."""
        row = self._published(org, name)
        snapshot = dict(row.snapshot or {})
        cells = []
        for chart, drawn in zip(row.charts or [], snapshot.get("charts", []), strict=False):
            denied = self._denied(chart)
            cells.append({"title": drawn.get("title"), "spec": None, "message": denied} if denied else drawn)
        record = _record(row, org)
        return self._html(record, cells, row.snapshot_at, snapshot.get("parameters") or {}, poll=True)

    @filtered("checks read on the dashboard's project")
    def dashboard_state(self, org: str, name: str) -> dict[str, Any]:
        """The published snapshot's time (the page polls it and reloads when it changes)."""
        row = self._published(org, name)
        return {"name": row.name, "snapshot_at": row.snapshot_at.isoformat() if row.snapshot_at else None}

    def _published(self, org: str, name: str) -> DashboardModel:
        with self.db.reader() as s:
            org_row = find_organization(s, org)
            row = s.scalar(
                select(DashboardModel).where(DashboardModel.org_id == org_row.id, DashboardModel.name == name)
            )
            if row is None or not row.published:
                raise DashboardNotFoundError(f"No published dashboard {name!r} in {org}.", {"name": name})
            self.authorize("read", Target.path(row.scope), "view the dashboard of")
            s.expunge(row)
            return row

    @internal
    def any_published(self) -> bool:
        with self.db.reader() as s:
            return s.scalar(select(DashboardModel.id).where(DashboardModel.published.is_(True)).limit(1)) is not None

    @internal
    def published_org(self, name: str) -> str:
        """The organization of the published dashboard ``name`` when the page's URL omits it:
        DASHBOARD_NOT_FOUND when none or several organizations publish one by that name."""
        from raise_.metadata.models import OrganizationModel

        with self.db.reader() as s:
            rows = s.execute(
                select(OrganizationModel.name)
                .join(DashboardModel, DashboardModel.org_id == OrganizationModel.id)
                .where(DashboardModel.name == name, DashboardModel.published.is_(True))
            ).all()
        orgs = sorted(r[0] for r in rows)
        if len(orgs) != 1:
            raise DashboardNotFoundError(
                f"No published dashboard {name!r}."
                if not orgs
                else f"Dashboards named {name!r} are published in {', '.join(orgs)}: add ?org=ORG.",
                {"name": name, "organizations": orgs},
            )
        return orgs[0]

    # -- snapshots --------------------------------------------------------------------------------

    @internal
    def refresh_snapshot(self, dashboard_id: str) -> dict[str, Any]:
        """Draw a published dashboard as its owner with its default parameters and store it."""
        from raise_.metadata.models import OrganizationModel

        with self.db.reader() as s:
            row = s.get(DashboardModel, uuid.UUID(dashboard_id))
            if row is None or not row.published:
                return {"skipped": "deleted or unpublished"}
            org = s.get(OrganizationModel, row.org_id)
            assert org is not None
            record, owner = _record(row, org.name), row.owner
        with self._snapshot_lock, acting_as(owner):
            view = self._draw(record, None)
        with self.db.transaction() as s:
            row = s.get(DashboardModel, uuid.UUID(dashboard_id))
            if row is None:
                return {"skipped": "deleted"}
            row.snapshot = json.loads(json.dumps({"parameters": view.parameters, "charts": view.charts}, default=str))
            row.snapshot_at = view.rendered_at
        return {"snapshot_at": view.rendered_at.isoformat(), "charts": len(view.charts)}

    def _live_table_refreshed(self, group_path: str, table: str) -> None:
        """A live table refreshed: re-snapshot the published dashboards that draw it (on a thread:
        the refresh does not wait for them)."""
        with self.db.reader() as s:
            rows = s.execute(
                select(DashboardModel.id, DashboardModel.charts).where(DashboardModel.published.is_(True))
            ).all()
        linked = [
            str(i)
            for i, charts in rows
            if any(c.get("live_table") == table and c.get("group") == group_path for c in charts or [])
        ]
        for dashboard_id in linked:
            threading.Thread(
                target=self._refresh_quietly, args=(dashboard_id,), name="raise-dashboard-refresh", daemon=True
            ).start()

    def _refresh_quietly(self, dashboard_id: str) -> None:
        try:
            self.refresh_snapshot(dashboard_id)
        except Exception:  # a failed snapshot keeps the last one; the next refresh tries again
            import logging

            logging.getLogger(__name__).exception("dashboard %s: the snapshot was not refreshed", dashboard_id)

    # -- drawing ----------------------------------------------------------------------------------

    def _parameters(self, parameters: list[Any]) -> list[DashboardParameter]:
        if not isinstance(parameters, list):
            raise InvalidArgumentError("parameters is a list of DashboardParameter values.", {})
        params = [DashboardParameter.from_dict(p) for p in parameters]
        names = [p.name for p in params]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise InvalidArgumentError(f"Two parameters are named {twice[0]!r}.", {"parameter": twice[0]})
        return params

    def _resolve_chart(self, scope: str, chart: Any, params: list[DashboardParameter]) -> dict[str, Any]:
        """The chart with its group found and its features named in it, after drawing it once
        with the parameters' defaults (a chart type that does not fit its data fails here)."""
        parsed = Chart.from_dict(chart)
        out = parsed.to_dict()
        if parsed.spec is not None:
            prepared = self.analytics.prepare(parsed.group or scope, parsed.spec)  # checks read
            out["group"] = prepared.layout.path
            out["analysis"] = prepared.spec.to_dict()
        else:
            out["group"] = self._live_table_group(scope, parsed.group, str(parsed.live_table))
        values = binding.bind_values(params, None)
        self._draw_chart(out, params, values)  # raises INVALID_CHART when it does not fit
        return out

    def _live_table_group(self, scope: str, group: str | None, table: str) -> str:
        if group is not None:
            path = group if group.count("/") == 3 else f"{scope}/{group}"
            self.live.get_live_table(path, table)  # exists, and the caller may read it
            return path
        context = parse_project_path(scope)
        with self.db.reader() as s:
            project = find_project(s, context.org, context.domain, context.project)
            groups = s.scalars(
                select(FeatureGroupModel.name)
                .join(LiveTableModel, LiveTableModel.group_id == FeatureGroupModel.id)
                .where(FeatureGroupModel.project_id == project.id, LiveTableModel.name == table)
            ).all()
        if len(groups) != 1:
            raise LiveTableNotFoundError(
                f"No live table {table!r} in {scope}; give group= when it is not there."
                if not groups
                else f"Live tables named {table!r} are in groups {', '.join(sorted(groups))}: give group=.",
                {"live_table": table, "groups": sorted(groups)},
            )
        path = f"{scope}/{groups[0]}"
        self.live.get_live_table(path, table)
        return path

    def _draw(self, record: DashboardRecord, parameters: dict[str, Any] | None) -> DashboardView:
        params = [DashboardParameter.from_dict(p) for p in record.parameters]
        values = binding.bind_values(params, parameters)

        def cell(chart: dict[str, Any]) -> dict[str, Any]:
            try:
                return {"title": chart["title"], "spec": self._draw_chart(chart, params, values), "message": None}
            except (PermissionDeniedError, CrossOrgAccessError) as exc:
                return {"title": chart["title"], "spec": None, "message": _denied_message(chart, exc)}
            except RaiseError as exc:  # the data changed under the chart (a dropped feature): say so
                return {"title": chart["title"], "spec": None, "message": f"[{exc.code}] {exc.message}"}

        charts = list(record.charts)
        if len(charts) <= 1:
            cells = [cell(c) for c in charts]
        else:
            # Charts run their analyses at once (DuckDB works outside the GIL): a cold render of
            # five charts takes about its slowest analysis, not their sum. Each thread runs in a
            # copy of this call's context (the actor, the request, the access guard).
            with ThreadPoolExecutor(min(len(charts), DRAW_THREADS), thread_name_prefix="raise-dashboard") as pool:
                futures = [pool.submit(contextvars.copy_context().run, cell, c) for c in charts]
                cells = [f.result() for f in futures]
        plain = json.loads(json.dumps(values, default=str))
        return DashboardView(record.name, plain, datetime.now(UTC), cells)

    def _draw_chart(
        self, chart: dict[str, Any], params: list[DashboardParameter], values: dict[str, Any]
    ) -> dict[str, Any]:
        group = str(chart["group"])
        if "analysis" in chart:
            spec = dict(chart["analysis"])
            columns = self._group_columns(group)
            bound = binding.bound_spec(spec, params, values, columns)
            record = self.analytics.analyze(group, bound, _SAME_DATA)
            frame = result_frame(record.type, record.data, record.spec)
            kind, shown = record.type, record.spec
        else:
            live = self.live.get_live_table(group, chart["live_table"])
            rows = self.live.query_live_table(group, chart["live_table"]).to_pandas()
            frame = binding.bound_frame(rows, params, values)
            kind, shown = "live_table", live.analysis
        from raise_.dashboards.charts import chart_spec, check_chart  # Altair, only when drawing

        chart_type = Chart.from_dict(chart).chart_type
        x, y, color = chart.get("x"), chart.get("y"), chart.get("color")
        check_chart(chart_type, kind, shown, frame, x, y, color)  # type: ignore[arg-type]
        return chart_spec(
            chart_type,  # type: ignore[arg-type]
            kind,
            shown,
            frame,
            title=chart["title"],
            x=x,
            y=y,
            color=color,
            width=chart.get("width"),
            height=chart.get("height"),
        )

    def _group_columns(self, group: str) -> list[str]:
        layout = self.analytics.storage.layout(group)
        names = [f.name for f in layout.latest()]
        return [*(layout.entity_keys or []), layout.event_time, *names]

    def _denied(self, chart: dict[str, Any]) -> str | None:
        """Why the caller may not see ``chart``'s data (None: they may)."""
        try:
            if "analysis" in chart:
                self.analytics.prepare(str(chart["group"]), dict(chart["analysis"]))
            else:
                live = self.live.get_live_table(str(chart["group"]), chart["live_table"])
                self.analytics.prepare(str(chart["group"]), live.analysis)
        except (PermissionDeniedError, CrossOrgAccessError) as exc:
            return _denied_message(chart, exc)
        except RaiseError as exc:
            return f"[{exc.code}] {exc.message}"
        return None

    def _html(
        self,
        record: DashboardRecord,
        cells: list[dict[str, Any]],
        at: datetime | None,
        parameters: dict[str, Any],
        *,
        poll: bool = False,
    ) -> str:
        from urllib.parse import quote

        from raise_.dashboards.html import HtmlCell, dashboard_html

        return dashboard_html(
            title=record.name,
            description=record.description,
            cells=[HtmlCell(c.get("title") or "", c.get("spec"), c.get("message")) for c in cells],
            layout=record.layout,
            snapshot_at=at,
            parameters=parameters,
            poll_url=f"{quote(record.name, safe='')}?org={quote(record.org, safe='')}&state=1" if poll else None,
            poll_seconds=min(60.0, float(record.refresh_seconds or 60)) if poll else None,
        )

    # -- schedules --------------------------------------------------------------------------------

    def _scheduler(self) -> Scheduler:
        if self._schedules is not None:
            return self._schedules()
        from raise_.scheduling.scheduler import Scheduler

        return Scheduler(self.db)

    def _schedule(self, record: DashboardRecord) -> None:
        self._scheduler().ensure(
            _item_name(record.id),
            DASHBOARD_REFRESH_KIND,
            every=float(record.refresh_seconds or DEFAULT_REFRESH_SECONDS),
            payload={"dashboard_id": record.id},
        )

    def _unschedule(self, dashboard_id: str) -> None:
        self._scheduler().remove(_item_name(dashboard_id))


def _denied_message(chart: dict[str, Any], exc: RaiseError) -> str:
    return f"You may not see this chart's data: {exc.message} Ask the owner of {chart.get('group')} for read access."


def register_dashboard_schedules(scheduler: Scheduler, dashboards: DashboardService) -> None:
    """Teach ``scheduler`` to refresh published dashboards' snapshots."""
    scheduler.register(
        DASHBOARD_REFRESH_KIND, lambda item: dashboards.refresh_snapshot(str(item.payload["dashboard_id"]))
    )
