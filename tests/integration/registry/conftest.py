"""Registry fixtures: a small slice of the corpus, and the whole corpus imported once per backend."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

import pytest
from scratch_databases import scratch_postgres
from sqlalchemy.orm import Session, sessionmaker

SNAPSHOT = Path("ctgov/corpus/ptjeong-ONC-CAR-T-Trials-Monitor/snapshots/2026-08-22")
SAMPLE = Path("ctgov/corpus/ptjeong-ONC-CAR-T-Trials-Monitor/validation_study/sample_v1.json")
SLICE_IDS = ("NCT07008872", "NCT05716113")
SLICE_ROWS = 40


def _copy_rows(source: Path, target: Path, keep: set[str] | None, limit: int | None) -> set[str]:
    kept: set[str] = set()
    with (
        source.open(encoding="utf-8", newline="") as handle,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.DictReader(handle)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        for index, row in enumerate(reader):
            wanted = (
                row["NCTId"] in keep
                if keep is not None
                else (index < (limit or 0) or row["NCTId"] in SLICE_IDS)
            )
            if wanted:
                writer.writerow(row)
                kept.add(row["NCTId"])
    return kept


@pytest.fixture
def corpus_slice(shared_data: Path, tmp_path: Path) -> Path:
    """A folder like the corpus snapshot: 40 trials (with the seed and NCT05716113), their sites and
    the sites of two trials that are not among them."""
    folder = tmp_path / "slice"
    folder.mkdir()
    kept = _copy_rows(shared_data / SNAPSHOT / "trials.csv", folder / "trials.csv", None, SLICE_ROWS)
    with (shared_data / SNAPSHOT / "sites.csv").open(encoding="utf-8", newline="") as handle:
        others = {row["NCTId"] for row in csv.DictReader(handle)} - kept
    _copy_rows(
        shared_data / SNAPSHOT / "sites.csv", folder / "sites.csv", kept | set(sorted(others)[:2]), None
    )
    return folder


@pytest.fixture
def seed_record(tmp_path: Path) -> Path:
    """The CT.gov API v2 record of NCT07008872 shipped with celltrial, as a file."""
    target = tmp_path / "NCT07008872.json"
    shutil.copyfile(str(resources.files("celltrial.protocol") / "data" / "NCT07008872.json"), target)
    return target


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def corpus_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, shared_data: Path
) -> Iterator[sessionmaker[Session]]:
    """A database holding the whole corpus (trials, sites, sample) and the seed's full record."""
    from celltrial.database import make_engine, session_factory, upgrade
    from celltrial.registry import service

    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('corpus') / 'corpus.db'}"
        else:
            url = stack.enter_context(scratch_postgres("celltrial_registry"))
        engine = make_engine(url)
        stack.callback(engine.dispose)
        upgrade(engine)
        factory = session_factory(engine)
        folder = tmp_path_factory.mktemp("sources")
        shutil.copyfile(
            str(resources.files("celltrial.protocol") / "data" / "NCT07008872.json"), folder / "seed.json"
        )
        service.import_registry(factory=factory, path=shared_data / SNAPSHOT / "trials.csv")
        service.import_registry(factory=factory, path=shared_data / SAMPLE)
        service.import_registry(factory=factory, path=folder / "seed.json")
        yield factory


@pytest.fixture
def factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test's empty, migrated database (SQLite or PostgreSQL)."""
    from celltrial.database import make_engine, session_factory

    engine = make_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()
