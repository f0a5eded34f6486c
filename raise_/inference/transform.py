"""Inference transforms (README *Inference Transforms*, PRD §18.7, §18.9): a model run over a job's
source rows, its outputs written as features.

``input_mapping`` maps the model's inputs to source columns (``{"text": "user_bio"}``: the model's
``text`` is the column ``user_bio``) and ``output_mapping`` the model's outputs to output columns
(``{"embedding": "bio_embedding"}``); the job's ``Target.features`` then maps output columns to
features as for any job. The output carries, besides the model's columns, the rows' keys: the
target's ``key_columns`` when it names them, else the source group's entity keys and event time
(``passthrough_columns`` overrides both).

``task`` says what the model is asked to do: ``embedding`` (text → vector), ``image_embedding``
(blob references → vector), ``classification`` (→ label, with ``scores_column`` the probability of
it), ``generation`` (prompt → text, ``max_tokens``/``temperature``), ``predict`` (a numeric model:
features → values) or ``custom`` (an ``@inference_transform`` function). The convenience
constructors set it; a bare :class:`InferenceTransform` infers it from the model.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from raise_.errors import InvalidInferenceError, InvalidJobError
from raise_.inference.runtimes import refuse_unsupported
from raise_.inference.specs import (
    AcceleratorConfig,
    BatchConfig,
    GPUType,
    InferenceMode,
    InferenceRuntime,
    ModelFramework,
    ModelPrecision,
    ModelSpec,
    parse_enum,
)
from raise_.jobs.transforms import Transform, _check_name, _function_source

__all__ = [
    "TASKS",
    "InferenceTransform",
    "classification_inference",
    "embedding_inference",
    "image_inference",
    "inference_transform",
    "llm_inference",
]

TASKS: Final = ("embedding", "image_embedding", "classification", "generation", "predict", "custom")
#: What a task's model produces when the transform maps nothing: output name → schema type.
_DEFAULT_OUTPUTS: Final[Mapping[str, tuple[str, ...]]] = {
    "embedding": ("embedding",),
    "image_embedding": ("embedding",),
    "classification": ("label",),
    "generation": ("completion",),
    "predict": ("prediction",),
}
_DEFAULT_INPUTS: Final[Mapping[str, str]] = {
    "embedding": "text",
    "image_embedding": "image",
    "classification": "input",
    "generation": "prompt",
    "predict": "features",
}


def _mapping(value: object, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in value.items()
    ):
        raise InvalidInferenceError(f"{what} maps names to column names, e.g. {{'text': 'bio'}}.", {"field": what})
    return {str(k): str(v) for k, v in value.items()}


def infer_task(model: ModelSpec) -> str:
    """What a bare transform's model does, from its framework, config and output schema."""
    declared = model.config.get("task")
    if isinstance(declared, str) and declared in TASKS:
        return declared
    outputs = set(model.output_schema)
    if model.model_framework in (ModelFramework.SKLEARN, ModelFramework.XGBOOST, ModelFramework.LIGHTGBM):
        return "classification" if {"label", "category"} & outputs else "predict"
    if model.model_framework is ModelFramework.HUGGINGFACE:
        if any(t.startswith(("float", "int")) and "[" in t for t in model.output_schema.values()):
            inputs = set(model.input_schema.values())
            return "image_embedding" if inputs & {"blob_ref", "binary"} else "embedding"
        if {"completion", "text", "generated_text"} & outputs:
            return "generation"
        if {"label", "category", "sentiment"} & outputs:
            return "classification"
        return "embedding"
    return "predict"


