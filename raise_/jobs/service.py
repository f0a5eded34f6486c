"""The transformation-job service (PRD §15): jobs that read sources, transform, check quality and
write a feature group, on a schedule, when their sources change, or on demand.

A run has three steps, each where it belongs (DESIGN §8):

1. **Prepare** (this process, the store's owner, acting as the job's owner): reconcile the
   checkpoint with the commit log, stage the feature-group sources (read with the owner's
   permissions, audited), create the ``job_runs`` row.
2. **Compute** (a run of kind ``job-compute`` of the runs core, by default in a child process
   running ``raise run RUN_ID``): read, transform, check quality, stage the output
   (:mod:`raise_.jobs.execution`). User code never runs in this process.
3. **Commit** (this process): map the output onto the target's features and write it in one
   offline-store commit that also records the run and its new checkpoint
   (``_raise_run_commits``). The catalog's checkpoint follows; if this process dies between
   the commit and the catalog, the next run reconciles the checkpoint from the commit log, and
   the run's row is set right. A run that dies before the commit wrote nothing.

Who may do what: creating, changing, deploying and running a job need write on its target group
(and read on every feature-group source); reading it needs read on the target group. Runs act
as the job's owner and are audited as the owner's reads and writes.
"""

from __future__ import annotations

import contextvars
import json
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from raise_.catalog.feature_service import FeatureService
from raise_.catalog.lookup import find_organization, find_project
from raise_.catalog.org_scoped import audit_org_scoped, find_org_scoped
from raise_.catalog.paths import parse_project_path
from raise_.errors import (
    FeatureNotFoundError,
    InvalidArgumentError,
    InvalidJobError,
    JobExistsError,
    JobNotFoundError,
    JobRunNotFoundError,
    JobStateError,
    RaiseError,
)
from raise_.governance.access import Level
from raise_.governance.context import Service, ServiceContext
from raise_.governance.guard import Target, filtered, internal
from raise_.governance.identity import acting_as
from raise_.jobs.definition import JobDefinition, decode_checkpoint, encode_checkpoint
from raise_.jobs.execution import OUTPUT_FILE, STAGED_KEYS, fault_point
from raise_.jobs.models import JobCheckpointModel, JobModel, JobQualityReportModel, JobRunModel, JobSourceModel
from raise_.jobs.records import DeployResult, JobRecord, JobRunRecord
from raise_.jobs.sources import FeatureGroupSource
from raise_.lineage import LineageJob
from raise_.metadata.models import OrganizationModel
from raise_.metadata.naming import validate_namespace_name
from raise_.runs.runner import LiveRuns, is_orphaned, runner_id
from raise_.runs.service import RunService
from raise_.scheduling.models import ScheduledItemModel
from raise_.storage.records import RunMarker
from raise_.storage.service import StorageService
from raise_.types.arrow import dtype_of_arrow

if TYPE_CHECKING:
    from raise_.orchestration.openlineage.emitter import LineageEmitter
    from raise_.scheduling.records import ScheduledItem
    from raise_.scheduling.scheduler import Scheduler

__all__ = ["JOB_COMPUTE_KIND", "JOB_SCHEDULE_KIND", "JOB_WATCH_KIND", "JobService", "register_job_schedules"]

JOB_COMPUTE_KIND: Final = "job-compute"
#: The scheduler's item kinds: a job's cron/interval/once slot, and an on-change job's poll.
JOB_SCHEDULE_KIND: Final = "job-schedule"
JOB_WATCH_KIND: Final = "job-watch"
_ACTIVE_RUN: Final = ("pending", "running")
_RUN_END: Final = {"completed": "succeeded", "failed": "failed", "cancelled": "cancelled", "timed_out": "timed_out"}
#: Errors a retry cannot fix: the same definition over the same rows fails the same way.
_NOT_RETRIED: Final = frozenset(
    {
        "TRANSFORM_FAILED",
        "QUALITY_CHECK_FAILED",
        "INVALID_JOB",
        "PERMISSION_DENIED",
        "FEATURE_NOT_FOUND",
        "INVALID_INFERENCE",
        "MODEL_NOT_FOUND",
        "MODEL_RUNTIME_MISSING",
        "MODEL_LOAD_FAILED",
        "ACCELERATOR_UNAVAILABLE",
    }
)
#: The job runs this process drives (a run of another process that is gone is an orphan).
JOB_DRIVERS = LiveRuns()
ORPHANED_MESSAGE: Final = "The process driving this run stopped before it finished; run the job again."
#: Set when the interpreter starts to exit: a driver waiting to retry gives up instead of holding
#: the exit for the rest of its delay. The executor's own exit hook joins the driver threads
#: before the main thread is marked stopped, so it must be a hook of the same kind (they run
#: last registered first, so this one runs before that join).
_PROCESS_ENDING = threading.Event()
_register_atexit = getattr(threading, "_register_atexit", None)
if _register_atexit is not None:
    _register_atexit(_PROCESS_ENDING.set)


def _item_name(job_id: uuid.UUID | str) -> str:
    return f"job:{job_id}"


def _watch_name(job_id: uuid.UUID | str) -> str:
    return f"job-watch:{job_id}"


def _now() -> datetime:
    return datetime.now(UTC)


def _run_record(row: JobRunModel, job_name: str, report: JobQualityReportModel | None) -> JobRunRecord:
    metrics = dict(row.metrics or {})
    timings = dict(metrics.pop("timings", {}) or {})
    return JobRunRecord(
        id=str(row.id),
        job_id=str(row.job_id),
        job_name=job_name,
        status=row.status,
        trigger=row.trigger,
        actor=row.actor,
        execution_date=row.execution_date,
        created_at=row.created_at,
        started_at=row.started_at,
        completed_at=row.completed_at,
        rows_read=int(row.rows_read or 0),
        rows_written=int(row.rows_written or 0),
        checkpoint_before=row.checkpoint_before,
        checkpoint_after=row.checkpoint_after,
        timings=timings,
        metrics=metrics,
        error_code=row.error_code,
        error=row.error,
        commit_id=row.commit_id,
        quality_report={"passed": report.passed, "checks": list(report.checks)} if report is not None else None,
        compute_run_id=str(row.compute_run_id) if row.compute_run_id else None,
        attempt=int(row.attempt or 1),
        log=row.log or "",
    )


