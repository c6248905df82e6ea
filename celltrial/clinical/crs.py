"""Cytokine release syndrome (CRS) grade by the ASTCT consensus.

Source: Lee DW, Santomasso BD, Locke FL, et al. ASTCT consensus grading for cytokine release
syndrome and neurologic toxicity associated with immune effector cells. Biol Blood Marrow
Transplant 2019;25:625–638 — the ASTCT CRS consensus grading table and its footnotes:

* fever (temperature ≥ 38.0 °C, not attributable to another cause) is required to diagnose CRS;
  once antipyretic or anti-cytokine therapy (tocilizumab, steroids) masks it, fever is no longer
  required and grading is driven by hypotension and hypoxia;
* grade 1 fever alone; grade 2 hypotension not requiring vasopressors and/or hypoxia requiring
  low-flow nasal cannula (≤ 6 L/min) or blow-by; grade 3 one vasopressor with or without
  vasopressin and/or high-flow nasal cannula (> 6 L/min), facemask, non-rebreather or Venturi
  mask; grade 4 multiple vasopressors (excluding vasopressin) and/or positive pressure (CPAP,
  BiPAP, intubation and mechanical ventilation); grade 5 death due to CRS with no other
  principal factor;
* the grade is set by the more severe of hypotension and hypoxia;
* organ toxicities are graded by CTCAE and do not change the CRS grade (so they are no input here).

Decisions where the consensus is silent: an assessment names its temperature (fever is what
diagnoses CRS); hypotension and hypoxia left out are none, fever not masked and no death, so that
one finding alone (``{"temperature_c": 38.4, "hypoxia": "positive_pressure"}``) is graded. With
fever masked and neither hypotension nor hypoxia the
grade is 0 (the masking lifts the fever requirement for grading hypotension and hypoxia; it does
not by itself make a grade-1 event).
"""

from __future__ import annotations

import math
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from celltrial.errors import InvalidInput

__all__ = [
    "CRS_SOURCE",
    "FEVER_THRESHOLD_C",
    "CrsAssessment",
    "CrsGrade",
    "Hypotension",
    "Hypoxia",
    "grade_crs",
    "parse_crs_assessment",
]

CRS_SOURCE = "ASTCT consensus CRS grading (Lee et al., Biol Blood Marrow Transplant 2019;25:625-638)"
FEVER_THRESHOLD_C = 38.0
_PLAUSIBLE_TEMPERATURE_C = (25.0, 45.0)


class Hypotension(StrEnum):
    """Hypotension by its treatment, as the consensus grades it."""

    NONE = "none"
    NO_VASOPRESSOR = "no_vasopressor"
    ONE_VASOPRESSOR = "one_vasopressor"  # with or without vasopressin
    MULTIPLE_VASOPRESSORS = "multiple_vasopressors"  # excluding vasopressin


class Hypoxia(StrEnum):
    """Hypoxia by the oxygen support it needs."""

    NONE = "none"
    LOW_FLOW = "low_flow"  # nasal cannula ≤ 6 L/min or blow-by
    HIGH_FLOW = "high_flow"  # nasal cannula > 6 L/min, facemask, non-rebreather, Venturi mask
    POSITIVE_PRESSURE = "positive_pressure"  # CPAP, BiPAP, intubation and mechanical ventilation


_HYPOTENSION_GRADE = {
    Hypotension.NONE: 0,
    Hypotension.NO_VASOPRESSOR: 2,
    Hypotension.ONE_VASOPRESSOR: 3,
    Hypotension.MULTIPLE_VASOPRESSORS: 4,
}
_HYPOXIA_GRADE = {Hypoxia.NONE: 0, Hypoxia.LOW_FLOW: 2, Hypoxia.HIGH_FLOW: 3, Hypoxia.POSITIVE_PRESSURE: 4}
_HYPOTENSION_TEXT = {
    Hypotension.NO_VASOPRESSOR: "hypotension not requiring vasopressors",
    Hypotension.ONE_VASOPRESSOR: "hypotension requiring one vasopressor",
    Hypotension.MULTIPLE_VASOPRESSORS: "hypotension requiring multiple vasopressors",
}
_HYPOXIA_TEXT = {
    Hypoxia.LOW_FLOW: "hypoxia requiring low-flow oxygen (<= 6 L/min) or blow-by",
    Hypoxia.HIGH_FLOW: "hypoxia requiring high-flow oxygen (> 6 L/min) or a mask",
    Hypoxia.POSITIVE_PRESSURE: "hypoxia requiring positive pressure ventilation",
}