@dataclass(frozen=True)
class InferenceTransform(Transform):
    """A model over a job's rows (PRD §18.7)."""

    name: str
    model: ModelSpec
    accelerator: AcceleratorConfig = field(default_factory=AcceleratorConfig.cpu)
    batch_config: BatchConfig = field(default_factory=BatchConfig)
    runtime: InferenceRuntime | None = None
    input_mapping: dict[str, str] = field(default_factory=dict)
    output_mapping: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    mode: InferenceMode | str = InferenceMode.BATCH
    task: str | None = None
    #: Task options: ``max_tokens``/``temperature`` (generation), ``scores_column`` (classification),
    #: ``normalize`` (embeddings), ``labels`` (class names for a model that returns indices).
    parameters: dict[str, Any] = field(default_factory=dict)
    passthrough_columns: list[str] | None = None
    #: An ``@inference_transform`` function: its name and source (it travels as text to the run).
    function_name: str | None = None
    source: str | None = None
    function: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    transform_type: ClassVar[str] = "inference"
    #: A model's outputs are new features: a target feature the group lacks is created from the
    #: output's type on the first write (an embedding's dimension is the model's).
    creates_features: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_name(self.name)
        model = self.model
        if isinstance(model, str):
            model = ModelSpec(uri=model)
        elif not isinstance(model, ModelSpec):
            model = ModelSpec.from_dict(model)
        object.__setattr__(self, "model", model)
        refuse_unsupported(model.model_framework)
        if not isinstance(self.accelerator, AcceleratorConfig):
            object.__setattr__(self, "accelerator", AcceleratorConfig.from_dict(self.accelerator))
        if not isinstance(self.batch_config, BatchConfig):
            object.__setattr__(self, "batch_config", BatchConfig.from_dict(self.batch_config))
        if self.runtime is not None and not isinstance(self.runtime, InferenceRuntime):
            object.__setattr__(self, "runtime", InferenceRuntime.from_dict(self.runtime))
        object.__setattr__(self, "input_mapping", _mapping(self.input_mapping, "input_mapping"))
        object.__setattr__(self, "output_mapping", _mapping(self.output_mapping, "output_mapping"))
        targets = list(self.output_mapping.values())
        if len(set(targets)) != len(targets):
            raise InvalidInferenceError("Two model outputs map to the same column.", {"field": "output_mapping"})
        mode = parse_enum(InferenceMode, self.mode, "mode")
        object.__setattr__(self, "mode", mode)
        if mode is not InferenceMode.BATCH:
            raise InvalidInferenceError(
                f"A job runs inference in batch mode; mode {mode.value!r} is for online serving.",
                {"field": "mode"},
            )
        if self.description is not None and not isinstance(self.description, str):
            raise InvalidInferenceError("description is text.", {"field": "description"})
        if not isinstance(self.parameters, Mapping):
            raise InvalidInferenceError("parameters is a mapping.", {"field": "parameters"})
        object.__setattr__(self, "parameters", dict(self.parameters))
        _check_parameters(self.parameters)
        task = self.task
        if self.source is not None:
            task = "custom"
            if not isinstance(self.source, str) or "def " not in self.source or not self.function_name:
                raise InvalidInferenceError("A custom inference transform needs its function's source.", {})
        elif task is None:
            task = infer_task(model)
        if task not in TASKS:
            raise InvalidInferenceError(f"Unknown task {task!r}; use one of {', '.join(TASKS)}.", {"field": "task"})
        if task == "custom" and self.source is None:
            raise InvalidInferenceError(
                "task='custom' is what @inference_transform makes: decorate a function (context, batch).",
                {"field": "task"},
            )
        object.__setattr__(self, "task", task)
        cols = self.passthrough_columns
        if cols is not None:
            if not isinstance(cols, list | tuple) or not all(isinstance(c, str) and c for c in cols):
                raise InvalidInferenceError("passthrough_columns is a list of column names.", {})
            object.__setattr__(self, "passthrough_columns", list(cols))

    # -- what the model reads and writes --------------------------------------------------------

    @property
    def inference_task(self) -> str:
        assert self.task is not None
        return self.task

    def model_inputs(self) -> dict[str, str]:
        """Model input → source column: the mapping, else the input schema's names (a column of
        the same name), else the task's one input."""
        if self.input_mapping:
            return dict(self.input_mapping)
        if self.model.input_schema:
            return {name: name for name in self.model.input_schema}
        default = _DEFAULT_INPUTS.get(self.inference_task)
        return {default: default} if default else {}

    def model_outputs(self) -> dict[str, str]:
        """Model output → output column (the mapping, else the schema's names, else the task's)."""
        if self.output_mapping:
            return dict(self.output_mapping)
        if self.model.output_schema:
            return {name: name for name in self.model.output_schema}
        return {name: name for name in _DEFAULT_OUTPUTS.get(self.inference_task, ())}

    def output_columns(self) -> list[str]:
        columns = list(self.model_outputs().values())
        scores = self.parameters.get("scores_column")
        if scores and scores not in columns:
            columns.append(str(scores))
        return columns

    def launch_spec(self) -> dict[str, Any]:
        """What the run's launcher needs beyond the job: the pod's resources (GPUs of the type
        asked for, the runtime's requests) and image, for the Kubernetes launcher."""
        out: dict[str, Any] = {}
        resources = {**self.accelerator.kubernetes_resources()}
        if self.runtime is not None:
            known = ("cpu", "memory", "ephemeral_storage")
            resources.update({k: v for k, v in self.runtime.resources.items() if k in known})
            out["image"] = self.runtime.image
        if self.accelerator.memory_gb and "memory" not in resources:
            # GPU memory is the card's; the pod's memory follows the transform's when it names one.
            resources["memory"] = f"{self.accelerator.memory_gb}Gi"
        if resources:
            out["resources"] = resources
        return out

    def check_against_target(self, target: Any, layout: Any) -> None:
        """Before any run: each declared output fits the feature it is written to (a
        ``float32[384]`` output into a ``float32[384]`` feature, text into a string feature)."""
        from raise_.errors import RaiseError
        from raise_.types import parse_dtype

        outputs = self.model_outputs()
        for output, declared in self.model.output_schema.items():
            column = outputs.get(output)
            if column is None:
                continue
            feature = target.feature_of(column)
            try:
                existing = layout.resolve(feature)
            except RaiseError:
                continue  # created from the output on the first write
            try:
                wanted = parse_dtype(declared)
            except RaiseError:
                continue  # a schema type features have no counterpart for (blob_ref inputs, binary)
            if wanted.to_string() != existing.dtype.to_string():
                raise InvalidInferenceError(
                    f"The model's output {output!r} is declared {declared}, and feature {feature!r} of "
                    f"{layout.path} is {existing.dtype.to_string()}: the run would write values that do not fit. "
                    "Fix the output_schema or write to a feature of that type.",
                    {
                        "output": output,
                        "declared": declared,
                        "feature": feature,
                        "feature_dtype": existing.dtype.to_string(),
                    },
                )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "transform_type": "inference",
            "name": self.name,
            "model": self.model.to_dict(),
            "accelerator": self.accelerator.to_dict(),
            "batch_config": self.batch_config.to_dict(),
            "input_mapping": dict(self.input_mapping),
            "output_mapping": dict(self.output_mapping),
            "mode": InferenceMode(self.mode).value,
            "task": self.task,
        }
        if self.runtime is not None:
            out["runtime"] = self.runtime.to_dict()
        if self.description:
            out["description"] = self.description
        if self.parameters:
            out["parameters"] = dict(self.parameters)
        if self.passthrough_columns is not None:
            out["passthrough_columns"] = list(self.passthrough_columns)
        if self.source is not None:
            out["function_name"] = self.function_name
            out["source"] = self.source
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InferenceTransform:
        values = {k: v for k, v in data.items() if k != "transform_type"}
        try:
            return cls(**values)
        except TypeError as exc:
            raise InvalidJobError(f"Bad inference transform: {exc}.", {"field": "transform"}) from None

    def __call__(self, context: Any, batch: Any) -> Any:
        """An ``@inference_transform`` stays callable in the notebook."""
        if self.function is None:
            raise TypeError(f"inference transform {self.name!r} runs in a job: fs.create_job(..., transform=...)")
        return self.function(context, batch)


