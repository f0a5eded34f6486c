"""``Job``: a transformation job and its runs (README *Transformations*, PRD §15).

>>> job = fs.create_job(name="compute_daily_clicks", sources=[ObjectStorage(...)],
...                     transform=SQLTransform(...), target=Target(...),
...                     schedule=Schedule.daily(hour=2))               # doctest: +SKIP
>>> job.activate(); fs.deploy_job(job); job.run().rows_written       # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import html
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from raise_.client.html_table import key_value_table
from raise_.errors import InvalidArgumentError
from raise_.inference.records import InferenceResult, ModelInfo
from raise_.inference.transform import InferenceTransform
from raise_.jobs.definition import JobDefinition, decode_checkpoint
from raise_.jobs.records import DeployResult, JobRecord, JobRunRecord

if TYPE_CHECKING:
    from raise_.api.protocol import Backend
    from raise_.client.orchestration import Transforms

__all__ = ["Job", "JobRun", "Jobs"]

#: What the catalog adds to a transform's dict (its row), not part of the transform.
_ROW_FIELDS = ("id", "created_at", "updated_at")


class JobRun:
    """One run of a job: status, trigger, timings per stage, rows, checkpoints, quality report,
    the commit it made and its log."""

    def __init__(self, backend: Backend, record: JobRunRecord, project: str) -> None:
        self._backend = backend
        self._record = record
        self._project = project

    @property
    def record(self) -> JobRunRecord:
        return self._record

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._record, name)

    @property
    def checkpoint(self) -> Any:
        """The checkpoint this run advanced to (as the column's value: a datetime, a number)."""
        return decode_checkpoint(self._record.checkpoint_after)

    def reload(self) -> JobRun:
        self._record = self._backend.get_job_run(self._project, self._record.job_name, self._record.id)
        return self

    @property
    def inference_result(self) -> InferenceResult:
        """What the model did in this run (an inference job's run): samples, success rate,
        throughput, latency, device, GPU utilization, peak memory and the model read."""
        return self._backend.get_inference_run(self._project, self._record.job_name, self._record.id)

    def inference_metrics(self) -> dict[str, Any]:
        """This run's figures under PRD §18.13's metric names."""
        return self._backend.inference_run_metrics(self._project, self._record.job_name, self._record.id)

    def wait(self, timeout: float | None = None, poll: float = 0.1) -> JobRun:
        """Wait for the run to end (at most ``timeout`` seconds); the run as it is then."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._record.finished:
            if deadline is not None and time.monotonic() >= deadline:
                break
            time.sleep(poll)
            self.reload()
        return self

    def cancel(self) -> JobRun:
        self._record = self._backend.cancel_job_run(self._project, self._record.job_name, self._record.id)
        return self

    def __repr__(self) -> str:
        r = self._record
        error = f", error={r.error_code!r}" if r.error_code else ""
        return (
            f"JobRun({r.job_name!r}, status={r.status!r}, trigger={r.trigger!r}, rows_read={r.rows_read}, "
            f"rows_written={r.rows_written}{error})"
        )

    def _repr_html_(self) -> str:
        r = self._record
        rows: list[tuple[str, Any]] = [
            ("status", r.status),
            ("trigger", r.trigger),
            ("execution date", r.execution_date),
            ("rows read / written", f"{r.rows_read} / {r.rows_written}"),
            ("stages", ", ".join(f"{k} {v:.2f}s" for k, v in r.timings.items())),
            ("checkpoint", f"{(r.checkpoint_before or {}).get('value')} → {(r.checkpoint_after or {}).get('value')}"),
            ("commit", r.commit_id),
        ]
        if r.quality_report:
            checks = r.quality_report.get("checks", [])
            rows.append(("quality", ", ".join(f"{c['name']}: {'ok' if c['passed'] else 'FAILED'}" for c in checks)))
        inference = r.metrics.get("inference")
        if isinstance(inference, dict):  # an inference run: what the model did, in one line
            rows.append(
                (
                    "inference",
                    f"{inference.get('processed_samples', 0):,} of {inference.get('total_samples', 0):,} samples, "
                    f"{float(inference.get('throughput_samples_per_sec') or 0):.1f}/s on "
                    f"{inference.get('device', '?')} "
                    f"({inference.get('runtime', '')}, {inference.get('precision', '')})",
                )
            )
        if r.error_code:
            rows.append(("error", f"{r.error_code}: {r.error}"))
        cells = [(k, "" if v is None else str(v)) for k, v in rows]
        return f"<b>Run of {html.escape(r.job_name)}</b>" + key_value_table(cells)


class Job:
    def __init__(self, backend: Backend, record: JobRecord) -> None:
        self._backend = backend
        self._record = record

    # -- what it is -------------------------------------------------------------------------------

    @property
    def record(self) -> JobRecord:
        return self._record

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def project(self) -> str:
        return self._record.project

    @property
    def orchestrator(self) -> str:
        """Who fires its runs: ``"internal"`` (the store's scheduler) or ``"airflow"`` (its DAG)."""
        return self._record.orchestrator

    @property
    def status(self) -> str:
        """``draft``, ``active``, ``paused``, ``failed`` or ``deprecated`` (PRD §15.9), as of the
        last call: ``reload()`` asks again."""
        return self._record.status

    @property
    def description(self) -> str | None:
        return self._record.description

    @property
    def owner(self) -> str:
        return self._record.owner

    @property
    def definition(self) -> JobDefinition:
        return JobDefinition.from_dict(self._record.definition)

    @property
    def sources(self) -> list[Any]:
        return list(self.definition.sources)

    @property
    def transform(self) -> Any:
        return self.definition.transform

    @property
    def target(self) -> Any:
        return self.definition.target

    @property
    def schedule(self) -> Any:
        return self.definition.schedule

    @property
    def incremental(self) -> Any:
        return self.definition.incremental

    @property
    def quality_checks(self) -> list[Any]:
        return list(self.definition.quality_checks)

    @property
    def target_group(self) -> str:
        return self._record.target_group

    @property
    def checkpoint(self) -> Any:
        """The checkpoint the next run starts after (None: it reads everything)."""
        return decode_checkpoint(self._record.checkpoint)

    @property
    def next_run_at(self) -> datetime | None:
        return self._record.next_run_at

    @property
    def last_run(self) -> JobRun | None:
        last = self._record.last_run
        return JobRun(self._backend, last, self.project) if last is not None else None

    @property
    def runs(self) -> list[JobRun]:
        """Its runs, oldest first (``job.runs[-1]`` is the newest)."""
        return [JobRun(self._backend, r, self.project) for r in self._backend.list_job_runs(self.project, self.name)]

    def reload(self) -> Job:
        self._record = self._backend.get_job(self.project, self.name)
        return self

    # -- its model (an inference job) ---------------------------------------------------------------

    @property
    def inference_transform(self) -> InferenceTransform:
        """The job's inference transform, as the catalog keeps it."""
        data = self._backend.get_inference_transform(self.project, self.name)
        return InferenceTransform.from_dict({k: v for k, v in data.items() if k not in _ROW_FIELDS})

    def set_inference_transform(self, transform: InferenceTransform) -> Job:
        """Run ``transform`` from now on (checked as at creation)."""
        if not isinstance(transform, InferenceTransform):
            raise InvalidArgumentError("set_inference_transform takes an InferenceTransform.", {})
        self._backend.set_inference_transform(self.project, self.name, transform.to_dict())
        return self.reload()

    def update_inference_transform(self, **changes: Any) -> Job:
        """Change parts of it: ``job.update_inference_transform(batch_config={"batch_size": 64})``
        keeps the rest of the batch config."""
        values = {k: (v.to_dict() if hasattr(v, "to_dict") else v) for k, v in changes.items()}
        self._backend.update_inference_transform(self.project, self.name, values)
        return self.reload()

    # -- lifecycle --------------------------------------------------------------------------------

    def activate(self) -> Job:
        self._record = self._backend.activate_job(self.project, self.name)
        return self

    def pause(self) -> Job:
        self._record = self._backend.pause_job(self.project, self.name)
        return self

    def resume(self) -> Job:
        self._record = self._backend.resume_job(self.project, self.name)
        return self

    def deprecate(self) -> Job:
        self._record = self._backend.deprecate_job(self.project, self.name)
        return self

    def undeploy(self) -> Job:
        self._record = self._backend.undeploy_job(self.project, self.name)
        return self

    def update(
        self,
        *,
        description: str | None = None,
        tags: list[str] | None = None,
        **definition: Any,
    ) -> Job:
        """Change the description, tags or any part of the definition (``schedule=``,
        ``quality_checks=``, ``transform=``, ...), checked as at creation."""
        changes = None
        if definition:
            current = self.definition
            merged = {
                "sources": definition.pop("sources", current.sources),
                "transform": definition.pop("transform", current.transform),
                "target": definition.pop("target", current.target),
                "schedule": definition.pop("schedule", current.schedule),
                "incremental": definition.pop("incremental", current.incremental),
                "quality_checks": definition.pop("quality_checks", current.quality_checks),
                "retries": definition.pop("retries", current.retries),
                "retry_delay": definition.pop("retry_delay", current.retry_delay_seconds),
                "timeout": definition.pop("timeout", current.timeout_seconds),
                "launcher": definition.pop("launcher", current.launcher),
            }
            if definition:
                raise InvalidArgumentError(f"Unknown job field(s): {', '.join(sorted(definition))}.", {})
            changes = JobDefinition.build(**merged).to_dict()
        self._record = self._backend.update_job(self.project, self.name, changes, description, tags)
        return self

    def reset_checkpoint(self) -> Job:
        self._record = self._backend.reset_job_checkpoint(self.project, self.name)
        return self

    def delete(self) -> bool:
        return self._backend.delete_job(self.project, self.name)

    # -- runs -------------------------------------------------------------------------------------

    def run(self, *, wait: bool = True, timeout: float | None = None, execution_date: datetime | None = None) -> JobRun:
        """Run it now; with ``wait`` (the default) return once the run has ended."""
        record = self._backend.trigger_job(self.project, self.name, execution_date)
        run = JobRun(self._backend, record, self.project)
        if wait:
            run.wait(timeout)
        self.reload()
        return run

    def status_report(self) -> dict[str, Any]:
        """Status, orchestrator, next run, checkpoint and last run (``GET .../jobs/NAME/status``)."""
        return self._backend.job_status(self.project, self.name)

    def lineage(self) -> dict[str, Any]:
        """Its input and output datasets, named as OpenLineage names them."""
        return self._backend.job_lineage(self.project, self.name)

    def __repr__(self) -> str:
        return f"Job({self.name!r}, status={self.status!r}, target={self.target_group!r}, schedule={self.schedule!r})"

    def _repr_html_(self) -> str:
        r = self._record
        rows: list[tuple[str, Any]] = [
            ("status", r.status),
            ("target", r.target_group),
            ("sources", ", ".join(s.get("name", "") for s in r.definition.get("sources", []))),
            ("transform", r.definition.get("transform", {}).get("transform_type")),
            ("schedule", repr(self.schedule)),
            ("incremental", r.definition.get("incremental", {}).get("mode")),
            ("checkpoint", (r.checkpoint or {}).get("value")),
            ("next run", r.next_run_at),
            ("last run", f"{r.last_run.status} ({r.last_run.rows_written} rows)" if r.last_run else "never"),
        ]
        cells = [(k, "" if v is None else str(v)) for k, v in rows]
        return f"<b>Job {html.escape(r.name)}</b>" + key_value_table(cells)


class Jobs:
    """Mixed into ``FeatureStore``: the transformation jobs of its organization."""

    _backend: Backend

    @property
    def path(self) -> str:
        raise NotImplementedError

    def create_job(
        self,
        name: str,
        sources: Any,
        transform: Any,
        target: Any,
        schedule: Any = None,
        incremental: Any = None,
        quality_checks: list[Any] | None = None,
        *,
        description: str | None = None,
        tags: list[str] | None = None,
        retries: int = 0,
        retry_delay: int = 300,
        timeout: int | float = 3600,
        launcher: str = "subprocess",
        if_exists: str = "error",
    ) -> Job:
        """A draft job reading ``sources``, transforming them with ``transform`` (a
        ``SQLTransform``, a ``@python_transform`` function or a ``HybridTransform``) and writing
        ``target`` (a ``Target`` or a group name), on ``schedule`` (manual by default), reading
        as ``incremental`` says (full by default), checked by ``quality_checks`` before it writes."""
        definition = JobDefinition.build(
            sources=sources,
            transform=transform,
            target=target,
            schedule=schedule,
            incremental=incremental,
            quality_checks=quality_checks,
            retries=retries,
            retry_delay=retry_delay,
            timeout=timeout,
            launcher=launcher,
        )
        record = self._backend.create_job(self.path, name, definition.to_dict(), description, tags, if_exists)
        return Job(self._backend, record)

    def get_job(self, name: str) -> Job:
        return Job(self._backend, self._backend.get_job(self.path, name))

    def list_jobs(self, group: str | None = None, status: str | None = None) -> list[Job]:
        return [Job(self._backend, r) for r in self._backend.list_jobs(self.path, group, status)]

    def delete_job(self, name: str) -> bool:
        return self._backend.delete_job(self.path, name)

    # -- models (PRD §18.12) ------------------------------------------------------------------------

    def list_models(self) -> list[ModelInfo]:
        """The models this project's inference jobs use, and those Python packages ship here."""
        return self._backend.list_models(self.path)

    def get_model(self, uri: str, framework: str | None = None, version: str = "latest") -> ModelInfo:
        """Where ``uri`` resolves on the store's machine (never downloading) and who uses it."""
        return self._backend.get_model(self.path, uri, framework, version)

    def validate_model(
        self,
        uri: str,
        framework: str | None = None,
        task: str | None = None,
        sample: dict[str, list[Any]] | None = None,
        output_schema: dict[str, str] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Load the model and run it on ``sample`` in a process of its own: ``valid``, the runtime,
        device and precision it got, how long it took to load and the outputs it gives."""
        return self._backend.validate_model(
            self.path, uri, framework, task, sample, output_schema=output_schema, **options
        )

    @property
    def transforms(self) -> Transforms:
        """Where this project's jobs run: ``use_airflow(...)``, ``generate_dag(job)``, tokens."""
        from raise_.client.orchestration import Transforms

        return Transforms(self._backend, self.path)

    def deploy_job(self, job: Job | str) -> DeployResult:
        """Deploy on the project's orchestrator (``fs.transforms.use_airflow`` chose Airflow: a DAG
        file; else the internal scheduler): a draft is activated. ``result.url`` says where to look
        at it (the DAG in Airflow's UI, or the job's status)."""
        name = job.name if isinstance(job, Job) else job
        result = self._backend.deploy_job(self.path, name)
        if isinstance(job, Job):
            job.reload()
        base = getattr(self._backend, "url", None)
        if result.orchestrator == "internal" and isinstance(base, str) and base:
            result = dataclasses.replace(
                result, url=f"{base.rstrip('/')}/raise/v1/projects/{self.path}/jobs/{result.job}/status"
            )
        return result
