"""What happens to an enrolled virtual patient: product, toxicity, response, relapse, death, kinetics.

Pure and deterministic (see :func:`celltrial.simulate.patients.generator`). Days of the product
path count from enrolment; days after the infusion count from the infusion (day 0). The same
draws serve the whole-trial simulation and the outcome-only checks of the scenario's rates.

Daily CRS and ICANS grades follow a simple course: from onset the grade climbs one step a day to
its maximum, stays there, and falls back one step a day to 0 at the end of the episode (an
episode lasts long enough to reach its maximum). The stopping-rule event is
the protocol's: grade >= 3 CRS or ICANS, or a treatment-related death, within the DLT window.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import exp, log

import numpy as np

from celltrial.simulate.patients import draw, draw_days
from celltrial.simulate.scenario import Scenario

__all__ = [
    "Collection",
    "Course",
    "TreatmentOutcome",
    "car_copies",
    "crs_grade_on",
    "draw_course",
    "draw_treatment_outcome",
    "icans_grade_on",
]

YEAR = 365.0
DLT_WINDOW_DAYS = 28


def _grade(rng: np.random.Generator, shares: dict[str, float]) -> int:
    grades = sorted(shares, key=int)
    return int(grades[int(rng.choice(len(grades), p=[shares[g] for g in grades]))])


def _event(rng: np.random.Generator, probability: float) -> bool:
    return bool(rng.random() < probability)


@dataclass(frozen=True)
class Collection:
    """One apheresis and its manufacturing (day of apheresis after enrolment)."""

    apheresis_day: int
    manufacturing_days: int
    failed: bool
    out_of_specification: bool


@dataclass(frozen=True)
class TreatmentOutcome:
    """What the infusion does: toxicity, response, relapse, death, CAR-T kinetics (days from infusion)."""

    crs_max: int
    crs_onset: int
    crs_days: int
    icans_max: int
    icans_onset: int
    icans_days: int
    neutropenia_grade_4: bool
    infection_day: int | None
    response: str
    mrd_negative: bool
    hsct_day: int | None
    relapse_day: int | None
    death_day: int | None
    death_cause: str | None
    cmax: float
    tmax: float
    day28_fraction: float
    half_life: float

    @property
    def remission(self) -> bool:
        return self.response in ("cr", "cri")

    @property
    def stopping_event(self) -> bool:
        """Grade >= 3 CRS or ICANS, or a treatment-related death, in the DLT window."""
        early_death = self.death_day is not None and self.death_day <= DLT_WINDOW_DAYS
        related = early_death and self.death_cause in ("crs", "icans", "other_treatment_related")
        return self.crs_max >= 3 or self.icans_max >= 3 or related

    def alive_on(self, day: int) -> bool:
        return self.death_day is None or day < self.death_day


@dataclass(frozen=True)
class Course:
    """An enrolled patient's whole course; ``treatment`` is None when they are never infused."""

    collections: tuple[Collection, ...]
    off_before_infusion: str | None
    off_day: int | None
    release_to_infusion_days: int
    treatment: TreatmentOutcome | None
    withdrawal_day: int | None
    lost_day: int | None

    @property
    def infused(self) -> bool:
        return self.treatment is not None

    @property
    def infusion_day(self) -> int | None:
        """Day of infusion after enrolment."""
        if not self.infused:
            return None
        last = self.collections[-1]
        return last.apheresis_day + last.manufacturing_days + self.release_to_infusion_days


def _collections(rng: np.random.Generator, scenario: Scenario) -> tuple[Collection, ...]:
    product = scenario.product
    made: list[Collection] = []
    day = draw_days(rng, product.days_apheresis_after_enrolment.value)
    for _attempt in range(2):
        failed = _event(rng, product.manufacturing_failure.value)
        made.append(
            Collection(
                apheresis_day=day,
                manufacturing_days=draw_days(rng, product.days_manufacturing.value),
                failed=failed,
                out_of_specification=not failed and _event(rng, product.out_of_specification.value),
            )
        )
        if not failed or not _event(rng, product.recollection_after_failure.value):
            break
        day = made[-1].apheresis_day + made[-1].manufacturing_days + 7
    return tuple(made)


def _survival(rng: np.random.Generator, scenario: Scenario, response: str) -> tuple[int | None, ...]:
    """HSCT, relapse and death days, and the death cause as an index (see :func:`_cause`)."""
    efficacy = scenario.efficacy
    hsct = relapse = None
    deaths: list[tuple[int, int]] = []
    if response in ("cr", "cri"):
        if _event(rng, efficacy.consolidative_hsct.value):
            hsct = int(rng.integers(50, 100))
        chance = efficacy.relapse_after_remission.value * (0.5 if hsct else 1.0)
        if _event(rng, chance):
            relapse = max(draw_days(rng, efficacy.days_to_relapse.value), 45)
            deaths.append((relapse + draw_days(rng, efficacy.days_death_after_relapse.value), 0))
    else:
        extra = 60 if response == "pr" else 0
        deaths.append((extra + draw_days(rng, efficacy.days_death_without_remission.value), 0))
    if _event(rng, efficacy.non_relapse_mortality_first_year.value):
        deaths.append((int(rng.integers(30, 365)), 1))
    if _event(rng, scenario.toxicity.treatment_related_death_in_window.value):
        deaths.append((int(rng.integers(6, DLT_WINDOW_DAYS)), 2))
    if not deaths:
        return hsct, relapse, None, None
    day, cause = min(deaths)
    return hsct, relapse, day, cause


_CAUSES = ("disease_progression", "infection", "crs")


