"""PyTorch models: TorchScript files (``torch.jit.save``) or pickled ``nn.Module`` files
(``torch.save(model)``), from ``file://`` paths or fetched from ``s3://``.

Numeric inputs (an embedding, numeric features) are stacked into one float tensor; image inputs
(``blob_ref`` columns) are read through the blob store, decoded with Pillow, resized to
``config["image_size"]`` (224 by default) and scaled to [0, 1] (``config["mean"]``/``["std"]``
normalize further). The model's output is a tensor (or a tuple whose first is), a 2-D one becomes a
vector per row; with ``task="classification"`` the argmax is the label (named by
``parameters["labels"]`` when given) and the softmax of it the score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from raise_.errors import ModelLoadFailedError
from raise_.inference.runtimes.base import LoadContext, LoadedModel, features_matrix, only_input, require
from raise_.inference.runtimes.images import is_image_column, load_images
from raise_.inference.runtimes.outputs import task_outputs
from raise_.inference.runtimes.torch_precision import apply_precision


class TorchModel(LoadedModel):
    runtime = "torch"

    def __init__(self, module: Any, ctx: LoadContext, dtype: Any) -> None:
        self.module = module
        self.task = ctx.task
        self.params = ctx.parameters
        self.config = ctx.config
        self.torch_device = ctx.device
        self.dtype = dtype

    def prepare(self, inputs: Mapping[str, pa.Array]) -> Any:
        if len(inputs) == 1 and is_image_column(only_input(inputs, "")):
            size = int(self.config.get("image_size") or 224)
            return load_images(only_input(inputs, ""), size, self.config.get("mean"), self.config.get("std"))
        return features_matrix(inputs)

    def run(self, prepared: Any) -> dict[str, Any]:
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(prepared)).to(self.torch_device, dtype=self.dtype)
            out = self.module(x)
            if isinstance(out, tuple | list):
                out = out[0]
            if isinstance(out, dict):
                out = next(iter(out.values()))
            values = out.float().cpu().numpy()
        return task_outputs(values, self.task, self.params)


def load(ctx: LoadContext) -> LoadedModel:
    torch = require("torch", "torch", "A PyTorch model")
    path = ctx.resolved.path
    assert path is not None
    try:
        try:
            module = torch.jit.load(str(path), map_location=ctx.device)
        except RuntimeError:
            # Not TorchScript: a pickled nn.Module (its class must be importable here).
            module = torch.load(str(path), map_location=ctx.device, weights_only=False)
    except Exception as exc:
        raise ModelLoadFailedError(
            f"Could not load PyTorch model {ctx.resolved.uri}: {type(exc).__name__}: {exc}", {"uri": ctx.resolved.uri}
        ) from None
    if isinstance(module, dict):
        raise ModelLoadFailedError(
            f"{ctx.resolved.uri} holds a state dict, not a model: save the module itself (torch.save(model)) or "
            "TorchScript (torch.jit.save(torch.jit.script(model))).",
            {"uri": ctx.resolved.uri},
        )
    module.eval()
    module.to(ctx.device)
    precision = apply_precision(module, ctx, quantizable=not isinstance(module, torch.jit.ScriptModule))
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision, torch.float32)
    model = TorchModel(module, ctx, dtype)
    model.precision = precision
    return model
