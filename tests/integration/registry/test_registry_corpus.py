"""The whole CAR-T corpus: counts, the CD7 search, related trials of the seed, precision@10.

The third-party TargetCategory label serves here as an evaluation label only: related trials
are judged by whether they share it, the ranking never reads it.
"""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import unit_of_work
from celltrial.registry import service
from celltrial.registry.models import RegistrySite, RegistryTrial
from celltrial.registry.schemas import SearchQuery

pytestmark = pytest.mark.slow
UNSPECIFIC = {"Other_or_unknown", "CAR-T_unspecified", "CAR-NK"}
SNAPSHOT = Path("ctgov/corpus/ptjeong-ONC-CAR-T-Trials-Monitor/snapshots/2026-08-22")
SAMPLE = Path("ctgov/corpus/ptjeong-ONC-CAR-T-Trials-Monitor/validation_study/sample_v1.json")


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def trials(shared_data: Path) -> list[dict[str, str]]:
    return _csv(shared_data / SNAPSHOT / "trials.csv")


def test_the_registry_holds_every_corpus_trial_and_every_site_of_them(
    corpus_factory: sessionmaker[Session], trials: list[dict[str, str]], shared_data: Path
) -> None:
    known = {row["NCTId"] for row in trials}
    sites = [row for row in _csv(shared_data / SNAPSHOT / "sites.csv") if row["NCTId"] in known]
    sample = json.loads((shared_data / SAMPLE).read_text("utf-8"))["trials"]
    with unit_of_work(corpus_factory) as session:
        assert session.scalar(select(func.count()).select_from(RegistryTrial)) == len(trials) == 2274
        assert session.scalar(select(func.count()).select_from(RegistrySite)) == len(sites)
        with_criteria = session.scalar(
            select(func.count()).select_from(RegistryTrial).where(RegistryTrial.eligibility_text.is_not(None))
        )
    assert with_criteria == len({t["NCTId"] for t in sample} | {"NCT07008872"})


def test_cd7_finds_every_trial_whose_title_names_cd7(
    corpus_factory: sessionmaker[Session], trials: list[dict[str, str]]
) -> None:
    cd7 = re.compile(r"(?<![a-z0-9])cd7(?![a-z0-9])")
    titled = {row["NCTId"] for row in trials if cd7.search(row["BriefTitle"].lower())}
    with unit_of_work(corpus_factory) as session:
        first = service.search_trials(session=session, query=SearchQuery(text="CD7", page_size=100))
        pages = [first] + [
            service.search_trials(session=session, query=SearchQuery(text="CD7", page_size=100, page=n))
            for n in range(2, first.pages + 1)
        ]
    ids = {hit.nct_id for page in pages for hit in page.results}
    assert len(titled) > 40
    assert titled <= ids
    assert first.total == len(ids)


def test_related_trials_of_the_seed_rank_nct05716113_in_the_top_ten(
    corpus_factory: sessionmaker[Session],
) -> None:
    with unit_of_work(corpus_factory) as session:
        related = service.related_trials(session=session, nct_id="NCT07008872", top=10).related
    assert "NCT05716113" in [trial.nct_id for trial in related]
    assert all(trial.reason.startswith("same target antigen CD7") for trial in related)


def test_precision_at_10_of_related_trials_sharing_the_target_label_is_at_least_075(
    corpus_factory: sessionmaker[Session], trials: list[dict[str, str]]
) -> None:
    label = {row["NCTId"]: row["TargetCategory"] for row in trials}
    specific = sorted(nct for nct, target in label.items() if target not in UNSPECIFIC)
    chosen = random.Random(20250601).sample(specific, 100)
    precisions = []
    with unit_of_work(corpus_factory) as session:
        for nct_id in chosen:
            related = service.related_trials(session=session, nct_id=nct_id, top=10).related
            precisions.append(sum(label[r.nct_id] == label[nct_id] for r in related) / 10)
    assert sum(precisions) / len(precisions) >= 0.75


def test_the_seed_page_lists_nct05716113_as_in_the_seed_record(corpus_factory: sessionmaker[Session]) -> None:
    with unit_of_work(corpus_factory) as session:
        page = service.trial_page(session=session, nct_id="NCT07008872")
    related = next(section for section in page.sections if section.heading == "More Related Trials")
    listed = {trial.nct_id: trial for trial in related.related}
    assert listed["NCT05716113"].title == "CD7 CAR-T for Patients With r/r CD7+ T-ALL/T-LBL"
    assert listed["NCT05716113"].overall_status == "COMPLETED"
    assert listed["NCT05716113"].phases == ["EARLY_PHASE1"]
