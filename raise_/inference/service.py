"""The inference service (PRD §18.8, §18.12): a job's inference transform, what its runs did, and
the models a project can use.

Inference runs are job runs: the job service drives them (a subprocess per run, DESIGN §8) and
this service listens: it keeps ``inference_transforms`` in step with each job's definition and
records an ``inference_runs`` row from the metrics each finished run reports. Access is the
job's: reading a transform or a run needs read on the job's target group, changing one write.
Models are resolved on this machine without downloading; validating one loads and runs it on a
sample in a run of its own process, never in the server.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import delete, select

from raise_.errors import InvalidInferenceError, JobRunNotFoundError, RaiseError
from raise_.governance.context import Service, ServiceContext
from raise_.governance.guard import Target, filtered, guarded, internal
from raise_.inference.models import InferenceRunModel, InferenceTransformModel
from raise_.inference.records import LATENCY_BUCKETS, InferenceResult, ModelInfo
from raise_.inference.resolve import resolve_model, shipped_models
from raise_.inference.specs import ModelFramework, ModelSpec
from raise_.inference.transform import InferenceTransform
from raise_.jobs.definition import JobDefinition
from raise_.jobs.models import JobModel, JobRunModel
from raise_.jobs.service import JobService

if TYPE_CHECKING:
    from raise_.runs.service import RunService

__all__ = ["MODEL_VALIDATE_KIND", "InferenceService"]

MODEL_VALIDATE_KIND: Final = "model-validate"
#: The parts of a transform a PATCH merges into (a partial batch_config keeps the rest).
_NESTED: Final = ("model", "accelerator", "batch_config", "runtime", "parameters")


def _is_inference(definition: JobDefinition) -> bool:
    return isinstance(definition.transform, InferenceTransform)


class InferenceService(Service):
    def __init__(self, context: ServiceContext, jobs: JobService, runs: RunService) -> None:
        super().__init__(context)
        self.jobs = jobs
        self.runs = runs
        jobs.on_job_saved.append(self._job_saved)
        jobs.on_job_deleting.append(self._job_deleting)
        jobs.on_run_finished.append(self._run_finished)

    # -- listening to the job service ---------------------------------------------------------------

    def _job_saved(self, s: Any, row: JobModel, definition: JobDefinition) -> None:
        existing = s.scalar(select(InferenceTransformModel).where(InferenceTransformModel.job_id == row.id))
        transform = definition.transform
        if not isinstance(transform, InferenceTransform):
            if existing is not None:  # the job's transform is no longer a model: its runs stay
                existing.mode = "retired"
            return
        data = transform.to_dict()
        if existing is None:
            existing = InferenceTransformModel(id=uuid.uuid4(), job_id=row.id)
            s.add(existing)
        existing.name = transform.name
        existing.description = transform.description
        existing.model_spec = data["model"]
        existing.accelerator_config = data["accelerator"]
        existing.batch_config = data["batch_config"]
        existing.runtime_config = data.get("runtime")
        existing.input_mapping = data["input_mapping"]
        existing.output_mapping = data["output_mapping"]
        existing.mode = data["mode"]

    def _job_deleting(self, s: Any, job_id: uuid.UUID) -> None:
        ids = select(InferenceTransformModel.id).where(InferenceTransformModel.job_id == job_id)
        s.execute(delete(InferenceRunModel).where(InferenceRunModel.transform_id.in_(ids)))
        s.execute(delete(InferenceTransformModel).where(InferenceTransformModel.job_id == job_id))

    def _run_finished(
        self, s: Any, job_run_id: uuid.UUID, status: str, metrics: dict[str, Any], error: str | None
    ) -> None:
        data = metrics.get("inference")
        run = s.get(JobRunModel, job_run_id)
        if run is None:
            return
        transform = s.scalar(select(InferenceTransformModel).where(InferenceTransformModel.job_id == run.job_id))
        if transform is None:
            return
        result = InferenceResult.from_dict(dict(data)) if isinstance(data, dict) else InferenceResult(status=status)
        s.add(
            InferenceRunModel(
                id=uuid.uuid4(),
                job_run_id=job_run_id,
                transform_id=transform.id,
                status=status,
                total_samples=result.total_samples,
                processed_samples=result.processed_samples,
                failed_samples=result.failed_samples,
                throughput_samples_per_sec=result.throughput_samples_per_sec,
                avg_latency_ms=result.avg_latency_ms,
                p99_latency_ms=result.p99_latency_ms,
                gpu_utilization_pct=result.gpu_utilization_pct,
                peak_memory_gb=result.peak_memory_gb,
                started_at=result.started_at or run.started_at,
                # A run that failed before its model ran (no GPU, no model) ends now.
                completed_at=result.completed_at or datetime.now(UTC),
                error=error,
                details={**result.to_dict(), "status": status, "error": error},
            )
        )

    # -- a job's inference transform (PRD §18.12) -----------------------------------------------------

    @filtered("checks read on the job's target group")
    def get_inference_transform(self, project_path: str, name: str) -> dict[str, Any]:
        """The job's inference transform as JSON, with its row's id and times."""
        job = self.jobs.get_job(project_path, name)
        transform = job.definition.get("transform") or {}
        if transform.get("transform_type") != "inference":
            raise InvalidInferenceError(
                f"Job {name!r} runs a {transform.get('transform_type')} transform, not a model; give it one with "
                "POST .../inference-transform (job.set_inference_transform(...)).",
                {"name": name},
            )
        with self.db.reader() as s:
            row = s.scalar(select(InferenceTransformModel).where(InferenceTransformModel.job_id == uuid.UUID(job.id)))
            meta = {"id": str(row.id), "created_at": row.created_at, "updated_at": row.updated_at} if row else {}
        return {**transform, **meta}

    @filtered("checks write on the job's target group")
    def set_inference_transform(self, project_path: str, name: str, transform: dict[str, Any]) -> dict[str, Any]:
        """Make ``transform`` (an inference transform's dict) the job's transform."""
        if not isinstance(transform, dict):
            raise InvalidInferenceError("transform is an inference transform's mapping.", {"field": "transform"})
        parsed = InferenceTransform.from_dict({**transform, "transform_type": "inference"})
        self.jobs.update_job(project_path, name, {"transform": parsed.to_dict()})
        return self.get_inference_transform(project_path, name)

    @filtered("checks write on the job's target group")
    def update_inference_transform(self, project_path: str, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change parts of the job's inference transform: ``{"batch_config": {"batch_size": 64}}``
        keeps the rest of the batch config (model, accelerator, runtime and parameters merge the same way)."""
        if not isinstance(changes, dict) or not changes:
            raise InvalidInferenceError("changes maps transform fields to new values.", {"field": "changes"})
        current = {
            k: v
            for k, v in self.get_inference_transform(project_path, name).items()
            if k not in ("id", "created_at", "updated_at")
        }
        merged = copy.deepcopy(current)
        for key, value in changes.items():
            if key in _NESTED and isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        return self.set_inference_transform(project_path, name, merged)

    # -- what runs did ---------------------------------------------------------------------------------

    def _inference_row(self, project_path: str, name: str, run_id: str) -> InferenceRunModel:
        run = self.jobs.get_job_run(project_path, name, run_id)  # checks read, and that the run is the job's
        with self.db.reader() as s:
            row = s.scalar(
                select(InferenceRunModel)
                .where(InferenceRunModel.job_run_id == uuid.UUID(run.id))
                .order_by(InferenceRunModel.completed_at.desc().nulls_last())
                .limit(1)
            )
            if row is None:
                why = "it has not finished" if not run.finished else "its job's transform is not a model"
                raise JobRunNotFoundError(
                    f"Run {run_id} of job {name!r} has no inference result: {why}.",
                    {"name": name, "run_id": run_id, "status": run.status},
                )
            s.expunge(row)
            return row

    @filtered("checks read on the job's target group")
    def get_inference_run(self, project_path: str, name: str, run_id: str) -> InferenceResult:
        """What the model did in a run (README *Inference Result*)."""
        row = self._inference_row(project_path, name, run_id)
        details = dict(row.details or {})
        details.update(status=row.status, error=row.error, job_run_id=str(row.job_run_id))
        return InferenceResult.from_dict(details)

    @filtered("checks read on the job's target group")
    def inference_run_metrics(self, project_path: str, name: str, run_id: str) -> dict[str, Any]:
        """A run's figures under PRD §18.13's metric names (the batch latency as a histogram)."""
        result = self.get_inference_run(project_path, name, run_id)
        return {
            "inference_samples_total": result.processed_samples,
            "inference_samples_failed": result.failed_samples,
            "inference_batch_duration_seconds": {
                "buckets": dict(result.batch_latency_histogram),
                "sum": result.batch_latency_sum_seconds,
                "count": result.batches,
            },
            "inference_throughput_samples_per_sec": result.throughput_samples_per_sec,
            "inference_gpu_utilization_percent": result.gpu_utilization_pct,
            "inference_gpu_memory_used_gb": result.peak_memory_gb if result.device.startswith("cuda") else 0.0,
            "inference_queue_depth": result.max_queue_depth,
            "inference_model_load_seconds": result.model_load_seconds,
            "inference_warmup_seconds": result.warmup_seconds,
        }

    @internal
    def inference_metrics(self) -> dict[str, Any]:
        """What ``/metrics`` reports (PRD §18.13), from the catalog's inference runs (so every
        process sharing the catalog reports the same): counters and histograms over all runs,
        gauges of the newest."""
        with self.db.reader() as s:
            rows = s.execute(
                select(InferenceRunModel.details, InferenceRunModel.completed_at).order_by(
                    InferenceRunModel.completed_at
                )
            ).all()
        batch = {str(b): 0 for b in LATENCY_BUCKETS}
        batch_sum, batch_count = 0.0, 0
        samples = failed = 0
        loads: list[float] = []
        warmups: list[float] = []
        newest: dict[str, Any] = {}
        for details, _ in rows:
            d = dict(details or {})
            samples += int(d.get("processed_samples") or 0)
            failed += int(d.get("failed_samples") or 0)
            histogram = dict(d.get("batch_latency_histogram") or {})
            for bound in batch:
                batch[bound] += int(histogram.get(bound, 0))
            batch_sum += float(d.get("batch_latency_sum_seconds") or 0.0)
            batch_count += int(d.get("batches") or 0)
            if d.get("runtime"):  # the model was loaded (a run can fail before)
                loads.append(float(d.get("model_load_seconds") or 0.0))
                warmups.append(float(d.get("warmup_seconds") or 0.0))
                newest = d
        on_gpu = str(newest.get("device", "cpu")).startswith("cuda")
        return {
            "samples": samples,
            "samples_failed": failed,
            "batch_durations": {
                "buckets": [(float(b), n) for b, n in batch.items()],
                "sum": batch_sum,
                "count": batch_count,
            },
            "throughput": float(newest.get("throughput_samples_per_sec") or 0.0),
            "gpu_utilization": float(newest.get("gpu_utilization_pct") or 0.0),
            "gpu_memory_gb": float(newest.get("peak_memory_gb") or 0.0) if on_gpu else 0.0,
            "queue_depth": int(newest.get("max_queue_depth") or 0),
            "model_load": _observations(loads),
            "warmup": _observations(warmups),
        }

    # -- models (PRD §18.12 "Model Registry Integration") ------------------------------------------------

    def _describe(self, spec: ModelSpec, used_by: list[str]) -> ModelInfo:
        try:
            resolved = resolve_model(spec)
        except RaiseError as exc:
            return ModelInfo(spec.uri, spec.model_framework.value, False, used_by=used_by, problem=exc.message)
        size = None
        if resolved.path is not None:
            files = [resolved.path] if resolved.path.is_file() else list(resolved.path.rglob("*"))
            size = sum(f.stat().st_size for f in files if f.is_file())
        return ModelInfo(
            spec.uri,
            spec.model_framework.value,
            True,
            resolved.origin,
            str(resolved.path) if resolved.path else resolved.reference,
            resolved.revision,
            size,
            used_by,
        )

    def _project_models(self, project_path: str) -> dict[tuple[str, str], list[str]]:
        """(uri, framework) → the readable jobs of the project using it."""
        used: dict[tuple[str, str], list[str]] = {}
        for job in self.jobs.list_jobs(project_path):
            if job.project != project_path:
                continue
            transform = job.definition.get("transform") or {}
            if transform.get("transform_type") != "inference":
                continue
            model = transform.get("model") or {}
            used.setdefault((str(model.get("uri")), str(model.get("framework"))), []).append(job.name)
        return used

    @guarded("read", lambda a: Target.path(a["project_path"]), "list the models of")
    def list_models(self, project_path: str) -> list[ModelInfo]:
        """The models the project's inference jobs use, and those shipped with Python packages here."""
        used = self._project_models(project_path)
        out = [self._describe(ModelSpec(uri=u, framework=f), jobs) for (u, f), jobs in sorted(used.items())]
        seen = {m.uri for m in out}
        for shipped in shipped_models():
            if shipped["uri"] not in seen:
                out.append(self._describe(ModelSpec(uri=shipped["uri"]), []))
        return out

    @guarded("read", lambda a: Target.path(a["project_path"]), "read the models of")
    def get_model(
        self, project_path: str, uri: str, framework: str | None = None, version: str = "latest"
    ) -> ModelInfo:
        """Where ``uri`` resolves here (never downloading), its size, and which jobs use it."""
        spec = ModelSpec(uri=uri, framework=framework or _framework_for(uri), version=version)
        used = self._project_models(project_path).get((spec.uri, spec.model_framework.value), [])
        return self._describe(spec, used)

    @guarded("write", lambda a: Target.path(a["project_path"]), "validate models for")
    def validate_model(
        self,
        project_path: str,
        uri: str,
        framework: str | None = None,
        task: str | None = None,
        sample: dict[str, list[Any]] | None = None,
        input_schema: dict[str, str] | None = None,
        output_schema: dict[str, str] | None = None,
        config: dict[str, Any] | None = None,
        timeout: float = 600.0,
    ) -> dict[str, Any]:
        """Load the model and run it on ``sample`` (column → values; a text sample by default for
        text tasks) in a run of its own process: what it gives, against ``output_schema``."""
        model = ModelSpec(
            uri=uri,
            framework=framework or _framework_for(uri),
            input_schema=input_schema or {},
            output_schema=output_schema or {},
            config=config or {},
        )
        transform = InferenceTransform(name="validate", model=model, task=task)
        spec = {"transform": transform.to_dict(), "sample": sample}
        run = self.runs.submit(
            MODEL_VALIDATE_KIND, spec, trigger="model-validate", launcher="subprocess", timeout=timeout
        )
        done = self.runs.wait(run.id)
        if done.status != "completed":
            error = done.error
            return {
                "uri": uri,
                "valid": False,
                "code": error.code if error else "RUN_FAILED",
                "problem": error.message if error else f"the validation run ended {done.status}",
            }
        return {"uri": uri, "valid": True, **dict(done.result or {})}


def _observations(values: list[float]) -> dict[str, Any]:
    """Values as a Prometheus histogram snapshot over the latency buckets."""
    return {
        "buckets": [(float(b), sum(1 for v in values if v <= b)) for b in LATENCY_BUCKETS],
        "sum": float(sum(values)),
        "count": len(values),
    }


def _framework_for(uri: str) -> str:
    from raise_.inference.transform import _framework_of

    return _framework_of(uri).value if not uri.startswith("python://") else ModelFramework.CUSTOM.value
