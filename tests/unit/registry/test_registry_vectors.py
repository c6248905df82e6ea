"""Stored embeddings: bytes round trip, cache files, and the shipped cache against the model itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from celltrial.registry.embedding import DIMENSION, sentence_encoder
from celltrial.registry.features import embedding_text
from celltrial.registry.sources.corpus import read_corpus_csv
from celltrial.registry.vectors import from_bytes, read_cache, text_sha256, to_bytes, write_cache

TRIALS = Path("ctgov/corpus/ptjeong-ONC-CAR-T-Trials-Monitor/snapshots/2026-08-22/trials.csv")


def test_a_vector_survives_its_bytes() -> None:
    vector = np.linspace(-1, 1, DIMENSION, dtype=np.float32)
    np.testing.assert_array_equal(from_bytes(to_bytes(vector)), vector)


def test_bytes_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ValueError, match="not 384"):
        from_bytes(b"\x00" * 12)


def test_a_cache_file_gives_back_unit_vectors_by_text_hash(tmp_path: Path) -> None:
    vectors = np.eye(2, DIMENSION, dtype=np.float32) * 3
    write_cache(tmp_path / "cache.npz", [text_sha256("a"), text_sha256("b")], vectors)
    cache = read_cache(tmp_path / "cache.npz")
    assert set(cache) == {text_sha256("a"), text_sha256("b")}
    np.testing.assert_allclose(np.linalg.norm(cache[text_sha256("b")]), 1.0, atol=1e-3)


@pytest.mark.parametrize("nct_id", ["NCT07008872", "NCT05716113", "NCT00019136"])
def test_the_shipped_cache_holds_what_the_model_computes_for_the_corpus_text(
    shared_data: Path, nct_id: str
) -> None:
    records, _, _ = read_corpus_csv(shared_data / TRIALS)
    record = next(source.record for source in records if source.record.nct_id == nct_id)
    text = embedding_text(record)
    cached = read_cache()[text_sha256(text)]
    fresh = sentence_encoder().encode([text])[0]
    assert float(cached @ fresh) >= 0.999