def _check_parameters(params: Mapping[str, Any]) -> None:
    tokens = params.get("max_tokens")
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or not 1 <= tokens <= 32768):
        raise InvalidInferenceError("max_tokens is a whole number from 1 to 32768.", {"field": "max_tokens"})
    temp = params.get("temperature")
    if temp is not None and (isinstance(temp, bool) or not isinstance(temp, int | float) or not 0 <= temp <= 10):
        raise InvalidInferenceError("temperature is a number from 0 to 10.", {"field": "temperature"})
    scores = params.get("scores_column")
    if scores is not None and (not isinstance(scores, str) or not scores):
        raise InvalidInferenceError("scores_column names an output column.", {"field": "scores_column"})
    labels = params.get("labels")
    if labels is not None and (not isinstance(labels, list) or not all(isinstance(x, str) for x in labels)):
        raise InvalidInferenceError("labels is a list of class names.", {"field": "labels"})


def _accelerator(
    gpu_type: GPUType | str | None,
    gpu_count: int = 1,
    strategy: str | None = None,
    memory_gb: int | None = None,
    allow_cpu_fallback: bool = False,
) -> AcceleratorConfig:
    if gpu_type is None:
        return AcceleratorConfig.cpu()
    if gpu_count > 1 or strategy is not None:
        return AcceleratorConfig.multi_gpu(
            gpu_type,
            count=gpu_count,
            strategy=strategy or "data_parallel",
            memory_gb=memory_gb,
            allow_cpu_fallback=allow_cpu_fallback,
        )
    return AcceleratorConfig.gpu(gpu_type, memory_gb=memory_gb, allow_cpu_fallback=allow_cpu_fallback)


