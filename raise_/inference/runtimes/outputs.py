"""Turning a model's raw scores into the columns a task writes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def classify(scores: np.ndarray, params: dict[str, Any], *, probabilities: bool = False) -> dict[str, Any]:
    """Logits (or probabilities) per class → ``label`` (a class name or index) and ``score``."""
    if scores.ndim == 1:  # one logit: a binary classifier's positive class
        p = 1 / (1 + np.exp(-scores)) if not probabilities else scores
        scores = np.column_stack([1 - p, p])
        probabilities = True
    probs = scores if probabilities else softmax(scores)
    index = probs.argmax(axis=1)
    out: dict[str, Any] = {"score": probs[np.arange(len(index)), index].astype(np.float32)}
    labels = params.get("labels")
    if labels:
        out["label"] = pa.array(np.asarray(labels, dtype=object)[index], pa.string())
    else:
        out["label"] = index.astype(np.int64)
    scores_column = params.get("scores_column")
    if scores_column:
        out[str(scores_column)] = out["score"]
    return out


def task_outputs(values: np.ndarray, task: str, params: dict[str, Any]) -> dict[str, Any]:
    """A numeric model's one output as its task's columns: ``label`` + score for classification,
    ``embedding`` for an embedding task, else ``prediction`` (a single column flattened)."""
    if task == "classification":
        return classify(values.astype(np.float32), params)
    name = "embedding" if task in ("embedding", "image_embedding") else "prediction"
    if values.ndim == 2 and values.shape[1] == 1 and name == "prediction":
        values = values[:, 0]
    return {name: values}
