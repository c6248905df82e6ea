"""The scenario of a simulated trial: who is referred, how often they fail screening, what happens to them.

A scenario is a YAML file (the default is ``data/default_scenario.yaml``). Every number is a
:class:`Cited` value: the value and the source it comes from (a publication and the figure in it,
or ``assumption:`` with the reasoning), so a reader can tell evidence from guesswork. Rates are
probabilities per patient unless the name says otherwise; durations are in days.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Generic, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from celltrial.errors import InvalidInput
from celltrial.textfile import read_text

__all__ = [
    "CRITERIA",
    "Cited",
    "LogNormal",
    "Scenario",
    "default_scenario",
    "load_scenario",
    "parse_scenario",
]

T = TypeVar("T")
CRITERIA = tuple([f"I{n}" for n in range(1, 10)] + [f"E{n}" for n in range(1, 13)])
"""The protocol's top-level criteria (DESIGN.md numbering), the keys of the screen-failure rates."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Cited(_Frozen, Generic[T]):
    """A value and where it comes from."""

    value: T
    source: str = Field(min_length=3, description="publication and figure, or 'assumption: why'")
    note: str = ""


class LogNormal(_Frozen):
    """A log-normal distribution by its median and the standard deviation of its logarithm."""

    median: float = Field(gt=0)
    log_sd: float = Field(ge=0)
    low: float | None = None
    high: float | None = None


def _probabilities(value: dict[str, float], what: str) -> dict[str, float]:
    if any(not 0.0 <= share <= 1.0 for share in value.values()):
        raise ValueError(f"{what}: every probability lies in [0, 1]")
    if abs(sum(value.values()) - 1.0) > 1e-6:
        raise ValueError(f"{what}: the probabilities add up to {sum(value.values()):.4f}, not 1")
    return value


class Site(_Frozen):
    code: str
    name: str
    country: str
    share: float = Field(gt=0, le=1, description="share of referrals")


class StudySetup(_Frozen):
    nct_id: str
    start: Cited[date]
    icf_approved_on: Cited[date]
    sites: list[Site] = Field(min_length=1)

    @field_validator("sites")
    @classmethod
    def _shares(cls, sites: list[Site]) -> list[Site]:
        _probabilities({site.code: site.share for site in sites}, "study.sites shares")
        return sites


class Population(_Frozen):
    referrals_per_month: Cited[float]
    diagnosis_mix: Cited[dict[str, float]]
    age_years: Cited[LogNormal]
    female_share: Cited[float]
    prior_hsct_share: Cited[float]
    prior_lines: Cited[LogNormal]
    relapsed_share: Cited[float]
    weight_kg_adult: Cited[LogNormal]
    height_cm_adult: Cited[LogNormal]
    childbearing_potential_share: Cited[float]

    @field_validator("diagnosis_mix")
    @classmethod
    def _mix(cls, mix: Cited[dict[str, float]]) -> Cited[dict[str, float]]:
        known = {"t_cell_all", "t_lbl", "t_cell_lymphoma", "cd7_aml"}
        unknown = set(mix.value) - known
        if unknown:
            raise ValueError(f"unknown diagnoses {sorted(unknown)} (known: {sorted(known)})")
        _probabilities(mix.value, "population.diagnosis_mix")
        return mix


class Screening(_Frozen):
    failure_by_criterion: Cited[dict[str, float]]
    days_referral_to_consent: Cited[LogNormal]
    days_consent_to_screening: Cited[LogNormal]
    days_screening_to_enrolment: Cited[LogNormal]

    @field_validator("failure_by_criterion")
    @classmethod
    def _criteria(cls, rates: Cited[dict[str, float]]) -> Cited[dict[str, float]]:
        unknown = set(rates.value) - set(CRITERIA)
        if unknown:
            raise ValueError(f"unknown criteria {sorted(unknown)} (known: {', '.join(CRITERIA)})")
        if any(not 0.0 <= rate < 1.0 for rate in rates.value.values()):
            raise ValueError("screen-failure rates lie in [0, 1)")
        return rates


class Product(_Frozen):
    manufacturing_failure: Cited[float]
    recollection_after_failure: Cited[float]
    out_of_specification: Cited[float]
    days_apheresis_after_enrolment: Cited[LogNormal]
    days_manufacturing: Cited[LogNormal]
    days_release_to_infusion: Cited[LogNormal]
    dose_cells_per_kg: Cited[float]


