"""What a user sends to the safety services and what they get back (pydantic)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
)

from celltrial.analysis.safety_events import ActionTaken, Aesi, Outcome, Relatedness, Seriousness
from celltrial.clinical.crs import Hypotension, Hypoxia
from celltrial.clinical.icans import CerebralEdema, Consciousness, Seizure
from celltrial.errors import InvalidInput

__all__ = [
    "AdverseEventCreate",
    "AdverseEventRead",
    "AdverseEventUpdate",
    "CrsIcansAssessmentCreate",
    "CrsIcansAssessmentRead",
    "parse",
]

Model = TypeVar("Model", bound=BaseModel)
COMPUTED_FIELDS = frozenset({"crs_grade", "icans_grade", "crs_drivers", "icans_drivers"})


def parse(model: type[Model], data: Model | dict[str, Any]) -> Model:
    """``data`` as ``model``; the error names the first bad field (and refuses typed grades)."""
    if isinstance(data, model):
        return data
    if not isinstance(data, dict):
        raise InvalidInput(f"expected an object with the fields of {model.__name__}", field="$")
    typed = sorted(COMPUTED_FIELDS & data.keys())
    if typed:
        raise InvalidInput("the grade is computed from the assessment, never entered", field=typed[0])
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "$"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "missing":
            message = "is required"
        elif first["type"] == "extra_forbidden":
            message = "is not a field of this record"
        raise InvalidInput(message, field=where) from None


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AdverseEventCreate(_Input):
    """An adverse event as the site reports it."""

    term: str = Field(min_length=1, max_length=200, description="CTCAE term")
    meddra_code: str | None = Field(default=None, pattern=r"^\d{8}$", description="MedDRA code (8 digits)")
    soc: str = Field(description="CTCAE system organ class")
    grade: StrictInt = Field(ge=1, le=5)
    ctcae_version: str | None = Field(
        default=None, pattern=r"^\d+\.\d+$", description="default: the protocol's"
    )
    onset_date: date
    resolution_date: date | None = None
    serious: StrictBool = False
    seriousness: frozenset[Seriousness] = frozenset()
    related_to_cart: Relatedness
    related_to_lymphodepletion: Relatedness
    action_taken: frozenset[ActionTaken] = frozenset()
    outcome: Outcome
    aesi: frozenset[Aesi] = frozenset()
    site_awareness_at: datetime | None = Field(default=None, description="serious events: when the site knew")

    @field_validator("term")
    @classmethod
    def _stripped(cls, value: str) -> str:
        cleaned = " ".join(value.split())
        if not cleaned:
            raise ValueError("is required")
        return cleaned


class AdverseEventUpdate(_Input):
    """Changes to a saved adverse event (only the fields given change)."""

    term: str | None = Field(default=None, min_length=1, max_length=200)
    meddra_code: str | None = Field(default=None, pattern=r"^\d{8}$")
    soc: str | None = None
    grade: StrictInt | None = Field(default=None, ge=1, le=5)
    onset_date: date | None = None
    resolution_date: date | None = None
    serious: StrictBool | None = None
    seriousness: frozenset[Seriousness] | None = None
    related_to_cart: Relatedness | None = None
    related_to_lymphodepletion: Relatedness | None = None
    action_taken: frozenset[ActionTaken] | None = None
    outcome: Outcome | None = None
    aesi: frozenset[Aesi] | None = None


class AdverseEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int
    term: str
    meddra_code: str | None
    soc: str
    grade: int
    ctcae_version: str
    onset_date: date
    resolution_date: date | None
    serious: bool
    seriousness: list[str]
    related_to_cart: Relatedness
    related_to_lymphodepletion: Relatedness
    action_taken: list[str]
    outcome: Outcome
    aesi: list[str]
    version: int


class CrsIcansAssessmentCreate(_Input):
    """The daily CRS/ICANS assessment: the inputs of the ASTCT calculators (age comes from the subject)."""

    assessment_date: date
    symptomatic: StrictBool = Field(
        default=False, description="assessed because of symptoms (after the daily days)"
    )
    temperature_c: StrictFloat | StrictInt
    fever_masked: StrictBool
    hypotension: Hypotension
    hypoxia: Hypoxia
    death_due_to_crs: StrictBool = False
    ice_score: StrictInt | None = Field(ge=0, le=10, description="null: the patient cannot perform ICE")
    capd_score: StrictInt | None = Field(
        default=None,
        ge=0,
        le=32,
        description="children (settings safety.capd_max_age_years): CAPD total; null: unable to perform",
    )
    consciousness: Consciousness
    seizure: Seizure
    motor_weakness: StrictBool
    cerebral_edema: CerebralEdema
    death_due_to_icans: StrictBool = False
    tocilizumab_given: StrictBool
    corticosteroids_given: StrictBool


class CrsIcansAssessmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int
    assessment_date: date
    symptomatic: bool
    temperature_c: float
    fever_masked: bool
    hypotension: Hypotension
    hypoxia: Hypoxia
    death_due_to_crs: bool
    ice_score: int | None
    capd_score: int | None = None
    consciousness: Consciousness
    seizure: Seizure
    motor_weakness: bool
    cerebral_edema: CerebralEdema
    death_due_to_icans: bool
    tocilizumab_given: bool
    corticosteroids_given: bool
    crs_grade: int
    crs_drivers: list[str]
    icans_grade: int
    icans_drivers: list[str]
    version: int
