"""CRS and ICANS episodes from daily assessments: hand-built courses, expected values from the definitions.

Definitions (celltrial.analysis.episodes): onset = first day with grade >= 1; the episode ends at
the next grade-0 assessment (its resolution); duration = onset to last grade >= 1 day, both
included; a missing day does not end an episode; grade 5 ends it as fatal.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.analysis.episodes import DailyGrades, Syndrome, derive_episodes, subject_episodes
from celltrial.errors import InvalidInput

INFUSION = date(2025, 3, 1)


def day(n: int) -> date:
    return INFUSION + timedelta(days=n)


def course(
    *grades: int | None, icans: tuple[int | None, ...] = (), toci_days: tuple[int, ...] = ()
) -> list[DailyGrades]:
    """CRS grades from day 0 on (None: no assessment that day)."""
    icans_grades = list(icans) + [0] * (len(grades) - len(icans))
    return [
        DailyGrades(
            day=day(n), crs_grade=grade, icans_grade=icans_grades[n] or 0, tocilizumab_given=n in toci_days
        )
        for n, grade in enumerate(grades)
        if grade is not None
    ]


def crs(assessments: list[DailyGrades]) -> list[dict[str, object]]:
    return [
        episode.model_dump(
            include={"onset_day", "max_grade", "duration_days", "resolved_on", "ongoing", "fatal"}
        )
        for episode in derive_episodes(assessments, infusion_date=INFUSION, syndrome=Syndrome.CRS)
    ]


def test_no_grade_above_zero_means_no_episode() -> None:
    assert crs(course(0, 0, 0)) == []


def test_one_febrile_day_then_resolution_is_an_episode_of_one_day() -> None:
    assert crs(course(0, 1, 0)) == [
        {
            "onset_day": 1,
            "max_grade": 1,
            "duration_days": 1,
            "resolved_on": day(2),
            "ongoing": False,
            "fatal": False,
        }
    ]


def test_an_episode_spans_onset_to_the_last_graded_day_with_its_highest_grade() -> None:
    assert crs(course(0, 1, 2, 3, 1, 0)) == [
        {
            "onset_day": 1,
            "max_grade": 3,
            "duration_days": 4,
            "resolved_on": day(5),
            "ongoing": False,
            "fatal": False,
        }
    ]


def test_a_day_without_assessment_inside_an_episode_does_not_end_it() -> None:
    assert crs(course(0, 0, 2, None, 2, 0)) == [
        {
            "onset_day": 2,
            "max_grade": 2,
            "duration_days": 3,
            "resolved_on": day(5),
            "ongoing": False,
            "fatal": False,
        }
    ]


def test_a_grade_zero_day_separates_two_episodes() -> None:
    found = crs(course(1, 1, 0, 2, 0))
    assert [(e["onset_day"], e["duration_days"], e["max_grade"]) for e in found] == [(0, 2, 1), (3, 1, 2)]


def test_an_episode_without_a_later_grade_zero_day_is_ongoing() -> None:
    assert crs(course(0, 0, 0, 2, 2)) == [
        {
            "onset_day": 3,
            "max_grade": 2,
            "duration_days": 2,
            "resolved_on": None,
            "ongoing": True,
            "fatal": False,
        }
    ]


def test_death_due_to_the_syndrome_ends_the_episode_as_fatal() -> None:
    assert crs(course(1, 3, 4, 5)) == [
        {
            "onset_day": 0,
            "max_grade": 5,
            "duration_days": 4,
            "resolved_on": None,
            "ongoing": False,
            "fatal": True,
        }
    ]


def test_tocilizumab_counts_for_an_episode_only_when_given_on_one_of_its_days() -> None:
    given_in = derive_episodes(
        course(0, 2, 2, 0, toci_days=(2,)), infusion_date=INFUSION, syndrome=Syndrome.CRS
    )
    given_after = derive_episodes(
        course(0, 2, 2, 0, toci_days=(3,)), infusion_date=INFUSION, syndrome=Syndrome.CRS
    )
    assert given_in[0].tocilizumab is True
    assert given_after[0].tocilizumab is False


def test_crs_and_icans_episodes_are_derived_independently() -> None:
    assessments = course(1, 2, 0, 0, 0, icans=(0, 0, 0, 3, 0))
    episodes = subject_episodes(assessments, infusion_date=INFUSION)
    assert [(e.onset_day, e.max_grade) for e in episodes[Syndrome.CRS]] == [(0, 2)]
    assert [(e.onset_day, e.max_grade, e.duration_days) for e in episodes[Syndrome.ICANS]] == [(3, 3, 1)]


def test_two_assessments_on_one_day_are_refused() -> None:
    twice = [
        DailyGrades(day=day(1), crs_grade=1, icans_grade=0),
        DailyGrades(day=day(1), crs_grade=2, icans_grade=0),
    ]
    with pytest.raises(InvalidInput, match="two assessments on 2025-03-02"):
        derive_episodes(twice, infusion_date=INFUSION, syndrome=Syndrome.CRS)


def test_an_assessment_before_the_infusion_is_refused() -> None:
    with pytest.raises(InvalidInput, match="precedes the infusion"):
        derive_episodes(
            [DailyGrades(day=day(-1), crs_grade=1, icans_grade=0)],
            infusion_date=INFUSION,
            syndrome=Syndrome.CRS,
        )


grades_lists = st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=1, max_size=30)


@given(grades=grades_lists, seed=st.integers(0, 1000))
def test_episodes_do_not_depend_on_the_order_the_assessments_arrive_in(
    grades: list[int | None], seed: int
) -> None:
    assessments = course(*grades)
    shuffled = assessments[:]
    random.Random(seed).shuffle(shuffled)
    assert derive_episodes(shuffled, infusion_date=INFUSION, syndrome=Syndrome.CRS) == derive_episodes(
        assessments, infusion_date=INFUSION, syndrome=Syndrome.CRS
    )


@given(grades=grades_lists)
def test_every_graded_day_belongs_to_exactly_one_episode_and_the_maxima_agree(
    grades: list[int | None],
) -> None:
    assessments = course(*grades)
    episodes = derive_episodes(assessments, infusion_date=INFUSION, syndrome=Syndrome.CRS)
    graded = [a for a in assessments if a.crs_grade >= 1]
    assert sum(e.days_assessed for e in episodes) == len(graded)
    assert max((e.max_grade for e in episodes), default=0) == max((a.crs_grade for a in graded), default=0)
    assert all(e.duration_days >= e.days_assessed for e in episodes)