class Toxicity(_Frozen):
    crs_max_grade: Cited[dict[str, float]]
    crs_onset_day: Cited[LogNormal]
    crs_duration_days: Cited[LogNormal]
    icans_max_grade: Cited[dict[str, float]]
    icans_onset_day: Cited[LogNormal]
    icans_duration_days: Cited[LogNormal]
    neutropenia_grade_4: Cited[float]
    infection_grade_3: Cited[float]
    treatment_related_death_in_window: Cited[float]

    @field_validator("crs_max_grade", "icans_max_grade")
    @classmethod
    def _grades(cls, grades: Cited[dict[str, float]]) -> Cited[dict[str, float]]:
        if set(grades.value) - {"0", "1", "2", "3", "4"}:
            raise ValueError("grades are 0 to 4 (grade 5 is the treatment-related death rate)")
        _probabilities(grades.value, "toxicity grades")
        return grades


class Efficacy(_Frozen):
    cr_cri_day28: Cited[float]
    cri_share_of_remissions: Cited[float]
    partial_response: Cited[float]
    mrd_negative_in_remission: Cited[float]
    consolidative_hsct: Cited[float]
    relapse_after_remission: Cited[float]
    days_to_relapse: Cited[LogNormal]
    days_death_after_relapse: Cited[LogNormal]
    days_death_without_remission: Cited[LogNormal]
    non_relapse_mortality_first_year: Cited[float]

    @model_validator(mode="after")
    def _responses_fit(self) -> Efficacy:
        if self.cr_cri_day28.value + self.partial_response.value > 1.0:
            raise ValueError("CR/CRi and PR rates add up to more than 1")
        return self


class Kinetics(_Frozen):
    cmax_copies_per_ug: Cited[LogNormal]
    tmax_day: Cited[LogNormal]
    day28_fraction_of_cmax: Cited[LogNormal]
    late_half_life_days: Cited[LogNormal]
    lloq_copies_per_ug: Cited[float]


class Conduct(_Frozen):
    death_before_infusion: Cited[float]
    withdrawal_before_infusion: Cited[float]
    withdrawal_per_year_after_infusion: Cited[float]
    lost_to_follow_up_per_year: Cited[float]
    visit_out_of_window: Cited[float]
    visit_missed: Cited[float]
    data_entry_error_per_form: Cited[float]
    days_to_answer_query: Cited[LogNormal]


class DesignGrid(_Frozen):
    cr_rates: Cited[list[float]]
    event_rates: Cited[list[float]]
    not_infused_share: Cited[float]

    @field_validator("cr_rates", "event_rates")
    @classmethod
    def _rates(cls, rates: Cited[list[float]]) -> Cited[list[float]]:
        if not rates.value or any(not 0.0 <= rate <= 1.0 for rate in rates.value):
            raise ValueError("the grid holds rates in [0, 1]")
        return rates


class Scenario(_Frozen):
    """A whole scenario (see ``data/default_scenario.yaml`` for the meaning of each field)."""

    scenario: str
    description: str = ""
    study: StudySetup
    population: Population
    screening: Screening
    product: Product
    toxicity: Toxicity
    efficacy: Efficacy
    kinetics: Kinetics
    conduct: Conduct
    design: DesignGrid


def parse_scenario(text: str, *, origin: str = "scenario") -> Scenario:
    """A scenario from its YAML text; the error names the path of the first problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput(f"not YAML: {error}", field=origin) from None
    if not isinstance(data, dict):
        raise InvalidInput("a scenario is a YAML mapping", field=origin)
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(first["msg"].removeprefix("Value error, "), field=f"{origin}: {where}") from None


def load_scenario(path: Path | None = None) -> Scenario:
    """The scenario in ``path``, or the default one shipped with celltrial."""
    if path is None:
        return default_scenario()
    return parse_scenario(read_text(path), origin=path.name)


def default_scenario() -> Scenario:
    """The default scenario, anchored on published CD7 CAR-T results."""
    text = (resources.files("celltrial.simulate") / "data" / "default_scenario.yaml").read_text("utf-8")
    return parse_scenario(text, origin="default_scenario.yaml")
