"""ONNX Runtime: a ``.onnx`` file's session on the CPU, or CUDA where its provider is present.

Inputs are matched to the graph's inputs by name (the transform's model input names), or taken in
order when the graph has one input; each is one float (or int64) array. Image inputs are decoded
as for PyTorch. Outputs are named by the graph (a one-output graph's output is ``embedding`` for an
embedding task, ``prediction`` otherwise, unless the output mapping names the graph's own)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from raise_.errors import InvalidInferenceError, ModelLoadFailedError
from raise_.inference.runtimes.base import LoadContext, LoadedModel, require, to_matrix
from raise_.inference.runtimes.images import is_image_column, load_images
from raise_.inference.runtimes.outputs import task_outputs

_NUMPY = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(float16)": np.float16,
}


class OnnxModel(LoadedModel):
    runtime = "onnx"

    def __init__(self, session: Any, ctx: LoadContext) -> None:
        self.session = session
        self.inputs = session.get_inputs()
        self.outputs = [o.name for o in session.get_outputs()]
        self.task = ctx.task
        self.params = ctx.parameters
        self.config = ctx.config
        mapped = set(ctx.transform.output_mapping)
        self.keep_names = len(self.outputs) > 1 or bool(mapped & set(self.outputs))

    def prepare(self, inputs: Mapping[str, pa.Array]) -> Any:
        feeds: dict[str, np.ndarray] = {}
        if len(self.inputs) == 1 and len(inputs) == 1:
            pairs = [(self.inputs[0], next(iter(inputs.values())))]
        else:
            missing = [i.name for i in self.inputs if i.name not in inputs]
            if missing:
                raise InvalidInferenceError(
                    f"The ONNX graph takes inputs {', '.join(i.name for i in self.inputs)}; the transform maps "
                    f"{', '.join(inputs)} (missing {', '.join(missing)}): name them in input_mapping.",
                    {"missing": missing},
                )
            pairs = [(i, inputs[i.name]) for i in self.inputs]
        for arg, column in pairs:
            dtype = _NUMPY.get(arg.type, np.float32)
            if is_image_column(column):
                size = int(self.config.get("image_size") or 224)
                feeds[arg.name] = load_images(column, size, self.config.get("mean"), self.config.get("std"))
            else:
                feeds[arg.name] = np.ascontiguousarray(to_matrix(column, dtype))
        return feeds

    def run(self, prepared: Any) -> dict[str, Any]:
        values = self.session.run(None, prepared)
        if self.keep_names:
            return {name: np.asarray(v) for name, v in zip(self.outputs, values, strict=True)}
        return task_outputs(np.asarray(values[0]), self.task, self.params)


def load(ctx: LoadContext) -> LoadedModel:
    ort = require("onnxruntime", "onnxruntime", "An ONNX model")
    path = ctx.resolved.path
    assert path is not None
    providers: list[Any] = ["CPUExecutionProvider"]
    if ctx.device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
        device_id = int(ctx.device.split(":")[1])
        providers = [("CUDAExecutionProvider", {"device_id": device_id}), "CPUExecutionProvider"]
    elif ctx.device.startswith("cuda"):
        ctx.log("onnxruntime here has no CUDA provider: the ONNX model runs on the CPU")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as exc:
        raise ModelLoadFailedError(
            f"Could not load ONNX model {ctx.resolved.uri}: {type(exc).__name__}: {exc}", {"uri": ctx.resolved.uri}
        ) from None
    model = OnnxModel(session, ctx)
    precision = str(ctx.transform.model.model_precision.value)
    model.precision = "fp32"
    if precision != "fp32":
        ctx.log(f"ONNX models run at the precision they were exported in; {precision} is not applied")
    return model
