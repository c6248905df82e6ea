"""Importing registry sources into SQLite and PostgreSQL: counts, merging, idempotence, all-or-nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import unit_of_work
from celltrial.errors import InvalidInput
from celltrial.registry import service
from celltrial.registry.models import RegistryEmbedding, RegistrySite, RegistryTrial, RegistryTrialSource


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _count(factory: sessionmaker[Session], table: type) -> int:
    with unit_of_work(factory) as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_import_counts_equal_the_source_counts(factory: sessionmaker[Session], corpus_slice: Path) -> None:
    trials = _rows(corpus_slice / "trials.csv")
    sites = _rows(corpus_slice / "sites.csv")
    known = {row["NCTId"] for row in trials}
    report = service.import_registry(factory=factory, path=corpus_slice)
    assert report.trials_created == len(trials) == _count(factory, RegistryTrial)
    assert report.site_rows_read == len(sites)
    assert report.site_rows_attached == sum(1 for row in sites if row["NCTId"] in known)
    assert report.site_rows_attached + report.site_rows_without_trial == len(sites)
    assert _count(factory, RegistrySite) == report.site_rows_attached
    assert _count(factory, RegistryEmbedding) == len(trials)


def test_re_importing_the_same_files_changes_nothing(
    factory: sessionmaker[Session], corpus_slice: Path
) -> None:
    service.import_registry(factory=factory, path=corpus_slice)
    again = service.import_registry(factory=factory, path=corpus_slice)
    assert (again.trials_created, again.trials_updated) == (0, 0)
    assert again.trials_unchanged == again.trials_in_sources
    assert again.embeddings_computed == again.embeddings_from_cache == 0
    assert _count(factory, RegistrySite) == again.site_rows_attached
    assert _count(factory, RegistryTrialSource) == again.trials_in_sources


def test_the_full_record_and_the_corpus_row_merge_with_their_provenance(
    factory: sessionmaker[Session], corpus_slice: Path, seed_record: Path
) -> None:
    service.import_registry(factory=factory, path=corpus_slice)
    report = service.import_registry(factory=factory, path=seed_record)
    assert (report.trials_created, report.trials_updated) == (0, 1)
    with unit_of_work(factory) as session:
        detail = service.get_trial_or_raise(session=session, nct_id="nct07008872")
    assert detail.record.eligibility_criteria is not None
    assert detail.provenance["eligibility_criteria"] == "ctgov_json:NCT07008872.json"
    assert detail.provenance["arm_groups"] == "ctgov_json:NCT07008872.json"
    assert detail.record.enrollment_count == 40
    assert [labels.labels["TargetCategory"] for labels in detail.record.third_party_labels] == ["CD7"]
    assert detail.features["antigens"] == ["CD7"]


def test_a_file_with_an_invalid_record_stores_nothing(
    factory: sessionmaker[Session], tmp_path: Path, seed_record: Path
) -> None:
    broken = json.loads(seed_record.read_text("utf-8"))
    broken["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = -1
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "a.json").write_text(seed_record.read_text("utf-8"), encoding="utf-8")
    (tmp_path / "sources" / "b.json").write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(InvalidInput) as raised:
        service.import_registry(factory=factory, path=tmp_path / "sources")
    assert raised.value.field == "b.json: protocolSection.designModule.enrollmentInfo.count"
    assert _count(factory, RegistryTrial) == 0


def test_an_unknown_trial_is_none_or_not_found(factory: sessionmaker[Session]) -> None:
    from celltrial.errors import NotFound

    with unit_of_work(factory) as session:
        assert service.get_trial(session=session, nct_id="NCT09999999") is None
        with pytest.raises(NotFound):
            service.get_trial_or_raise(session=session, nct_id="NCT09999999")
        with pytest.raises(InvalidInput):
            service.get_trial(session=session, nct_id="07008872")
