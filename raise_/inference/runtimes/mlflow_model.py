"""MLflow models from a registry (``MLFLOW_TRACKING_URI``): ``models:/name/3``, ``models:/name@champion``,
or a stage (``models:/name/Production``; a registry without stages reads it as the alias
``@production``). An sklearn or XGBoost flavour is loaded natively (so classification gets
``predict_proba``); any other flavour through ``pyfunc``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from raise_.errors import ModelLoadFailedError, ModelNotFoundError
from raise_.inference.runtimes.base import LoadContext, LoadedModel, features_matrix, require
from raise_.inference.runtimes.tabular import predict_tabular

_STAGE = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<stage>[A-Za-z][A-Za-z_-]*)$")


class MlflowModel(LoadedModel):
    runtime = "mlflow"

    def __init__(self, model: Any, native: bool, ctx: LoadContext) -> None:
        self.model = model
        self.native = native
        self.task = ctx.task
        self.params = ctx.parameters

    def prepare(self, inputs: Mapping[str, pa.Array]) -> Any:
        return features_matrix(inputs, np.float64)

    def run(self, prepared: Any) -> dict[str, Any]:
        if self.native:
            return predict_tabular(self.model, prepared, self.task, self.params)
        values = np.asarray(self.model.predict(prepared))
        key = "label" if self.task == "classification" else "prediction"
        return {key: values}


def _load(mlflow: Any, reference: str) -> tuple[Any, bool, str]:
    from mlflow.models import get_model_info

    info = get_model_info(reference)
    flavors = set(info.flavors)
    if "sklearn" in flavors:
        return mlflow.sklearn.load_model(reference), True, "sklearn"
    if "xgboost" in flavors:
        return mlflow.xgboost.load_model(reference), True, "xgboost"
    return mlflow.pyfunc.load_model(reference), False, "pyfunc"


def load(ctx: LoadContext) -> LoadedModel:
    mlflow = require("mlflow", "mlflow", "An MLflow model")
    reference = str(ctx.resolved.reference)
    tried = [reference]
    try:
        try:
            model, native, flavor = _load(mlflow, reference)
        except Exception:
            stage = _STAGE.match(reference)
            if stage is None or stage.group("stage").isdigit() or stage.group("stage") == "latest":
                raise
            alias = f"models:/{stage.group('name')}@{stage.group('stage').lower()}"
            tried.append(alias)
            model, native, flavor = _load(mlflow, alias)
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        if "RESOURCE_DOES_NOT_EXIST" in text or "not found" in text.lower() or "No versions" in text:
            raise ModelNotFoundError(
                f"MLflow has no model at {' or '.join(tried)} (tracking URI {mlflow.get_tracking_uri()}): {exc}",
                {"uri": ctx.resolved.uri, "looked": tried},
            ) from None
        raise ModelLoadFailedError(
            f"Could not load MLflow model {reference}: {text}", {"uri": ctx.resolved.uri}
        ) from None
    ctx.log(f"MLflow model {tried[-1]} ({flavor} flavour)")
    return MlflowModel(model, native, ctx)