def _framework_of(uri: str) -> ModelFramework:
    """The framework a convenience constructor's URI implies: its scheme, then its extension."""
    lower = uri.lower()
    if lower.startswith("hf://"):
        return ModelFramework.HUGGINGFACE
    if lower.startswith("mlflow://"):
        return ModelFramework.MLFLOW
    if lower.endswith(".onnx"):
        return ModelFramework.ONNX
    if lower.endswith((".pt", ".pth", ".torchscript")):
        return ModelFramework.PYTORCH
    if lower.endswith((".joblib", ".pkl", ".pickle")):
        return ModelFramework.SKLEARN
    if lower.endswith((".ubj", ".xgb")) or (lower.endswith(".json") and "xgb" in lower):
        return ModelFramework.XGBOOST
    return ModelFramework.HUGGINGFACE


def embedding_inference(
    model_uri: str,
    input_column: str,
    output_column: str,
    batch_size: int = 128,
    gpu_type: GPUType | str | None = None,
    *,
    name: str | None = None,
    normalize: bool = False,
    dimension: int | None = None,
    max_batch_size: int | None = None,
    dynamic_batching: bool = True,
    precision: ModelPrecision | str = ModelPrecision.FP32,
    allow_cpu_fallback: bool = False,
) -> InferenceTransform:
    """Text → embedding (PRD §18.9). Length-bucketed dynamic batching is on: short texts share
    larger batches (up to ``max_batch_size``, 4 × ``batch_size`` by default)."""
    outputs = {"embedding": f"float32[{dimension}]"} if dimension else {}
    return InferenceTransform(
        name=name or f"embed_{input_column}",
        model=ModelSpec(
            uri=model_uri,
            framework=_framework_of(model_uri),
            precision=precision,
            input_schema={"text": "string"},
            output_schema=outputs,
        ),
        accelerator=_accelerator(gpu_type, allow_cpu_fallback=allow_cpu_fallback),
        batch_config=BatchConfig(
            batch_size=batch_size,
            dynamic_batching=dynamic_batching,
            max_batch_size=max_batch_size or (batch_size * 4 if dynamic_batching else None),
        ),
        input_mapping={"text": input_column},
        output_mapping={"embedding": output_column},
        task="embedding",
        parameters={"normalize": True} if normalize else {},
    )


def image_inference(
    model_uri: str,
    image_column: str,
    output_column: str,
    batch_size: int = 64,
    gpu_type: GPUType | str | None = None,
    *,
    name: str | None = None,
    image_size: int | None = None,
    precision: ModelPrecision | str = ModelPrecision.FP32,
    allow_cpu_fallback: bool = False,
) -> InferenceTransform:
    """Images (``blob_ref`` columns: the blobs are read through the blob store) → embedding."""
    config: dict[str, Any] = {"image_size": image_size} if image_size else {}
    return InferenceTransform(
        name=name or f"embed_{image_column}",
        model=ModelSpec(
            uri=model_uri,
            framework=_framework_of(model_uri),
            precision=precision,
            input_schema={"image": "blob_ref"},
            config=config,
        ),
        accelerator=_accelerator(gpu_type, allow_cpu_fallback=allow_cpu_fallback),
        batch_config=BatchConfig(batch_size=batch_size),
        input_mapping={"image": image_column},
        output_mapping={"embedding": output_column},
        task="image_embedding",
    )


