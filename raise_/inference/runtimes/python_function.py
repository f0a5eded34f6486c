"""An ``@inference_transform`` function: ``fn(context, batch) -> {output: values}``.

``batch`` maps each input column to numpy (a 2-D array for vectors, an object array for text);
``batch.arrow`` is the Arrow batch. ``context`` carries the device, the transform's parameters
and ``cache``, a dict kept for the whole run (load a model once into it)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from raise_.inference.runtimes.base import LoadContext, LoadedModel, to_matrix
from raise_.jobs.python_code import check_dependencies, load_function


@dataclass
class InferenceContext:
    """What an inference function is told about its run."""

    device: str
    parameters: dict[str, Any]
    transform_name: str
    cache: dict[str, Any] = field(default_factory=dict)


class InferenceBatch(Mapping[str, Any]):
    """Input columns as numpy, read on demand (a column the function never reads is never converted)."""

    def __init__(self, inputs: Mapping[str, pa.Array]) -> None:
        self._inputs = dict(inputs)
        self._converted: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._converted:
            column = self._inputs[name]
            typ = column.type
            if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_struct(typ):
                self._converted[name] = column.to_numpy(zero_copy_only=False)
            else:
                self._converted[name] = to_matrix(column, np.float64 if pa.types.is_float64(typ) else np.float32)
        return self._converted[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._inputs)

    def __len__(self) -> int:
        return len(self._inputs)

    @property
    def arrow(self) -> pa.RecordBatch:
        return pa.RecordBatch.from_pydict(self._inputs)

    @property
    def num_rows(self) -> int:
        return len(next(iter(self._inputs.values()))) if self._inputs else 0


class FunctionModel(LoadedModel):
    runtime = "python"

    def __init__(self, fn: Any, context: InferenceContext) -> None:
        self.fn = fn
        self.context = context

    def run(self, prepared: Any) -> dict[str, Any]:
        out = self.fn(self.context, InferenceBatch(prepared))
        if not isinstance(out, Mapping):
            raise TypeError(
                f"an inference function returns a mapping of output name to values, got {type(out).__name__}"
            )
        return dict(out)


def load(ctx: LoadContext) -> LoadedModel:
    t = ctx.transform
    label = f"inference transform {t.name}"
    check_dependencies(list(t.model.config.get("dependencies") or []), label)
    fn = load_function(t.source, t.function_name, label)
    cache = ctx.shared.setdefault("cache", {})
    context = InferenceContext(ctx.device, dict(t.parameters), t.name, cache)
    return FunctionModel(fn, context)
