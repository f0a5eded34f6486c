"""A torch model at the spec's precision, as far as the device allows, and which one it got.

FP16 and BF16 are GPU precisions (BF16 also runs on the CPU, slowly on older cores); FP16 asked
on the CPU runs in FP32 and says so. INT8 is dynamic quantization of the Linear layers on the CPU
(``torch.ao.quantization.quantize_dynamic``), real and measured; on a GPU it needs bitsandbytes,
which Raise does not bring, so it runs FP16 there and says so. INT4 is refused: it needs a
quantized checkpoint and a GPU kernel library.
"""

from __future__ import annotations

from typing import Any

from raise_.errors import InvalidInferenceError
from raise_.inference.runtimes.base import LoadContext


def apply_precision(model: Any, ctx: LoadContext, *, quantizable: bool = True) -> str:
    """Cast or quantize ``model`` in place (where torch allows) and return the precision used."""
    import torch

    wanted = str(ctx.transform.model.model_precision.value)
    on_gpu = ctx.device.startswith("cuda")
    if wanted == "fp32":
        return "fp32"
    if wanted == "int4":
        raise InvalidInferenceError(
            "INT4 needs a checkpoint quantized to 4 bits and a GPU kernel library (bitsandbytes, GPTQ), which Raise "
            "does not bring; use INT8, FP16 or BF16.",
            {"field": "model.precision"},
        )
    if wanted == "fp16":
        if on_gpu:
            model.half()
            return "fp16"
        ctx.log("FP16 is a GPU precision: on the CPU the model runs in FP32")
        return "fp32"
    if wanted == "bf16":
        model.to(torch.bfloat16)
        return "bf16"
    # int8
    if on_gpu:
        model.half()
        ctx.log("INT8 on a GPU needs bitsandbytes: the model runs in FP16 instead")
        return "fp16"
    if not quantizable:
        ctx.log("this model cannot be quantized here: it runs in FP32")
        return "fp32"
    # Weights per output channel where the engine has the kernels (x86/fbgemm/onednn): one scale per
    # tensor loses a sentence encoder's FFN outputs (MiniLM: cosine to FP32 ~0.93 per tensor, ~0.97
    # per channel).
    quantization = torch.ao.quantization
    per_channel = torch.backends.quantized.engine in ("x86", "fbgemm", "onednn")
    qconfig = quantization.per_channel_dynamic_qconfig if per_channel else quantization.default_dynamic_qconfig
    quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
        model, {torch.nn.Linear: qconfig}, dtype=torch.qint8, inplace=True
    )
    return "int8"