def draw_treatment_outcome(rng: np.random.Generator, scenario: Scenario) -> TreatmentOutcome:
    """The course after an infusion, drawn from the scenario."""
    toxicity, efficacy, kinetics = scenario.toxicity, scenario.efficacy, scenario.kinetics
    crs_max = _grade(rng, toxicity.crs_max_grade.value)
    icans_max = _grade(rng, toxicity.icans_max_grade.value)
    roll = rng.random()
    if roll < efficacy.cr_cri_day28.value:
        response = "cri" if _event(rng, efficacy.cri_share_of_remissions.value) else "cr"
    elif roll < efficacy.cr_cri_day28.value + efficacy.partial_response.value:
        response = "pr"
    else:
        response = "pd" if _event(rng, 0.5) else "sd"
    hsct, relapse, death, cause = _survival(rng, scenario, response)
    if cause == 2 and crs_max < 3:
        crs_max = 4
    infection = int(rng.integers(10, 120)) if _event(rng, toxicity.infection_grade_3.value) else None
    return TreatmentOutcome(
        crs_max=crs_max,
        crs_onset=draw_days(rng, toxicity.crs_onset_day.value),
        crs_days=max(draw_days(rng, toxicity.crs_duration_days.value), 2 * crs_max - 1),
        icans_max=icans_max,
        icans_onset=draw_days(rng, toxicity.icans_onset_day.value),
        icans_days=max(draw_days(rng, toxicity.icans_duration_days.value), 2 * icans_max - 1),
        neutropenia_grade_4=_event(rng, toxicity.neutropenia_grade_4.value),
        infection_day=infection if infection is None or death is None or infection < death else None,
        response=response,
        mrd_negative=response in ("cr", "cri") and _event(rng, efficacy.mrd_negative_in_remission.value),
        hsct_day=hsct if hsct is not None and (death is None or hsct < death) else None,
        relapse_day=relapse if relapse is not None and (death is None or relapse < death) else None,
        death_day=death,
        death_cause=_CAUSES[cause] if cause is not None else None,
        cmax=draw(rng, kinetics.cmax_copies_per_ug.value),
        tmax=draw(rng, kinetics.tmax_day.value),
        day28_fraction=draw(rng, kinetics.day28_fraction_of_cmax.value),
        half_life=draw(rng, kinetics.late_half_life_days.value),
    )


def _yearly_event(rng: np.random.Generator, per_year: float) -> int | None:
    if per_year <= 0:
        return None
    day = int(rng.exponential(YEAR / -log(1.0 - per_year)))
    return day if day > DLT_WINDOW_DAYS else None


def draw_course(rng: np.random.Generator, scenario: Scenario) -> Course:
    """An enrolled patient's course, from apheresis to the end of follow-up."""
    conduct, product = scenario.conduct, scenario.product
    collections = _collections(rng, scenario)
    release = draw_days(rng, product.days_release_to_infusion.value)
    last = collections[-1]
    ready = last.apheresis_day + last.manufacturing_days + release
    off: str | None = None
    off_day: int | None = None
    if _event(rng, conduct.death_before_infusion.value):
        off, off_day = "died", int(rng.integers(last.apheresis_day + 2, ready))
    elif _event(rng, conduct.withdrawal_before_infusion.value):
        off, off_day = "withdrew", int(rng.integers(last.apheresis_day + 1, ready))
    elif last.failed:
        off, off_day = "manufacturing_failure", last.apheresis_day + last.manufacturing_days + 1
    treatment = draw_treatment_outcome(rng, scenario) if off is None else None
    withdrawal = _yearly_event(rng, conduct.withdrawal_per_year_after_infusion.value)
    lost = _yearly_event(rng, conduct.lost_to_follow_up_per_year.value)
    if treatment is not None and treatment.death_day is not None:
        withdrawal = withdrawal if withdrawal is not None and withdrawal < treatment.death_day else None
        lost = lost if lost is not None and lost < treatment.death_day else None
    if withdrawal is not None and lost is not None:
        withdrawal, lost = (withdrawal, None) if withdrawal <= lost else (None, lost)
    return Course(
        collections=collections,
        off_before_infusion=off,
        off_day=off_day,
        release_to_infusion_days=release,
        treatment=treatment,
        withdrawal_day=withdrawal if treatment is not None else None,
        lost_day=lost if treatment is not None else None,
    )


def _episode(day: int, onset: int, length: int, peak: int) -> int:
    if peak == 0 or day < onset or day >= onset + length:
        return 0
    return min(peak, day - onset + 1, onset + length - day)


def crs_grade_on(outcome: TreatmentOutcome, day: int) -> int:
    """The ASTCT CRS grade of the course on ``day`` after infusion."""
    return _episode(day, outcome.crs_onset, outcome.crs_days, outcome.crs_max)


def icans_grade_on(outcome: TreatmentOutcome, day: int) -> int:
    """The ASTCT ICANS grade of the course on ``day`` after infusion."""
    return _episode(day, outcome.icans_onset, outcome.icans_days, outcome.icans_max)


def car_copies(outcome: TreatmentOutcome, day: float) -> float:
    """CAR transgene copies/µg DNA in blood ``day`` days after infusion (the course's curve)."""
    if day <= outcome.tmax:
        rise = log(1000.0) / outcome.tmax
        return outcome.cmax * exp(-rise * (outcome.tmax - max(day, 0.0)))
    if day <= 28:
        return float(outcome.cmax * outcome.day28_fraction ** ((day - outcome.tmax) / (28 - outcome.tmax)))
    return float(outcome.cmax * outcome.day28_fraction * 0.5 ** ((day - 28) / outcome.half_life))
