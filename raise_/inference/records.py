"""What an inference run did (README *Inference Result*, PRD §18.8 ``inference_runs``)."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, Final

__all__ = ["LATENCY_BUCKETS", "InferenceResult", "ModelInfo"]

#: Upper bounds (seconds) of the per-batch latency histogram (``inference_batch_duration_seconds``).
LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass(frozen=True)
class InferenceResult:
    """One inference run: samples, speed, the device and memory it used, and the model it read.

    ``success_rate`` is processed ÷ total (1.0 for a run with nothing to do). On the CPU
    ``gpu_utilization_pct`` is 0 and ``peak_memory_gb`` the run process's peak resident memory;
    on a GPU they are NVML's mean utilization while the model ran and torch's peak allocation."""

    status: str = "succeeded"
    total_samples: int = 0
    processed_samples: int = 0
    failed_samples: int = 0
    throughput_samples_per_sec: float = 0.0
    duration_seconds: float = 0.0
    avg_latency_ms: float = 0.0
    p99_latency_ms: float = 0.0
    gpu_utilization_pct: float = 0.0
    peak_memory_gb: float = 0.0
    device: str = "cpu"
    devices: list[str] = field(default_factory=list)
    fell_back_to_cpu: bool = False
    precision: str = "fp32"
    runtime: str = ""
    model_uri: str = ""
    model_version: str = "latest"
    model_origin: str = ""
    model_revision: str | None = None
    model_load_seconds: float = 0.0
    warmup_seconds: float = 0.0
    batches: int = 0
    retried_batches: int = 0
    failed_batches: int = 0
    mean_batch_size: float = 0.0
    max_queue_depth: int = 0
    #: Cumulative counts per bucket bound (as ``le`` labels: "0.005", ..., "+Inf") and the sum.
    batch_latency_histogram: dict[str, int] = field(default_factory=dict)
    batch_latency_sum_seconds: float = 0.0
    #: The first few per-sample errors: {"row": i, "error": "..."}.
    sample_errors: list[dict[str, Any]] = field(default_factory=list)
    transform: str = ""
    job_run_id: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    error: str | None = None

    @property
    def success_rate(self) -> float:
        return self.processed_samples / self.total_samples if self.total_samples else 1.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["success_rate"] = self.success_rate
        for key in ("started_at", "completed_at"):
            if out[key] is not None:
                out[key] = out[key].isoformat()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InferenceResult:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("started_at", "completed_at"):
            if isinstance(values.get(key), str):
                values[key] = datetime.fromisoformat(values[key])
        return cls(**values)

    def __repr__(self) -> str:
        return (
            f"InferenceResult(status={self.status!r}, total_samples={self.total_samples}, "
            f"success_rate={self.success_rate:.2%}, throughput={self.throughput_samples_per_sec:.1f}/s, "
            f"device={self.device!r}, model={self.model_uri!r})"
        )

    def _repr_html_(self) -> str:
        rows = [
            ("model", f"{self.model_uri} ({self.runtime}, {self.precision})"),
            ("device", ", ".join(self.devices) or self.device),
            ("samples", f"{self.processed_samples:,} of {self.total_samples:,} ({self.success_rate:.2%})"),
            ("throughput", f"{self.throughput_samples_per_sec:.1f} samples/s"),
            ("latency", f"mean {self.avg_latency_ms:.1f} ms, p99 {self.p99_latency_ms:.1f} ms per batch"),
            ("duration", f"{self.duration_seconds:.1f} s (load {self.model_load_seconds:.1f} s)"),
            ("GPU utilization", f"{self.gpu_utilization_pct:.0f}%"),
            ("peak memory", f"{self.peak_memory_gb:.2f} GB"),
        ]
        body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
        return f"<b>Inference: {html.escape(self.transform)}</b><table>{body}</table>"


@dataclass(frozen=True)
class ModelInfo:
    """A model as ``GET /models/{uri}`` describes it."""

    uri: str
    framework: str
    available: bool
    origin: str = ""
    path: str | None = None
    revision: str | None = None
    size_bytes: int | None = None
    used_by: list[str] = field(default_factory=list)
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
