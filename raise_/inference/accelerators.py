"""Which device a run gets, and what it used (utilization, peak memory).

A GPU transform gets the visible CUDA devices it asks for (``count``; ``data_parallel`` spreads
batches over them). Where there are fewer, the run fails with ``ACCELERATOR_UNAVAILABLE`` unless
the transform allows falling back to the CPU. GPU utilization is sampled from NVML (nvidia-ml-py)
while the model runs and peak memory read from torch's allocator; on the CPU, utilization is 0
and peak memory is the run process's peak resident memory.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from raise_.errors import AcceleratorUnavailableError
from raise_.inference.specs import AcceleratorConfig, AcceleratorType
from raise_.runs.memory import peak_rss_bytes

__all__ = ["DevicePlan", "UsageSampler", "cuda_devices", "plan_devices"]


def cuda_devices() -> int:
    """How many CUDA devices this process sees (0 without torch or without a GPU)."""
    if importlib.util.find_spec("torch") is None:
        return 0
    import torch

    try:
        return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0
    except Exception:  # a broken driver reads as no GPU
        return 0


@dataclass(frozen=True)
class DevicePlan:
    """The devices a run uses (``["cuda:0", "cuda:1"]`` or ``["cpu"]``) and why."""

    devices: list[str]
    requested: str
    fell_back: bool = False
    note: str = ""
    gpu_names: list[str] = field(default_factory=list)
    #: ``tensor_parallel`` / ``pipeline_parallel``: one copy of the model split over ``devices``
    #: (not one copy per device, as ``data_parallel``).
    sharded: bool = False

    @property
    def replicas(self) -> list[str]:
        """The device of each copy of the model: every device, or the first of a sharded one."""
        return self.devices[:1] if self.sharded else list(self.devices)

    @property
    def on_gpu(self) -> bool:
        return self.devices[0].startswith("cuda")

    def to_dict(self) -> dict[str, Any]:
        return {
            "devices": list(self.devices),
            "requested": self.requested,
            "fell_back": self.fell_back,
            "note": self.note,
            "gpu_names": list(self.gpu_names),
        }


def plan_devices(config: AcceleratorConfig) -> DevicePlan:
    if config.kind is AcceleratorType.CPU:
        if config.cores:
            _limit_threads(config.cores)
        return DevicePlan(["cpu"], "cpu")
    if config.kind is AcceleratorType.TPU:
        raise AcceleratorUnavailableError(
            "This run asks for a TPU; Raise runs TPU transforms only on a cluster that has them (the Kubernetes "
            "launcher). Use AcceleratorConfig.gpu(...) or .cpu() here.",
            {"accelerator": config.to_dict()},
        )
    wanted = config.count
    visible = cuda_devices()
    gpu = config.gpu_model.name if config.gpu_model else "GPU"
    requested = f"{config.count} × {gpu}"
    if visible >= 1:
        import torch

        use = min(wanted, visible)
        names = [torch.cuda.get_device_name(i) for i in range(use)]
        note = "" if use == wanted else f"asked for {wanted} GPUs, {visible} visible: using {use}"
        sharded = use > 1 and config.multi_gpu_strategy in ("tensor_parallel", "pipeline_parallel")
        return DevicePlan([f"cuda:{i}" for i in range(use)], requested, note=note, gpu_names=names, sharded=sharded)
    if config.allow_cpu_fallback:
        return DevicePlan(
            ["cpu"], requested, fell_back=True, note=f"no GPU visible: ran on the CPU instead of {requested}"
        )
    raise AcceleratorUnavailableError(
        f"This run asks for {requested}, and no CUDA GPU is visible here"
        + ("" if importlib.util.find_spec("torch") else " (torch is not installed)")
        + ". Run it where one is (launcher='kubernetes'), or allow the CPU: "
        "AcceleratorConfig.gpu(..., allow_cpu_fallback=True) (gpu_type=..., allow_cpu_fallback=True in the "
        "convenience functions).",
        {"accelerator": config.to_dict(), "visible_gpus": visible},
    )


def _limit_threads(cores: int) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", str(cores))
    if importlib.util.find_spec("torch") is not None:
        import torch

        with contextlib.suppress(RuntimeError):
            torch.set_num_threads(cores)


class UsageSampler:
    """Samples GPU utilization through NVML every ``interval`` seconds while the model runs."""

    def __init__(self, plan: DevicePlan, interval: float = 0.2) -> None:
        self.plan = plan
        self.interval = interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._handles: list[Any] = []
        self.nvml = False

    def __enter__(self) -> UsageSampler:
        if not self.plan.on_gpu:
            return self
        try:
            import pynvml

            pynvml.nvmlInit()
            indices = [int(d.split(":")[1]) for d in self.plan.devices]
            visible = os.environ.get("CUDA_VISIBLE_DEVICES")
            if visible:
                mapping = [int(x) for x in visible.split(",") if x.strip().isdigit()]
                indices = [mapping[i] if i < len(mapping) else i for i in indices]
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in indices]
            self.nvml = True
        except Exception:
            return self
        self._thread = threading.Thread(target=self._loop, name="raise-gpu-usage", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        import pynvml

        while not self._stop.wait(self.interval):
            try:
                rates = [pynvml.nvmlDeviceGetUtilizationRates(h).gpu for h in self._handles]
            except Exception:
                return
            self.samples.append(sum(rates) / len(rates))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    @property
    def utilization_pct(self) -> float:
        return sum(self.samples) / len(self.samples) if self.samples else 0.0

    def peak_memory_gb(self) -> float:
        if not self.plan.on_gpu:
            return peak_rss_bytes() / 1e9
        import torch

        return sum(torch.cuda.max_memory_allocated(d) for d in self.plan.devices) / 1e9
