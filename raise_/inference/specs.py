"""What an inference transform is made of (README *Bulk Inference*, PRD §18.3–§18.6): the model,
the accelerator it asks for, how it batches and the container it runs in.

Every value here is a frozen dataclass that travels as JSON (``to_dict`` / ``from_dict``): the
catalog keeps it (``inference_transforms``, PRD §18.8) and a run's process rebuilds it. Nothing
here imports a framework: a spec is checked when it is written, the model when a run loads it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, Final, TypeVar

from raise_.errors import InvalidInferenceError

__all__ = [
    "GPU_MEMORY_GB",
    "MULTI_GPU_STRATEGIES",
    "AcceleratorConfig",
    "AcceleratorType",
    "BatchConfig",
    "GPUType",
    "InferenceMode",
    "InferenceRuntime",
    "ModelFramework",
    "ModelPrecision",
    "ModelSpec",
    "TPUType",
    "parse_enum",
]

E = TypeVar("E", bound=Enum)


def parse_enum(kind: type[E], value: object, what: str) -> E:
    """A member of ``kind`` from itself, its value or its name, any case (``"fp16"``, ``"FP16"``)."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        text = value.strip()
        for name, member in kind.__members__.items():
            if text == member.value or text.upper() == name or text.lower() == str(member.value).lower():
                return member
    choices = ", ".join(m.name for m in kind)
    raise InvalidInferenceError(f"Unknown {what} {value!r}; use one of {choices}.", {"field": what})


class ModelFramework(str, Enum):  # noqa: UP042 - a str Enum: the member is its JSON value
    """What reads the model (PRD §18.3); the URI prefixes each one takes are in :data:`URI_SCHEMES`."""

    PYTORCH = "pytorch"
    TENSORFLOW = "tensorflow"
    ONNX = "onnx"
    HUGGINGFACE = "huggingface"
    MLFLOW = "mlflow"
    TRITON = "triton"
    SKLEARN = "sklearn"
    XGBOOST = "xgboost"
    LIGHTGBM = "lightgbm"
    JAX = "jax"
    CUSTOM = "custom"

    def __str__(self) -> str:
        return f"ModelFramework.{self.name}"


class ModelPrecision(str, Enum):  # noqa: UP042
    FP32 = "fp32"
    FP16 = "fp16"
    BF16 = "bf16"
    INT8 = "int8"
    INT4 = "int4"

    @property
    def bits(self) -> int:
        return {"fp32": 32, "fp16": 16, "bf16": 16, "int8": 8, "int4": 4}[self.value]

    def __str__(self) -> str:
        return f"ModelPrecision.{self.name}"


class AcceleratorType(str, Enum):  # noqa: UP042
    CPU = "cpu"
    GPU = "gpu"
    TPU = "tpu"


