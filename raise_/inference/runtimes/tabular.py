"""scikit-learn (joblib or pickle files) and XGBoost (its JSON/UBJ model files, or a pickled
sklearn-API model) over numeric inputs: every input column side by side is the feature matrix.

``classification`` writes ``label`` (the model's class) and the probability of it as the
``scores_column``; ``predict`` writes ``prediction``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from raise_.errors import ModelLoadFailedError, ModelRuntimeMissingError
from raise_.inference.runtimes.base import LoadContext, LoadedModel, features_matrix, require


class TabularModel(LoadedModel):
    def __init__(self, model: Any, ctx: LoadContext, runtime: str) -> None:
        self.model = model
        self.task = ctx.task
        self.params = ctx.parameters
        self.runtime = runtime

    def prepare(self, inputs: Mapping[str, pa.Array]) -> Any:
        return features_matrix(inputs, np.float64 if self.runtime == "sklearn" else np.float32)

    def run(self, prepared: Any) -> dict[str, Any]:
        return predict_tabular(self.model, prepared, self.task, self.params)


def predict_tabular(model: Any, x: Any, task: str, params: dict[str, Any]) -> dict[str, Any]:
    """``label`` + score (classification) or ``prediction`` from an sklearn-API model."""
    if task == "classification" and hasattr(model, "predict_proba"):
        probs = np.asarray(model.predict_proba(x))
        index = probs.argmax(axis=1)
        classes = np.asarray(getattr(model, "classes_", np.arange(probs.shape[1])))
        labels = params.get("labels")
        chosen = np.asarray(labels, dtype=object)[index] if labels else classes[index]
        out: dict[str, Any] = {"score": probs[np.arange(len(index)), index].astype(np.float32)}
        out["label"] = pa.array(chosen.astype(str), pa.string()) if chosen.dtype.kind in "OUS" else chosen
        if params.get("scores_column"):
            out[str(params["scores_column"])] = out["score"]
        return out
    values = np.asarray(model.predict(x))
    if task == "classification":
        return {"label": values}
    return {"prediction": values}


def load(ctx: LoadContext) -> LoadedModel:
    path = ctx.resolved.path
    assert path is not None
    suffix = path.suffix.lower()
    try:
        if suffix in (".json", ".ubj", ".xgb", ".bst"):
            xgb = require("xgboost", "xgboost", "An XGBoost model")
            booster = xgb.Booster()
            booster.load_model(str(path))
            objective = str(booster.attr("objective") or "") or _objective(booster)
            cls = (
                xgb.XGBClassifier
                if ctx.task == "classification" or "binary" in objective or "multi" in objective
                else xgb.XGBRegressor
            )
            model = cls()
            model.load_model(str(path))
            if ctx.device.startswith("cuda"):
                model.set_params(device=ctx.device)
            return TabularModel(model, ctx, "xgboost")
        joblib = require("joblib", "joblib", "A scikit-learn model")
        model = joblib.load(str(path))
    except ModelRuntimeMissingError:
        raise
    except Exception as exc:
        raise ModelLoadFailedError(
            f"Could not load model {ctx.resolved.uri}: {type(exc).__name__}: {exc}", {"uri": ctx.resolved.uri}
        ) from None
    runtime = "xgboost" if type(model).__module__.startswith("xgboost") else "sklearn"
    return TabularModel(model, ctx, runtime)


def _objective(booster: Any) -> str:
    import json

    try:
        config = json.loads(booster.save_config())
        return str(config["learner"]["objective"]["name"])
    except Exception:
        return ""
