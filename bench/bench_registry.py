"""Registry figures: corpus import time, related-trial quality, search and related latencies.

Run (SQLite file in a temporary folder by default)::

    .venv/bin/python bench/bench_registry.py [--db URL] [--no-cache] [--queries 200]

Prints: the import time of the CAR-T corpus (trials + sites, the 200-record sample, the seed's
full record); precision@10 of related trials sharing the third-party TargetCategory label (an
evaluation label only: ranking never reads it) over every trial with a specific label and over a
seeded sample of 100, for the combined score, its text part alone, its structured parts alone and
a plain TF-IDF baseline; the rank of NCT05716113 among the trials related to NCT07008872; and
median / 95th-percentile latencies of related-trial and search queries.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from importlib import resources
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import make_engine, session_factory, unit_of_work, upgrade
from celltrial.registry import service
from celltrial.registry.models import RegistryTrial
from celltrial.registry.schemas import SearchQuery
from celltrial.registry.similarity import SimilarityIndex, Weights

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPUS = SHARED / "ctgov/corpus/ptjeong-ONC-CAR-T-Trials-Monitor"
UNSPECIFIC = {"Other_or_unknown", "CAR-T_unspecified", "CAR-NK"}
SEARCHES = [
    SearchQuery(text="CD7"),
    SearchQuery(text="CD7 CAR-T T-ALL", status=["RECRUITING"], age=16),
    SearchQuery(text="BCMA multiple myeloma", phase=["PHASE1", "PHASE2"]),
    SearchQuery(text="glioblastoma"),
    SearchQuery(country="China", start_year_from=2022, sort="start_date"),
    SearchQuery(text="allogeneic", page=3),
]


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return f"median {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms (n={len(ordered)})"


def _labels() -> dict[str, str]:
    with (CORPUS / "snapshots/2026-08-22/trials.csv").open(encoding="utf-8", newline="") as handle:
        return {row["NCTId"]: row["TargetCategory"] for row in csv.DictReader(handle)}


Ranker = Callable[[str], list[str]]


def _precision(rank_of: Ranker, labels: dict[str, str], ids: list[str]) -> float:
    scores = []
    for nct_id in ids:
        top = rank_of(nct_id)
        scores.append(sum(labels.get(other) == labels[nct_id] for other in top) / 10)
    return sum(scores) / len(scores)


def _index_ranker(index: SimilarityIndex) -> Ranker:
    def rank(nct_id: str) -> list[str]:
        row = index.position[nct_id]
        scores = index.scores(row)
        scores[row] = -np.inf
        return [index.trials[i].nct_id for i in np.argsort(-scores)[:10]]

    return rank


def _tfidf_ranker(factory: sessionmaker[Session]) -> Ranker:
    """Plain TF-IDF (log tf, smooth idf, cosine) over title, conditions, interventions, summary."""
    with unit_of_work(factory) as session:
        rows = session.execute(
            select(
                RegistryTrial.nct_id,
                RegistryTrial.brief_title,
                RegistryTrial.conditions_text,
                RegistryTrial.interventions_text,
                RegistryTrial.brief_summary,
            ).order_by(RegistryTrial.nct_id)
        ).all()
    ids = [r[0] for r in rows]
    docs = [Counter(re.findall(r"[a-z0-9]+", " ".join(filter(None, r[1:])).lower())) for r in rows]
    frequency = Counter(word for doc in docs for word in doc)
    vocabulary = {word: i for i, word in enumerate(frequency)}
    idf = np.array([math.log((1 + len(docs)) / (1 + frequency[w])) + 1 for w in vocabulary])
    matrix = np.zeros((len(docs), len(vocabulary)), dtype=np.float32)
    for row, doc in enumerate(docs):
        for word, count in doc.items():
            matrix[row, vocabulary[word]] = (1 + math.log(count)) * idf[vocabulary[word]]
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
    position = {nct_id: i for i, nct_id in enumerate(ids)}

    def rank(nct_id: str) -> list[str]:
        scores = matrix @ matrix[position[nct_id]]
        scores[position[nct_id]] = -np.inf
        return [ids[i] for i in np.argsort(-scores)[:10]]

    return rank


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    parser.add_argument("--no-cache", action="store_true", help="compute every embedding with the model")
    parser.add_argument("--queries", type=int, default=200, help="related-trial queries to time")
    options = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="celltrial-bench-"))
    url = options.db or f"sqlite:///{folder / 'registry.db'}"
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    seed = folder / "NCT07008872.json"
    seed.write_bytes((resources.files("celltrial.protocol") / "data" / "NCT07008872.json").read_bytes())

    began = time.perf_counter()
    for path in (
        CORPUS / "snapshots/2026-08-22/trials.csv",
        CORPUS / "validation_study/sample_v1.json",
        seed,
    ):
        report = service.import_registry(factory=factory, path=path, use_shipped_cache=not options.no_cache)
        print(
            f"import {path.name}: {report.seconds:.1f} s, {report.trials_in_sources} trials "
            f"({report.trials_created} new, {report.trials_updated} updated), {report.sites_stored} sites, "
            f"embeddings {report.embeddings_computed} computed / {report.embeddings_from_cache} cached"
        )
    print(f"corpus import, total: {time.perf_counter() - began:.1f} s")
    again = service.import_registry(factory=factory, path=CORPUS / "snapshots/2026-08-22/trials.csv")
    print(f"re-import of trials.csv: {again.seconds:.1f} s, {again.trials_unchanged} unchanged")

    labels = _labels()
    with unit_of_work(factory) as session:
        index = service.similarity_index(session=session)
        counts = service.registry_counts(session=session)
    print(f"registry: {counts}")
    specific = sorted(n for n, label in labels.items() if label not in UNSPECIFIC and n in index.position)
    sample = random.Random(20250601).sample(specific, 100)
    text_only = SimilarityIndex(index.trials, weights=Weights(1, 0, 0, 0, 0, 0, 0, 0))
    structured = SimilarityIndex(index.trials, weights=replace(Weights(), text=0.0))
    for name, ranker in (
        ("combined (celltrial)", _index_ranker(index)),
        ("text embedding only", _index_ranker(text_only)),
        ("structured parts only", _index_ranker(structured)),
        ("plain TF-IDF baseline", _tfidf_ranker(factory)),
    ):
        every = _precision(ranker, labels, specific)
        hundred = _precision(ranker, labels, sample)
        order = ranker("NCT07008872")
        place = f"rank {order.index('NCT05716113') + 1}" if "NCT05716113" in order else "not in the top 10"
        print(
            f"precision@10 {name}: {every:.3f} over {len(specific)} trials, "
            f"{hundred:.3f} over a sample of 100; NCT05716113 {place}"
        )
    related = index.related("NCT07008872", top=50)
    print(f"rank of NCT05716113 for NCT07008872: {[r.nct_id for r in related].index('NCT05716113') + 1}")

    chosen = random.Random(7).sample(sorted(index.position), options.queries)
    timings = []
    with unit_of_work(factory) as session:
        for nct_id in chosen:
            start = time.perf_counter()
            service.related_trials(session=session, nct_id=nct_id, top=10)
            timings.append((time.perf_counter() - start) * 1000)
    print(f"related trials (service, {counts['trials']} trials): {_percentiles(timings)}")
    timings = []
    for nct_id in chosen:
        start = time.perf_counter()
        index.related(nct_id, top=10)
        timings.append((time.perf_counter() - start) * 1000)
    print(f"related trials (in-memory index only): {_percentiles(timings)}")
    timings = []
    with unit_of_work(factory) as session:
        for _ in range(10):
            for query in SEARCHES:
                start = time.perf_counter()
                service.search_trials(session=session, query=query)
                timings.append((time.perf_counter() - start) * 1000)
    print(f"search ({engine.dialect.name}): {_percentiles(timings)}")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