class GPUType(str, Enum):  # noqa: UP042 - a str Enum so the member *is* its node label value in JSON and YAML
    """GPU models (README *GPU Types*), valued as GKE's ``cloud.google.com/gke-accelerator`` node
    label says them: the Kubernetes launcher selects nodes with the value.

    On another cloud, set ``KubernetesConfig.gpu_node_label`` to the label its GPU nodes carry
    (and label them with these values), or select nodes with ``node_selector``. The short names
    (``T4``, ``L4``, ``A100_40GB``, ...) are aliases of the README's ``NVIDIA_*`` members."""

    NVIDIA_T4 = "nvidia-tesla-t4"
    NVIDIA_A10G = "nvidia-a10g"
    NVIDIA_A100 = "nvidia-tesla-a100"
    NVIDIA_A100_80GB = "nvidia-a100-80gb"
    NVIDIA_H100 = "nvidia-h100-80gb"
    NVIDIA_L4 = "nvidia-l4"
    NVIDIA_H200 = "nvidia-h200-141gb"
    # Aliases (the names the Kubernetes launcher took first).
    T4 = "nvidia-tesla-t4"
    A10G = "nvidia-a10g"
    A100_40GB = "nvidia-tesla-a100"
    A100_80GB = "nvidia-a100-80gb"
    H100 = "nvidia-h100-80gb"
    L4 = "nvidia-l4"
    H200 = "nvidia-h200-141gb"

    @classmethod
    def parse(cls, value: GPUType | str) -> GPUType:
        """A member from itself, its label value (``"nvidia-l4"``) or a name (``"NVIDIA_L4"``, ``"L4"``, ``"l4"``)."""
        if isinstance(value, GPUType):
            return value
        if isinstance(value, str):
            text = value.strip()
            for name, member in cls.__members__.items():
                if text == member.value or text.upper() == name:
                    return member
        from raise_.errors import InvalidArgumentError

        raise InvalidArgumentError(
            f"Unknown GPU type {value!r}; use one of {', '.join(m.name for m in cls)} "
            f"(or their node label values: {', '.join(m.value for m in cls)}).",
            {"field": "gpu_type"},
        )

    @property
    def memory_gb(self) -> int:
        """The card's memory (README *GPU Types*)."""
        return GPU_MEMORY_GB[self]

    def __str__(self) -> str:
        return f"GPUType.{self.name}"


GPU_MEMORY_GB: Final[Mapping[GPUType, int]] = {
    GPUType.NVIDIA_T4: 16,
    GPUType.NVIDIA_A10G: 24,
    GPUType.NVIDIA_A100: 40,
    GPUType.NVIDIA_A100_80GB: 80,
    GPUType.NVIDIA_H100: 80,
    GPUType.NVIDIA_L4: 24,
    GPUType.NVIDIA_H200: 141,
}


class TPUType(str, Enum):  # noqa: UP042
    TPU_V2 = "tpu-v2"
    TPU_V3 = "tpu-v3"
    TPU_V4 = "tpu-v4"
    TPU_V5 = "tpu-v5"


class InferenceMode(str, Enum):  # noqa: UP042
    """PRD §18.7: a job runs BATCH; STREAMING and ONLINE are kept for the serving issue."""

    BATCH = "batch"
    STREAMING = "streaming"
    ONLINE = "online"


MULTI_GPU_STRATEGIES: Final = ("data_parallel", "tensor_parallel", "pipeline_parallel")

#: Which URI schemes a framework reads (README *Supported Frameworks*, plus ``file://`` and plain
#: paths everywhere: a model trained in the notebook lives on the local disk first).
URI_SCHEMES: Final[Mapping[ModelFramework, tuple[str, ...]]] = {
    ModelFramework.PYTORCH: ("s3", "file", "gs", "mlflow"),
    ModelFramework.TENSORFLOW: ("s3", "gs", "file"),
    ModelFramework.ONNX: ("s3", "file", "gs", "hf"),
    ModelFramework.HUGGINGFACE: ("hf", "file", "s3"),
    ModelFramework.MLFLOW: ("mlflow",),
    ModelFramework.TRITON: ("triton",),
    ModelFramework.SKLEARN: ("s3", "file", "gs", "mlflow"),
    ModelFramework.XGBOOST: ("s3", "file", "gs", "mlflow"),
    ModelFramework.LIGHTGBM: ("s3", "file", "gs", "mlflow"),
    ModelFramework.JAX: ("s3", "file", "gs"),
    ModelFramework.CUSTOM: ("python", "s3", "file", "gs", "hf", "mlflow"),
}

_SCHEME: Final = re.compile(r"^([a-z][a-z0-9+.-]*)://")
#: ``float32[384]``, ``int64``, ``string``, ``float32[3,224,224]``, ``float32[]`` (any length).
_DTYPE: Final = re.compile(r"^(?P<base>[a-z][a-z0-9_]*)(?:\[(?P<shape>[0-9, ]*)\])?$")
SCHEMA_BASES: Final = frozenset(
    {"string", "bool", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "binary", "blob_ref"}
)


