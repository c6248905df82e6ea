"""Facts about one patient, as the eligibility rules read them, whatever the input was.

A :class:`Fact` is one observed value (a lab result, an answer on the screening form, a coded
Condition) with its unit, date and source (``form: labs.hemoglobin[0]``, ``Observation/abc``).
:class:`PatientFacts` groups them by fact name. Both the screening-form reader and the FHIR
reader produce :class:`PatientFacts`; the engine never sees the input format.

A fact the reader could not trust (no value, a negative lab value, a date after the screening
date, an unreadable unit) is still recorded, with its ``problem`` set: the rules then say
``unknown`` with that problem as the reason instead of guessing.

The fact catalogue (``data/facts.yaml``) names every fact, its type, its canonical unit and the
codes (LOINC, SNOMED CT, ICD-10-CM, celltrial's own CodeSystem) a FHIR record uses for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ACTIVE_CONDITION_STATUSES",
    "Fact",
    "FactCatalogue",
    "FactDefinition",
    "FactType",
    "FactValue",
    "PatientFacts",
    "fact_catalogue",
]

FactValue = float | int | bool | str
FactType = Literal["quantity", "count", "coded", "boolean", "condition"]
ACTIVE_CONDITION_STATUSES = frozenset({"active", "recurrence", "relapse"})


class Fact(NamedTuple):
    """One value of one fact.

    ``value`` is a number (``quantity``/``count``), a code (``coded``), or a bool (``boolean``;
    for ``condition``, whether the condition is present). ``uln``/``uln_unit`` carry the result's
    own upper limit of normal when the laboratory reported one. ``status`` is a condition's
    clinical status (``active``, ``recurrence``, ``relapse``, ``inactive``, ``remission``,
    ``resolved``). ``problem`` says why the value cannot be used.
    """

    name: str
    value: FactValue | None
    date: date | None
    source: str
    unit: str | None = None
    uln: float | None = None
    uln_unit: str | None = None
    status: str | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """Everything known about one patient for screening.

    ``problems`` lists, in words a coordinator reads, every input the reader could not use
    (each also sits on its fact, so the criteria reading it say ``unknown``).
    """

    patient_id: str | None
    birth_date: Fact | None
    sex: Fact | None
    facts: dict[str, tuple[Fact, ...]] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def of(self, name: str) -> tuple[Fact, ...]:
        """Every recorded value of fact ``name`` (possibly none)."""
        if name == "birth_date":
            return (self.birth_date,) if self.birth_date else ()
        if name == "sex":
            return (self.sex,) if self.sex else ()
        return self.facts.get(name, ())


class FactDefinition(BaseModel):
    """A fact the rules may read, and how a FHIR record codes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    type: FactType
    unit: str | None = None
    values: tuple[str, ...] = ()
    loinc: tuple[str, ...] = ()
    snomed: tuple[str, ...] = ()
    icd10: tuple[str, ...] = Field(default=(), description="ICD-10-CM codes; a code matches its children")
    celltrial: str | None = Field(
        default=None, description="code in celltrial's eligibility-facts CodeSystem"
    )
    maximum: float | None = None


class FactCatalogue(BaseModel):
    """Every fact celltrial's eligibility rules can read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    facts: dict[str, FactDefinition]

    def get(self, name: str) -> FactDefinition | None:
        return self.facts.get(name)


@cache
def fact_catalogue() -> FactCatalogue:
    """The shipped fact catalogue (``celltrial/eligibility/data/facts.yaml``)."""
    text = (resources.files("celltrial.eligibility") / "data" / "facts.yaml").read_text(encoding="utf-8")
    return FactCatalogue.model_validate({"facts": yaml.safe_load(text)})
