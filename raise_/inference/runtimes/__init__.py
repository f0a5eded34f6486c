"""Model runtimes, one file each, chosen by :func:`choose_runtime` from the model's framework,
the transform's task and the files found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raise_.errors import InvalidInferenceError
from raise_.inference.resolve import ResolvedModel
from raise_.inference.specs import ModelFramework

__all__ = ["choose_runtime", "refuse_unsupported"]

_UNSUPPORTED = {
    ModelFramework.TENSORFLOW: "TensorFlow",
    ModelFramework.JAX: "JAX/Flax",
    ModelFramework.TRITON: "Triton",
}


def refuse_unsupported(framework: ModelFramework) -> None:
    """Refuse a framework no runtime here reads, when the transform is made (not at its run)."""
    if framework in _UNSUPPORTED:
        raise InvalidInferenceError(
            f"{_UNSUPPORTED[framework]} models do not run here (Raise's runtimes: sentence-transformers, "
            "transformers, PyTorch, ONNX Runtime, scikit-learn, XGBoost, MLflow, Python). Export the model to "
            "ONNX and use ModelFramework.ONNX.",
            {"field": "model.framework", "framework": framework.value},
        )


def choose_runtime(transform: Any, resolved: ResolvedModel) -> str:
    """The runtime that loads ``resolved`` for ``transform`` (a name of ``RUNTIMES``)."""
    task = transform.task
    framework = transform.model.model_framework
    path: Path | None = resolved.path
    if task == "custom" or resolved.scheme == "python":
        return "python"
    if framework is ModelFramework.MLFLOW or resolved.scheme == "mlflow":
        return "mlflow"
    refuse_unsupported(framework)
    suffix = path.suffix.lower() if path is not None and path.is_file() else ""
    if framework is ModelFramework.ONNX or suffix == ".onnx":
        return "onnx"
    if framework is ModelFramework.PYTORCH:
        return "torch"
    if framework in (ModelFramework.SKLEARN, ModelFramework.LIGHTGBM):
        return "sklearn"
    if framework is ModelFramework.XGBOOST:
        return "xgboost"
    if framework is ModelFramework.CUSTOM:
        return "torch" if suffix in (".pt", ".pth") else "sklearn"
    # Hugging Face: a sentence-transformers folder embeds text with its own pooling.
    if task == "embedding" and path is not None and (path / "modules.json").is_file():
        return "sentence-transformers"
    return "transformers"