def uri_scheme(uri: str) -> str:
    """``hf``, ``s3``, ``mlflow``, ... or ``file`` for a plain path."""
    found = _SCHEME.match(uri)
    return found.group(1) if found else "file"


def parse_schema_type(text: object, where: str) -> tuple[str, tuple[int, ...] | None]:
    """``"float32[384]"`` → ``("float32", (384,))``; ``"string"`` → ``("string", None)``."""
    found = _DTYPE.match(text.strip().lower()) if isinstance(text, str) else None
    if found is None or found.group("base") not in SCHEMA_BASES:
        raise InvalidInferenceError(
            f"{where}: {text!r} is not a schema type; write a base type ({', '.join(sorted(SCHEMA_BASES))}) with an "
            "optional shape, e.g. 'float32[384]'.",
            {"field": where},
        )
    shape_text = found.group("shape")
    if shape_text is None:
        return found.group("base"), None
    parts = [p.strip() for p in shape_text.split(",") if p.strip()]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise InvalidInferenceError(f"{where}: bad shape in {text!r}.", {"field": where}) from None
    if any(n <= 0 for n in shape):
        raise InvalidInferenceError(f"{where}: dimensions in {text!r} must be positive.", {"field": where})
    return found.group("base"), shape


def _schema(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and k for k in value):
        raise InvalidInferenceError(f"{where} maps names to types, e.g. {{'text': 'string'}}.", {"field": where})
    out = {}
    for name, typ in value.items():
        parse_schema_type(typ, f"{where}[{name!r}]")
        out[str(name)] = str(typ).strip().lower()
    return out


def _positive_int(value: object, what: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInferenceError(f"{what} is a whole number ≥ {minimum}, got {value!r}.", {"field": what})
    return value


def _from_mapping(cls: Any, data: object, what: str) -> Any:
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise InvalidInferenceError(f"{what} is a {cls.__name__} or a mapping, got {data!r}.", {"field": what})
    known = {f.name for f in fields(cls)}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise InvalidInferenceError(
            f"Unknown {what} field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}.",
            {"field": what, "unknown": unknown},
        )
    return cls(**dict(data))


@dataclass(frozen=True)
class ModelSpec:
    """Where a model is and how to read it (PRD §18.3).

    ``uri``: ``hf://org/name`` (a local copy: never downloaded), ``file:///abs/model.onnx`` or a
    plain path, ``s3://bucket/key``, ``mlflow://models:/name/version`` (or ``@alias``, or a stage
    such as ``Production``), ``python://module:function``. ``config`` carries what a runtime
    reads beyond that (``task`` for a transformers pipeline, ``normalize`` for embeddings,
    ``max_length``, ``image_size``, ...)."""

    uri: str
    framework: ModelFramework | str = ModelFramework.HUGGINGFACE
    version: str = "latest"
    precision: ModelPrecision | str = ModelPrecision.FP32
    input_schema: dict[str, str] = field(default_factory=dict)
    output_schema: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.uri, str) or not self.uri.strip():
            raise InvalidInferenceError("ModelSpec needs uri=, where the model is.", {"field": "model.uri"})
        object.__setattr__(self, "uri", self.uri.strip())
        framework = parse_enum(ModelFramework, self.framework, "model.framework")
        object.__setattr__(self, "framework", framework)
        object.__setattr__(self, "precision", parse_enum(ModelPrecision, self.precision, "model.precision"))
        if not isinstance(self.version, str) or not self.version.strip():
            raise InvalidInferenceError("version is text ('latest', '3', ...).", {"field": "model.version"})
        object.__setattr__(self, "input_schema", _schema(self.input_schema, "model.input_schema"))
        object.__setattr__(self, "output_schema", _schema(self.output_schema, "model.output_schema"))
        if not isinstance(self.config, Mapping):
            raise InvalidInferenceError("config is a mapping.", {"field": "model.config"})
        object.__setattr__(self, "config", dict(self.config))
        scheme = self.scheme
        allowed = URI_SCHEMES[framework]
        if scheme not in allowed:
            raise InvalidInferenceError(
                f"A {framework.name} model cannot be read from {scheme}:// (uri {self.uri!r}); "
                f"{framework.name} takes {', '.join(s + '://' for s in allowed)}.",
                {"field": "model.uri", "scheme": scheme, "framework": framework.value},
            )

    @property
    def scheme(self) -> str:
        return uri_scheme(self.uri)

    @property
    def model_framework(self) -> ModelFramework:
        assert isinstance(self.framework, ModelFramework)
        return self.framework

    @property
    def model_precision(self) -> ModelPrecision:
        assert isinstance(self.precision, ModelPrecision)
        return self.precision

    def to_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "framework": self.model_framework.value,
            "version": self.version,
            "precision": self.model_precision.value,
            "input_schema": dict(self.input_schema),
            "output_schema": dict(self.output_schema),
            "config": dict(self.config),
        }

    @classmethod
    def from_dict(cls, data: object) -> ModelSpec:
        spec: ModelSpec = _from_mapping(cls, data, "model")
        return spec


