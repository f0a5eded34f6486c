"""The inference specs: what they accept, what they refuse (with the field named), how they travel
as JSON; device plans without a GPU; batches spread over several model copies (data parallel)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from raise_ import (
    AcceleratorConfig,
    AcceleratorUnavailableError,
    BatchConfig,
    GPUType,
    InferenceRuntime,
    InferenceTransform,
    InvalidInferenceError,
    ModelFramework,
    ModelPrecision,
    ModelSpec,
    TPUType,
    classification_inference,
    embedding_inference,
    llm_inference,
)
from raise_.inference import accelerators, execution
from raise_.inference.accelerators import DevicePlan, plan_devices
from raise_.jobs.transforms import transform_from_dict
from raise_.transforms import inference_transform


@pytest.mark.parametrize(
    ("build", "field", "says"),
    [
        (lambda: ModelSpec(uri=""), "model.uri", "needs uri="),
        (lambda: ModelSpec(uri="hf://a/b", framework="caffe"), "model.framework", "Unknown model.framework 'caffe'"),
        (lambda: ModelSpec(uri="hf://a/b", precision="fp8"), "model.precision", "use one of FP32, FP16"),
        (
            lambda: ModelSpec(uri="mlflow://models:/x/1", framework="onnx"),
            "model.uri",
            "cannot be read from mlflow",
        ),
        (lambda: ModelSpec(uri="hf://a/b", output_schema={"e": "float32[0]"}), "model.output_schema['e']", "positive"),
        (lambda: ModelSpec(uri="hf://a/b", input_schema={"t": "text"}), "model.input_schema['t']", "not a schema type"),
        (lambda: AcceleratorConfig.gpu("V100"), "accelerator.gpu_type", "Unknown GPU type 'V100'"),
        (lambda: AcceleratorConfig.gpu(GPUType.NVIDIA_T4, memory_gb=40), "accelerator.memory_gb", "more than"),
        (lambda: AcceleratorConfig.multi_gpu(count=2, strategy="zero"), "accelerator.multi_gpu_strategy", "zero"),
        (lambda: AcceleratorConfig.gpu(count=0), "accelerator.count", "≥ 1"),
        (lambda: BatchConfig(batch_size=0), "batch_config.batch_size", "≥ 1"),
        (lambda: BatchConfig(batch_size=64, max_batch_size=32), "batch_config.max_batch_size", "less than"),
        (lambda: BatchConfig(timeout_seconds=0), "batch_config.timeout_seconds", "positive"),
        (lambda: BatchConfig(max_failure_rate=1.5), "batch_config.max_failure_rate", "fraction"),
        (lambda: InferenceRuntime(image="has space"), "runtime.image", "container image"),
        (lambda: InferenceRuntime(image="x", env_vars={"1BAD": "v"}), "runtime.env_vars", "variable names"),
        (lambda: llm_inference("hf://a/b", "p", "c", max_tokens=0), "max_tokens", "1 to 32768"),
        (lambda: llm_inference("hf://a/b", "p", "c", temperature=-1), "temperature", "0 to 10"),
        (
            lambda: InferenceTransform(name="t", model=ModelSpec(uri="s3://m/saved", framework="tensorflow")),
            "model.framework",
            "Export the model to ONNX",
        ),
        (
            lambda: InferenceTransform(name="t", model=ModelSpec(uri="hf://a/b"), mode="online"),
            "mode",
            "online serving",
        ),
        (
            lambda: InferenceTransform(name="t", model=ModelSpec(uri="hf://a/b"), output_mapping={"a": "x", "b": "x"}),
            "output_mapping",
            "same column",
        ),
    ],
)
def test_bad_specs_name_the_field(build: Any, field: str, says: str) -> None:
    with pytest.raises(InvalidInferenceError) as caught:
        build()
    assert caught.value.code == "INVALID_INFERENCE" and caught.value.details.get("field") == field
    assert says in caught.value.message, caught.value.message


def test_transforms_travel_as_json_and_come_back_equal() -> None:
    transforms = [
        embedding_inference("hf://sentence-transformers/all-MiniLM-L6-v2", "bio", "vec", gpu_type="NVIDIA_T4"),
        classification_inference("mlflow://models:/c/Production", "vec", "label", scores_column="p", labels=["a", "b"]),
        llm_inference("hf://a/b", "prompt", "out", max_tokens=9, gpu_type=GPUType.NVIDIA_H100, gpu_count=2, seed=3),
        InferenceTransform(
            name="full",
            model=ModelSpec(
                uri="s3://models/m.onnx",
                framework=ModelFramework.ONNX,
                precision=ModelPrecision.FP16,
                input_schema={"x": "float32[8]"},
                output_schema={"y": "float32"},
                config={"image_size": 64},
            ),
            accelerator=AcceleratorConfig.multi_gpu(GPUType.NVIDIA_A100, count=4, allow_cpu_fallback=True),
            batch_config=BatchConfig(batch_size=8, max_batch_size=64, dynamic_batching=True, max_failure_rate=0.1),
            runtime=InferenceRuntime(image="img:1", packages=["onnxruntime"], env_vars={"A": "1"}),
            description="all of it",
            passthrough_columns=["id"],
        ),
    ]
    for t in transforms:
        again = transform_from_dict(t.to_dict())
        assert again == t and again.to_dict() == t.to_dict()
    assert transforms[0].accelerator.gpu_model is GPUType.NVIDIA_T4 is GPUType.T4
    assert transforms[2].accelerator.multi_gpu_strategy == "data_parallel"  # gpu_count > 1 spreads batches
    assert TPUType("tpu-v5") is TPUType.TPU_V5


def test_without_a_gpu_a_gpu_run_fails_unless_it_may_fall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accelerators, "cuda_devices", lambda: 0)
    with pytest.raises(AcceleratorUnavailableError) as caught:
        plan_devices(AcceleratorConfig.gpu(GPUType.NVIDIA_T4))
    assert "1 × NVIDIA_T4" in caught.value.message and "allow_cpu_fallback=True" in caught.value.message
    plan = plan_devices(AcceleratorConfig.gpu(GPUType.NVIDIA_T4, allow_cpu_fallback=True))
    assert plan.devices == ["cpu"] and plan.fell_back and "instead of 1 × NVIDIA_T4" in plan.note
    with pytest.raises(AcceleratorUnavailableError, match="TPU"):
        plan_devices(AcceleratorConfig.tpu(TPUType.TPU_V4))
    assert plan_devices(AcceleratorConfig.cpu()).devices == ["cpu"]


@inference_transform(name="where", inputs=["x"], outputs={"doubled": "y", "thread": "t"}, batch_size=5)
def where(context, batch):  # type: ignore[no-untyped-def]
    import threading
    import time

    import numpy as np

    time.sleep(0.05)  # long enough that the other copy takes the next batch
    x = np.asarray(batch["x"], dtype=np.float64)
    return {"doubled": x * 2, "thread": np.full(len(x), threading.get_ident(), dtype=np.int64)}


def test_data_parallel_batches_go_to_every_model_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two copies of the model (as on two GPUs; here two CPU 'devices'): batches go to whichever
    is free, each on its own thread, and the output keeps the rows' order."""
    monkeypatch.setattr(execution, "plan_devices", lambda config: DevicePlan(["cpu", "cpu"], "2 × test"))
    table = pa.table({"id": np.arange(40), "x": np.arange(40, dtype=np.float64)})
    done = execution.run_inference(where, table, ["id"], progress=False)
    np.testing.assert_array_equal(done.table.column("y").to_numpy(), np.arange(40) * 2.0)
    assert done.table.column("id").to_pylist() == list(range(40))
    assert done.result.devices == ["cpu", "cpu"] and done.result.batches == 8
    threads = done.table.column("t").to_numpy()
    assert len(set(threads.tolist())) == 2  # both copies ran batches
    assert threading.get_ident() not in set(threads.tolist())  # never on the caller's thread
    # each batch of five ran on one copy
    assert all(len(set(threads[i : i + 5].tolist())) == 1 for i in range(0, 40, 5))


def test_int4_is_refused_with_what_to_use_instead(minilm: Any) -> None:
    t = embedding_inference("hf://sentence-transformers/all-MiniLM-L6-v2", "text", "vec", precision="int4")
    with pytest.raises(InvalidInferenceError, match="use INT8, FP16 or BF16"):
        execution.run_inference(t, pa.table({"text": ["a"]}), [], progress=False)
