"""The analytics service (PRD §11): analyses of a group's data, their cache and their jobs
(asynchronous analyses are runs of the runs core: :mod:`raise_.analytics.jobs`).

An analysis reads the group's visible rows through the same plan as ``read`` (so derived
features, cross-group and cross-org inputs work as everywhere), runs in DuckDB (SciPy for the
tests), and is stored in ``analysis_results`` under the hash of its spec. The caller needs read
on the group and on every feature the analysis touches; each analysis is audited as ``QUERY``.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from raise_.analytics.aggregation import run_aggregation
from raise_.analytics.cache import RedisResults, ResultStore, record_of
from raise_.analytics.correlation import run_correlation
from raise_.analytics.distribution import run_distribution
from raise_.analytics.frame import Frame
from raise_.analytics.freshness import Freshness
from raise_.analytics.jobs import ANALYSIS_KIND, JOB_STATUSES, job_record
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
from raise_.catalog.namespace_service import NamespaceService
from raise_.catalog.paths import ProjectPath, parse_feature_path, parse_project_path, split_version
from raise_.errors import (
    AnalysisFailedError,
    AnalysisJobNotFoundError,
    AnalysisResultNotFoundError,
    InvalidAnalysisError,
    InvalidArgumentError,
)
from raise_.expressions import compile_predicate
from raise_.governance.context import Service, ServiceContext
from raise_.governance.guard import Target, filtered, internal
from raise_.metadata.models import OrganizationModel
from raise_.runs.assembly import ANALYSIS_LAUNCHER
from raise_.runs.errors import RunNotFoundError
from raise_.runs.records import RunRecord
from raise_.runs.service import RunService
from raise_.storage.derived import Node, Plan
from raise_.storage.layout import FeatureColumn, GroupLayout
from raise_.storage.offline_store import quote
from raise_.storage.reader import ReadRequest, read_relation
from raise_.storage.service import StorageService

__all__ = ["AnalyticsService"]

#: How long cancelling a running job waits for it to end (DuckDB stops at once; numpy/SciPy
#: stages finish first).
CANCEL_WAIT_SECONDS: Final = 2.0


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
    row_filter: tuple[str, dict[str, Any]] | None = None  # the spec's ``filters``, compiled and bound


def _check_filter_values(name: str, dtype: Any, wanted: Any) -> None:
    """INVALID_ANALYSIS unless every value of a filter on ``name`` can equal one of its values."""
    values = wanted if isinstance(wanted, list) else [wanted]
    kind = getattr(dtype, "kind", "")
    if kind == "bool":
        fits = all(isinstance(v, bool) for v in values)
    elif getattr(dtype, "is_numeric", False):
        fits = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    elif kind == "string":
        fits = all(isinstance(v, str) for v in values)
    else:
        raise InvalidAnalysisError(
            f"Cannot filter on {name!r}: it is {dtype}; filter on text, number or flag features and entity keys.",
            {"column": name},
        )
    if not fits:
        raise InvalidAnalysisError(
            f"A filter on {name!r} ({dtype}) compares with values of that type, got {wanted!r}.",
            {"column": name, "value": repr(wanted)},
        )


class AnalyticsService(Service):
    """Analyses (PRD §11) over the storage service's read path, their stored results and cache,
    and asynchronous analysis jobs (runs of the runs service it is given)."""

    def __init__(
        self,
        context: ServiceContext,
        storage: StorageService,
        namespaces: NamespaceService,
        features: FeatureService,
        redis_url: str | None = None,
        *,
        runs: RunService,
    ) -> None:
        super().__init__(context)
        self.storage = storage
        self.namespace_service = namespaces
        self.feature_service = features
        self.runs = runs  # the store's runs: asynchronous analyses are runs of kind "analysis"
        self._results = ResultStore(RedisResults(redis_url) if redis_url else None)

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
        row_filter = None
        if spec.filters:
            conditions, bound = [], {}
            for i, (name, wanted) in enumerate(spec.filters.items()):
                if name not in not_features and name not in columns:
                    columns[name] = layout.resolve(name)  # read to filter on: authorized with the rest
                param = f"_af{i}"
                column = quote(name) if name in columns else f"CAST({quote(name)} AS VARCHAR)"
                if name in columns:
                    _check_filter_values(name, columns[name].dtype, wanted)
                else:  # an entity key or the event time: compared as text
                    wanted = [str(v) for v in wanted] if isinstance(wanted, list) else str(wanted)
                if isinstance(wanted, list):
                    conditions.append(f"list_contains(${param}, {column})")
                else:
                    conditions.append(f"{column} = ${param}")
                bound[param] = wanted
            row_filter = (" AND ".join(conditions), bound)
        self.storage.authorize_features(layout, list(columns.values()), "read", "analyze")
        resolved = sorted(f"{n}={c.name}@{c.version}" for n, c in columns.items())
        prepared = _Prepared(spec, layout, columns, spec_hash(spec, group_path, resolved), where, output)
        prepared.row_filter = row_filter
        return prepared

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

    # -- for live tables: an analysis resolved once, its source groups and its rows ---------------

    @internal
    def prepare(self, path: str, spec: dict[str, Any] | AnalysisSpec) -> _Prepared:
        """The analysis resolved against the catalog, the caller's read on it checked."""
        return self._prepare(path, spec)

    @internal
    def sources(self, prepared: _Prepared) -> list[GroupLayout]:
        """Every group whose commits change the analysis' result."""
        return self._upstream_groups(prepared)[0]

    @internal
    def rows(self, prepared: _Prepared, since_commit: int | None = None) -> Frame:
        """The rows the analysis runs over (only those of commits after ``since_commit``)."""
        return self._frame(prepared, since_commit)[0]

    @internal
    def compute(self, prepared: _Prepared) -> dict[str, Any]:
        """The analysis' payload, computed now (not stored, not audited: the caller does that)."""
        frame, _plan = self._frame(prepared)
        return self._compute(prepared, frame)

    def _frame(self, prepared: _Prepared, since_commit: int | None = None) -> tuple[Frame, Any]:
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
        req = ReadRequest(chosen, history=since_commit is None, since_commit=since_commit)
        outputs = [(name, n) for (name, _), n in zip(chosen, nodes, strict=True)]
        sql, params = read_relation(self.storage.store, layout, req, plan, outputs)
        if prepared.row_filter is not None:  # the spec's filters: values bound, never pasted
            condition, bound = prepared.row_filter
            sql, params = f"SELECT * FROM ({sql}) f WHERE {condition}", {**params, **bound}
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

    # -- asynchronous jobs: runs of kind "analysis" (raise_.analytics.jobs) -----------------------

    @filtered("checks read on the group and on every feature the analysis reads, when submitted")
    def analyze_async(self, path: str, spec: dict[str, Any], freshness: str | None = None) -> AnalysisJobRecord:
        """Queue an analysis: a run of kind ``analysis`` on this process's analysis threads, as
        the caller."""
        policy = Freshness.parse(freshness)
        prepared = self._prepare(path, spec)  # a bad spec or a denied feature fails now, not later
        with self.db.reader() as s:
            org_id = self._org_id(s, prepared.layout)
        job = {
            "scope": prepared.layout.path,
            "analysis": prepared.spec.to_dict(),
            "freshness": policy.to_text(),
            "org_id": str(org_id),
        }
        return job_record(self.runs.submit(ANALYSIS_KIND, job, launcher=ANALYSIS_LAUNCHER))

    def _job(self, job_id: str) -> RunRecord:
        """The caller's analysis job (a job of another user is not found)."""
        try:
            run = self.runs.get(str(job_id), mine=True)
        except RunNotFoundError:
            run = None
        if run is None or run.kind != ANALYSIS_KIND:
            raise AnalysisJobNotFoundError(
                f"No analysis job {job_id!r} of yours; fs.list_analysis_jobs() lists your jobs.", {"job_id": job_id}
            )
        return run

    @filtered("a job is visible to the user who submitted it")
    def get_analysis_job(self, job_id: str) -> AnalysisJobRecord:
        return job_record(self._job(job_id))

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
        return [job_record(r) for r in self.runs.list_runs(kind=ANALYSIS_KIND, status=status, limit=limit)]

    @filtered("a job can be cancelled by the user who submitted it")
    def cancel_analysis_job(self, job_id: str) -> AnalysisJobRecord:
        """Cancel a pending or running job (its running query is interrupted; numpy/SciPy work
        finishes first, then the job ends cancelled); a finished job is left as it is."""
        run = self._job(job_id)
        return job_record(self.runs.cancel(run.id, wait=CANCEL_WAIT_SECONDS))

    @filtered("a job's result is visible to the user who submitted it, while they may read its features")
    def analysis_job_result(self, job_id: str) -> AnalysisRecord:
        run = self._job(job_id)
        job = job_record(run)
        if job.status != "completed" or job.result_id is None:
            what = {"pending": "has not started", "running": "is still running"}.get(job.status, f"is {job.status}")
            detail = f": {job.error_message}" if job.error_message else ""
            raise AnalysisFailedError(
                f"Analysis job {job_id} {what}{detail}."
                + (" Wait for it with job.wait(timeout=...)." if job.status in ("pending", "running") else ""),
                {"job_id": job.id, "status": job.status, "error_code": job.error_code},
            )
        record = self.get_analysis_result(job.result_id)
        # The job computed its result unless it reused one computed before it started.
        computed = run.started_at is not None and record.computed_at >= run.started_at
        return replace(record, from_cache=not computed)
