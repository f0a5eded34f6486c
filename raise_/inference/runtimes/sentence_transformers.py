"""sentence-transformers: text → embedding with the model's own pooling (and normalization)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from raise_.errors import InvalidInferenceError
from raise_.inference.runtimes.base import LoadContext, LoadedModel, only_input, require, to_texts
from raise_.inference.runtimes.torch_precision import apply_precision


class SentenceEmbedder(LoadedModel):
    runtime = "sentence-transformers"

    def __init__(self, model: Any, normalize: bool) -> None:
        self.model = model
        self.normalize = normalize

    def text_lengths(self, inputs: Mapping[str, pa.Array]) -> np.ndarray | None:
        column = only_input(inputs, "An embedding model")
        return np.asarray(pc.utf8_length(column.fill_null("")), dtype=np.int64)

    def prepare(self, inputs: Mapping[str, pa.Array]) -> Any:
        return to_texts(only_input(inputs, "An embedding model"))

    def run(self, prepared: Any) -> dict[str, Any]:
        vectors = self.model.encode(
            prepared,
            batch_size=max(1, len(prepared)),
            convert_to_numpy=True,
            normalize_embeddings=self.normalize,
            show_progress_bar=False,
        )
        return {"embedding": np.asarray(vectors, dtype=np.float32)}


def load(ctx: LoadContext) -> LoadedModel:
    if ctx.task != "embedding":
        raise InvalidInferenceError(
            f"A sentence-transformers model embeds text; task {ctx.task!r} needs another model.", {"task": ctx.task}
        )
    st = require("sentence_transformers", "sentence-transformers", "A sentence-transformers model")
    model = st.SentenceTransformer(str(ctx.resolved.path), device=ctx.device, local_files_only=True)
    model.eval()
    embedder = SentenceEmbedder(model, bool(ctx.parameters.get("normalize", False)))
    embedder.precision = apply_precision(model, ctx)
    return embedder
