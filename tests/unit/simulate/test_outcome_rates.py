"""The outcome generator reproduces the scenario's rates over many patients (within sampling error).

These are the figures the default scenario anchors on the published CD7 CAR-T trials: CR/CRi by
day 28, CRS of any grade and of grade >= 3, ICANS, CAR-T expansion peaking around day 12, and a
12-month overall survival of about 60-70 %.
"""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from celltrial.simulate.outcomes import (
    TreatmentOutcome,
    car_copies,
    crs_grade_on,
    draw_course,
    draw_treatment_outcome,
    icans_grade_on,
)
from celltrial.simulate.patients import generator
from celltrial.simulate.scenario import default_scenario

SCENARIO = default_scenario()
N = 6000


@pytest.fixture(scope="module")
def outcomes() -> list[TreatmentOutcome]:
    rng = np.random.default_rng(20250601)
    return [draw_treatment_outcome(rng, SCENARIO) for _ in range(N)]


def _within_sampling_error(observed: int, expected: float, n: int = N) -> None:
    standard_error = (expected * (1 - expected) / n) ** 0.5
    assert abs(observed / n - expected) < 4 * standard_error, (observed / n, expected)


def test_the_cr_cri_rate_at_day_28_is_the_scenarios(outcomes: list[TreatmentOutcome]) -> None:
    _within_sampling_error(sum(o.remission for o in outcomes), SCENARIO.efficacy.cr_cri_day28.value)


def test_crs_of_any_grade_and_of_grade_3_or_more_occur_at_the_scenarios_rates(
    outcomes: list[TreatmentOutcome],
) -> None:
    grades = SCENARIO.toxicity.crs_max_grade.value
    _within_sampling_error(sum(o.crs_max > 0 for o in outcomes), 1 - grades["0"])
    # a treatment-related death in the DLT window is a fatal grade 4-5 CRS: it adds its (small) rate
    severe = (
        grades["3"]
        + grades["4"]
        + SCENARIO.toxicity.treatment_related_death_in_window.value * (1 - grades["3"] - grades["4"])
    )
    _within_sampling_error(sum(o.crs_max >= 3 for o in outcomes), severe)


def test_icans_occurs_at_the_scenarios_rate(outcomes: list[TreatmentOutcome]) -> None:
    _within_sampling_error(
        sum(o.icans_max > 0 for o in outcomes), 1 - SCENARIO.toxicity.icans_max_grade.value["0"]
    )


def test_twelve_month_overall_survival_is_sixty_to_seventy_percent(outcomes: list[TreatmentOutcome]) -> None:
    alive = sum(o.alive_on(365) for o in outcomes) / N
    assert 0.60 <= alive <= 0.70


def test_car_t_expansion_peaks_around_day_12_with_a_log_normal_cmax(outcomes: list[TreatmentOutcome]) -> None:
    assert statistics.median(o.tmax for o in outcomes) == pytest.approx(12, abs=0.5)
    logs = np.log([o.cmax for o in outcomes])
    assert np.exp(np.median(logs)) == pytest.approx(62390, rel=0.08)
    assert np.std(logs) == pytest.approx(1.1, abs=0.1)


def test_the_expansion_curve_rises_to_its_peak_then_contracts() -> None:
    outcome = draw_treatment_outcome(np.random.default_rng(3), SCENARIO)
    days = [0, 3, 7, outcome.tmax, 21, 28, 90, 180]
    copies = [car_copies(outcome, day) for day in days]
    peak = days.index(outcome.tmax)
    assert copies[peak] == pytest.approx(outcome.cmax)
    assert copies[: peak + 1] == sorted(copies[: peak + 1])
    assert copies[peak:] == sorted(copies[peak:], reverse=True)
    assert copies[5] == pytest.approx(outcome.cmax * outcome.day28_fraction)


def test_daily_grades_climb_to_the_maximum_and_resolve_within_the_episode() -> None:
    rng = np.random.default_rng(8)
    for _ in range(300):
        outcome = draw_treatment_outcome(rng, SCENARIO)
        crs = [crs_grade_on(outcome, day) for day in range(60)]
        icans = [icans_grade_on(outcome, day) for day in range(60)]
        assert max(crs) == outcome.crs_max
        assert max(icans) == outcome.icans_max
        assert all(grade == 0 for grade in crs[outcome.crs_onset + outcome.crs_days :])
        assert all(grade == 0 for grade in crs[: outcome.crs_onset])


def test_a_stopping_rule_event_is_severe_crs_or_icans_or_an_early_treatment_related_death(
    outcomes: list[TreatmentOutcome],
) -> None:
    for outcome in outcomes:
        early = outcome.death_day is not None and outcome.death_day <= 28 and outcome.death_cause == "crs"
        assert outcome.stopping_event == (outcome.crs_max >= 3 or outcome.icans_max >= 3 or early)


def test_relapse_and_transplant_happen_only_after_a_remission_and_before_death(
    outcomes: list[TreatmentOutcome],
) -> None:
    for outcome in outcomes:
        if outcome.relapse_day is not None or outcome.hsct_day is not None:
            assert outcome.remission
        for day in (outcome.relapse_day, outcome.hsct_day):
            if day is not None and outcome.death_day is not None:
                assert day < outcome.death_day


def test_a_course_is_the_same_for_the_same_seed_and_patient() -> None:
    first = draw_course(generator(7, 12, "course"), SCENARIO)
    again = draw_course(generator(7, 12, "course"), SCENARIO)
    assert first == again


def test_most_enrolled_patients_are_infused_about_three_weeks_after_enrolment() -> None:
    courses = [draw_course(generator(1, n, "course"), SCENARIO) for n in range(1, 2001)]
    infused = [course for course in courses if course.infused]
    assert 0.88 < len(infused) / len(courses) < 0.97
    days = [course.infusion_day for course in infused]
    assert 17 <= statistics.median(d for d in days if d is not None) <= 28
    assert all(course.off_before_infusion is not None for course in courses if not course.infused)
