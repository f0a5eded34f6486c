"""The ``ModelRuntime`` seam (DESIGN §8): what turns a resolved model into a callable over batches.

A runtime's ``load`` gives a :class:`LoadedModel` on one device. The executor calls its
``prepare`` (CPU work: tokenizing, decoding images; run ahead by the prefetch threads) and then
``run`` (the model) on each batch. Inputs arrive as Arrow arrays keyed by model input name and
outputs leave as numpy arrays (2-D for vectors) or Arrow arrays (text): no per-row Python
objects except where a tokenizer takes strings.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pyarrow as pa

from raise_.errors import InvalidInferenceError, ModelRuntimeMissingError
from raise_.inference.resolve import ResolvedModel

__all__ = [
    "RUNTIMES",
    "LoadContext",
    "LoadedModel",
    "require",
    "to_matrix",
    "to_texts",
]

#: Runtime name → the module holding its ``load(ctx) -> LoadedModel`` (imported on first use).
RUNTIMES: Final[Mapping[str, str]] = {
    "sentence-transformers": "raise_.inference.runtimes.sentence_transformers",
    "transformers": "raise_.inference.runtimes.hf_transformers",
    "torch": "raise_.inference.runtimes.torch_module",
    "onnx": "raise_.inference.runtimes.onnx",
    "sklearn": "raise_.inference.runtimes.tabular",
    "xgboost": "raise_.inference.runtimes.tabular",
    "mlflow": "raise_.inference.runtimes.mlflow_model",
    "python": "raise_.inference.runtimes.python_function",
}


def require(module: str, package: str, why: str) -> Any:
    """Import ``module`` or say which package (and extra) the run needs."""
    if importlib.util.find_spec(module.split(".")[0]) is None:
        raise ModelRuntimeMissingError(
            f"{why} needs the Python package {package}, which is not installed where the run executes: "
            "pip install 'raise-featurestore[inference]' (or the package itself).",
            {"package": package},
        )
    return importlib.import_module(module)


@dataclass
class LoadContext:
    """What a runtime's ``load`` is given."""

    transform: Any  # InferenceTransform (not imported: runtimes stay below the transform)
    resolved: ResolvedModel
    device: str
    #: Where to log a line in the run's log.
    log: Callable[[str], None] = print
    #: Shared between the copies on several devices (a custom function's cache).
    shared: dict[str, Any] = field(default_factory=dict)
    #: A sharded plan's devices: the runtime splits one model over them (transformers' device_map).
    shard_over: list[str] = field(default_factory=list)

    @property
    def task(self) -> str:
        return str(self.transform.task)

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.transform.parameters)

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.transform.model.config)


class LoadedModel:
    """A model on one device. Subclasses implement :meth:`run`; :meth:`prepare` defaults to
    handing the inputs through."""

    #: The runtime's name (``"torch"``); the precision it actually runs at.
    runtime: str = ""
    precision: str = "fp32"
    device: str = "cpu"

    def prepare(self, inputs: Mapping[str, pa.Array]) -> Any:
        return inputs

    def run(self, prepared: Any) -> dict[str, Any]:
        raise NotImplementedError

    def text_lengths(self, inputs: Mapping[str, pa.Array]) -> np.ndarray | None:
        """Each row's length for length-bucketed batching (None: the inputs are not text)."""
        return None

    def close(self) -> None:
        """Free what the model holds (GPU memory)."""


def only_input(inputs: Mapping[str, pa.Array], what: str) -> pa.Array:
    if len(inputs) != 1:
        raise InvalidInferenceError(
            f"{what} takes one input column; the transform maps {len(inputs)} ({', '.join(inputs)}).",
            {"inputs": list(inputs)},
        )
    return next(iter(inputs.values()))


def to_texts(array: pa.Array | pa.ChunkedArray) -> list[str]:
    """A string column as the list a tokenizer takes (nulls as empty text)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        raise InvalidInferenceError(
            f"This model reads text, and the column holds {array.type}.", {"type": str(array.type)}
        )
    return [s if s is not None else "" for s in array.fill_null("").to_pylist()]


def to_matrix(array: pa.Array | pa.ChunkedArray, dtype: Any = np.float32) -> np.ndarray:
    """A numeric column as numpy: a fixed-size list (an embedding) as a 2-D array without a copy
    of its values, a scalar column as 1-D, a struct of numbers as 2-D (one column per field)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    typ = array.type
    if pa.types.is_fixed_size_list(typ):
        width = typ.list_size
        flat = array.flatten() if array.offset or array.null_count else array.values
        values = flat.to_numpy(zero_copy_only=False)
        return np.asarray(values.reshape(len(array), width).astype(dtype, copy=False))
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        lengths = np.asarray(array.value_lengths().fill_null(0))
        if len(lengths) and not (lengths == lengths[0]).all():
            raise InvalidInferenceError(
                "The model takes one vector per row, and this column's lists differ in length "
                f"({int(lengths.min())} to {int(lengths.max())}).",
                {"type": str(typ)},
            )
        width = int(lengths[0]) if len(lengths) else 0
        flat_values = array.flatten().to_numpy(zero_copy_only=False)
        return np.asarray(flat_values.reshape(len(array), width).astype(dtype, copy=False))
    if pa.types.is_struct(typ):
        columns = [to_matrix(array.field(i), dtype) for i in range(typ.num_fields)]
        return np.column_stack(columns) if columns else np.empty((len(array), 0), dtype=dtype)
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ):
        return np.asarray(array.fill_null(0).to_numpy(zero_copy_only=False).astype(dtype, copy=False))
    raise InvalidInferenceError(f"This model reads numbers, and the column holds {typ}.", {"type": str(typ)})


def features_matrix(inputs: Mapping[str, pa.Array], dtype: Any = np.float32) -> np.ndarray:
    """Every input as numbers, side by side: the design matrix of a tabular model."""
    parts = []
    for column in inputs.values():
        m = to_matrix(column, dtype)
        parts.append(m.reshape(len(m), -1))
    return np.hstack(parts) if len(parts) > 1 else parts[0]


def load_runtime(name: str, ctx: LoadContext) -> LoadedModel:
    module = importlib.import_module(RUNTIMES[name])
    model: LoadedModel = module.load(ctx)
    model.runtime = model.runtime or name
    model.device = ctx.device
    return model
