"""DSMB safety tables on a hand-built population of three infused subjects.

Subject 1: febrile neutropenia grade 3, anaemia grades 2 and 3, CRS grade 2 (daily grades
1, 2, 1, 0 on days 1-4, tocilizumab on day 2).
Subject 2: anaemia grade 1, CRS grade 3 (serious), ICANS grade 3 (serious), fatal sepsis on
day 20 possibly related to CAR-T; daily CRS 1, 3, 0 on days 0-2 and again 1, 1 on days 8-9
(ongoing); ICANS 3, 2, 0 on days 4-6 with corticosteroids on day 4.
Subject 3: no adverse event, all daily grades 0; died of disease progression on day 100.
Every count below is counted by hand from these lines.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from celltrial.analysis.episodes import DailyGrades
from celltrial.analysis.safety_events import AdverseEventFacts, Aesi, Outcome, Relatedness
from celltrial.analysis.safety_tables import (
    DeathRecord,
    GradeCounts,
    SafetyTables,
    SubjectSafetyRecord,
    safety_tables,
    summarise,
)
from celltrial.errors import InvalidInput

BLOOD = "Blood and lymphatic system disorders"
IMMUNE = "Immune system disorders"
NERVOUS = "Nervous system disorders"
INFECTIONS = "Infections and infestations"
INFUSIONS = {1: date(2025, 3, 1), 2: date(2025, 4, 1), 3: date(2025, 5, 1)}


def ae(subject: int, term: str, soc: str, grade: int, onset: int = 1, **changes: object) -> AdverseEventFacts:
    values: dict[str, object] = {
        "subject_id": subject,
        "term": term,
        "soc": soc,
        "grade": grade,
        "onset": INFUSIONS[subject] + timedelta(days=onset),
    }
    values.update(changes)
    return AdverseEventFacts.model_validate(values)


def daily(
    subject: int, n: int, crs: int, icans: int = 0, toci: bool = False, steroids: bool = False
) -> DailyGrades:
    return DailyGrades(
        day=INFUSIONS[subject] + timedelta(days=n),
        crs_grade=crs,
        icans_grade=icans,
        tocilizumab_given=toci,
        corticosteroids_given=steroids,
    )


def population() -> list[SubjectSafetyRecord]:
    sepsis_day = INFUSIONS[2] + timedelta(days=20)
    return [
        SubjectSafetyRecord(
            subject_id=1,
            label="S01-001",
            infusion_date=INFUSIONS[1],
            adverse_events=(
                ae(1, "Febrile neutropenia", BLOOD, 3),
                ae(1, "Anemia", BLOOD, 2),
                ae(1, "Anemia", BLOOD, 3, onset=5),
                ae(1, "Cytokine release syndrome", IMMUNE, 2, aesi=[Aesi.CRS]),
            ),
            assessments=(daily(1, 1, 1), daily(1, 2, 2, toci=True), daily(1, 3, 1), daily(1, 4, 0)),
        ),
        SubjectSafetyRecord(
            subject_id=2,
            label="S01-002",
            infusion_date=INFUSIONS[2],
            adverse_events=(
                ae(2, "Anemia", BLOOD, 1),
                ae(2, "Cytokine release syndrome", IMMUNE, 3, aesi=[Aesi.CRS], serious=True),
                ae(
                    2,
                    "Immune effector cell-associated neurotoxicity syndrome",
                    NERVOUS,
                    3,
                    aesi=[Aesi.ICANS],
                    serious=True,
                ),
                ae(
                    2,
                    "Sepsis",
                    INFECTIONS,
                    5,
                    onset=18,
                    resolved_on=sepsis_day,
                    outcome=Outcome.FATAL,
                    related_to_cart=Relatedness.POSSIBLE,
                    serious=True,
                ),
            ),
            assessments=(
                daily(2, 0, 1),
                daily(2, 1, 3),
                daily(2, 2, 0),
                daily(2, 4, 0, icans=3, steroids=True),
                daily(2, 5, 0, icans=2),
                daily(2, 6, 0, icans=0),
                daily(2, 8, 1),
                daily(2, 9, 1),
            ),
        ),
        SubjectSafetyRecord(
            subject_id=3,
            label="S01-003",
            infusion_date=INFUSIONS[3],
            assessments=tuple(daily(3, n, 0) for n in range(15)),
        ),
    ]


PROGRESSION = DeathRecord(subject_id=3, on=INFUSIONS[3] + timedelta(days=100), cause="Disease progression")


@pytest.fixture(scope="module")
def tables() -> SafetyTables:
    return safety_tables(population(), other_deaths=[PROGRESSION])


def grade_row(row: GradeCounts) -> tuple[dict[int, int], int, int]:
    return (row.by_max_grade, row.any_grade, row.grade_3_or_more)


def test_the_denominator_is_every_infused_subject(tables: SafetyTables) -> None:
    assert tables.subjects == 3


def test_system_organ_classes_are_listed_alphabetically(tables: SafetyTables) -> None:
    assert [row.soc for row in tables.adverse_events] == [BLOOD, IMMUNE, INFECTIONS, NERVOUS]


def test_a_subject_counts_once_per_soc_at_their_highest_grade(tables: SafetyTables) -> None:
    blood = tables.adverse_events[0]
    assert grade_row(blood) == ({1: 1, 2: 0, 3: 1, 4: 0, 5: 0}, 2, 1)


def test_a_subject_counts_once_per_term_and_terms_are_ordered_by_frequency(tables: SafetyTables) -> None:
    blood = tables.adverse_events[0]
    assert [term.term for term in blood.terms] == ["Anemia", "Febrile neutropenia"]
    assert grade_row(blood.terms[0]) == ({1: 1, 2: 0, 3: 1, 4: 0, 5: 0}, 2, 1)
    assert grade_row(blood.terms[1]) == ({1: 0, 2: 0, 3: 1, 4: 0, 5: 0}, 1, 1)


def test_a_fatal_event_counts_at_grade_5(tables: SafetyTables) -> None:
    assert grade_row(tables.adverse_events[2]) == ({1: 0, 2: 0, 3: 0, 4: 0, 5: 1}, 1, 1)


def test_crs_incidence_by_maximum_grade_comes_from_the_daily_assessments(tables: SafetyTables) -> None:
    assert grade_row(tables.crs) == ({1: 0, 2: 1, 3: 1, 4: 0, 5: 0}, 2, 1)
    assert tables.crs.episodes == 3
    assert tables.crs.ongoing_episodes == 1
    assert tables.crs.fatal_episodes == 0


def test_crs_time_to_onset_is_the_first_episode_of_each_subject(tables: SafetyTables) -> None:
    onset = tables.crs.time_to_onset_days
    assert (onset.n, onset.median, onset.minimum, onset.maximum) == (2, 0.5, 0, 1)


def test_crs_duration_counts_the_resolved_episodes_only(tables: SafetyTables) -> None:
    duration = tables.crs.duration_days
    assert (duration.n, duration.median, duration.minimum, duration.maximum) == (2, 2.5, 2, 3)


def test_tocilizumab_and_corticosteroid_use_is_counted_per_syndrome(tables: SafetyTables) -> None:
    assert (tables.crs.subjects_given_tocilizumab, tables.crs.subjects_given_corticosteroids) == (1, 0)
    assert (tables.icans.subjects_given_tocilizumab, tables.icans.subjects_given_corticosteroids) == (0, 1)


def test_icans_incidence_onset_and_duration(tables: SafetyTables) -> None:
    assert grade_row(tables.icans) == ({1: 0, 2: 0, 3: 1, 4: 0, 5: 0}, 1, 1)
    assert (tables.icans.time_to_onset_days.median, tables.icans.duration_days.median) == (4.0, 2.0)


def test_deaths_list_the_cause_the_day_after_infusion_and_relatedness(tables: SafetyTables) -> None:
    assert [(d.label, d.day, d.cause, d.treatment_related) for d in tables.deaths] == [
        ("S01-002", 20, "Sepsis", True),
        ("S01-003", 100, "Disease progression", False),
    ]


def test_aesi_rows_count_subjects_by_grade_and_seriousness(tables: SafetyTables) -> None:
    rows = {row.aesi: row for row in tables.aesi}
    assert grade_row(rows[Aesi.CRS]) == ({1: 0, 2: 1, 3: 1, 4: 0, 5: 0}, 2, 1)
    assert rows[Aesi.CRS].serious == 1
    assert (rows[Aesi.ICANS].any_grade, rows[Aesi.ICANS].serious) == (1, 1)
    assert rows[Aesi.GVHD].any_grade == 0
    assert len(rows) == len(Aesi)


def test_an_empty_population_gives_empty_tables() -> None:
    empty = safety_tables([])
    assert (empty.subjects, empty.adverse_events, empty.deaths) == (0, (), ())
    assert empty.crs.time_to_onset_days.median is None


@pytest.mark.parametrize(
    ("days", "median", "low", "high"), [([5, 1, 3], 3.0, 1, 5), ([1, 2, 3, 10], 2.5, 1, 10), ([7], 7.0, 7, 7)]
)
def test_median_and_range(days: list[int], median: float, low: int, high: int) -> None:
    summary = summarise(days)
    assert (summary.n, summary.median, summary.minimum, summary.maximum) == (len(days), median, low, high)


def test_a_subject_twice_in_the_population_is_refused() -> None:
    subjects = population()
    with pytest.raises(InvalidInput, match="appears twice"):
        safety_tables([*subjects, subjects[0]])


def test_an_event_filed_under_another_subject_is_refused() -> None:
    subject = population()[2].model_copy(update={"adverse_events": (ae(1, "Anemia", BLOOD, 1),)})
    with pytest.raises(InvalidInput, match="adverse event of subject 1 is filed under subject 3"):
        safety_tables([subject])


def test_a_death_of_a_subject_outside_the_population_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not in the safety population"):
        safety_tables(population()[:1], other_deaths=[PROGRESSION])