class JobService(Service):
    def __init__(
        self,
        context: ServiceContext,
        storage: StorageService,
        features: FeatureService,
        *,
        runs: RunService,
        home: Path,
        schedules: Callable[[], Scheduler] | None = None,
        lineage: LineageEmitter | None = None,
    ) -> None:
        super().__init__(context)
        self.storage = storage
        self.features = features
        self.runs = runs
        self.home = Path(home)
        self._schedules = schedules
        if lineage is None:
            # Imported here: orchestration builds on jobs, never the reverse at module level.
            from raise_.orchestration.openlineage.emitter import LineageEmitter

            lineage = LineageEmitter.from_env()  # RAISE_OPENLINEAGE_*: a no-op when unset
        #: Where runs' OpenLineage events go; the runs whose START it was told of, awaiting their end.
        self.lineage = lineage
        self._lineage_runs: set[str] = set()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._stopping = threading.Event()  # set by shutdown(): drivers waiting to retry give up
        self._job_locks: dict[str, threading.Lock] = {}
        #: Called after a job is created, deployed, changed or deleted (the change follower re-reads).
        self.on_jobs_changed: list[Callable[[], None]] = []
        #: How an on_change job deployed elsewhere is started when its sources change: by
        #: orchestrator name, a call taking the job's id and returning that orchestrator's run id.
        self.external_triggers: dict[str, Callable[[str], str]] = {}
        #: Called in the transaction deleting a job, with its id: other subsystems drop their rows
        #: that refer to it (the orchestration service: deployments, tokens, the DAG file).
        self.on_job_deleting: list[Callable[[Any, uuid.UUID], None]] = []
        #: Called in the transaction creating or changing a job's definition, with the row (flushed)
        #: and the definition: the inference service keeps its ``inference_transforms`` row.
        self.on_job_saved: list[Callable[[Any, JobModel, JobDefinition], None]] = []
        #: Called in the transaction ending a run, with its id, status and metrics (the inference
        #: service records the run's ``inference_runs`` row).
        self.on_run_finished: list[Callable[[Any, uuid.UUID, str, dict[str, Any], str | None], None]] = []

    # -- rows -------------------------------------------------------------------------------------

    def _row(self, s: Any, project_path: str, name: object, level: Level = "read") -> JobModel:
        row = find_org_scoped(
            s, JobModel, project_path, name, what="job", missing=JobNotFoundError, lister="fs.list_jobs()"
        )
        self.authorize(level, Target.path(row.target_group), f"{'read' if level == 'read' else 'change'} the jobs of")
        return row

    def _audit(self, s: Any, action: str, row: JobModel, **details: Any) -> None:
        audit_org_scoped(s, self.actor(), action, row, "job", "jobs", **details)

    def _group_path(self, project_path: str, group: str) -> str:
        path = group.split("@")[0]
        return path if path.count("/") == 3 else f"{project_path}/{path}"

    def _record(self, s: Any, row: JobModel) -> JobRecord:
        last = s.scalar(
            select(JobRunModel).where(JobRunModel.job_id == row.id).order_by(JobRunModel.created_at.desc()).limit(1)
        )
        checkpoint = s.scalar(select(JobCheckpointModel).where(JobCheckpointModel.job_id == row.id))
        report = (
            s.scalar(select(JobQualityReportModel).where(JobQualityReportModel.run_id == last.id)) if last else None
        )
        return JobRecord(
            id=str(row.id),
            name=row.name,
            project=row.scope,
            description=row.description,
            owner=row.owner,
            tags=list(row.tags or []),
            definition=self._definition_dict(row),
            target_group=row.target_group,
            status=row.status,
            launcher=row.launcher,
            created_at=row.created_at,
            updated_at=row.updated_at,
            deployed_at=row.deployed_at,
            orchestrator=row.orchestrator or "internal",
            checkpoint=dict(checkpoint.checkpoint_value) if checkpoint and checkpoint.checkpoint_value else None,
            last_run=_run_record(last, row.name, report) if last is not None else None,
            next_run_at=self._next_due(s, row),
        )

    @staticmethod
    def _definition_dict(row: JobModel) -> dict[str, Any]:
        return {
            "sources": list(row.sources or []),
            "transform": dict(row.transform),
            "target": dict(row.target),
            "schedule": dict(row.schedule),
            "incremental": dict(row.incremental or {}),
            "quality_checks": list(row.quality_checks or []),
            "retries": row.retries,
            "retry_delay_seconds": row.retry_delay_seconds,
            "timeout_seconds": row.timeout_seconds,
            "launcher": row.launcher,
        }

    def _definition(self, row: JobModel) -> JobDefinition:
        return JobDefinition.from_dict(self._definition_dict(row))

    def _next_due(self, s: Any, row: JobModel) -> datetime | None:
        """When the scheduler fires the job next: its item's row, read in the caller's session.
        (Not through the scheduler: making it the first time writes its built-in items, which
        inside a caller's write transaction waited out SQLite's 30 s lock timeout.)"""
        if row.status != "active" or self._schedules is None:
            return None
        item = s.scalar(select(ScheduledItemModel).where(ScheduledItemModel.name == _item_name(row.id)))
        return item.next_due_at if item is not None and item.enabled else None

    # -- checking a definition --------------------------------------------------------------------

    def _check_definition(self, project_path: str, definition: JobDefinition) -> str:
        """The target group's path, after checking what can be checked before any run: the
        caller may write the target and read every feature-group source; the features the
        target maps to exist (or the job creates them)."""
        target_path = self._group_path(project_path, definition.target.feature_group)
        self.authorize("write", Target.path(target_path), "run jobs writing to")
        layout = self.storage.layout(target_path)  # the group exists
        for feature in definition.target.features.values():
            if not _creates_features(definition):
                try:
                    layout.resolve(feature)
                except RaiseError:
                    raise FeatureNotFoundError(
                        f"The target maps to feature {feature!r}, which group {target_path} does not have; create it "
                        "first or pass Target(..., create_features=True) to create it from the output's type.",
                        {"group": target_path, "feature": feature},
                    ) from None
        # A transform that knows what it writes (an inference transform's declared outputs)
        # checks it against the target's features now, not at the end of a long run.
        check_target = getattr(definition.transform, "check_against_target", None)
        if check_target is not None:
            check_target(definition.target, layout)
        for source in definition.sources:
            if isinstance(source, FeatureGroupSource):
                path = self._group_path(project_path, source.feature_group)
                self.authorize("read", Target.path(path), "read the features of")
                src_layout = self.storage.layout(path)
                for feature in source.features or []:
                    src_layout.resolve(feature)
        keys = definition.key_columns() or []
        if definition.write_mode() == "upsert" and not keys:
            raise InvalidJobError("An upsert needs key_columns.", {"field": "target.key_columns"})
        return target_path

    # -- the doors --------------------------------------------------------------------------------

    @filtered("checks write on the job's target group and read on its feature-group sources")
    def create_job(
        self,
        project_path: str,
        name: str,
        definition: dict[str, Any],
        description: str | None = None,
        tags: list[str] | None = None,
        if_exists: str = "error",
    ) -> JobRecord:
        """A draft job (PRD §15.9) from ``definition`` (:meth:`JobDefinition.to_dict`)."""
        validate_namespace_name("job", name)
        context = parse_project_path(project_path)
        parsed = JobDefinition.from_dict(definition)
        if if_exists not in ("error", "update"):
            raise InvalidArgumentError("if_exists is 'error' or 'update'.", {"if_exists": if_exists})
        if description is not None and not isinstance(description, str):
            raise InvalidArgumentError(f"description must be text, got {description!r}.", {})
        tags = list(tags or [])
        if not all(isinstance(t, str) and t for t in tags):
            raise InvalidArgumentError("tags is a list of words.", {"tags": repr(tags)})
        target_path = self._check_definition(str(context), parsed)
        try:
            with self.db.transaction() as s:
                org = find_organization(s, context.org)
                find_project(s, context.org, context.domain, context.project)
                existing = s.scalar(select(JobModel).where(JobModel.org_id == org.id, JobModel.name == name))
                if existing is not None:
                    if if_exists != "update":
                        raise JobExistsError(
                            f"Job {name!r} already exists in {context.org}; open it with fs.get_job({name!r}), "
                            "delete it first, or pass if_exists='update'.",
                            {"organization": context.org, "name": name},
                        )
                    self.authorize("write", Target.path(existing.target_group), "change the jobs of")
                    self._apply(s, existing, parsed, target_path)
                    existing.description = description if description is not None else existing.description
                    existing.tags = tags or list(existing.tags or [])
                    self._audit(s, "UPDATE_METADATA", existing, definition=True)
                    row = existing
                    s.flush()
                    self._saved(s, row, parsed)
                else:
                    row = JobModel(
                        id=uuid.uuid4(),
                        org_id=org.id,
                        scope=str(context),
                        name=name,
                        description=description,
                        owner=self.actor(),
                        tags=tags,
                        status="draft",
                        alerts=[],
                        watch_state={},
                    )
                    self._apply(s, row, parsed, target_path)
                    s.add(row)
                    s.flush()
                    self._saved(s, row, parsed)
                    self._audit(s, "CREATE", row, target=target_path, sources=parsed.source_names)
                record = self._record(s, row)
        except IntegrityError:
            raise JobExistsError(
                f"Job {name!r} already exists in {context.org}.", {"organization": context.org, "name": name}
            ) from None
        if record.status == "active":
            self._schedule(record.id)
        self._changed()
        return record

    def _apply(self, s: Any, row: JobModel, parsed: JobDefinition, target_path: str) -> None:
        data = parsed.to_dict()
        row.sources = data["sources"]
        row.transform = data["transform"]
        row.target = data["target"]
        row.target_group = target_path
        row.schedule = data["schedule"]
        row.incremental = data["incremental"]
        row.quality_checks = data["quality_checks"]
        row.retries = parsed.retries
        row.retry_delay_seconds = parsed.retry_delay_seconds
        row.timeout_seconds = int(parsed.timeout_seconds)
        row.launcher = parsed.launcher
        if row.id is not None:
            s.execute(delete(JobSourceModel).where(JobSourceModel.job_id == row.id))
        else:
            row.id = uuid.uuid4()
        for source in parsed.sources:
            s.add(
                JobSourceModel(
                    id=uuid.uuid4(),
                    job_id=row.id,
                    source_type=source.source_type,
                    name=source.source_name,
                    config=source.to_dict(),
                )
            )

    def _saved(self, s: Any, row: JobModel, parsed: JobDefinition) -> None:
        for hook in list(self.on_job_saved):
            hook(s, row, parsed)

    @filtered("checks read on the job's target group")
    def get_job(self, project_path: str, name: str) -> JobRecord:
        self.fail_orphaned_runs()
        with self.db.reader() as s:
            return self._record(s, self._row(s, project_path, name))

    @filtered("lists the organization's jobs whose target group the caller may read")
    def list_jobs(self, project_path: str, group: str | None = None, status: str | None = None) -> list[JobRecord]:
        context = parse_project_path(project_path)
        wanted = self._group_path(str(context), group) if group else None
        with self.db.reader() as s:
            org = find_organization(s, context.org)
            query = select(JobModel).where(JobModel.org_id == org.id)
            if wanted is not None:
                query = query.where(JobModel.target_group == wanted)
            if status is not None:
                query = query.where(JobModel.status == status)
            out = []
            for row in s.scalars(query.order_by(JobModel.name)).all():
                if self.access.can("read", Target.path(row.target_group)):
                    out.append(self._record(s, row))
            return out

    @filtered("checks write on the job's target group")
    def update_job(
        self,
        project_path: str,
        name: str,
        definition: dict[str, Any] | None = None,
        description: str | None = None,
        tags: list[str] | None = None,
    ) -> JobRecord:
        """Change a job's definition (checked as at creation), description or tags."""
        with self.db.reader() as s:
            row = self._row(s, project_path, name, "write")
            current = self._definition_dict(row)
        parsed = JobDefinition.from_dict({**current, **(definition or {})}) if definition else None
        target_path = self._check_definition(row.scope, parsed) if parsed is not None else None
        with self.db.transaction() as s:
            row = self._row(s, project_path, name, "write")
            if row.status == "deprecated":
                raise JobStateError(f"Job {name!r} is deprecated; it cannot change.", {"name": name})
            if parsed is not None and target_path is not None:
                self._apply(s, row, parsed, target_path)
                s.flush()
                self._saved(s, row, parsed)
            if description is not None:
                row.description = description
            if tags is not None:
                row.tags = list(tags)
            self._audit(s, "UPDATE_METADATA", row, definition=parsed is not None)
            s.flush()
            record = self._record(s, row)
        if record.status == "active":
            self._schedule(record.id)
        self._changed()
        return record

    @filtered("checks write on the job's target group")
    def delete_job(self, project_path: str, name: str) -> bool:
        """Delete a job, its runs, checkpoint and schedule (what it wrote stays in the group)."""
        with self.db.transaction() as s:
            row = self._row(s, project_path, name, "write")
            if s.scalar(
                select(JobRunModel.id).where(JobRunModel.job_id == row.id, JobRunModel.status.in_(_ACTIVE_RUN))
            ):
                raise JobStateError(
                    f"Job {name!r} has a run in progress; cancel it (job.runs[-1].cancel()) or wait, then delete.",
                    {"name": name},
                )
            job_id = row.id
            # Other subsystems' rows about it first (deployments, tokens, inference runs): some
            # refer to its runs.
            for forget in list(self.on_job_deleting):
                forget(s, job_id)
            run_ids = select(JobRunModel.id).where(JobRunModel.job_id == job_id)
            s.execute(delete(JobQualityReportModel).where(JobQualityReportModel.run_id.in_(run_ids)))
            s.execute(delete(JobRunModel).where(JobRunModel.job_id == job_id))
            s.execute(delete(JobCheckpointModel).where(JobCheckpointModel.job_id == job_id))
            s.execute(delete(JobSourceModel).where(JobSourceModel.job_id == job_id))
            self._audit(s, "DELETE", row)
            s.delete(row)
        self._unschedule(str(job_id))
        self._changed()
        return True

    # -- lifecycle (PRD §15.9) --------------------------------------------------------------------

    def _move(self, project_path: str, name: str, allowed: tuple[str, ...], target: str, verb: str) -> JobRecord:
        with self.db.transaction() as s:
            row = self._row(s, project_path, name, "write")
            if row.status not in allowed:
                raise JobStateError(
                    f"Job {name!r} is {row.status}; it can be {verb} only when {' or '.join(allowed)}.",
                    {"name": name, "status": row.status},
                )
            previous, row.status = row.status, target
            if target == "active" and row.deployed_at is None:
                row.deployed_at = _now()
            self._audit(s, "DEPRECATE" if target == "deprecated" else "UPDATE_METADATA", row, status=target)
            job_id = str(row.id)
        if target == "active":
            self._schedule(job_id)
        elif previous == "active" or target in ("paused", "deprecated", "draft"):
            self._unschedule(job_id)
        self._changed()
        with self.db.reader() as s:  # read after the schedule changed: next_run_at is the new one
            moved = s.get(JobModel, uuid.UUID(job_id))
            assert moved is not None
            return self._record(s, moved)

    @filtered("checks write on the job's target group")
    def activate_job(self, project_path: str, name: str) -> JobRecord:
        """DRAFT (or PAUSED, FAILED) → ACTIVE: its schedule starts firing."""
        record = self.get_job(project_path, name)
        if record.status == "active":
            return record
        return self._move(project_path, name, ("draft", "paused", "failed"), "active", "activated")

    @internal
    def place_job(self, project_path: str, name: str, orchestrator: str) -> DeployResult:
        """Put the job on ``orchestrator`` (the orchestration service decides which, and checks
        the caller): activated if it is a draft. Only ``"internal"`` jobs are fired by this
        store's scheduler; another orchestrator's job runs when that orchestrator starts it."""
        with self.db.transaction() as s:
            row = self._row(s, project_path, name, "write")
            row.orchestrator = orchestrator
            job_id = str(row.id)
        record = self.get_job(project_path, name)
        if record.status != "active":
            record = self._move(project_path, name, ("draft", "paused", "failed"), "active", "deployed")
        else:
            self._schedule(job_id)  # enabled here only for the internal orchestrator (or a source watch)
        record = self.get_job(project_path, name)
        path = f"{record.project}/jobs/{record.name}"
        return DeployResult(
            job=record.name,
            orchestrator=orchestrator,
            status=record.status,
            path=path,
            url=f"raise://{path}",
            next_run_at=record.next_run_at,
        )

    @internal
    def unplace_job(self, project_path: str, name: str) -> JobRecord:
        """Take the job off its orchestrator: back to DRAFT on the internal scheduler, nothing fires."""
        with self.db.transaction() as s:
            row = self._row(s, project_path, name, "write")
            row.orchestrator = "internal"
        return self._move(project_path, name, ("active", "paused", "failed"), "draft", "undeployed")

    @filtered("checks write on the job's target group")
    def pause_job(self, project_path: str, name: str) -> JobRecord:
        return self._move(project_path, name, ("active", "failed"), "paused", "paused")

    @filtered("checks write on the job's target group")
    def resume_job(self, project_path: str, name: str) -> JobRecord:
        return self._move(project_path, name, ("paused", "failed"), "active", "resumed")

    @filtered("checks write on the job's target group")
    def deprecate_job(self, project_path: str, name: str) -> JobRecord:
        return self._move(project_path, name, ("draft", "active", "paused", "failed"), "deprecated", "deprecated")

    @filtered("checks write on the job's target group")
    def reset_job_checkpoint(self, project_path: str, name: str) -> JobRecord:
        """Forget the checkpoint: the next run reads every source row again."""
        with self.db.transaction() as s:
            row = self._row(s, project_path, name, "write")
            markers = self.storage.run_commits(str(row.id))
            self._store_checkpoint(s, row, None, markers[0].commit_id if markers else None)
            self._audit(s, "UPDATE_METADATA", row, checkpoint="reset")
            s.flush()
            return self._record(s, row)

    # -- runs -------------------------------------------------------------------------------------

    @filtered("checks write on the job's target group")
    def trigger_job(self, project_path: str, name: str, execution_date: datetime | str | None = None) -> JobRunRecord:
        """Run the job now (its status allowing it): the run, pending or running."""
        with self.db.reader() as s:
            row = self._row(s, project_path, name, "write")
            job_id = str(row.id)
        when = _when(execution_date)
        return self._start(job_id, "manual", when, raise_if_busy=True)

    @internal
    def start_job_run(
        self, job_id: str, execution_date: datetime | str | None, *, orchestrator: str, external_run_id: str | None
    ) -> JobRunRecord:
        """A run an orchestrator asked for (the orchestration service checked its token), as the
        job's owner; audited with the orchestrator and its own run id."""
        details = {"orchestrator": orchestrator, "external_run_id": external_run_id}
        return self._start(job_id, orchestrator, _when(execution_date), raise_if_busy=True, audit=details)

    @internal
    def job_run_of(self, job_id: str, run_id: str) -> JobRunRecord:
        """A run of the job ``job_id`` (no permission check: the caller holds the job's token)."""
        self.fail_orphaned_runs()
        with self.db.reader() as s:
            row = s.get(JobModel, _uuid(job_id))
            run = s.get(JobRunModel, _uuid(run_id))
            if row is None or run is None or run.job_id != row.id:
                raise JobRunNotFoundError(f"The job has no run {run_id!r}.", {"run_id": run_id})
            return _run_record(run, row.name, self._reports(s, [run.id]).get(run.id))

    @internal
    def fail_job_run(self, job_id: str, run_id: str, code: str, message: str) -> JobRunRecord:
        """End a run its orchestrator gave up on (an Airflow task killed, a pod evicted): what it
        computes is stopped, nothing is written, the run fails with the orchestrator's reason."""
        run = self.job_run_of(job_id, run_id)
        if run.finished:
            return run
        self._finish(run_id, "failed", error=(code, message))
        if run.compute_run_id:
            self.runs.cancel(run.compute_run_id, wait=10.0, mine=False)
        return self.job_run_of(job_id, run_id)

    @filtered("checks read on the job's target group")
    def list_job_runs(self, project_path: str, name: str, limit: int = 50) -> list[JobRunRecord]:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise InvalidArgumentError(f"limit must be a positive whole number, got {limit!r}.", {})
        self.fail_orphaned_runs()
        with self.db.reader() as s:
            row = self._row(s, project_path, name)
            runs = s.scalars(
                select(JobRunModel)
                .where(JobRunModel.job_id == row.id)
                .order_by(JobRunModel.created_at.desc())
                .limit(limit)
            ).all()
            reports = self._reports(s, [r.id for r in runs])
            return [_run_record(r, row.name, reports.get(r.id)) for r in reversed(runs)]

    @filtered("checks read on the job's target group")
    def get_job_run(self, project_path: str, name: str, run_id: str) -> JobRunRecord:
        self.fail_orphaned_runs()
        with self.db.reader() as s:
            row = self._row(s, project_path, name)
            run = s.get(JobRunModel, _uuid(run_id))
            if run is None or run.job_id != row.id:
                raise JobRunNotFoundError(f"Job {name!r} has no run {run_id!r}.", {"name": name, "run_id": run_id})
            return _run_record(run, row.name, self._reports(s, [run.id]).get(run.id))

    @filtered("checks write on the job's target group")
    def cancel_job_run(self, project_path: str, name: str, run_id: str) -> JobRunRecord:
        run = self.get_job_run(project_path, name, run_id)
        if run.finished:
            return run
        with self.db.transaction() as s:
            s.execute(
                update(JobRunModel)
                .where(JobRunModel.id == _uuid(run_id), JobRunModel.status == "pending")
                .values(status="cancelled", error_code="RUN_CANCELLED", error="Cancelled before its attempt started.")
            )
        if run.compute_run_id:
            self.runs.cancel(run.compute_run_id, wait=10.0, mine=False)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            run = self.get_job_run(project_path, name, run_id)
            if run.finished:
                return run
            time.sleep(0.05)
        # Nothing is computing (it is between attempts, or staging): the run ends here, and its
        # driver sees that before it starts anything else.
        self._finish(run_id, "cancelled", error=("RUN_CANCELLED", "The run was cancelled."))
        return self.get_job_run(project_path, name, run_id)

    @filtered("checks read on the job's target group")
    def job_status(self, project_path: str, name: str) -> dict[str, Any]:
        record = self.get_job(project_path, name)
        return {
            "name": record.name,
            "status": record.status,
            "orchestrator": record.orchestrator,
            "deployed": record.status == "active",
            "deployed_at": record.deployed_at,
            "next_run_at": record.next_run_at,
            "checkpoint": record.checkpoint,
            "last_run": record.last_run,
        }

    @filtered("checks read on the job's target group")
    def job_lineage(self, project_path: str, name: str) -> dict[str, Any]:
        """The job's inputs and outputs as datasets (OpenLineage's naming)."""
        from raise_.jobs.lineage import job_datasets

        record = self.get_job(project_path, name)
        return job_datasets(record)

    @internal
    def lineage_jobs(self, group_path: str, feature: str) -> list[LineageJob]:
        """The jobs that write ``feature`` of ``group_path`` (its target maps a column to it, or
        maps nothing and writes by name) or read it (a feature-group source of that group listing
        it or all features); only jobs whose target group the caller may read."""
        from raise_.jobs.lineage import job_datasets

        org = group_path.split("/")[0]
        out: list[LineageJob] = []
        with self.db.reader() as s:
            rows = s.scalars(
                select(JobModel)
                .join(OrganizationModel, OrganizationModel.id == JobModel.org_id)
                .where(OrganizationModel.name == org)
            ).all()
            for row in rows:
                relation = None
                mapped = set((row.target or {}).get("features", {}).values())
                if row.target_group == group_path and (not mapped or feature in mapped):
                    relation = "writes"
                for source in row.sources or []:
                    if source.get("source_type") != "feature_group":
                        continue
                    if self._group_path(row.scope, str(source["feature_group"])) == group_path and (
                        not source.get("features") or feature in source["features"]
                    ):
                        relation = relation or "reads"
                if relation is None or not self.access.can("read", Target.path(row.target_group)):
                    continue
                datasets = job_datasets(self._record(s, row))
                out.append(
                    LineageJob(
                        name=row.name,
                        project=row.scope,
                        status=row.status,
                        relation=relation,
                        inputs=datasets["inputs"],
                        outputs=datasets["outputs"],
                    )
                )
        return out

    def _reports(self, s: Any, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, JobQualityReportModel]:
        if not run_ids:
            return {}
        rows = s.scalars(select(JobQualityReportModel).where(JobQualityReportModel.run_id.in_(run_ids))).all()
        return {r.run_id: r for r in rows}

    # -- starting and driving a run -----------------------------------------------------------------

    def _lock(self, job_id: str) -> threading.Lock:
        with self._pool_lock:
            return self._job_locks.setdefault(job_id, threading.Lock())

    def _start(
        self,
        job_id: str,
        trigger: str,
        execution_date: datetime,
        *,
        raise_if_busy: bool,
        audit: dict[str, Any] | None = None,
    ) -> JobRunRecord:
        self.fail_orphaned_runs()
        with self._lock(job_id), self.db.transaction() as s:
            row = s.get(JobModel, uuid.UUID(job_id))
            if row is None:
                raise JobNotFoundError(f"No job {job_id}.", {"job_id": job_id})
            if row.status == "deprecated" or (trigger != "manual" and row.status != "active"):
                raise JobStateError(
                    f"Job {row.name!r} is {row.status}: "
                    + ("resume it first." if row.status == "paused" else "it does not run."),
                    {"name": row.name, "status": row.status},
                )
            busy = s.scalar(
                select(JobRunModel.id).where(JobRunModel.job_id == row.id, JobRunModel.status.in_(_ACTIVE_RUN))
            )
            if busy is not None:
                if raise_if_busy:
                    raise JobStateError(
                        f"Job {row.name!r} has a run in progress ({busy}); wait for it or cancel it.",
                        {"name": row.name, "run_id": str(busy)},
                    )
                run = s.get(JobRunModel, busy)
                assert run is not None
                return _run_record(run, row.name, None)
            run = JobRunModel(
                id=uuid.uuid4(),
                job_id=row.id,
                status="pending",
                trigger=trigger,
                actor=self.actor(),
                execution_date=execution_date,
                created_at=_now(),
                rows_read=0,
                rows_written=0,
                metrics={},
                attempt=1,
                runner=runner_id(),
                log="",
            )
            s.add(run)
            if trigger == "manual" or audit is not None:
                self._audit(s, "UPDATE_METADATA", row, event="run", run_id=str(run.id), **(audit or {}))
            s.flush()
            record = _run_record(run, row.name, None)
            owner = row.owner
        JOB_DRIVERS.add(record.id)
        ctx = contextvars.copy_context()
        try:
            self._executor().submit(ctx.run, self._drive_as, owner, record.id)
        except BaseException:
            JOB_DRIVERS.discard(record.id)
            raise
        return record

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._stopping.clear()
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="raise-job")
            return self._pool

    def _drive_as(self, owner: str, job_run_id: str) -> None:
        try:
            with acting_as(owner):
                self._drive(job_run_id)
        except Exception as exc:  # recorded on the run: the driver thread must never die silently
            self._finish(job_run_id, "failed", error=_error_of(exc))
        finally:
            JOB_DRIVERS.discard(job_run_id)
            # Told here, not in _finish: a failed attempt that will be retried passes through
            # _finish too, and a run cancelled between attempts never does; once its driver
            # returns, a run has ended for good (or was never this driver's to start).
            self._tell_lineage(job_run_id, end=True)

    def _tell_lineage(self, job_run_id: str, *, end: bool) -> None:
        """Send the run's OpenLineage event: START when it starts running (once, not per
        attempt), its COMPLETE/FAIL/ABORT when it has ended. Never raises into the run."""
        if not self.lineage.enabled or (end and job_run_id not in self._lineage_runs):
            return
        try:
            with self.db.reader() as s:
                run = s.get(JobRunModel, uuid.UUID(job_run_id))
                row = s.get(JobModel, run.job_id) if run is not None else None
                if run is None or row is None:
                    return
                job = self._record(s, row)
                record = _run_record(run, row.name, None)
        except Exception as exc:  # the catalog failing here is the run's driver's problem, not lineage's
            logging.getLogger(__name__).warning(
                "OpenLineage event of job run %s not sent: %s", job_run_id, type(exc).__name__
            )
            return
        finally:
            if end:
                self._lineage_runs.discard(job_run_id)
        if end and not record.finished:
            return
        if not end:
            self._lineage_runs.add(job_run_id)
        self.lineage.emit_run(job, record, None if end else "START")

    def _drive(self, job_run_id: str) -> None:
        with self.db.reader() as s:
            run = s.get(JobRunModel, uuid.UUID(job_run_id))
            assert run is not None
            row = s.get(JobModel, run.job_id)
            assert row is not None
            if run.status != "pending":
                return
            definition = self._definition(row)
            job_id, job_name, project, target_path = str(row.id), row.name, row.scope, row.target_group
            execution_date = run.execution_date
        staging = self.home / "jobs" / "runs" / job_run_id
        started = _now()
        with self.db.transaction() as s:
            began = s.execute(
                update(JobRunModel)
                .where(JobRunModel.id == uuid.UUID(job_run_id), JobRunModel.status == "pending")
                .values(status="running", started_at=started)
            )
        if getattr(began, "rowcount", 0):  # the run starts here, once: its retries start nothing new
            self._tell_lineage(job_run_id, end=False)
        try:
            for attempt in range(1, definition.retries + 2):
                checkpoint = self._reconcile(job_id)
                timings: dict[str, float] = {}
                t0 = time.perf_counter()
                staged = self._stage_feature_groups(project, definition, staging)
                if staged:  # feature-group sources, read here as the owner for the run's process
                    timings["stage_inputs"] = time.perf_counter() - t0
                with self.db.transaction() as s:
                    s.execute(
                        update(JobRunModel)
                        .where(JobRunModel.id == uuid.UUID(job_run_id))
                        .values(checkpoint_before=encode_checkpoint(checkpoint), attempt=attempt)
                    )
                if self._status(job_run_id) != "running":
                    return  # cancelled while it was being prepared
                (staging / "outcome.json").unlink(missing_ok=True)
                spec = {
                    "job_id": job_id,
                    "job_name": job_name,
                    "job_run_id": job_run_id,
                    "definition": definition.to_dict(),
                    "checkpoint": encode_checkpoint(checkpoint),
                    "execution_date": execution_date.isoformat()
                    if execution_date.tzinfo
                    else execution_date.replace(tzinfo=UTC).isoformat(),
                    "staging": str(staging),
                    "staged": staged,
                    "home": str(self.home),
                }
                # A transform that asks its launcher for more (an inference transform's GPUs and
                # image, for the Kubernetes launcher) says so.
                launch_spec = getattr(definition.transform, "launch_spec", None)
                if launch_spec is not None:
                    spec.update(launch_spec())
                compute = self.runs.submit(
                    JOB_COMPUTE_KIND,
                    spec,
                    trigger=f"job:{job_name}",
                    launcher=definition.launcher,
                    timeout=float(definition.timeout_seconds),
                )
                with self.db.transaction() as s:
                    s.execute(
                        update(JobRunModel)
                        .where(JobRunModel.id == uuid.UUID(job_run_id))
                        .values(compute_run_id=uuid.UUID(compute.id))
                    )
                done = self.runs.wait(compute.id)
                timings.update(done.timings)
                outcome = _outcome(staging)
                metrics = {"timings": timings, **{k: v for k, v in done.metrics.items() if k != "timings"}}
                if done.status != "completed":
                    error = done.error
                    code = error.code if error else "RUN_FAILED"
                    message = error.message if error else f"The run ended {done.status}."
                    retrying = not (
                        code in _NOT_RETRIED
                        or done.status in ("cancelled", "timed_out")
                        or attempt > definition.retries
                    )
                    # A run that will be retried goes from running straight back to pending (not
                    # finished: the caller of run() waits on, cancel() ends it), the last attempt's
                    # error shown; passing through `failed` would end that caller's wait early.
                    ended = self._finish(
                        job_run_id,
                        _RUN_END.get(done.status, "failed"),
                        error=(code, message),
                        metrics=metrics,
                        rows_read=int(done.metrics.get("rows_read", 0) or 0),
                        quality=(outcome or {}).get("quality"),
                        log=done.log,
                        retrying=retrying,
                    )
                    if not retrying:
                        if done.status != "cancelled":
                            self._after_failure(job_id, code)
                        return
                    if not ended:
                        return
                    resume_at = time.monotonic() + definition.retry_delay_seconds
                    while time.monotonic() < resume_at:
                        if self._status(job_run_id) != "pending":
                            return  # cancelled while waiting for the next attempt
                        if self._stopping.is_set() or _PROCESS_ENDING.is_set():
                            # The process is ending: the run fails with its last error rather
                            # than hold the exit for the rest of the delay.
                            self._finish(job_run_id, "failed", error=(code, f"{message} (not retried: Raise stopped)"))
                            return
                        time.sleep(min(0.2, max(0.0, resume_at - time.monotonic())))
                    with self.db.transaction() as s:  # the next attempt: the same run row
                        again = s.execute(
                            update(JobRunModel)
                            .where(JobRunModel.id == uuid.UUID(job_run_id), JobRunModel.status == "pending")
                            .values(status="running", error=None, error_code=None)
                        )
                    if not getattr(again, "rowcount", 0):
                        return
                    continue
                assert outcome is not None
                self._commit(job_id, job_run_id, target_path, definition, outcome, metrics, done.log, staging)
                return
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _status(self, job_run_id: str) -> str | None:
        with self.db.reader() as s:
            status: str | None = s.scalar(select(JobRunModel.status).where(JobRunModel.id == uuid.UUID(job_run_id)))
            return status

    def _stage_feature_groups(self, project: str, definition: JobDefinition, staging: Path) -> dict[str, str]:
        """Feature-group sources as Parquet files for the compute step (read as the job's owner,
        with its permissions; audited as its reads)."""
        staged: dict[str, str] = {}
        for source in definition.sources:
            if not isinstance(source, FeatureGroupSource):
                continue
            path = self._group_path(project, source.feature_group)
            table = self.storage.read(path, list(source.features) if source.features else None, as_of=source.as_of)
            layout = self.storage.layout(path)
            # The group's keys travel with its rows: an inference run writes them beside its outputs.
            keys = [*(layout.entity_keys or []), layout.event_time]
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), STAGED_KEYS: json.dumps(keys)})
            out = staging / "inputs" / f"{source.source_name}.parquet"
            out.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, str(out))
            staged[source.source_name] = str(out)
        return staged

    # -- the write, exactly once ------------------------------------------------------------------

    def _reconcile(self, job_id: str) -> Any:
        """The checkpoint to start from: the catalog's, unless the commit log holds a newer one
        (a run committed and its process died before the catalog heard): then the log wins and
        that run's row is set right."""
        markers = self.storage.run_commits(job_id)
        with self.db.transaction() as s:
            row = s.get(JobModel, uuid.UUID(job_id))
            assert row is not None
            stored = s.scalar(select(JobCheckpointModel).where(JobCheckpointModel.job_id == row.id))
            newest = markers[0] if markers else None
            if newest is not None and (
                stored is None or stored.commit_id is None or (newest.commit_id or 0) > stored.commit_id
            ):
                value = json.loads(newest.checkpoint) if newest.checkpoint else None
                self._store_checkpoint(s, row, value, newest.commit_id)
                s.execute(
                    update(JobRunModel)
                    .where(JobRunModel.id == _uuid(newest.run_id), JobRunModel.status != "succeeded")
                    .values(
                        status="succeeded",
                        commit_id=newest.commit_id,
                        checkpoint_after=value,
                        completed_at=newest.committed_at,
                        error=None,
                        error_code=None,
                        log=JobRunModel.log + "\nrecovered: its commit is in the store (the process stopped after it)",
                    )
                )
                return decode_checkpoint(value)
            return decode_checkpoint(stored.checkpoint_value) if stored is not None else None

    def _store_checkpoint(self, s: Any, row: JobModel, value: dict[str, Any] | None, commit_id: int | None) -> None:
        stored = s.scalar(select(JobCheckpointModel).where(JobCheckpointModel.job_id == row.id))
        column = (row.incremental or {}).get("checkpoint_column")
        if stored is None:
            s.add(
                JobCheckpointModel(
                    id=uuid.uuid4(),
                    job_id=row.id,
                    checkpoint_type=(row.incremental or {}).get("mode", "full"),
                    checkpoint_value=value,
                    checkpoint_column=column,
                    commit_id=commit_id,
                )
            )
        else:
            stored.checkpoint_value = value
            stored.commit_id = commit_id
            stored.checkpoint_column = column
            stored.updated_at = _now()

    def _output_for_target(self, table: pa.Table, target_path: str, definition: JobDefinition) -> pa.Table:
        """The output renamed onto the group: mapped columns to their features, the time key to
        the group's event time; features the group lacks created (``create_features``) or refused."""
        target = definition.target
        layout = self.storage.layout(target_path)
        keys = list(layout.group.entity_keys or [])
        key_columns = definition.key_columns() or []
        time_column = target.event_time or next((k for k in key_columns if k not in keys), None)
        names = []
        for column in table.column_names:
            if column == time_column:
                names.append(layout.event_time)
            else:
                names.append(target.feature_of(column))
        table = table.rename_columns(names)
        if time_column is not None and layout.event_time in table.column_names:
            col = table.column(layout.event_time)
            if pa.types.is_date(col.type):
                idx = table.column_names.index(layout.event_time)
                table = table.set_column(
                    idx, layout.event_time, col.cast(pa.timestamp("s")).cast(pa.timestamp("us", tz="UTC"))
                )
        key_set = set(keys or [c for c in key_columns if c != time_column])
        missing = []
        for name, field in zip(table.column_names, table.schema, strict=True):
            if name in key_set or name == layout.event_time:
                continue
            try:
                layout.resolve(name)
            except RaiseError:
                missing.append((name, field.type))
        if missing and not _creates_features(definition):
            names_missing = ", ".join(n for n, _ in missing)
            raise FeatureNotFoundError(
                f"The job's output has column(s) {names_missing} that group {target_path} has no feature for; map "
                "them with Target(features={column: feature}), drop them in the transform, or pass "
                "Target(..., create_features=True). Nothing was written.",
                {"group": target_path, "columns": [n for n, _ in missing]},
            )
        if missing:
            definitions = []
            for name, typ in missing:
                dtype = dtype_of_arrow(typ)
                if dtype is None:
                    raise InvalidJobError(
                        f"Cannot create feature {name!r} from the output's type {typ}; create it first.",
                        {"column": name},
                    )
                definitions.append({"name": name, "dtype": dtype, "description": "created by a transformation job"})
            self.features.create_features(target_path, definitions, if_exists="skip")
        if not keys:
            # A group without keys takes them from its first write: the output's key columns.
            for k in key_columns:
                if k != time_column and k not in table.column_names:
                    raise InvalidJobError(f"Key column {k!r} is not in the output.", {"column": k})
        return table

    def _commit(
        self,
        job_id: str,
        job_run_id: str,
        target_path: str,
        definition: JobDefinition,
        outcome: dict[str, Any],
        metrics: dict[str, Any],
        log: str,
        staging: Path,
    ) -> None:
        t0 = time.perf_counter()
        checkpoint_after = outcome.get("checkpoint_after")
        rows_read = int(outcome.get("rows_read", 0))
        output = pq.read_table(str(staging / OUTPUT_FILE))
        commit_id = None
        written = 0
        if output.num_rows:
            prepared = self._output_for_target(output, target_path, definition)
            marker = RunMarker(job_id, job_run_id, json.dumps(checkpoint_after) if checkpoint_after else None)
            result = self.storage.write_for_run(
                target_path, prepared, definition.write_mode(), marker, before_commit=lambda: fault_point("mid_write")
            )
            commit_id, written = result.commit_id, result.rows_written
            fault_point("after_write")
        metrics["timings"]["write"] = time.perf_counter() - t0
        with self.db.transaction() as s:
            row = s.get(JobModel, uuid.UUID(job_id))
            assert row is not None
            if definition.incremental.uses_checkpoint:
                stored = s.scalar(select(JobCheckpointModel).where(JobCheckpointModel.job_id == row.id))
                self._store_checkpoint(
                    s,
                    row,
                    checkpoint_after,
                    commit_id if commit_id is not None else (stored.commit_id if stored else None),
                )
        self._finish(
            job_run_id,
            "succeeded",
            metrics=metrics,
            rows_read=rows_read,
            rows_written=written,
            commit_id=commit_id,
            checkpoint_after=checkpoint_after,
            quality=outcome.get("quality"),
            log=log,
        )

    def _finish(
        self,
        job_run_id: str,
        status: str,
        *,
        error: tuple[str, str] | None = None,
        metrics: dict[str, Any] | None = None,
        rows_read: int | None = None,
        rows_written: int | None = None,
        commit_id: int | None = None,
        checkpoint_after: dict[str, Any] | None = None,
        quality: dict[str, Any] | None = None,
        log: str | None = None,
        retrying: bool = False,
    ) -> bool:
        """End an attempt: the run takes ``status``, or goes back to `pending` when ``retrying``
        (its hooks still told of this attempt's ``status``). False when the run was no longer
        active (cancelled meanwhile)."""
        values: dict[str, Any] = (
            {"status": "pending", "completed_at": None} if retrying else {"status": status, "completed_at": _now()}
        )
        if error is not None:
            values.update(error_code=error[0], error=error[1])
        if metrics is not None:
            values["metrics"] = json.loads(json.dumps(metrics, default=str))
        if rows_read is not None:
            values["rows_read"] = rows_read
        if rows_written is not None:
            values["rows_written"] = rows_written
        if commit_id is not None:
            values["commit_id"] = commit_id
        if checkpoint_after is not None:
            values["checkpoint_after"] = checkpoint_after
        if log is not None:
            values["log"] = log[-64 * 1024 :]
        with self.db.transaction() as s:
            ended = s.execute(
                update(JobRunModel)
                .where(JobRunModel.id == uuid.UUID(job_run_id), JobRunModel.status.in_(_ACTIVE_RUN))
                .values(**values)
            )
            if getattr(ended, "rowcount", 0):
                for hook in list(self.on_run_finished):
                    hook(s, uuid.UUID(job_run_id), status, values.get("metrics") or {}, error[1] if error else None)
            if quality is not None:
                s.execute(delete(JobQualityReportModel).where(JobQualityReportModel.run_id == uuid.UUID(job_run_id)))
                s.add(
                    JobQualityReportModel(
                        id=uuid.uuid4(),
                        run_id=uuid.UUID(job_run_id),
                        passed=bool(quality.get("passed")),
                        checks=list(quality.get("checks") or []),
                    )
                )
        return bool(getattr(ended, "rowcount", 0))

    def _after_failure(self, job_id: str, code: str) -> None:
        """A scheduled job whose run failed is FAILED until someone looks (PRD §15.9); a manual
        run's failure leaves a draft a draft."""
        with self.db.transaction() as s:
            row = s.get(JobModel, uuid.UUID(job_id))
            if row is not None and row.status == "active":
                row.status = "failed"
        self._unschedule(job_id)

    @internal
    def fail_orphaned_runs(self) -> int:
        """Record as failed every unfinished run whose driving process is gone."""
        with self.db.reader() as s:
            rows = s.execute(
                select(JobRunModel.id, JobRunModel.runner).where(JobRunModel.status.in_(_ACTIVE_RUN))
            ).all()
        failed = 0
        for run_id, runner in rows:
            if is_orphaned(str(run_id), runner, JOB_DRIVERS):
                with self.db.transaction() as s:
                    done = s.execute(
                        update(JobRunModel)
                        .where(JobRunModel.id == run_id, JobRunModel.status.in_(_ACTIVE_RUN))
                        .values(
                            status="failed",
                            error_code="RUN_ORPHANED",
                            error=ORPHANED_MESSAGE,
                            completed_at=_now(),
                        )
                    )
                failed += int(bool(getattr(done, "rowcount", 0)))
        return failed

    # -- schedules ----------------------------------------------------------------------------------

    def _scheduler(self) -> Scheduler:
        if self._schedules is not None:
            return self._schedules()
        from raise_.scheduling.scheduler import Scheduler

        return Scheduler(self.db)

    def _schedule(self, job_id: str) -> None:
        with self.db.reader() as s:
            row = s.get(JobModel, uuid.UUID(job_id))
            if row is None:
                return
            schedule = dict(row.schedule)
            # Another orchestrator's job is fired there, never here as well; only its source
            # watch stays here (an on_change job: the watcher triggers it on its orchestrator).
            watching = row.status == "active"
            active = watching and (row.orchestrator or "internal") == "internal"
            fired_once = bool((row.watch_state or {}).get("fired_once"))
        kind = schedule.get("schedule_type")
        scheduler = self._scheduler()
        if kind == "cron":
            scheduler.ensure(
                _item_name(job_id),
                JOB_SCHEDULE_KIND,
                cron=schedule["expression"],
                payload={"job_id": job_id},
                enabled=active,
            )
        elif kind == "interval":
            scheduler.ensure(
                _item_name(job_id),
                JOB_SCHEDULE_KIND,
                every=float(schedule["every_seconds"]),
                payload={"job_id": job_id},
                enabled=active,
            )
        elif kind == "once":
            if fired_once:
                return
            at = datetime.fromisoformat(schedule["at"])
            scheduler.ensure(
                _item_name(job_id),
                JOB_SCHEDULE_KIND,
                every=float(100 * 365 * 86400),
                payload={"job_id": job_id, "once": True},
                enabled=active,
                first_due=at,
                create_only=True,
            )
        elif kind == "on_change":
            scheduler.ensure(
                _watch_name(job_id),
                JOB_WATCH_KIND,
                every=float(schedule.get("poll_seconds", 60)),
                payload={"job_id": job_id},
                enabled=watching,
            )
        else:
            self._unschedule(job_id)

    def _unschedule(self, job_id: str) -> None:
        scheduler = self._scheduler()
        for name in (_item_name(job_id), _watch_name(job_id)):
            scheduler.remove(name)

    def _changed(self) -> None:
        for hook in list(self.on_jobs_changed):
            hook()

    @internal
    def run_scheduled(self, item: ScheduledItem) -> dict[str, Any]:
        """A schedule slot of a job: a run with the slot as its execution date."""
        job_id = str(item.payload["job_id"])
        with self.db.reader() as s:
            row = s.get(JobModel, uuid.UUID(job_id))
            if row is None or row.status != "active":
                return {"skipped": "not active"}
        if item.payload.get("once"):
            with self.db.transaction() as s:
                stored = s.get(JobModel, uuid.UUID(job_id))
                if stored is not None:
                    stored.watch_state = {**(stored.watch_state or {}), "fired_once": True}
            self._scheduler().remove(item.name)
        run = self._start(job_id, "schedule", item.next_due_at, raise_if_busy=False)
        return {"job_run_id": run.id}

    @internal
    def watch_sources(self, item: ScheduledItem) -> dict[str, Any]:
        """An on-change job's poll: run it when a watched source changed since the last look."""
        from raise_.jobs.watching import fingerprints

        job_id = str(item.payload["job_id"])
        with self.db.reader() as s:
            row = s.get(JobModel, uuid.UUID(job_id))
            if row is None or row.status != "active":
                return {"skipped": "not active"}
            definition = self._definition(row)
            seen = dict(row.watch_state or {})
            project = row.scope
        with acting_as(row.owner):
            now_seen = fingerprints(definition, project, self.storage, self.home)
        changed = [name for name, value in now_seen.items() if seen.get(name) != value]
        with self.db.transaction() as s:
            stored = s.get(JobModel, uuid.UUID(job_id))
            if stored is not None:
                stored.watch_state = now_seen
        if not seen or not changed:  # the first look only remembers
            return {"changed": []}
        orchestrator = row.orchestrator or "internal"
        if orchestrator != "internal":  # PRD §16.3: an external trigger of the job's orchestrator
            trigger = self.external_triggers.get(orchestrator)
            if trigger is None:
                return {"changed": changed, "skipped": f"no trigger for {orchestrator}"}
            with acting_as(row.owner):
                return {"changed": changed, "orchestrator": orchestrator, "external_run_id": trigger(job_id)}
        run = self._start(job_id, "on_change", _now(), raise_if_busy=False)
        return {"changed": changed, "job_run_id": run.id}

    @internal
    def any_jobs(self) -> bool:
        with self.db.reader() as s:
            return s.scalar(select(JobModel.id).where(JobModel.status == "active").limit(1)) is not None

    @internal
    def shutdown(self) -> None:
        self._stopping.set()
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=False)


