"""The screening form: a structured JSON of every fact the criteria need, each with value, unit and date.

Schema (``celltrial-screening-form``, version 1; documented in ``docs/eligibility.md``)::

    {"form": "celltrial-screening-form", "version": 1,
     "patient": {"id": "SCR-001", "birth_date": "1990-05-01", "sex": "female"},
     "screening_date": "2025-07-01",
     "facts": {
        "hemoglobin": {"value": 98, "unit": "g/L", "date": "2025-06-28"},
        "creatinine": [{"value": 0.9, "unit": "mg/dL", "date": "2025-06-28",
                        "uln": 1.1, "uln_unit": "mg/dL"}],
        "diagnosis": {"value": "t_cell_acute_lymphoblastic_leukemia", "date": "2025-06-20"},
        "atrial_fibrillation": {"present": false},
        "myocardial_infarction": {"present": true, "onset": "2024-09-01", "status": "resolved"}},
     "judgments": [{"criterion": "I4", "answer": "met", "by": "Dr Li", "at": "2025-07-01"}]}

``facts`` is keyed by the names of the fact catalogue (``data/facts.yaml``); each entry is one
object or a list of them, shaped by the fact's type: quantity ``{value, unit, date, uln?,
uln_unit?}``, count ``{value, date?}``, coded ``{value, date?}``, boolean ``{value, date?}``,
condition ``{present, onset?, status?}``. A malformed form (not an object, no patient, an
unknown fact name) is an :class:`~celltrial.errors.InvalidInput`; a malformed or implausible
value (a negative lab value, a wrong type) is recorded as a problem on its fact, so only the
criteria that read it become ``unknown``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from celltrial.eligibility.facts import Fact, FactDefinition, PatientFacts, fact_catalogue
from celltrial.eligibility.result import Judgment
from celltrial.errors import InvalidInput

__all__ = [
    "FORM_NAME",
    "ScreeningForm",
    "ScreeningInput",
    "ScreeningPatient",
    "is_screening_form",
    "read_form",
]

FORM_NAME: Literal["celltrial-screening-form"] = "celltrial-screening-form"
ConditionStatus = Literal["active", "recurrence", "relapse", "inactive", "remission", "resolved"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScreeningPatient(_Strict):
    id: str | None = None
    birth_date: dt.date | None = None
    sex: Literal["male", "female", "other", "unknown"] | None = None


class ScreeningForm(_Strict):
    """The envelope of a screening form; ``facts`` entries are checked against the catalogue."""

    form: Literal["celltrial-screening-form"] = FORM_NAME
    version: Literal[1] = 1
    patient: ScreeningPatient
    screening_date: dt.date | None = Field(
        default=None, description="the day of screening; a command-line date overrides it"
    )
    facts: dict[str, dict[str, Any] | list[dict[str, Any]]] = Field(default_factory=dict)
    judgments: tuple[Judgment, ...] = ()


class _Quantity(_Strict):
    value: float
    unit: str = Field(min_length=1)
    date: dt.date
    uln: float | None = Field(default=None, gt=0)
    uln_unit: str | None = None


class _Count(_Strict):
    value: int
    date: dt.date | None = None


class _Coded(_Strict):
    value: str
    date: dt.date | None = None


class _Boolean(_Strict):
    value: bool
    date: dt.date | None = None


class _Condition(_Strict):
    present: bool
    onset: dt.date | None = None
    status: ConditionStatus | None = None


_ENTRY_MODELS: dict[str, type[_Strict]] = {
    "quantity": _Quantity,
    "count": _Count,
    "coded": _Coded,
    "boolean": _Boolean,
    "condition": _Condition,
}


@dataclass(frozen=True, slots=True)
class ScreeningInput:
    """What a screening form gives the engine: facts, judgments and the screening date it names."""

    facts: PatientFacts
    judgments: tuple[Judgment, ...] = ()
    screening_date: dt.date | None = None


def is_screening_form(data: Any) -> bool:
    """Whether parsed JSON looks like a screening form (rather than a FHIR resource)."""
    return isinstance(data, dict) and "resourceType" not in data and ("facts" in data or "patient" in data)


def _first_error(error: ValidationError, prefix: str) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{prefix}.{where}: {first['msg']}" if where else f"{prefix}: {first['msg']}"


def _entry_fact(name: str, definition: FactDefinition, raw: Any, source: str) -> Fact:
    try:
        entry = _ENTRY_MODELS[definition.type].model_validate(raw)
    except ValidationError as error:
        return Fact(name, None, None, source, problem=_first_error(error, source))
    if isinstance(entry, _Condition):
        status = entry.status or ("active" if entry.present else None)
        return Fact(name, entry.present, entry.onset, source, status=status)
    problem = None
    if isinstance(entry, _Quantity | _Count):
        if entry.value < 0:
            problem = (
                f"{source}.value: a negative value ({entry.value}) is not a valid {definition.text.lower()}"
            )
        elif definition.maximum is not None and entry.value > definition.maximum:
            problem = f"{source}.value: {entry.value} is above the plausible maximum {definition.maximum:g}"
    if isinstance(entry, _Coded) and definition.values and entry.value not in definition.values:
        problem = f"{source}.value: {entry.value!r} is not one of {', '.join(definition.values)}"
    if isinstance(entry, _Quantity):
        return Fact(
            name, entry.value, entry.date, source, entry.unit, entry.uln, entry.uln_unit, problem=problem
        )
    assert isinstance(entry, _Count | _Coded | _Boolean)
    return Fact(name, entry.value, entry.date, source, problem=problem)


def read_form(data: Any) -> ScreeningInput:
    """Read a parsed screening form into the patient's facts and the investigator's judgments."""
    if not isinstance(data, dict):
        raise InvalidInput("a screening form must be a JSON object", field="$")
    try:
        form = ScreeningForm.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(first["msg"], field=".".join(str(part) for part in first["loc"]) or "$") from None
    catalogue = fact_catalogue()
    facts: dict[str, tuple[Fact, ...]] = {}
    problems: list[str] = []
    for name, raw in form.facts.items():
        definition = catalogue.get(name)
        if definition is None:
            raise InvalidInput(
                f"unknown fact {name!r} (the fact catalogue lists the names)", field=f"facts.{name}"
            )
        entries = raw if isinstance(raw, list) else [raw]
        read = []
        for index, entry in enumerate(entries):
            source = f"form: facts.{name}[{index}]" if isinstance(raw, list) else f"form: facts.{name}"
            fact = _entry_fact(name, definition, entry, source)
            if fact.problem:
                problems.append(fact.problem)
            read.append(fact)
        facts[name] = tuple(read)
    patient = form.patient
    birth = (
        Fact("birth_date", patient.birth_date.isoformat(), patient.birth_date, "form: patient.birth_date")
        if patient.birth_date
        else None
    )
    sex = Fact("sex", patient.sex, None, "form: patient.sex") if patient.sex else None
    facts_read = PatientFacts(patient.id, birth, sex, facts, tuple(problems))
    return ScreeningInput(facts_read, form.judgments, form.screening_date)
