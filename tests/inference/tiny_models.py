"""Tiny models built and saved offline for the runtime tests: a few thousand weights each, so they
build in milliseconds and nothing is ever downloaded.

The ``nn.Module`` classes live here, at module level, so a model pickled with ``torch.save`` can
be unpickled by the runtime (it imports ``tiny_models``, which pytest puts on ``sys.path``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

#: A few sentences: the vocabulary of the word-level tokenizer the transformers models share.
SENTENCES = [
    "the cat sat on the mat",
    "a dog ran in the park",
    "the quick brown fox jumps over the lazy dog",
    "feature stores keep features fresh",
    "models read rows and write features",
    "i love this movie it is great",
    "this was a terrible and boring film",
    "the weather is fine today",
]
PAD, UNK, EOS = "[PAD]", "[UNK]", "[EOS]"


class TinyMLP(nn.Module):
    """``in_features`` → 8 → ``out_features``."""

    def __init__(self, in_features: int = 4, out_features: int = 3) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, 8)
        self.fc2 = nn.Linear(8, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


class TinyCNN(nn.Module):
    """(N, 3, H, W) images → (N, 6) embeddings."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, kernel_size=3, stride=2)
        self.head = nn.Linear(4 * 4, 6)
        self.pool = nn.AdaptiveAvgPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(torch.relu(self.conv(x)))
        return self.head(torch.flatten(h, 1))


def mlp(in_features: int = 4, out_features: int = 3, seed: int = 0) -> TinyMLP:
    torch.manual_seed(seed)
    return TinyMLP(in_features, out_features).eval()


def cnn(seed: int = 0) -> TinyCNN:
    torch.manual_seed(seed)
    return TinyCNN().eval()


def save_torchscript(module: nn.Module, path: Path) -> Path:
    torch.jit.save(torch.jit.script(module), str(path))
    return path


def export_onnx(module: nn.Module, in_features: int, path: Path) -> Path:
    """The module as ONNX (the TorchScript exporter), with a dynamic batch axis; input ``x``."""
    torch.onnx.export(
        module,
        (torch.zeros(2, in_features),),
        str(path),
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
        dynamo=False,
    )
    return path


def save_tokenizer(folder: Path) -> Any:
    """A word-level tokenizer over :data:`SENTENCES` with pad/unk/eos tokens, saved in ``folder``."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = sorted({w for s in SENTENCES for w in s.split()})
    vocab = {tok: i for i, tok in enumerate([PAD, UNK, EOS, *words])}
    raw = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        pad_token=PAD,
        unk_token=UNK,
        eos_token=EOS,
        model_input_names=["input_ids", "attention_mask"],
    )
    folder.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(str(folder))
    return tok


def save_gpt2(folder: Path) -> Path:
    """A 2-layer GPT-2 over the tiny vocabulary."""
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = save_tokenizer(folder)
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tok),
        n_positions=64,
        n_embd=64,
        n_layer=2,
        n_head=2,
        bos_token_id=tok.eos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    GPT2LMHeadModel(config).eval().save_pretrained(str(folder))
    return folder


BERT_LABELS = {0: "negative", 1: "neutral", 2: "positive"}


def save_bert_classifier(folder: Path) -> Path:
    """A 1-layer BERT sequence classifier whose ``id2label`` names three classes."""
    from transformers import BertConfig, BertForSequenceClassification

    tok = save_tokenizer(folder)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tok),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        pad_token_id=tok.pad_token_id,
        num_labels=3,
        id2label=dict(BERT_LABELS),
        label2id={v: k for k, v in BERT_LABELS.items()},
    )
    BertForSequenceClassification(config).eval().save_pretrained(str(folder))
    return folder


def save_clip(folder: Path) -> Path:
    """A tiny CLIP (32 × 32 images in 8 × 8 patches) with its image processor."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    torch.manual_seed(0)
    config = CLIPConfig(
        text_config={
            "vocab_size": 64,
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "max_position_embeddings": 16,
            "bos_token_id": 0,
            "eos_token_id": 1,
            "pad_token_id": 2,
        },
        vision_config={
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=8,
    )
    folder.mkdir(parents=True, exist_ok=True)
    CLIPModel(config).eval().save_pretrained(str(folder))
    CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}, do_center_crop=True
    ).save_pretrained(str(folder))
    return folder
