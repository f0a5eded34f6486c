"""The analytics service (PRD §11): analyses of a group's data, their cache and their jobs.

An analysis reads the group's visible rows through the same plan as ``read`` (so derived
features, cross-group and cross-org inputs work as everywhere), runs in DuckDB (SciPy for the
tests), and is stored in ``analysis_results`` under the hash of its spec. The caller needs read
on the group and on every feature the analysis touches; each analysis is audited as ``QUERY``.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from raise_.analytics.aggregation import run_aggregation
from raise_.analytics.cache import RedisResults, ResultStore, record_of
from raise_.analytics.correlation import run_correlation
from raise_.analytics.distribution import run_distribution
from raise_.analytics.frame import Frame
from raise_.analytics.freshness import Freshness
from raise_.analytics.record_lookup import run_record_lookup
from raise_.analytics.records import AnalysisJobRecord, AnalysisRecord
from raise_.analytics.specs import (
    Aggregation,
    AnalysisSpec,
    Correlation,
    Distribution,
    RecordLookup,
    StatTest,
    VersionDiff,
    spec_from_dict,
    spec_hash,
)
from raise_.analytics.stat_test import run_stat_test
from raise_.analytics.version_diff import run_version_diff
from raise_.catalog.feature_service import FeatureService
from raise_.catalog.models import AnalysisJobModel, OrganizationModel
from raise_.catalog.namespace_service import NamespaceService
from raise_.catalog.paths import ProjectPath, parse_feature_path, parse_project_path, split_version
from raise_.context import Service, ServiceContext
from raise_.errors import (
    AnalysisFailedError,
    AnalysisJobNotFoundError,
    AnalysisResultNotFoundError,
    InvalidAnalysisError,
    InvalidArgumentError,
    RaiseError,
)
from raise_.expressions import compile_predicate
from raise_.governance.guard import Target, filtered, internal
from raise_.storage.derived import Node, Plan
from raise_.storage.layout import FeatureColumn, GroupLayout
from raise_.storage.offline_store import quote
from raise_.storage.reader import ReadRequest, read_relation
from raise_.storage.service import StorageService

__all__ = ["AnalyticsService"]

log = logging.getLogger(__name__)

JOB_STATUSES: Final = ("pending", "running", "completed", "failed", "cancelled")


def _runner() -> str:
    """This process, as jobs record who runs them (read at each use: a forked child is not its parent)."""
    return f"{socket.gethostname()}:{os.getpid()}"


# Jobs this process has taken on and not finished, whichever engine runs them: a job of this
# process that is not here will never finish. Registered before its row is written, so that a
# listing at that moment does not take it for one left behind.
_LIVE_JOBS: set[str] = set()
_ORPHANED_MESSAGE: Final = "The process running this job stopped before it finished; submit it again."


@dataclass
class _Prepared:
    """An analysis resolved against the catalog: what it reads, and the key of its result."""

    spec: AnalysisSpec
    layout: GroupLayout
    columns: dict[str, FeatureColumn]  # spec name → feature version (entity keys and time excluded)
    spec_hash: str
    where: tuple[str, dict[str, Any]] | None = None  # RecordLookup's compiled filter
    output: list[str] | None = None  # RecordLookup's feature columns, in order
    planned: tuple[Plan, list[Node]] | None = None  # the read plan of derived features, once made


class AnalyticsService(Service):
    """Analyses (PRD §11) over the storage service's read path, their stored results and cache,
    and asynchronous analysis jobs."""

    def __init__(
        self,
        context: ServiceContext,
        storage: StorageService,
        namespaces: NamespaceService,
        features: FeatureService,
        redis_url: str | None = None,
        job_workers: int = 2,
    ) -> None:
        super().__init__(context)
        self.storage = storage
        self.namespace_service = namespaces
        self.feature_service = features
        self._results = ResultStore(RedisResults(redis_url) if redis_url else None)
        self._job_workers = job_workers
        self._jobs: ThreadPoolExecutor | None = None
        self._jobs_lock = threading.Lock()
        self._job_futures: dict[str, Future[None]] = {}
        self._job_cursors: dict[str, Any] = {}
        self._cancelling: set[str] = set()

    # -- resolving a spec ------------------------------------------------------------------------

    def _scope(self, path: str, spec: AnalysisSpec) -> tuple[str, AnalysisSpec]:
        """The group an analysis runs on, and the spec with its features named in that group.

        On a group path the spec names features of the group. On a project path (``fs.analyze``)
        it names them by path (``"user-signals.clicks"``), all in one group."""
        if not isinstance(path, str) or not path.strip("/"):
            raise InvalidArgumentError(f"Give the group (or project) to analyze, got {path!r}.", {"path": repr(path)})
        parts = path.strip("/").split("/")
        if len(parts) == 4:
            return "/".join(parts), spec
        context = parse_project_path("/".join(parts[:3]) if len(parts) >= 3 else path)
        refs = [spec.feature] if isinstance(spec, VersionDiff) else spec.features_used()
        bare = [r for r in refs if "/" not in r and "." not in r]
        groups: dict[str, list[str]] = {}
        rename: dict[str, str] = {}
        for ref in refs:
            if ref in bare:
                continue
            fp = parse_feature_path(ref, context)
            groups.setdefault(fp.group_path, []).append(ref)
            rename[ref] = f"{fp.feature}@{fp.version}" if fp.version else fp.feature
        if bare and not groups:  # names alone (the README's fs.analyze_async example): find their group
            groups[self._group_holding(context, bare)] = bare
        if len(groups) != 1:
            where = ", ".join(sorted(groups)) or "none"
            raise InvalidAnalysisError(
                "An analysis reads one feature group; name its features by path, e.g. 'user-signals.clicks' "
                f"(this one names groups: {where}).",
                {"groups": sorted(groups)},
            )
        return next(iter(groups)), spec.with_names(rename)

    def _group_holding(self, context: ProjectPath, names: list[str]) -> str:
        """The one group of the project that has every named feature (INVALID_ANALYSIS if none or
        several do: then the names need their group)."""
        wanted = {split_version(n)[0] for n in names}
        holding = []
        for group in self.namespace_service.list_feature_groups(str(context)):
            path = f"{context}/{group.name}"
            if wanted <= {f.name for f in self.feature_service.all_features(path)}:
                holding.append(group.name)
        if len(holding) == 1:
            return f"{context}/{holding[0]}"
        example = f"'{holding[0] if holding else 'user-signals'}.{sorted(wanted)[0]}'"
        found = f"groups {', '.join(holding)} all have them" if holding else "no group of the project has all of them"
        raise InvalidAnalysisError(
            f"fs.analyze found the features {', '.join(sorted(wanted))} by name, but {found}: name them by path "
            f"(e.g. {example}) or call analyze on the group.",
            {"features": sorted(wanted), "groups": holding},
        )

    def _prepare(self, path: str, spec_data: dict[str, Any] | AnalysisSpec) -> _Prepared:
        spec = spec_from_dict(spec_data)
        group_path, spec = self._scope(path, spec)
        self.authorize("read", Target.path(group_path), "analyze")
        layout = self.storage.layout(group_path)
        not_features = {*(layout.entity_keys or []), layout.event_time}
        columns: dict[str, FeatureColumn] = {}
        output: list[str] | None = None
        where = None
        if isinstance(spec, RecordLookup):
            if spec.features is None:
                chosen = self.storage.select_features(layout, None)
            else:
                chosen = [(n, layout.resolve(n)) for n in spec.features if n not in not_features]
            output = [n for n, _ in chosen]
            columns.update(chosen)
            if spec.filter is not None:
                names = {f.name: f.name for f in layout.latest()}
                names.update({n: n for n in columns})
                names.update({k: k for k in not_features})
                predicate = compile_predicate(spec.filter, names, prefix="lf")
                for name in predicate.columns:
                    if name not in not_features and name not in columns:
                        columns[name] = layout.resolve(name)
                where = (predicate.sql, predicate.params)
        else:
            for name in spec.features_used():
                if name not in not_features:
                    columns[name] = layout.resolve(name)
        self.storage.authorize_features(layout, list(columns.values()), "read", "analyze")
        resolved = sorted(f"{n}={c.name}@{c.version}" for n, c in columns.items())
        return _Prepared(spec, layout, columns, spec_hash(spec, group_path, resolved), where, output)

    def _data_version(self, prepared: _Prepared, groups: list[GroupLayout], plan: Plan | None = None) -> str:
        """``path@commit`` of every group the analysis reads (its own, and those of derived inputs),
        and for derived features a digest of the plan that reads them: the upstream versions an
        expression resolves to and the groups' TTLs are catalog state, not commits."""
        tables = {g.table: g.path for g in groups}
        rows = (
            self.storage.store.cursor()
            .execute(
                "SELECT table_name, max(commit_id) FROM _raise_commits WHERE list_contains($1, table_name) GROUP BY 1",
                [list(tables)],
            )
            .fetchall()
        )
        newest = {tables[t]: int(c) for t, c in rows}
        version = ",".join(f"{p}@{newest.get(p, 0)}" for p in sorted(tables.values()))
        if plan is not None:
            shape = sorted(f"{n.key}={n.column.derived_from or ''}" for n in plan.nodes.values())
            shape += sorted(f"{g.path}:ttl={g.group.ttl_seconds}" for g in plan.groups.values())
            version += ";plan=" + hashlib.sha256("\n".join(shape).encode()).hexdigest()[:16]
        return version + (";@now" if prepared.spec.relative_to_now else "")

    def _upstream_groups(self, prepared: _Prepared) -> tuple[list[GroupLayout], Plan | None]:
        """Every group whose data the analysis reads (its own and those its derived features
        read), and the plan that reads them when there are derived features (kept on
        ``prepared``, so computing the analysis does not plan it again)."""
        if all(c.derived_from is None for c in prepared.columns.values()):
            return [prepared.layout], None
        prepared.planned = self.storage.plan(prepared.layout, [(prepared.layout, c) for c in prepared.columns.values()])
        plan = prepared.planned[0]
        return list(plan.groups.values()), plan

    # -- computing --------------------------------------------------------------------------------

    def _frame(self, prepared: _Prepared) -> tuple[Frame, Any]:
        layout = prepared.layout
        chosen = list(prepared.columns.items())
        dtypes = {name: column.dtype for name, column in chosen}
        if not self.storage.store.table_exists(layout.table):
            cols = [f"CAST(NULL AS VARCHAR) AS {quote(k)}" for k in layout.entity_keys or []]
            cols.append(f"CAST(NULL AS TIMESTAMPTZ) AS {quote(layout.event_time)}")
            cols += [f"CAST(NULL AS {c.dtype.duckdb_type()}) AS {quote(n)}" for n, c in chosen]
            sql = f"SELECT {', '.join(cols)} WHERE FALSE"
            return Frame(self.storage.store, sql, {}, layout.event_time, list(layout.entity_keys or []), dtypes), None
        plan, nodes = prepared.planned or self.storage.plan(layout, [(layout, c) for _, c in chosen])
        req = ReadRequest(chosen, history=True)
        outputs = [(name, n) for (name, _), n in zip(chosen, nodes, strict=True)]
        sql, params = read_relation(self.storage.store, layout, req, plan, outputs)
        frame = Frame(self.storage.store, sql, params, layout.event_time, list(layout.entity_keys or []), dtypes)
        return frame, plan

    def _compute(self, prepared: _Prepared, frame: Frame) -> dict[str, Any]:
        spec = prepared.spec
        if isinstance(spec, Aggregation):
            return run_aggregation(frame, spec)
        if isinstance(spec, Distribution):
            return run_distribution(frame, spec)
        if isinstance(spec, Correlation):
            return run_correlation(frame, spec)
        if isinstance(spec, StatTest):
            return run_stat_test(frame, spec)
        if isinstance(spec, RecordLookup):
            sql, params = prepared.where or (None, {})
            return run_record_lookup(frame, spec, prepared.output or [], sql, params)
        if isinstance(spec, VersionDiff):
            schemas = tuple(self._schema_of(prepared.layout, spec.feature, v) for v in (spec.version_a, spec.version_b))
            return run_version_diff(frame, spec, (schemas[0], schemas[1]))
        raise InvalidAnalysisError(f"Unknown analysis {type(spec).__name__}.", {})

    @staticmethod
    def _org_id(session: Session, layout: GroupLayout) -> uuid.UUID:
        found = session.scalar(select(OrganizationModel.id).where(OrganizationModel.name == layout.group.org))
        if found is None:  # the group was just read, so its organization exists
            raise InvalidArgumentError(f"Organization {layout.group.org!r} not found.", {})
        return found

    def _schema_of(self, layout: GroupLayout, name: str, version: str) -> dict[str, Any]:
        record = self.feature_service.get_feature(layout.path, name, version)
        dtype = layout.resolve(f"{name}@{version}").dtype
        return {
            "dtype": record.dtype,
            "nullable": record.nullable,
            "default": record.default,
            "derived_from": record.derived_from,
            "description": record.description,
            "tags": list(record.tags or []),
            "status": record.status,
            "dimension": getattr(dtype, "dim", None),
        }

    @filtered("checks read on the group and on every feature the analysis reads")
    def analyze(self, path: str, spec: dict[str, Any], freshness: str | None = None) -> AnalysisRecord:
        """Run an analysis (a spec's ``to_dict()``) on a group, or reuse a stored result that
        ``freshness`` accepts (``"real_time"``, ``"cached"``, ``"within:1h"``)."""
        policy = Freshness.parse(freshness)
        prepared = self._prepare(path, spec)
        layout = prepared.layout
        groups, upstream = self._upstream_groups(prepared)
        version = self._data_version(prepared, groups, upstream)
        with self.db.reader() as s:
            hit = self._results.find(s, prepared.spec_hash, version, policy, datetime.now(UTC))
        if hit is None:
            started = time.perf_counter()
            frame, plan = self._frame(prepared)
            data = self._compute(prepared, frame)
            elapsed = (time.perf_counter() - started) * 1000.0
            with self.db.transaction() as s:
                record = self._results.save(
                    s,
                    org_id=self._org_id(s, layout),
                    scope=layout.path,
                    spec=prepared.spec.to_dict(),
                    spec_hash=prepared.spec_hash,
                    data_version=version,
                    data=data,
                    actor=self.actor(),
                    duration_ms=elapsed,
                    features=[f"{c.name}@{c.version}" for c in prepared.columns.values()],
                )
        else:
            # a reused result is still a read of every group behind it: audit them as a computation would
            record, plan = hit, upstream
        asked = {"analysis": prepared.spec.to_dict(), "freshness": policy.to_text()}
        self.storage.audit_data(
            layout,
            "QUERY",
            list(prepared.columns.values()),
            asked,
            plan,
            kind="analysis",
            analysis=prepared.spec.type,
            result_id=record.id,
            from_cache=record.from_cache,
            data_version=record.data_version,
        )
        return record

    @filtered("checks read on the analysis' group and features: the result is the same data")
    def get_analysis_result(self, result_id: str) -> AnalysisRecord:
        with self.db.reader() as s:
            row = self._results.get(s, result_id)
            record = None if row is None else record_of(row, from_cache=True, current_version=None)
            read = list(row.features) if row is not None else []
        if record is None:
            raise AnalysisResultNotFoundError(f"No analysis result {result_id!r}.", {"result_id": result_id})
        # The caller must be allowed to read exactly what the result was computed from: the feature
        # versions it read then (a lookup without features= read what its author could read).
        self.authorize("read", Target.path(record.scope), "read the analysis results of")
        layout = self.storage.layout(record.scope)
        columns = [layout.resolve(label) for label in read]
        self.storage.authorize_features(layout, columns, "read", "read")
        prepared = self._prepare(record.scope, record.spec)
        # Stale: newer commits since, or the spec now names other feature versions.
        current = self._data_version(prepared, *self._upstream_groups(prepared))
        # Fetching a stored result reads its data (a lookup's records, a group's metrics): audited.
        self.storage.audit_data(
            layout,
            "QUERY",
            columns,
            {"analysis_result": record.id},
            kind="analysis_result",
            analysis=prepared.spec.type,
            result_id=record.id,
            from_cache=True,
            data_version=record.data_version,
        )
        return replace(record, stale=current != record.data_version or prepared.spec_hash != record.spec_hash)

    # -- asynchronous jobs ----------------------------------------------------------------------

    def _executor(self) -> ThreadPoolExecutor:
        with self._jobs_lock:
            if self._jobs is None:
                self._jobs = ThreadPoolExecutor(self._job_workers, thread_name_prefix="raise-analysis")
            return self._jobs

    @internal
    def shutdown_jobs(self, wait: bool = False) -> None:
        with self._jobs_lock:
            jobs, self._jobs = self._jobs, None
        if jobs is not None:
            for job_id in list(self._job_cursors):
                self._interrupt(job_id)
            jobs.shutdown(wait=wait, cancel_futures=True)
            _LIVE_JOBS.difference_update(self._job_futures)

    @filtered("checks read on the group and on every feature the analysis reads, when submitted")
    def analyze_async(self, path: str, spec: dict[str, Any], freshness: str | None = None) -> AnalysisJobRecord:
        """Queue an analysis; it runs on a worker thread of this process as the caller."""
        policy = Freshness.parse(freshness)
        prepared = self._prepare(path, spec)  # a bad spec or a denied feature fails now, not later
        job_id = uuid.uuid4()
        key = str(job_id)
        _LIVE_JOBS.add(key)
        try:
            self._insert_job(job_id, prepared, policy)
        except BaseException:
            _LIVE_JOBS.discard(key)
            raise
        context = contextvars.copy_context()  # the caller's identity and request, in the worker
        future = self._executor().submit(context.run, self._run_job, key)
        self._job_futures[key] = future
        if future.done():  # it finished before it was registered
            self._job_futures.pop(key, None)
        return self._job_record(key)

    def _insert_job(self, job_id: uuid.UUID, prepared: _Prepared, policy: Freshness) -> None:
        with self.db.transaction() as s:
            org_id = self._org_id(s, prepared.layout)
            s.add(
                AnalysisJobModel(
                    id=job_id,
                    org_id=org_id,
                    scope_path=prepared.layout.path,
                    analysis_spec=prepared.spec.to_dict(),
                    freshness=policy.to_text(),
                    status="pending",
                    submitted_by=self.actor(),
                    runner=_runner(),
                    created_at=datetime.now(UTC),
                )
            )

    def _set_job(self, job_id: str, when: tuple[str, ...], **values: Any) -> bool:
        """Move a job on, only from the states in ``when`` (a cancel can race a start)."""
        with self.db.transaction() as s:
            done = s.execute(
                update(AnalysisJobModel)
                .where(AnalysisJobModel.id == uuid.UUID(job_id), AnalysisJobModel.status.in_(when))
                .values(**values)
            )
        return bool(getattr(done, "rowcount", 0))

    def _run_job(self, job_id: str) -> None:
        if not self._set_job(job_id, ("pending",), status="running", started_at=datetime.now(UTC)):
            self._job_futures.pop(job_id, None)
            self._cancelling.discard(job_id)
            _LIVE_JOBS.discard(job_id)
            return  # cancelled before it started
        try:
            with self.db.reader() as s:
                row = s.get(AnalysisJobModel, uuid.UUID(job_id))
                assert row is not None
                scope, spec, freshness = row.scope_path, dict(row.analysis_spec), row.freshness
            with self.storage.store.own_cursor() as cursor:  # a cancel interrupts this job's queries only
                self._job_cursors[job_id] = cursor
                if job_id in self._cancelling:
                    raise InterruptedError
                record = self.analyze(scope, spec, freshness)
        except BaseException as exc:
            now = datetime.now(UTC)
            if job_id in self._cancelling:
                self._set_job(job_id, ("running",), status="cancelled", completed_at=now)
            else:
                code = exc.code if isinstance(exc, RaiseError) else type(exc).__name__
                message = exc.message if isinstance(exc, RaiseError) else str(exc)
                if not isinstance(exc, RaiseError):
                    log.exception("analysis job %s failed", job_id)
                self._set_job(
                    job_id, ("running",), status="failed", error_code=code, error_message=message, completed_at=now
                )
        else:
            if job_id in self._cancelling:  # asked to stop while past the interruptible part
                self._set_job(job_id, ("running",), status="cancelled", completed_at=datetime.now(UTC))
            else:
                self._set_job(
                    job_id,
                    ("running",),
                    status="completed",
                    result_id=uuid.UUID(record.id),
                    completed_at=datetime.now(UTC),
                )
        finally:
            self._job_cursors.pop(job_id, None)
            self._job_futures.pop(job_id, None)
            self._cancelling.discard(job_id)
            _LIVE_JOBS.discard(job_id)

    def _interrupt(self, job_id: str) -> None:
        cursor = self._job_cursors.get(job_id)
        if cursor is not None:
            try:
                cursor.interrupt()
            except Exception:  # the query may have just finished
                log.debug("interrupting job %s", job_id, exc_info=True)

    def _job_row(self, job_id: str) -> AnalysisJobModel:
        try:
            key = uuid.UUID(str(job_id))
        except ValueError:
            key = None
        with self.db.reader() as s:
            row = s.get(AnalysisJobModel, key) if key else None
            if row is not None:
                s.expunge(row)
        if row is None or row.submitted_by != self.actor():
            raise AnalysisJobNotFoundError(
                f"No analysis job {job_id!r} of yours; fs.list_analysis_jobs() lists your jobs.", {"job_id": job_id}
            )
        if row.status in ("pending", "running") and self._orphaned(str(row.id), row.runner):
            self._fail_orphan(str(row.id))
            return self._job_row(job_id)
        return row

    def _fail_orphan(self, job_id: str) -> None:
        self._set_job(
            job_id,
            ("pending", "running"),
            status="failed",
            error_code="ANALYSIS_FAILED",
            error_message=_ORPHANED_MESSAGE,
            completed_at=datetime.now(UTC),
        )

    @staticmethod
    def _orphaned(job_id: str, runner: str | None) -> bool:
        """A job of a process on this machine that is gone (jobs of other machines are theirs)."""
        if not runner:
            return False
        if runner == _runner():
            return job_id not in _LIVE_JOBS
        host, _, pid = runner.rpartition(":")
        if host != socket.gethostname() or not pid.isdigit():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def _job_record(self, job_id: str) -> AnalysisJobRecord:
        return _job_record_of(self._job_row(job_id))

    @filtered("a job is visible to the user who submitted it")
    def get_analysis_job(self, job_id: str) -> AnalysisJobRecord:
        return self._job_record(job_id)

    @filtered("lists only the caller's own jobs")
    def list_analysis_jobs(self, status: str | None = None, limit: int = 50) -> list[AnalysisJobRecord]:
        """The caller's jobs, newest first; one left pending or running by a process that is gone
        is reported failed, as ``get_analysis_job`` reports it."""
        if status is not None and status not in JOB_STATUSES:
            raise InvalidArgumentError(
                f"Unknown job status {status!r}; use one of {', '.join(JOB_STATUSES)}.", {"status": status}
            )
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise InvalidArgumentError(f"limit must be a positive whole number, got {limit!r}.", {})
        mine = AnalysisJobModel.submitted_by == self.actor()
        with self.db.reader() as s:
            unfinished = s.execute(
                select(AnalysisJobModel.id, AnalysisJobModel.runner).where(
                    mine, AnalysisJobModel.status.in_(("pending", "running"))
                )
            ).all()
        for job_id, runner in unfinished:
            if self._orphaned(str(job_id), runner):
                self._fail_orphan(str(job_id))
        query = select(AnalysisJobModel).where(mine)
        if status is not None:
            query = query.where(AnalysisJobModel.status == status)
        with self.db.reader() as s:
            rows = s.scalars(query.order_by(AnalysisJobModel.created_at.desc()).limit(limit)).all()
            return [_job_record_of(r) for r in rows]

    @filtered("a job can be cancelled by the user who submitted it")
    def cancel_analysis_job(self, job_id: str) -> AnalysisJobRecord:
        """Cancel a pending or running job (a running query is interrupted); a finished job is
        left as it is."""
        row = self._job_row(job_id)
        key = str(row.id)
        now = datetime.now(UTC)
        if row.status == "pending" and self._set_job(key, ("pending",), status="cancelled", completed_at=now):
            future = self._job_futures.pop(key, None)
            if future is not None:
                future.cancel()
            _LIVE_JOBS.discard(key)
        if row.status in ("pending", "running"):
            self._cancelling.add(key)
            self._interrupt(key)
            # DuckDB stops at once; numpy/SciPy stages finish first (the job then ends cancelled).
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and self._job_row(key).status in ("pending", "running"):
                self._interrupt(key)
                time.sleep(0.02)
        return self._job_record(key)

    @filtered("a job's result is visible to the user who submitted it, while they may read its features")
    def analysis_job_result(self, job_id: str) -> AnalysisRecord:
        row = self._job_row(job_id)
        if row.status != "completed" or row.result_id is None:
            what = {"pending": "has not started", "running": "is still running"}.get(row.status, f"is {row.status}")
            detail = f": {row.error_message}" if row.error_message else ""
            raise AnalysisFailedError(
                f"Analysis job {job_id} {what}{detail}."
                + (" Wait for it with job.wait(timeout=...)." if row.status in ("pending", "running") else ""),
                {"job_id": str(row.id), "status": row.status, "error_code": row.error_code},
            )
        record = self.get_analysis_result(str(row.result_id))
        # The job computed its result unless it reused one computed before it started.
        computed = row.started_at is not None and record.computed_at >= row.started_at
        return replace(record, from_cache=not computed)


def _job_record_of(row: AnalysisJobModel) -> AnalysisJobRecord:
    return AnalysisJobRecord(
        id=str(row.id),
        status=row.status,
        scope=row.scope_path,
        spec=dict(row.analysis_spec),
        freshness=row.freshness,
        submitted_by=row.submitted_by,
        created_at=row.created_at,
        started_at=row.started_at,
        completed_at=row.completed_at,
        result_id=str(row.result_id) if row.result_id else None,
        error_code=row.error_code,
        error_message=row.error_message,
    )
