"""Trial embeddings: the text hash that keys them, their bytes in the database, a shipped cache.

A vector is stored as little-endian float32 bytes with the SHA-256 of the exact text it was
computed from; re-importing a trial whose text has not changed reuses the stored vector.
A cache file (``.npz``: ``sha256`` hex strings, ``vectors`` float16, ``model``) can seed vectors
for known texts; celltrial ships one for the CAR-T corpus snapshot, so importing that corpus
does not spend minutes on the model. Vectors from the cache are the model's own output for the
same text, rounded to float16 (cosine to the float32 vector > 0.9999).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np

from celltrial.registry.embedding import DIMENSION, MODEL_NAME, Matrix, sentence_encoder

SHIPPED_CACHE = "embedding_cache.npz"


class Encoder(Protocol):
    """Anything that turns texts into unit-length rows (the model, or a stand-in in tests)."""

    name: str

    def encode(self, texts: Sequence[str]) -> Matrix: ...


class ModelEncoder:
    """The all-MiniLM-L6-v2 model, loaded on first use."""

    name = MODEL_NAME

    def encode(self, texts: Sequence[str]) -> Matrix:
        return sentence_encoder().encode(texts)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def to_bytes(vector: Matrix) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> Matrix:
    vector = np.frombuffer(data, dtype="<f4")
    if vector.shape != (DIMENSION,):
        raise ValueError(f"a stored embedding has {vector.size} values, not {DIMENSION}")
    return vector.astype(np.float32)


def _unit(rows: Matrix) -> Matrix:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: Matrix = (rows / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


def read_cache(path: Path | None = None) -> dict[str, Matrix]:
    """Vectors by text hash from a cache file (the shipped one when ``path`` is None)."""
    if path is None:
        return dict(_shipped_cache())
    with np.load(path, allow_pickle=False) as data:
        if str(data["model"]) != MODEL_NAME:
            return {}
        vectors = _unit(data["vectors"].astype(np.float32))
        return {str(key): vectors[i] for i, key in enumerate(data["sha256"])}


@lru_cache(maxsize=1)
def _shipped_cache() -> tuple[tuple[str, Matrix], ...]:
    resource = resources.files("celltrial.registry") / "data" / SHIPPED_CACHE
    if not resource.is_file():
        return ()
    with resources.as_file(resource) as path:
        return tuple(read_cache(path).items())


def write_cache(path: Path, hashes: Sequence[str], vectors: Matrix) -> None:
    """Write a cache file of ``vectors`` keyed by ``hashes``."""
    np.savez_compressed(
        path,
        sha256=np.array(list(hashes), dtype="U64"),
        vectors=np.asarray(vectors, dtype=np.float16),
        model=np.array(MODEL_NAME),
    )