@dataclass(frozen=True)
class AcceleratorConfig:
    """The compute a transform asks for (PRD §18.4). Build it with :meth:`gpu`,
    :meth:`multi_gpu`, :meth:`tpu` or :meth:`cpu`.

    ``allow_cpu_fallback``: where no GPU is visible (a laptop, CI), run on the CPU instead of
    failing with ``ACCELERATOR_UNAVAILABLE``; the run's result says which device it used."""

    accelerator_type: AcceleratorType | str = AcceleratorType.CPU
    gpu_type: GPUType | str | None = None
    tpu_type: TPUType | str | None = None
    count: int = 1
    memory_gb: int | None = None
    multi_gpu_strategy: str | None = None
    cores: int | None = None
    allow_cpu_fallback: bool = False

    def __post_init__(self) -> None:
        kind = parse_enum(AcceleratorType, self.accelerator_type, "accelerator.accelerator_type")
        object.__setattr__(self, "accelerator_type", kind)
        if self.gpu_type is not None:
            object.__setattr__(self, "gpu_type", _gpu(self.gpu_type))
        if self.tpu_type is not None:
            object.__setattr__(self, "tpu_type", parse_enum(TPUType, self.tpu_type, "accelerator.tpu_type"))
        _positive_int(self.count, "accelerator.count")
        if self.memory_gb is not None:
            _positive_int(self.memory_gb, "accelerator.memory_gb")
        if self.cores is not None:
            _positive_int(self.cores, "accelerator.cores")
        if not isinstance(self.allow_cpu_fallback, bool):
            raise InvalidInferenceError("allow_cpu_fallback is True or False.", {"field": "accelerator"})
        strategy = self.multi_gpu_strategy
        if strategy is not None and strategy not in MULTI_GPU_STRATEGIES:
            raise InvalidInferenceError(
                f"Unknown multi-GPU strategy {strategy!r}; use one of {', '.join(MULTI_GPU_STRATEGIES)}.",
                {"field": "accelerator.multi_gpu_strategy"},
            )
        if kind is AcceleratorType.CPU and (self.gpu_type is not None or strategy is not None):
            raise InvalidInferenceError(
                "A CPU accelerator has no gpu_type or multi_gpu_strategy: use AcceleratorConfig.gpu(...).",
                {"field": "accelerator"},
            )
        if kind is not AcceleratorType.GPU and self.allow_cpu_fallback:
            raise InvalidInferenceError("allow_cpu_fallback is for GPU accelerators.", {"field": "accelerator"})
        gpu = self.gpu_type
        if isinstance(gpu, GPUType) and self.memory_gb is not None and self.memory_gb > gpu.memory_gb:
            raise InvalidInferenceError(
                f"memory_gb={self.memory_gb} is more than a {gpu.name} has ({gpu.memory_gb} GB).",
                {"field": "accelerator.memory_gb"},
            )

    # -- the README's constructors ------------------------------------------------------------

    @classmethod
    def gpu(
        cls,
        gpu_type: GPUType | str = GPUType.NVIDIA_T4,
        *,
        memory_gb: int | None = None,
        count: int = 1,
        allow_cpu_fallback: bool = False,
    ) -> AcceleratorConfig:
        return cls(
            AcceleratorType.GPU,
            gpu_type=gpu_type,
            count=count,
            memory_gb=memory_gb,
            allow_cpu_fallback=allow_cpu_fallback,
        )

    @classmethod
    def multi_gpu(
        cls,
        gpu_type: GPUType | str = GPUType.NVIDIA_A100,
        count: int = 2,
        strategy: str = "data_parallel",
        *,
        memory_gb: int | None = None,
        allow_cpu_fallback: bool = False,
    ) -> AcceleratorConfig:
        return cls(
            AcceleratorType.GPU,
            gpu_type=gpu_type,
            count=count,
            memory_gb=memory_gb,
            multi_gpu_strategy=strategy,
            allow_cpu_fallback=allow_cpu_fallback,
        )

    @classmethod
    def tpu(cls, tpu_type: TPUType | str = TPUType.TPU_V4, count: int = 8) -> AcceleratorConfig:
        return cls(AcceleratorType.TPU, tpu_type=tpu_type, count=count)

    @classmethod
    def cpu(cls, cores: int | None = None) -> AcceleratorConfig:
        return cls(AcceleratorType.CPU, cores=cores)

    # -- reading ------------------------------------------------------------------------------

    @property
    def kind(self) -> AcceleratorType:
        assert isinstance(self.accelerator_type, AcceleratorType)
        return self.accelerator_type

    @property
    def gpu_model(self) -> GPUType | None:
        return self.gpu_type if isinstance(self.gpu_type, GPUType) else None

    @property
    def wants_gpu(self) -> bool:
        return self.kind is AcceleratorType.GPU

    def kubernetes_resources(self) -> dict[str, Any]:
        """The run's ``resources`` spec for the Kubernetes launcher (``ResourceRequest`` fields)."""
        out: dict[str, Any] = {}
        if self.wants_gpu:
            out["gpu_count"] = self.count
            if self.gpu_model is not None:
                out["gpu_type"] = self.gpu_model.value
        if self.cores is not None:
            out["cpu"] = self.cores
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"accelerator_type": self.kind.value, "count": self.count}
        if self.gpu_model is not None:
            out["gpu_type"] = self.gpu_model.name
        if isinstance(self.tpu_type, TPUType):
            out["tpu_type"] = self.tpu_type.name
        for name in ("memory_gb", "multi_gpu_strategy", "cores"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.allow_cpu_fallback:
            out["allow_cpu_fallback"] = True
        return out

    @classmethod
    def from_dict(cls, data: object) -> AcceleratorConfig:
        config: AcceleratorConfig = _from_mapping(cls, data, "accelerator")
        return config


def _gpu(value: object) -> GPUType:
    try:
        return GPUType.parse(value)  # type: ignore[arg-type]
    except Exception as exc:  # InvalidArgumentError: re-coded as the inference spec's error
        raise InvalidInferenceError(str(getattr(exc, "message", exc)), {"field": "accelerator.gpu_type"}) from None


@dataclass(frozen=True)
class BatchConfig:
    """How rows reach the model (PRD §18.5).

    ``dynamic_batching``: text is grouped by length (similar lengths share a batch, so padding
    is small) and a batch grows up to ``max_batch_size`` while its padded size stays within
    ``batch_size`` × the longest input's length. ``prefetch_batches`` batches are prepared by
    ``num_workers`` threads while the model runs. A batch that raises is retried
    (``retry_failed``, ``max_retries``), then split so one bad sample fails alone; what still
    fails counts in the result's ``failed_samples`` and the run fails only when more than
    ``max_failure_rate`` of the samples did. A batch running past ``timeout_seconds`` fails."""

    batch_size: int = 32
    max_batch_size: int | None = None
    dynamic_batching: bool = False
    prefetch_batches: int = 2
    num_workers: int = 4
    timeout_seconds: float = 300.0
    retry_failed: bool = True
    max_retries: int = 3
    max_failure_rate: float = 1.0

    def __post_init__(self) -> None:
        _positive_int(self.batch_size, "batch_config.batch_size")
        if self.max_batch_size is not None:
            _positive_int(self.max_batch_size, "batch_config.max_batch_size")
            if self.max_batch_size < self.batch_size:
                raise InvalidInferenceError(
                    f"max_batch_size ({self.max_batch_size}) is less than batch_size ({self.batch_size}).",
                    {"field": "batch_config.max_batch_size"},
                )
        _positive_int(self.prefetch_batches, "batch_config.prefetch_batches", minimum=0)
        _positive_int(self.num_workers, "batch_config.num_workers")
        _positive_int(self.max_retries, "batch_config.max_retries", minimum=0)
        for name in ("dynamic_batching", "retry_failed"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidInferenceError(f"{name} is True or False.", {"field": f"batch_config.{name}"})
        t = self.timeout_seconds
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t <= 0:
            raise InvalidInferenceError(
                "timeout_seconds is a positive number.", {"field": "batch_config.timeout_seconds"}
            )
        r = self.max_failure_rate
        if isinstance(r, bool) or not isinstance(r, int | float) or not 0 <= r <= 1:
            raise InvalidInferenceError(
                "max_failure_rate is a fraction from 0 to 1.", {"field": "batch_config.max_failure_rate"}
            )

    @property
    def largest_batch(self) -> int:
        return self.max_batch_size or self.batch_size

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: object) -> BatchConfig:
        config: BatchConfig = _from_mapping(cls, data or {}, "batch_config")
        return config


@dataclass(frozen=True)
class InferenceRuntime:
    """The container a run executes in on Kubernetes (PRD §18.6); locally the run uses this
    Python, with ``env_vars`` set, and logs the listed packages it lacks (the image brings them)."""

    image: str
    python_version: str = "3.10"
    packages: list[str] = field(default_factory=list)
    env_vars: dict[str, str] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    startup_timeout_seconds: int = 300
    warmup_batches: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.image, str) or not self.image.strip() or any(c.isspace() for c in self.image):
            raise InvalidInferenceError("image is a container image reference.", {"field": "runtime.image"})
        if not isinstance(self.python_version, str) or not re.fullmatch(r"3\.\d+(\.\d+)?", self.python_version):
            raise InvalidInferenceError("python_version is '3.x'.", {"field": "runtime.python_version"})
        if not isinstance(self.packages, list | tuple) or not all(
            isinstance(p, str) and p.strip() for p in self.packages
        ):
            raise InvalidInferenceError("packages is a list of requirement strings.", {"field": "runtime.packages"})
        object.__setattr__(self, "packages", list(self.packages))
        env = self.env_vars
        if not isinstance(env, Mapping) or not all(
            isinstance(k, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k) and isinstance(v, str)
            for k, v in env.items()
        ):
            raise InvalidInferenceError("env_vars maps variable names to text.", {"field": "runtime.env_vars"})
        object.__setattr__(self, "env_vars", dict(env))
        if not isinstance(self.resources, Mapping):
            raise InvalidInferenceError("resources is a mapping.", {"field": "runtime.resources"})
        object.__setattr__(self, "resources", dict(self.resources))
        _positive_int(self.startup_timeout_seconds, "runtime.startup_timeout_seconds")
        _positive_int(self.warmup_batches, "runtime.warmup_batches", minimum=0)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: object) -> InferenceRuntime:
        runtime: InferenceRuntime = _from_mapping(cls, data, "runtime")
        return runtime
