"""Virtual patients: deterministic for a seed, and the eligibility engine agrees with who should fail."""

from __future__ import annotations

from collections import Counter

import pytest

from celltrial.eligibility import evaluate, load_rules, read_form
from celltrial.protocol.library import load_settings
from celltrial.simulate.patients import generator, referrals
from celltrial.simulate.scenario import default_scenario
from celltrial.simulate.screening_facts import screening_form, screening_values

SCENARIO = default_scenario()
TOP_LEVEL = {f"I{n}" for n in range(1, 10)} | {f"E{n}" for n in range(1, 13)}


def _failed_criteria(seed: int, count: int) -> list[tuple[tuple[str, ...], set[str], set[str]]]:
    rules, settings = load_rules("NCT07008872"), load_settings("NCT07008872")
    found = []
    for patient in referrals(SCENARIO, seed=seed, patients=count):
        values = screening_values(patient, generator(seed, patient.number, "screening"))
        form = read_form(screening_form(patient, values, judged_by="Dr Li Ming"))
        result = evaluate(form.facts, rules, settings, patient.screened_on, form.judgments)
        verdicts = {key: value for key, value in result.verdicts().items() if key in TOP_LEVEL}
        failed = {key for key, value in verdicts.items() if value == ("not_met" if key[0] == "I" else "met")}
        open_ = {key for key, value in verdicts.items() if value in ("unknown", "needs_review")}
        found.append((patient.failing, failed, open_))
    return found


def test_the_same_seed_refers_the_same_patients_and_another_seed_others() -> None:
    first = list(referrals(SCENARIO, seed=11, patients=25))
    again = list(referrals(SCENARIO, seed=11, patients=25))
    other = list(referrals(SCENARIO, seed=12, patients=25))
    assert first == again
    assert [p.birth_date for p in first] != [p.birth_date for p in other]


def test_patient_n_does_not_depend_on_how_many_are_referred_after_them() -> None:
    few = list(referrals(SCENARIO, seed=5, patients=3))
    many = list(referrals(SCENARIO, seed=5, patients=30))
    assert few == many[:3]


def test_referrals_start_at_the_study_start_and_arrive_in_order() -> None:
    patients = list(referrals(SCENARIO, seed=2, patients=60))
    days = [p.referred_on for p in patients]
    assert days == sorted(days)
    assert days[0] >= SCENARIO.study.start.value
    monthly = 60 / ((days[-1] - days[0]).days / 30.4375)
    assert 2.5 < monthly < 8


def test_ages_lie_in_14_to_75_except_for_those_who_fail_on_age() -> None:
    for patient in referrals(SCENARIO, seed=3, patients=400):
        age = patient.age_on(patient.screened_on)
        if "I6" in patient.failing:
            assert age < 14 or age > 75
        else:
            assert 14 <= age <= 75


def test_only_women_fail_the_pregnancy_exclusion() -> None:
    patients = list(referrals(SCENARIO, seed=4, patients=2000))
    assert all(p.sex == "female" for p in patients if "E11" in p.failing)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_eligibility_engine_fails_exactly_the_criteria_the_patient_was_drawn_to_fail(seed: int) -> None:
    for drawn, failed, open_ in _failed_criteria(seed, 250):
        assert not open_, (drawn, open_)
        # an LVEF below 50 % fails I8 (organ function) and E1 (cardiac) together
        assert failed - {"E1"} == set(drawn) - {"E1"}, (drawn, failed)
        assert "E1" not in drawn or "E1" in failed


def test_screen_failures_follow_the_scenario_rates() -> None:
    patients = list(referrals(SCENARIO, seed=9, patients=3000))
    rates = SCENARIO.screening.failure_by_criterion.value
    expected = 1.0
    for rate in rates.values():
        expected *= 1 - rate
    observed = sum(1 for p in patients if p.failing) / len(patients)
    standard_error = (expected * (1 - expected) / len(patients)) ** 0.5
    assert abs((1 - expected) - observed) < 4 * standard_error
    by_criterion = Counter(criterion for p in patients for criterion in p.failing)
    assert by_criterion["I8"] > by_criterion["E4"]
