"""Virtual patients referred to the trial: who they are and which criteria they fail.

Pure and deterministic: a patient is drawn from the scenario with a random generator seeded by
(simulation seed, referral number, stream), so patient 7 of seed 1 is the same whatever else the
simulation does. Screen failures follow the scenario's per-criterion rates; the screening facts
that make a patient fail (or pass) each criterion are built by :mod:`celltrial.simulate.screening_facts`.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np

from celltrial.simulate.scenario import LogNormal, Scenario

__all__ = [
    "Diagnosis",
    "VirtualPatient",
    "draw",
    "generator",
    "referrals",
]

Diagnosis = Literal["t_cell_all", "t_lbl", "t_cell_lymphoma", "cd7_aml"]
LEUKAEMIAS = frozenset({"t_cell_all", "cd7_aml"})
DAYS_PER_MONTH = 30.4375

_STREAMS = {
    "referral": 1,
    "baseline": 2,
    "screening": 3,
    "course": 4,
    "conduct": 5,
    "design": 6,
    "lesions": 7,
}


def generator(seed: int, number: int, stream: str) -> np.random.Generator:
    """The random stream ``stream`` of patient ``number`` (0: the trial itself) for ``seed``."""
    return np.random.default_rng(np.random.SeedSequence([seed, number, _STREAMS[stream]]))


def draw(rng: np.random.Generator, spec: LogNormal) -> float:
    """One value of a log-normal distribution, clipped to its bounds."""
    value = float(spec.median * np.exp(rng.normal(0.0, spec.log_sd))) if spec.log_sd else spec.median
    if spec.low is not None:
        value = max(value, spec.low)
    if spec.high is not None:
        value = min(value, spec.high)
    return value


def draw_days(rng: np.random.Generator, spec: LogNormal) -> int:
    """A whole number of days from a log-normal distribution."""
    return round(draw(rng, spec))


@dataclass(frozen=True)
class VirtualPatient:
    """A referred patient, before any data about them exist in the study."""

    number: int
    site: str
    referred_on: date
    birth_date: date
    sex: Literal["female", "male"]
    initials: str
    diagnosis: Diagnosis
    relapsed: bool
    prior_lines: int
    prior_hsct: bool
    weight_kg: float
    height_cm: float
    childbearing_potential: bool
    failing: tuple[str, ...]
    consent_after_days: int
    screening_after_days: int
    enrolment_after_days: int

    @property
    def leukaemia(self) -> bool:
        return self.diagnosis in LEUKAEMIAS

    @property
    def consent_on(self) -> date:
        return self.referred_on + timedelta(days=self.consent_after_days)

    @property
    def screened_on(self) -> date:
        return self.consent_on + timedelta(days=self.screening_after_days)

    @property
    def enrolment_on(self) -> date:
        return self.screened_on + timedelta(days=self.enrolment_after_days)

    @property
    def eligible(self) -> bool:
        return not self.failing

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


def _choice(rng: np.random.Generator, shares: dict[str, float]) -> str:
    names = sorted(shares)
    return names[int(rng.choice(len(names), p=[shares[name] for name in names]))]


def _failing(rng: np.random.Generator, scenario: Scenario, sex: str) -> tuple[str, ...]:
    rates = scenario.screening.failure_by_criterion.value
    failing = []
    for criterion in sorted(rates, key=lambda name: (name[0] != "I", int(name[1:]))):
        if rng.random() < rates[criterion] and not (criterion == "E11" and sex == "male"):
            failing.append(criterion)
    return tuple(failing)


def _age(rng: np.random.Generator, scenario: Scenario, failing: tuple[str, ...]) -> int:
    if "I6" in failing:
        return int(rng.choice([12, 13, 76, 77, 78]))
    return round(draw(rng, scenario.population.age_years.value))


def _body(rng: np.random.Generator, scenario: Scenario, age: int, sex: str) -> tuple[float, float]:
    population = scenario.population
    weight, height = draw(rng, population.weight_kg_adult.value), draw(rng, population.height_cm_adult.value)
    if sex == "female":
        weight, height = weight * 0.88, height * 0.94
    if age < 18:
        weight, height = weight * 0.9, height * 0.98
    return round(max(weight, 32.0), 1), round(min(max(height, 125.0), 215.0), 1)


def _patient(seed: int, number: int, scenario: Scenario, referred_on: date) -> VirtualPatient:
    rng = generator(seed, number, "baseline")
    population = scenario.population
    sex: Literal["female", "male"] = "female" if rng.random() < population.female_share.value else "male"
    failing = _failing(rng, scenario, sex)
    age = _age(rng, scenario, failing)
    birth = referred_on - timedelta(days=int(age * 365.25 + rng.integers(30, 330)))
    diagnosis: Diagnosis = _choice(rng, population.diagnosis_mix.value)  # type: ignore[assignment]
    prior_lines = round(draw(rng, population.prior_lines.value))
    weight, height = _body(rng, scenario, age, sex)
    sites = {site.code: site.share for site in scenario.study.sites}
    letters = string.ascii_uppercase
    screening = scenario.screening
    return VirtualPatient(
        number=number,
        site=_choice(rng, sites),
        referred_on=referred_on,
        birth_date=birth,
        sex=sex,
        initials="".join(letters[int(index)] for index in rng.integers(0, 26, size=int(rng.integers(2, 4)))),
        diagnosis=diagnosis,
        relapsed=bool(rng.random() < population.relapsed_share.value),
        prior_lines=prior_lines,
        prior_hsct=bool(rng.random() < population.prior_hsct_share.value) or "E2" in failing,
        weight_kg=weight,
        height_cm=height,
        childbearing_potential=sex == "female"
        and 14 <= age <= 50
        and bool(rng.random() < population.childbearing_potential_share.value),
        failing=failing,
        consent_after_days=draw_days(rng, screening.days_referral_to_consent.value),
        screening_after_days=draw_days(rng, screening.days_consent_to_screening.value),
        enrolment_after_days=draw_days(rng, screening.days_screening_to_enrolment.value),
    )


def referrals(scenario: Scenario, *, seed: int, patients: int) -> Iterator[VirtualPatient]:
    """``patients`` referrals from the study start, one after another (a Poisson process in days)."""
    rng = generator(seed, 0, "referral")
    rate_per_day = scenario.population.referrals_per_month.value / DAYS_PER_MONTH
    day = scenario.study.start.value
    elapsed = 0.0
    for number in range(1, patients + 1):
        elapsed += float(rng.exponential(1.0 / rate_per_day))
        yield _patient(seed, number, scenario, day + timedelta(days=int(elapsed)))