def _creates_features(definition: JobDefinition) -> bool:
    """Whether the job creates the target features it lacks: asked with ``create_features``, or
    a transform whose outputs are new by nature (a model's embeddings, scores, completions)."""
    return definition.target.create_features or bool(getattr(definition.transform, "creates_features", False))


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise JobRunNotFoundError(f"No run {value!r}: run ids are UUIDs.", {"run_id": str(value)}) from None


def _when(value: datetime | str | None) -> datetime:
    if value is None:
        return _now()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidArgumentError(f"execution_date must be an ISO time, got {value!r}.", {}) from None
    if not isinstance(value, datetime):
        raise InvalidArgumentError(f"execution_date must be a datetime, got {value!r}.", {})
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _outcome(staging: Path) -> dict[str, Any] | None:
    path = staging / "outcome.json"
    if not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def _error_of(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, RaiseError):
        return exc.code, exc.message
    return type(exc).__name__, str(exc) or type(exc).__name__


def register_job_schedules(scheduler: Scheduler, jobs: JobService) -> None:
    """Teach ``scheduler`` to fire jobs' schedules and watch on-change jobs' sources."""
    scheduler.register(JOB_SCHEDULE_KIND, jobs.run_scheduled)
    scheduler.register(JOB_WATCH_KIND, jobs.watch_sources)
