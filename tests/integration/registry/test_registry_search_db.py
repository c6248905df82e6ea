"""Searching a slice of the corpus on SQLite and PostgreSQL: words, filters, counts, order, pages.

Every expectation is computed from the slice's own CSV rows, not from the search code.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import unit_of_work
from celltrial.errors import InvalidInput
from celltrial.registry import service
from celltrial.registry.importer import age_in_years
from celltrial.registry.schemas import SearchPage, SearchQuery


@pytest.fixture
def rows(corpus_slice: Path, factory: sessionmaker[Session]) -> list[dict[str, str]]:
    service.import_registry(factory=factory, path=corpus_slice)
    with (corpus_slice / "trials.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _search(factory: sessionmaker[Session], **fields: object) -> SearchPage:
    fields.setdefault("page_size", 100)
    with unit_of_work(factory) as session:
        return service.search_trials(session=session, query=SearchQuery.model_validate(fields))


def _ids(page: SearchPage) -> set[str]:
    return {hit.nct_id for hit in page.results}


def test_cd7_finds_the_trials_whose_title_or_conditions_name_cd7(
    factory: sessionmaker[Session], rows: list[dict[str, str]]
) -> None:
    naming = {
        r["NCTId"] for r in rows if "cd7" in (r["BriefTitle"] + r["Conditions"]).lower().replace("cd70", "")
    }
    found = _search(factory, text="CD7")
    assert {"NCT07008872", "NCT05716113"} <= naming <= _ids(found)
    assert found.total == len(found.results)


def test_every_word_must_occur_and_hyphenated_words_are_phrases(
    factory: sessionmaker[Session], rows: list[dict[str, str]]
) -> None:
    found = _search(factory, text="CD7 CAR-T T-ALL")
    assert "NCT05716113" in _ids(found)
    assert "NCT07008872" not in _ids(found)


def test_title_matches_rank_before_summary_only_matches(
    factory: sessionmaker[Session], rows: list[dict[str, str]]
) -> None:
    found = _search(factory, text="CD7")
    scores = [hit.score for hit in found.results]
    assert all(score is not None for score in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    assert "cd7" in found.results[0].title.lower()


def test_status_and_phase_filters_keep_only_matching_trials(
    factory: sessionmaker[Session], rows: list[dict[str, str]]
) -> None:
    found = _search(factory, status=["RECRUITING", "COMPLETED"], phase=["PHASE1"])
    expected = {
        r["NCTId"]
        for r in rows
        if r["OverallStatus"] in ("RECRUITING", "COMPLETED") and "PHASE1" in r["Phase"].split("|")
    }
    assert _ids(found) == expected
    assert sum(found.counts["status"].values()) == found.total == len(expected)


def test_a_patients_age_keeps_trials_whose_limits_include_it(
    factory: sessionmaker[Session], rows: list[dict[str, str]]
) -> None:
    def fits(row: dict[str, str], age: float) -> bool:
        low = age_in_years(row["MinAge"] or None)
        high = age_in_years(row["MaxAge"] or None)
        return (low is None or low <= age) and (high is None or age <= high)

    for age in (5, 16, 75, 80):
        assert _ids(_search(factory, age=age)) == {r["NCTId"] for r in rows if fits(r, age)}
    assert "NCT07008872" in _ids(_search(factory, age=14))
    assert "NCT07008872" not in _ids(_search(factory, age=13))


def test_country_condition_intervention_and_start_year_filters(
    factory: sessionmaker[Session], rows: list[dict[str, str]]
) -> None:
    assert _ids(_search(factory, country="China")) == {
        r["NCTId"] for r in rows if "China" in r["Countries"].split("|")
    }
    assert _ids(_search(factory, condition="leukemia")) == {
        r["NCTId"] for r in rows if "leukemia" in r["Conditions"].lower()
    }
    assert _ids(_search(factory, intervention="fludarabine")) >= {
        r["NCTId"] for r in rows if "fludarabine" in r["Interventions"].lower()
    }
    since = {r["NCTId"] for r in rows if r["StartDate"] and 2020 <= int(r["StartDate"][:4]) <= 2023}
    assert _ids(_search(factory, start_year_from=2020, start_year_to=2023)) == since


def test_sex_and_healthy_volunteer_filters_follow_the_full_record(
    factory: sessionmaker[Session], seed_record: Path
) -> None:
    service.import_registry(factory=factory, path=seed_record)
    assert "NCT07008872" in _ids(_search(factory, text="CD7", sex="FEMALE"))
    assert "NCT07008872" in _ids(_search(factory, healthy_volunteers=False))
    assert "NCT07008872" not in _ids(_search(factory, healthy_volunteers=True))


def test_pages_cover_the_results_once_in_the_chosen_order(
    factory: sessionmaker[Session], rows: list[dict[str, str]]
) -> None:
    pages = [_search(factory, sort="start_date", page=n, page_size=7) for n in range(1, 8)]
    ids = [hit.nct_id for page in pages for hit in page.results]
    assert len(ids) == len(set(ids)) == len(rows)
    assert pages[0].pages == -(-len(rows) // 7)
    dates = [hit.start_date for page in pages for hit in page.results if hit.start_date]
    assert dates == sorted(dates, reverse=True)
    by_id = _search(factory, sort="nct_id")
    assert [h.nct_id for h in by_id.results] == sorted(r["NCTId"] for r in rows)


def test_search_text_without_a_word_is_refused(
    factory: sessionmaker[Session], rows: list[dict[str, str]]
) -> None:
    with pytest.raises(InvalidInput):
        _search(factory, text="+++")
