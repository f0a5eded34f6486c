"""Hugging Face transformers from a local folder (``hf://`` resolved offline, or a path):

- ``embedding``: ``AutoModel`` and the mean of the last hidden states over the attention mask
  (a sentence-transformers folder goes to that runtime instead);
- ``classification``: ``AutoModelForSequenceClassification``: the label (``id2label``) and its
  softmax probability;
- ``generation``: ``AutoModelForCausalLM.generate`` over left-padded prompts, ``max_tokens`` new
  tokens, greedy at ``temperature=0``, sampled above (seeded by ``seed``); only the new text is kept;
- ``image_embedding``: a CLIP model's image features (``CLIPModel.get_image_features``), or an
  image model's pooled output, with the folder's image processor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from raise_.errors import InvalidInferenceError, ModelLoadFailedError
from raise_.inference.runtimes.base import LoadContext, LoadedModel, only_input, require, to_texts
from raise_.inference.runtimes.images import read_images
from raise_.inference.runtimes.outputs import softmax
from raise_.inference.runtimes.torch_precision import apply_precision


class _HFModel(LoadedModel):
    runtime = "transformers"

    def __init__(self, model: Any, processor: Any, ctx: LoadContext) -> None:
        self.model = model
        self.processor = processor
        self.ctx_device = ctx.device
        self.params = ctx.parameters
        self.max_length = int(ctx.config.get("max_length") or 512)

    def text_lengths(self, inputs: Mapping[str, pa.Array]) -> np.ndarray | None:
        column = only_input(inputs, "This model")
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            return None
        return np.asarray(pc.utf8_length(column.fill_null("")), dtype=np.int64)

    def tokens(self, texts: list[str]) -> Any:
        return self.processor(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")

    def prepare(self, inputs: Mapping[str, pa.Array]) -> Any:
        return self.tokens(to_texts(only_input(inputs, "This model")))

    def _on_device(self, batch: Any) -> Any:
        return {k: v.to(self.ctx_device) for k, v in batch.items()}


class TextEmbedder(_HFModel):
    def run(self, prepared: Any) -> dict[str, Any]:
        import torch

        with torch.inference_mode():
            batch = self._on_device(prepared)
            hidden = self.model(**batch).last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            if self.params.get("normalize"):
                pooled = torch.nn.functional.normalize(pooled, dim=1)
        return {"embedding": pooled.cpu().numpy().astype(np.float32)}


class TextClassifier(_HFModel):
    def run(self, prepared: Any) -> dict[str, Any]:
        import torch

        with torch.inference_mode():
            logits = self.model(**self._on_device(prepared)).logits.float().cpu().numpy()
        probs = softmax(logits)
        index = probs.argmax(axis=1)
        id2label = getattr(self.model.config, "id2label", None) or {}
        names = self.params.get("labels") or [str(id2label.get(i, i)) for i in range(probs.shape[1])]
        out: dict[str, Any] = {
            "label": pa.array(np.asarray(names, dtype=object)[index], pa.string()),
            "score": probs[np.arange(len(index)), index].astype(np.float32),
        }
        if self.params.get("scores_column"):
            out[str(self.params["scores_column"])] = out["score"]
        return out


class TextGenerator(_HFModel):
    def run(self, prepared: Any) -> dict[str, Any]:
        import torch

        temperature = float(self.params.get("temperature", 0.0) or 0.0)
        options: dict[str, Any] = {
            "max_new_tokens": int(self.params.get("max_tokens", 256)),
            "pad_token_id": self.processor.pad_token_id,
        }
        if temperature > 0:
            options.update(do_sample=True, temperature=temperature)
            if self.params.get("seed") is not None:
                torch.manual_seed(int(self.params["seed"]))
        else:
            options["do_sample"] = False
        with torch.inference_mode():
            batch = self._on_device(prepared)
            generated = self.model.generate(**batch, **options)
        new = generated[:, batch["input_ids"].shape[1] :]
        texts = self.processor.batch_decode(new, skip_special_tokens=True)
        return {"completion": pa.array(texts, pa.string())}


class ImageEmbedder(_HFModel):
    def text_lengths(self, inputs: Mapping[str, pa.Array]) -> np.ndarray | None:
        return None

    def prepare(self, inputs: Mapping[str, pa.Array]) -> Any:
        images = read_images(only_input(inputs, "An image model"))
        return self.processor(images=images, return_tensors="pt")

    def run(self, prepared: Any) -> dict[str, Any]:
        import torch

        with torch.inference_mode():
            pixels = prepared["pixel_values"].to(self.ctx_device, dtype=next(self.model.parameters()).dtype)
            if hasattr(self.model, "get_image_features"):
                features = self.model.get_image_features(pixel_values=pixels)
                if not isinstance(features, torch.Tensor):
                    # transformers 5 returns an output object whose pooler_output is the projected
                    # embedding (a tensor: never test it for truth).
                    pooled = getattr(features, "pooler_output", None)
                    features = pooled if pooled is not None else features[0]
            else:
                out = self.model(pixel_values=pixels)
                features = out.pooler_output if getattr(out, "pooler_output", None) is not None else out[0].mean(1)
        return {"embedding": features.float().reshape(len(features), -1).cpu().numpy()}


def load(ctx: LoadContext) -> LoadedModel:
    transformers = require("transformers", "transformers", "A Hugging Face transformers model")
    path = str(ctx.resolved.path)
    task = ctx.task
    options: dict[str, Any] = {"local_files_only": True}
    if ctx.shard_over:
        # tensor/pipeline parallel: one copy split over the GPUs by accelerate's device map.
        require("accelerate", "accelerate", "Splitting a model over several GPUs")
        options["device_map"] = "auto"
    try:
        if task == "image_embedding":
            config = transformers.AutoConfig.from_pretrained(path, local_files_only=True)
            if config.model_type == "clip":
                model = transformers.CLIPModel.from_pretrained(path, local_files_only=True)
            else:
                model = transformers.AutoModel.from_pretrained(path, local_files_only=True)
            processor = transformers.AutoImageProcessor.from_pretrained(path, local_files_only=True)
            cls: type[_HFModel] = ImageEmbedder
        else:
            processor = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
            if task == "classification":
                model = transformers.AutoModelForSequenceClassification.from_pretrained(path, **options)
                cls = TextClassifier
            elif task == "generation":
                model = transformers.AutoModelForCausalLM.from_pretrained(path, **options)
                processor.padding_side = "left"  # generation continues each prompt from its end
                if processor.pad_token is None:
                    processor.pad_token = processor.eos_token
                cls = TextGenerator
            elif task == "embedding":
                model = transformers.AutoModel.from_pretrained(path, **options)
                cls = TextEmbedder
            else:
                raise InvalidInferenceError(
                    "A transformers model runs embedding, classification, generation or image_embedding, "
                    f"not {task!r}.",
                    {"task": task},
                )
    except (InvalidInferenceError, ModelLoadFailedError):
        raise
    except Exception as exc:
        raise ModelLoadFailedError(
            f"Could not load {ctx.resolved.uri} with transformers ({task}): {type(exc).__name__}: {exc}",
            {"uri": ctx.resolved.uri},
        ) from None
    model.eval()
    if not ctx.shard_over:  # a sharded model is already where its device map put it
        model.to(ctx.device)
    loaded = cls(model, processor, ctx)
    loaded.precision = apply_precision(model, ctx)
    return loaded
