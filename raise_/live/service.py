"""The live-table service (PRD §12): analyses kept materialized in the offline store and
refreshed on change, on a schedule or on demand.

A live table belongs to a group and runs one analysis spec of the analytics service. Its result
is a table of the offline store, replaced in one commit with its checkpoint (the commits of
each source group it consumed), so a query sees one whole refresh and a failed refresh leaves
the last good one (:mod:`raise_.storage.materialized`). Each refresh is a run of kind
``live-refresh`` (:mod:`raise_.live.refresh`), started on a thread **as the table's owner** and
recorded in ``live_table_refresh_history``; a decomposable aggregation whose sources only had
appends merges the new rows into its partials (:mod:`raise_.live.incremental`).

Who may do what: creating, refreshing, pausing, resuming and deleting need write on the group;
reading the table's definition and history needs read on the group; querying its rows needs
read on every feature its analysis reads (the rows are that data), and writes a ``QUERY``
entry. Refreshes are audited as ``QUERY`` entries of the owner, as the analysis would be.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from raise_.analytics.refresh_policy import RefreshPolicy
from raise_.analytics.service import AnalyticsService
from raise_.analytics.specs import Aggregation
from raise_.analytics.tables import result_frame
from raise_.catalog.lookup import find_group
from raise_.catalog.namespace_service import NamespaceService, group_path_parts
from raise_.errors import (
    InvalidArgumentError,
    LiveTableExistsError,
    LiveTableNotFoundError,
    RaiseError,
    error_class_for_code,
)
from raise_.expressions import compile_predicate
from raise_.governance import audit
from raise_.governance.context import Service, ServiceContext
from raise_.governance.guard import Target, guarded, internal
from raise_.governance.identity import acting_as
from raise_.live import incremental
from raise_.live.models import LiveTableModel, LiveTableRefreshModel
from raise_.live.records import LiveTableRecord, RefreshEventRecord
from raise_.metadata.models import DomainModel, FeatureGroupModel, OrganizationModel, ProjectModel
from raise_.metadata.naming import validate_namespace_name
from raise_.runs.service import RunService
from raise_.storage.offline_store import quote
from raise_.storage.records import Checkpoint
from raise_.storage.service import StorageService
from raise_.types.dtypes import IntegerType

if TYPE_CHECKING:
    from raise_.scheduling.scheduler import Scheduler

__all__ = ["LIVE_REFRESH_KIND", "LIVE_SCHEDULE_KIND", "LiveTableService", "register_live_schedules"]

#: The run kind of a refresh (its handler: raise_.live.refresh:run_live_refresh).
LIVE_REFRESH_KIND: Final = "live-refresh"
#: The scheduler's item kind for a live table on hourly, daily or cron refresh.
LIVE_SCHEDULE_KIND: Final = "live-table-refresh"
STATUSES: Final = ("active", "paused", "failed")
MAX_QUERY_LIMIT: Final = 10_000_000


def _item_name(table_id: uuid.UUID | str) -> str:
    return f"live-table:{table_id}"


def _path_of(group: FeatureGroupModel, s: Any) -> str:
    project = s.get(ProjectModel, group.project_id)
    domain = s.get(DomainModel, project.domain_id)
    org = s.get(OrganizationModel, domain.org_id)
    return f"{org.name}/{domain.name}/{project.name}/{group.name}"


def _record(row: LiveTableModel, group_path: str, columns: list[str] | None = None) -> LiveTableRecord:
    return LiveTableRecord(
        id=str(row.id),
        group=group_path,
        name=row.name,
        description=row.description,
        analysis=dict(row.analysis_spec),
        refresh_policy=dict(row.refresh_policy),
        status=row.status,
        last_refresh=row.last_refresh,
        row_count=int(row.row_count or 0),
        storage_path=row.storage_path,
        owner=row.owner,
        created_at=row.created_at,
        updated_at=row.updated_at,
        error_code=row.error_code,
        error_message=row.error_message,
        sources=list(row.sources or []),
        columns=list(columns or []),
    )


def _event(row: LiveTableRefreshModel) -> RefreshEventRecord:
    return RefreshEventRecord(
        id=str(row.id),
        live_table_id=str(row.live_table_id),
        status=row.status,
        trigger=row.trigger,
        started_at=row.started_at,
        completed_at=row.completed_at,
        rows_processed=row.rows_processed,
        error_code=row.error_code,
        error_message=row.error_message,
        mode=row.mode,
        duration_ms=row.duration_ms,
        run_id=str(row.run_id) if row.run_id else None,
    )


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    """A result table as Arrow: columns of mixed values (a version diff's old/new) become text."""
    frame = frame.reset_index(names="feature") if not isinstance(frame.index, pd.RangeIndex) else frame
    frame.columns = [str(c) for c in frame.columns]
    arrays = {}
    for name in frame.columns:
        try:
            arrays[name] = pa.array(frame[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            arrays[name] = pa.array([None if v is None else str(v) for v in frame[name]], type=pa.string())
    return pa.table(arrays) if arrays else pa.table({})


class LiveTableService(Service):
    def __init__(
        self,
        context: ServiceContext,
        analytics: AnalyticsService,
        storage: StorageService,
        namespaces: NamespaceService,
        *,
        runs: RunService,
        schedules: Callable[[], Scheduler] | None = None,
    ) -> None:
        super().__init__(context)
        self.analytics = analytics
        self.storage = storage
        self.namespace_service = namespaces
        self.runs = runs
        self._schedules = schedules
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        #: Called after a table is created, changed or deleted (the follower re-reads what to follow).
        self.on_tables_changed: list[Callable[[], None]] = []
        #: Called with (group path, table name) after each successful refresh (dashboards redraw).
        self.on_refreshed: list[Callable[[str, str], None]] = []

    # -- rows -------------------------------------------------------------------------------------

    def _group_row(self, s: Any, group_path: str) -> FeatureGroupModel:
        """The group's row, in the caller's session (the door checked access to the group)."""
        return find_group(s, *group_path_parts(group_path)).model

    def _row(self, s: Any, group_path: str, name: object) -> LiveTableModel:
        group = self._group_row(s, group_path)
        if not isinstance(name, str):
            raise InvalidArgumentError(f"A live table's name is text, got {name!r}.", {"name": repr(name)})
        row: LiveTableModel | None = s.scalar(
            select(LiveTableModel).where(LiveTableModel.group_id == group.id, LiveTableModel.name == name)
        )
        if row is None:
            raise LiveTableNotFoundError(
                f"No live table {name!r} in {group_path}; group.list_live_tables() lists them.",
                {"group": group_path, "name": name},
            )
        return row

    def _columns(self, table_id: str) -> list[str]:
        return self.storage.offline.materialized_columns(uuid.UUID(table_id).hex)

    def _audit(self, s: Any, action: str, row: LiveTableModel, group_path: str, **details: Any) -> None:
        audit.record(
            s,
            actor=self.actor(),
            action=action,
            resource_type="live_table",
            resource_id=row.id,
            resource_path=f"{group_path}/live-tables/{row.name}",
            org_id=None,
            details={"live_table": row.name, "group": group_path, **details},
        )

    # -- the doors --------------------------------------------------------------------------------

    @guarded("write", lambda a: Target.path(a["group_path"]), "create live tables in")
    def create_live_table(
        self,
        group_path: str,
        name: str,
        analysis: dict[str, Any],
        refresh: str | dict[str, Any] = "on_change",
        description: str | None = None,
    ) -> LiveTableRecord:
        """Create a live table of ``analysis`` (a spec's ``to_dict()``) on the group, refreshed
        as ``refresh`` says, and compute it now (a failure creates nothing)."""
        validate_namespace_name("live table", name)
        policy = RefreshPolicy.parse(refresh)
        if description is not None and not isinstance(description, str):
            raise InvalidArgumentError(f"description must be text, got {description!r}.", {})
        prepared = self.analytics.prepare(group_path, analysis)  # a bad spec or a denied feature fails now
        sources = sorted(g.path for g in self.analytics.sources(prepared))
        table_id = uuid.uuid4()
        try:
            with self.db.transaction() as s:
                group = self._group_row(s, group_path)
                taken = s.scalar(
                    select(LiveTableModel.id).where(LiveTableModel.group_id == group.id, LiveTableModel.name == name)
                )
                if taken is not None:
                    raise LiveTableExistsError(
                        f"Live table {name!r} already exists in {group_path}; open it with "
                        f"group.get_live_table({name!r}) or delete it first.",
                        {"group": group_path, "name": name},
                    )
                row = LiveTableModel(
                    id=table_id,
                    group_id=group.id,
                    name=name,
                    description=description,
                    analysis_spec=prepared.spec.to_dict(),
                    refresh_policy=policy.to_dict(),
                    status="active",
                    row_count=0,
                    storage_path=f"{self.storage.offline.__class__.__name__}:_live_{table_id.hex}",
                    owner=self.actor(),
                    sources=sources,
                    cursors={},
                )
                s.add(row)
                s.flush()
                self._audit(s, "CREATE", row, group_path, analysis=prepared.spec.type, refresh=policy.to_dict())
        except IntegrityError:
            raise LiveTableExistsError(
                f"Live table {name!r} already exists in {group_path}.", {"group": group_path, "name": name}
            ) from None
        event = self.refresh_now(str(table_id), "created")
        if event.status != "completed":
            self._remove(str(table_id))
            raise error_class_for_code(event.error_code or "ANALYSIS_FAILED")(
                f"Live table {name!r} was not created: its first refresh failed: {event.error_message}",
                {"group": group_path, "name": name},
            )
        self._schedule(str(table_id), policy, enabled=True)
        self._changed()
        return self.get_live_table(group_path, name)

    @guarded("read", lambda a: Target.path(a["group_path"]), "read the live tables of")
    def get_live_table(self, group_path: str, name: str) -> LiveTableRecord:
        with self.db.reader() as s:
            row = self._row(s, group_path, name)
            s.expunge(row)
        return _record(row, group_path, self._columns(str(row.id)))

    @guarded("read", lambda a: Target.path(a["group_path"]), "list the live tables of")
    def list_live_tables(self, group_path: str) -> list[LiveTableRecord]:
        with self.db.reader() as s:
            group = self._group_row(s, group_path)
            rows = s.scalars(
                select(LiveTableModel).where(LiveTableModel.group_id == group.id).order_by(LiveTableModel.name)
            ).all()
            for r in rows:
                s.expunge(r)
        return [_record(r, group_path, self._columns(str(r.id))) for r in rows]

    @guarded("write", lambda a: Target.path(a["group_path"]), "delete live tables of")
    def delete_live_table(self, group_path: str, name: str) -> bool:
        """Delete the table, its data and its history."""
        with self.db.reader() as s:
            row = self._row(s, group_path, name)
            table_id = str(row.id)
        with self._lock(table_id):  # not under a refresh of it (which would write its data back)
            with self.db.transaction() as s:
                row = self._row(s, group_path, name)
                self._audit(s, "DELETE", row, group_path)
            self._remove(table_id)
        self._changed()
        return True

    def _remove(self, table_id: str) -> None:
        key = uuid.UUID(table_id)
        self._unschedule(table_id)
        self.storage.offline.drop_materialized(key.hex)
        with self.db.transaction() as s:
            s.execute(delete(LiveTableRefreshModel).where(LiveTableRefreshModel.live_table_id == key))
            s.execute(delete(LiveTableModel).where(LiveTableModel.id == key))

    @guarded("write", lambda a: Target.path(a["group_path"]), "pause live tables of")
    def pause_live_table(self, group_path: str, name: str) -> LiveTableRecord:
        """Stop automatic refreshes (a manual ``refresh()`` still runs); the data stays queryable."""
        return self._set_paused(group_path, name, True)

    @guarded("write", lambda a: Target.path(a["group_path"]), "resume live tables of")
    def resume_live_table(self, group_path: str, name: str) -> LiveTableRecord:
        """Refresh automatically again (an on-change table catches up at once)."""
        record = self._set_paused(group_path, name, False)
        if RefreshPolicy.parse(record.refresh_policy).follows_changes:
            self._changed()
        return record

    def _set_paused(self, group_path: str, name: str, paused: bool) -> LiveTableRecord:
        with self.db.transaction() as s:
            row = self._row(s, group_path, name)
            if paused:
                row.status = "paused"
            elif row.status == "paused":
                row.status = "failed" if row.error_code else "active"
            self._audit(s, "UPDATE_METADATA", row, group_path, status=row.status)
            table_id, policy = str(row.id), RefreshPolicy.parse(row.refresh_policy)
        self._schedule(table_id, policy, enabled=not paused)
        self._changed()
        return self.get_live_table(group_path, name)

    @guarded("write", lambda a: Target.path(a["group_path"]), "refresh live tables of")
    def refresh_live_table(self, group_path: str, name: str) -> RefreshEventRecord:
        """Refresh now (as the table's owner), whatever its policy; the refresh's event."""
        with self.db.reader() as s:
            table_id = str(self._row(s, group_path, name).id)
        return self.refresh_now(table_id, "manual")

    @guarded("read", lambda a: Target.path(a["group_path"]), "read the refresh history of")
    def live_table_history(self, group_path: str, name: str, limit: int = 20) -> list[RefreshEventRecord]:
        """The table's refreshes, newest first."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise InvalidArgumentError(f"limit must be a positive whole number, got {limit!r}.", {"limit": repr(limit)})
        with self.db.reader() as s:
            row = self._row(s, group_path, name)
            events = s.scalars(
                select(LiveTableRefreshModel)
                .where(LiveTableRefreshModel.live_table_id == row.id)
                .order_by(LiveTableRefreshModel.started_at.desc(), LiveTableRefreshModel.id)
                .limit(limit)
            ).all()
            return [_event(e) for e in events]

    @guarded("read", lambda a: Target.path(a["group_path"]), "query the live tables of")
    def query_live_table(
        self,
        group_path: str,
        name: str,
        filter: str | None = None,
        columns: list[str] | None = None,
        limit: int | None = None,
    ) -> pa.Table:
        """The table's rows (of its last good refresh): ``filter`` is a predicate over its
        columns, bound as parameters; ``columns`` a projection; ``limit`` the most rows."""
        with self.db.reader() as s:
            row = self._row(s, group_path, name)
            table_id, spec = str(row.id), dict(row.analysis_spec)
        # The rows are the analysis' data: the caller must be allowed to read every feature of it.
        prepared = self.analytics.prepare(group_path, spec)
        relation = self.storage.offline.materialized_relation(uuid.UUID(table_id).hex)
        stored = self._columns(table_id)
        chosen = self._projection(columns, stored, name)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not limit >= 0):
            raise InvalidArgumentError(f"limit must be a whole number >= 0, got {limit!r}.", {"limit": repr(limit)})
        params: dict[str, Any] = {}
        where = ""
        if filter is not None:
            predicate = compile_predicate(filter, {c: c for c in stored}, prefix="lt")
            where, params = f" WHERE {predicate.sql}", dict(predicate.params)
        if relation is None:
            result = pa.table({c: pa.array([], type=pa.null()) for c in chosen})
        else:
            cols = ", ".join(quote(c) for c in chosen)
            sql = f"SELECT {cols} FROM {relation}{where}"
            if limit is not None:
                sql += f" LIMIT {min(int(limit), MAX_QUERY_LIMIT)}"
            result = self.storage.store.query_arrow(sql, params)
        self.storage.audit_data(
            prepared.layout,
            "QUERY",
            list(prepared.columns.values()),
            {"live_table": name, "filter": filter, "columns": columns, "limit": limit},
            kind="live_table",
            live_table=name,
            rows=result.num_rows,
        )
        return result

    @staticmethod
    def _projection(columns: object, stored: list[str], name: str) -> list[str]:
        if columns is None:
            return stored
        if isinstance(columns, str) or not isinstance(columns, list | tuple) or not columns:
            raise InvalidArgumentError(
                f"columns must be a non-empty list of column names, got {columns!r}.", {"columns": repr(columns)}
            )
        unknown = [c for c in columns if c not in stored]
        if unknown:
            raise InvalidArgumentError(
                f"Live table {name!r} has no column {unknown[0]!r}; its columns are: {', '.join(stored)}.",
                {"column": str(unknown[0]), "columns": stored},
            )
        return [str(c) for c in columns]

    # -- refreshing -------------------------------------------------------------------------------

    def _lock(self, table_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(table_id, threading.Lock())

    @internal
    def refresh_now(self, table_id: str, trigger: str) -> RefreshEventRecord:
        """Refresh the table as its owner: a run of kind ``live-refresh`` on this process's
        threads, waited for; its event."""
        with self.db.reader() as s:
            row = s.get(LiveTableModel, uuid.UUID(table_id))
            if row is None:
                raise LiveTableNotFoundError(f"No live table {table_id}.", {"id": table_id})
            owner = row.owner
        with acting_as(owner):
            run = self.runs.submit(
                LIVE_REFRESH_KIND, {"live_table_id": table_id, "trigger": trigger}, trigger=f"live:{trigger}"
            )
        run = self.runs.wait(run.id)
        with self.db.reader() as s:
            event = s.scalar(select(LiveTableRefreshModel).where(LiveTableRefreshModel.run_id == uuid.UUID(run.id)))
            if event is not None:
                return _event(event)
        # The run ended before it could record an event (it was cancelled, or its process died).
        now = datetime.now(UTC)
        code, message = (run.error.code, run.error.message) if run.error else ("LIVE_REFRESH_FAILED", run.status)
        return RefreshEventRecord(str(uuid.uuid4()), table_id, "failed", trigger, now, now, None, code, message)

    @internal
    def behind(self, table_id: str) -> bool:
        """Whether a source of the table has commits the table has not consumed (cheap). A
        paused table is never behind: a follow-up the follower queued before the pause must not
        refresh it."""
        with self.db.reader() as s:
            row = s.get(LiveTableModel, uuid.UUID(table_id))
            if row is None or row.status == "paused":
                return False
            sources, cursors = list(row.sources or []), dict(row.cursors or {})
        # No access check here (the refresh, as the owner, checks): the commit log names groups by path.
        wanted = set(sources)
        oldest = min((int(cursors.get(p, 0)) for p in sources), default=0)
        return any(
            e.group_path in wanted and e.commit_id > int(cursors.get(e.group_path, 0))
            for e in self.storage.offline.commits_after(oldest)
        )

    @internal
    def following(self) -> list[tuple[str, str, list[str]]]:
        """(id, owner, sources) of every active table refreshed on change."""
        with self.db.reader() as s:
            rows = s.execute(
                select(
                    LiveTableModel.id, LiveTableModel.owner, LiveTableModel.sources, LiveTableModel.refresh_policy
                ).where(LiveTableModel.status != "paused")
            ).all()
        return [(str(i), o, list(src or [])) for i, o, src, pol in rows if (pol or {}).get("type") == "on_change"]

    @internal
    def any_live_tables(self) -> bool:
        with self.db.reader() as s:
            return s.scalar(select(LiveTableModel.id).limit(1)) is not None

    @internal
    def run_scheduled(self, table_id: str) -> dict[str, Any]:
        """A scheduled refresh (the scheduler's item for the table)."""
        with self.db.reader() as s:
            row = s.get(LiveTableModel, uuid.UUID(table_id))
            paused = row is None or row.status == "paused"
        if paused:
            return {"skipped": "paused or deleted"}
        event = self.refresh_now(table_id, "scheduled")
        return {"event": event.id, "status": event.status}

    @internal
    def execute_refresh(self, table_id: str, trigger: str, run_id: str | None = None) -> RefreshEventRecord:
        """The refresh itself (the ``live-refresh`` run's handler, as the owner)."""
        with self._lock(table_id):
            return self._execute(table_id, trigger, run_id)

    def _execute(self, table_id: str, trigger: str, run_id: str | None) -> RefreshEventRecord:
        key = uuid.UUID(table_id)
        started = datetime.now(UTC)
        clock = time.perf_counter()
        with self.db.transaction() as s:
            row = s.get(LiveTableModel, key)
            if row is None:
                raise LiveTableNotFoundError(f"No live table {table_id}.", {"id": table_id})
            group_row = s.get(FeatureGroupModel, row.group_id)
            assert group_row is not None  # a live table's group is never deleted under it
            group_path = _path_of(group_row, s)
            spec_data = dict(row.analysis_spec)
            event = LiveTableRefreshModel(
                id=uuid.uuid4(),
                live_table_id=key,
                status="running",
                started_at=started,
                trigger=trigger,
                run_id=uuid.UUID(run_id) if run_id else None,
            )
            s.add(event)
            table_name = row.name
        try:
            outcome = self._materialize(key, group_path, spec_data, run_id)
        except RaiseError as exc:
            return self._finish(event.id, key, clock, error=(exc.code, exc.message))
        except Exception as exc:  # a bug or a store failure: recorded, never lost
            return self._finish(event.id, key, clock, error=("LIVE_REFRESH_FAILED", f"{type(exc).__name__}: {exc}"))
        finished = self._finish(event.id, key, clock, outcome=outcome)
        for hook in list(self.on_refreshed):
            hook(group_path, table_name)
        return finished

    def _materialize(
        self, key: uuid.UUID, group_path: str, spec_data: dict[str, Any], run_id: str | None
    ) -> dict[str, Any]:
        offline = self.storage.offline
        name = key.hex
        prepared = self.analytics.prepare(group_path, spec_data)
        spec = prepared.spec
        sources = self.analytics.sources(prepared)
        shape = prepared.spec_hash
        own_only = [g.path for g in sources] == [prepared.layout.path] and all(
            c.derived_from is None for c in prepared.columns.values()
        )
        decomposable = isinstance(spec, Aggregation) and incremental.is_decomposable(spec) and own_only
        with offline.snapshot():  # the cursors and the rows read are of one moment
            before = offline.materialized_checkpoint(name)
            since = before.cursors.get(prepared.layout.path, 0) if before is not None else 0
            cursors = {g.path: (before.cursors.get(g.path, 0) if before else 0) for g in sources}
            unseen = [
                e
                for e in offline.commits_after(min(cursors.values(), default=0), sources)
                if e.commit_id > cursors[e.group_path]
            ]
            for e in unseen:
                cursors[e.group_path] = max(cursors[e.group_path], e.commit_id)
            new_commits = [e for e in unseen if e.group_path == prepared.layout.path]
            state_relation = offline.materialized_relation(name, state=True)
            can_merge = (
                decomposable
                and before is not None
                and before.shape == shape
                and state_relation is not None
                and all(e.kind == "append" for e in new_commits)
                and offline.replaced_rows_after(prepared.layout, since) == 0
            )
            state: pa.Table | None = None
            if decomposable:
                assert isinstance(spec, Aggregation)
                store = self.storage.store
                if can_merge:
                    new = incremental.partials_table(self.analytics.rows(prepared, since_commit=since), spec)
                    state = incremental.merge_tables(store, state_relation, new, spec)
                    mode = "incremental"
                else:
                    new = incremental.partials_table(self.analytics.rows(prepared), spec)
                    state = incremental.merge_tables(store, None, new, spec)
                    mode = "full"
                processed = int(pc.sum(new.column("_a_n")).as_py() or 0)
                column = prepared.columns.get(spec.feature)
                integer_sum = column is not None and isinstance(column.dtype, IntegerType)
                frame = incremental.assemble(store, state, spec, integer_sum)
            else:
                data = self.analytics.compute(prepared)
                frame = result_frame(spec.type, data, spec.to_dict())
                mode, processed = "full", None
        table = _to_arrow(frame)
        offline.put_materialized(name, table, state, Checkpoint(cursors, shape, run_id))
        self.storage.audit_data(
            prepared.layout,
            "QUERY",
            list(prepared.columns.values()),
            {"live_table_refresh": str(key), "analysis": spec.to_dict()},
            kind="live_table_refresh",
            live_table=str(key),
            mode=mode,
            rows=processed,
        )
        return {
            "rows": table.num_rows,
            "processed": processed,
            "mode": mode,
            "cursors": cursors,
            "sources": sorted(g.path for g in sources),
        }

    def _finish(
        self,
        event_id: uuid.UUID,
        key: uuid.UUID,
        clock: float,
        *,
        outcome: dict[str, Any] | None = None,
        error: tuple[str, str] | None = None,
    ) -> RefreshEventRecord:
        ended = datetime.now(UTC)
        with self.db.transaction() as s:
            event = s.get(LiveTableRefreshModel, event_id)
            row = s.get(LiveTableModel, key)
            assert event is not None
            event.completed_at = ended
            event.duration_ms = (time.perf_counter() - clock) * 1000.0
            if outcome is not None:
                event.status = "completed"
                event.rows_processed = outcome["processed"] if outcome["processed"] is not None else outcome["rows"]
                event.mode = outcome["mode"]
                if row is not None:
                    row.last_refresh = ended
                    row.row_count = int(outcome["rows"])
                    row.cursors = {k: int(v) for k, v in outcome["cursors"].items()}
                    row.sources = outcome["sources"]
                    row.error_code = row.error_message = None
                    if row.status == "failed":
                        row.status = "active"
            else:
                assert error is not None
                event.status = "failed"
                event.error_code, event.error_message = error
                if row is not None:
                    row.error_code, row.error_message = error
                    if row.status != "paused":
                        row.status = "failed"
            s.flush()
            return _event(event)

    # -- schedules --------------------------------------------------------------------------------

    def _scheduler(self) -> Scheduler:
        if self._schedules is not None:
            return self._schedules()
        from raise_.scheduling.scheduler import Scheduler

        return Scheduler(self.db)

    def _schedule(self, table_id: str, policy: RefreshPolicy, *, enabled: bool) -> None:
        if policy.schedule is None:
            return
        self._scheduler().ensure(
            _item_name(table_id),
            LIVE_SCHEDULE_KIND,
            cron=policy.schedule,
            payload={"live_table_id": table_id},
            enabled=enabled,
        )

    def _unschedule(self, table_id: str) -> None:
        self._scheduler().remove(_item_name(table_id))

    def _changed(self) -> None:
        for hook in list(self.on_tables_changed):
            hook()


def register_live_schedules(scheduler: Scheduler, live: LiveTableService) -> None:
    """Teach ``scheduler`` to run the items of live tables on hourly, daily or cron refresh."""
    scheduler.register(LIVE_SCHEDULE_KIND, lambda item: live.run_scheduled(str(item.payload["live_table_id"])))