class CrsAssessment(BaseModel):
    """One CRS assessment: the inputs of the ASTCT CRS grade (the CLI's JSON contract)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    temperature_c: float = Field(description="highest temperature in the assessment period, °C")
    fever_masked: StrictBool = Field(
        default=False, description="fever masked by antipyretic or anti-cytokine therapy"
    )
    hypotension: Hypotension = Hypotension.NONE
    hypoxia: Hypoxia = Hypoxia.NONE
    death_due_to_crs: StrictBool = False

    @field_validator("temperature_c", mode="before")
    @classmethod
    def _number(cls, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("must be a number (degrees Celsius)")
        return float(value)

    @field_validator("temperature_c")
    @classmethod
    def _plausible(cls, value: float) -> float:
        low, high = _PLAUSIBLE_TEMPERATURE_C
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError(f"temperature {value} °C is outside the plausible range {low}-{high} °C")
        return value


class CrsGrade(BaseModel):
    """The ASTCT CRS grade (0 = no CRS), what set it, and the source."""

    model_config = ConfigDict(frozen=True)

    grade: int = Field(ge=0, le=5)
    drivers: tuple[str, ...]
    source: str = CRS_SOURCE


def parse_crs_assessment(data: object) -> CrsAssessment:
    """Validate raw JSON into a :class:`CrsAssessment`; the error names the first bad field."""
    if not isinstance(data, dict):
        raise InvalidInput("a CRS assessment must be a JSON object", field="$")
    try:
        return CrsAssessment.model_validate(data)
    except ValidationError as error:
        raise _invalid(error) from None


def _invalid(error: ValidationError) -> InvalidInput:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "$"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        message = "is required"
    elif first["type"] == "extra_forbidden":
        message = "is not a field of this assessment"
    return InvalidInput(message, field=where)


def grade_crs(assessment: CrsAssessment) -> CrsGrade:
    """Grade CRS by the ASTCT consensus (Lee et al. 2019, CRS consensus grading table)."""
    if assessment.death_due_to_crs:
        return CrsGrade(grade=5, drivers=("death due to CRS",))
    febrile = assessment.temperature_c >= FEVER_THRESHOLD_C
    hypotension_grade = _HYPOTENSION_GRADE[assessment.hypotension]
    hypoxia_grade = _HYPOXIA_GRADE[assessment.hypoxia]
    if not febrile and not assessment.fever_masked:
        return CrsGrade(grade=0, drivers=_no_fever_drivers(assessment, hypotension_grade, hypoxia_grade))
    grade = max(hypotension_grade, hypoxia_grade)
    if grade == 0:
        if febrile:
            return CrsGrade(grade=1, drivers=(f"fever {assessment.temperature_c:.1f} °C",))
        return CrsGrade(grade=0, drivers=("no fever, hypotension or hypoxia",))
    drivers = []
    if hypotension_grade == grade:
        drivers.append(_HYPOTENSION_TEXT[assessment.hypotension])
    if hypoxia_grade == grade:
        drivers.append(_HYPOXIA_TEXT[assessment.hypoxia])
    if not febrile:
        drivers.append("fever masked by antipyretic or anti-cytokine therapy")
    return CrsGrade(grade=grade, drivers=tuple(drivers))


def _no_fever_drivers(
    assessment: CrsAssessment, hypotension_grade: int, hypoxia_grade: int
) -> tuple[str, ...]:
    base = f"no fever >= {FEVER_THRESHOLD_C:.1f} °C and fever not masked"
    if hypotension_grade or hypoxia_grade:
        return (f"{base}: hypotension or hypoxia without fever is not CRS",)
    return (base,)
