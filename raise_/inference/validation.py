"""Validating a model (``POST /models/{uri}/validate``): load it and run it on a sample, in a run
of its own process (the handler of run kind ``model-validate``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pyarrow as pa

from raise_.errors import InvalidInferenceError
from raise_.inference.execution import run_inference
from raise_.inference.transform import InferenceTransform
from raise_.runs.context import RunContext
from raise_.runs.records import RunRecord
from raise_.types.arrow import dtype_of_arrow

__all__ = ["run_model_validation", "sample_for"]

_TEXT: Final = ["Raise checks that this model loads and answers.", "A second, shorter sample."]


def sample_for(transform: InferenceTransform, sample: Mapping[str, list[Any]] | None) -> pa.Table:
    """The sample's table: given columns, else two texts for a text model's one input."""
    if sample:
        try:
            return pa.table({str(k): list(v) for k, v in sample.items()})
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise InvalidInferenceError(f"The sample is not a table of columns: {exc}.", {"field": "sample"}) from None
    inputs = transform.model_inputs()
    if transform.inference_task in ("embedding", "classification", "generation") and len(inputs) == 1:
        return pa.table({next(iter(inputs.values())): _TEXT})
    raise InvalidInferenceError(
        f"A {transform.inference_task} model needs a sample to run on: sample={{'column': [values, ...]}} naming "
        f"its inputs ({', '.join(inputs.values()) or 'see its input_schema'}).",
        {"field": "sample"},
    )


def run_model_validation(run: RunRecord, ctx: RunContext) -> Mapping[str, Any]:
    transform = InferenceTransform.from_dict(dict(run.spec["transform"]))
    if transform.inference_task == "generation":
        transform = InferenceTransform.from_dict({**transform.to_dict(), "parameters": {"max_tokens": 8}})
    table = sample_for(transform, run.spec.get("sample"))
    done = run_inference(transform, table, [], log=ctx.log, progress=False)
    result = done.result
    # Each output as the feature type it would be written as ("float32[384]", "string").
    outputs = {f.name: dtype_of_arrow(f.type) or str(f.type) for f in done.table.schema}
    return {
        "runtime": result.runtime,
        "device": result.device,
        "precision": result.precision,
        "origin": result.model_origin,
        "revision": result.model_revision,
        "load_seconds": result.model_load_seconds,
        "samples": result.total_samples,
        "failed_samples": result.failed_samples,
        "outputs": outputs,
        "sample_errors": result.sample_errors,
    }
