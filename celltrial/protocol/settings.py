"""Protocol settings: what a trial needs that its registry record does not hold.

The settings file (``<NCT id>.settings.yaml`` next to the record) holds the schedule of
assessments, eligibility time windows, site reference ranges, doses, release specifications,
DLT window, SAE clocks and the stopping rule. Every value says where it comes from
(``source: protocol`` or ``source: assumption``) so a study team sees at once which numbers are
still working assumptions. Each section is a pydantic model; nothing here is specific to one trial.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from celltrial.errors import InvalidInput

T = TypeVar("T")
Source = Literal["protocol", "assumption"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(Strict, Generic[T]):
    """A setting's value with where it comes from."""

    value: T
    source: Source
    note: str = ""


class EnrolmentSettings(Strict):
    cap: Sourced[int]
    subject_number_format: Sourced[str]
    minor_age_years: Sourced[int]


class EligibilitySettings(Strict):
    lab_window_days: Sourced[int]
    echo_window_days: Sourced[int]
    ecg_window_days: Sourced[int]
    ecog_window_days: Sourced[int]
    disease_assessment_window_days: Sourced[int]
    infection_serology_window_days: Sourced[int]
    pregnancy_test_window_days: Sourced[int]
    mi_lookback_months: Sourced[int]
    hbv_dna_threshold_iu_per_ml: Sourced[float]
    peripheral_blast_limit_percent: Sourced[float]
    relapse_blast_threshold_percent: Sourced[float]
    min_prior_courses: Sourced[int]


class ReferenceRange(Strict):
    """A site's normal range for one test, in one unit (UCUM)."""

    lln: float | None = None
    uln: float | None = None
    unit: str
    source: Source
    note: str = ""


Anchor = Literal["enrolment", "infusion"]


class Visit(Strict):
    """A scheduled visit: target day relative to its anchor, and its window in days."""

    code: str
    name: str
    anchor: Anchor
    day: int
    before: int = Field(ge=0)
    after: int = Field(ge=0)
    forms: list[str]
    source: Source


class LongTermFollowUp(Strict):
    every_months: int = Field(gt=0)
    until_years: int = Field(gt=0)
    window_days: int = Field(ge=0)
    forms: list[str]
    source: Source
    note: str = ""


class ScheduleSettings(Strict):
    screening_window_days: Sourced[int]
    visits: list[Visit]
    daily_crs_icans_days: Sourced[list[int]]
    long_term_follow_up: LongTermFollowUp

    @model_validator(mode="after")
    def _codes_unique(self) -> ScheduleSettings:
        codes = [visit.code for visit in self.visits]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"visit codes must be unique; repeated: {', '.join(duplicates)}")
        return self


class LymphodepletionSettings(Strict):
    fludarabine_mg_per_m2_per_day: Sourced[float]
    cyclophosphamide_mg_per_m2_per_day: Sourced[float]
    days: Sourced[list[int]]
    bsa_formula: Sourced[Literal["mosteller", "dubois"]]
    bsa_cap_m2: Sourced[float | None]


class CartDoseSettings(Strict):
    target_car_positive_cells_per_kg: Sourced[float]
    maximum_car_positive_cells_per_kg: Sourced[float]
    infusion_route: Sourced[str]


class TreatmentSettings(Strict):
    lymphodepletion: LymphodepletionSettings
    cart_dose: CartDoseSettings


class ReleaseSpecifications(Strict):
    viability_percent_min: Sourced[float]
    car_positive_percent_min: Sourced[float]
    cd3_positive_percent_min: Sourced[float]
    sterility: Sourced[str]
    endotoxin_eu_per_kg_max: Sourced[float]
    mycoplasma: Sourced[str]
    vector_copy_number_max: Sourced[float]


class StoppingRuleSettings(Strict):
    event: Sourced[str]
    rate_threshold: Sourced[float]
    posterior_cutoff: Sourced[float]
    prior_alpha: Sourced[float]
    prior_beta: Sourced[float]
    first_look_after: Sourced[int]


class SafetySettings(Strict):
    ctcae_version: Sourced[str]
    dlt_window_days: Sourced[list[int]]
    dlt_definitions: Sourced[list[str]]
    sae_report_to_sponsor_hours: Sourced[int]
    susar_fatal_days: Sourced[int]
    susar_other_days: Sourced[int]
    capd_max_age_years: Sourced[int]
    stopping_rule: StoppingRuleSettings


class AnalysisSettings(Strict):
    landmarks_months: Sourced[list[int]]
    response_timepoints_days: Sourced[list[int]]
    mrd_negative_threshold_percent: Sourced[float]
    censor_at_consolidative_hsct: Sourced[bool]
    kinetics_lloq_copies_per_ug: Sourced[float]
    reference_cr_rate: Sourced[float]


class ProtocolSettings(Strict):
    """Everything a trial needs beyond its registry record."""

    study: str
    settings_version: str
    enrolment: EnrolmentSettings
    eligibility: EligibilitySettings
    reference_ranges: dict[str, ReferenceRange]
    schedule: ScheduleSettings
    treatment: TreatmentSettings
    release_specifications: ReleaseSpecifications
    safety: SafetySettings
    analysis: AnalysisSettings

    def assumptions(self) -> list[str]:
        """Dotted paths of every value still marked ``source: assumption``."""
        found: list[str] = []
        _collect_assumptions(self.model_dump(), "", found)
        return found


def _collect_assumptions(node: Any, path: str, found: list[str]) -> None:
    if isinstance(node, dict):
        if node.get("source") == "assumption":
            found.append(path)
            return
        for key, child in node.items():
            _collect_assumptions(child, f"{path}.{key}" if path else str(key), found)
    elif isinstance(node, list):
        for index, child in enumerate(node):
            _collect_assumptions(child, f"{path}[{index}]", found)


def parse_settings(text: str, *, origin: str = "settings") -> ProtocolSettings:
    """Parse a settings YAML document; errors name the setting's path."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput(f"not valid YAML: {error}", field=origin) from None
    if not isinstance(raw, dict):
        raise InvalidInput("a settings file must be a mapping of sections", field=origin)
    try:
        return ProtocolSettings.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(
            f"{first['msg']} ({error.error_count()} problem(s))", field=f"{origin}: {where}"
        ) from None