def classification_inference(
    model_uri: str,
    input_column: str,
    output_column: str,
    scores_column: str | None = None,
    gpu_type: GPUType | str | None = None,
    *,
    name: str | None = None,
    batch_size: int = 256,
    labels: list[str] | None = None,
    framework: ModelFramework | str | None = None,
    allow_cpu_fallback: bool = False,
) -> InferenceTransform:
    """Input (text, an embedding or numeric features) → a label, and with ``scores_column`` the
    model's probability of that label."""
    params: dict[str, Any] = {}
    if scores_column:
        params["scores_column"] = scores_column
    if labels is not None:
        params["labels"] = list(labels)
    return InferenceTransform(
        name=name or f"classify_{input_column}",
        model=ModelSpec(uri=model_uri, framework=framework or _framework_of(model_uri)),
        accelerator=_accelerator(gpu_type, allow_cpu_fallback=allow_cpu_fallback),
        batch_config=BatchConfig(batch_size=batch_size),
        input_mapping={"input": input_column},
        output_mapping={"label": output_column},
        task="classification",
        parameters=params,
    )


def llm_inference(
    model_uri: str,
    prompt_column: str,
    output_column: str,
    max_tokens: int = 256,
    temperature: float = 0.0,
    gpu_type: GPUType | str | None = None,
    gpu_count: int = 1,
    multi_gpu_strategy: str | None = None,
    precision: ModelPrecision | str = ModelPrecision.FP32,
    *,
    name: str | None = None,
    batch_size: int = 8,
    seed: int | None = None,
    allow_cpu_fallback: bool = False,
) -> InferenceTransform:
    """Prompt → completion with a causal language model. ``temperature=0`` decodes greedily (the
    same text every run); above it samples, from ``seed`` when given."""
    params: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature}
    if seed is not None:
        params["seed"] = seed
    return InferenceTransform(
        name=name or f"generate_{output_column}",
        model=ModelSpec(uri=model_uri, framework=_framework_of(model_uri), precision=precision),
        accelerator=_accelerator(gpu_type, gpu_count, multi_gpu_strategy, allow_cpu_fallback=allow_cpu_fallback),
        batch_config=BatchConfig(batch_size=batch_size, timeout_seconds=600.0),
        input_mapping={"prompt": prompt_column},
        output_mapping={"completion": output_column},
        task="generation",
        parameters=params,
    )


def inference_transform(
    name: str | None = None,
    gpu_type: GPUType | str | None = None,
    *,
    batch_size: int = 32,
    inputs: list[str] | None = None,
    outputs: dict[str, str] | None = None,
    gpu_count: int = 1,
    allow_cpu_fallback: bool = False,
    dependencies: list[str] | None = None,
) -> Callable[[Callable[..., Any]], InferenceTransform]:
    """Make ``fn(context, batch) -> {output: values}`` an inference transform::

        @inference_transform(name="custom_scorer", gpu_type=GPUType.NVIDIA_T4)
        def custom_scorer(context, batch):
            return {"score": model.predict(batch["features"])}

    ``batch`` maps each input column to a numpy array (a 2-D one for vectors), ``batch.arrow`` is
    the Arrow batch; ``context.device`` is the device the run got (``"cuda:0"``, ``"cpu"``). Like
    a Python transform the function travels as its source: imports inside it, no notebook
    globals (load the model inside, cached on ``context.cache``)."""

    def wrap(fn: Callable[..., Any]) -> InferenceTransform:
        if not callable(fn):
            raise InvalidInferenceError("@inference_transform decorates a function.", {"field": "transform"})
        params = list(inspect.signature(fn).parameters)
        if len(params) != 2:
            raise InvalidInferenceError(
                f"An inference function takes (context, batch); {fn.__name__} takes ({', '.join(params)}).",
                {"field": "transform"},
            )
        return InferenceTransform(
            name=name or fn.__name__,
            model=ModelSpec(
                uri=f"python://{fn.__name__}",
                framework=ModelFramework.CUSTOM,
                input_schema={},
                config={"dependencies": list(dependencies or [])},
            ),
            accelerator=_accelerator(gpu_type, gpu_count, allow_cpu_fallback=allow_cpu_fallback),
            batch_config=BatchConfig(batch_size=batch_size),
            input_mapping={c: c for c in inputs or []},
            output_mapping=dict(outputs or {}),
            task="custom",
            function_name=fn.__name__,
            source=_function_source(fn),
            function=fn,
        )

    return wrap
