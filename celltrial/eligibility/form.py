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
from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field, ValidationError, with_config
from typing_extensions import TypedDict

from celltrial.eligibility.facts import Fact, FactDefinition, PatientFacts, fact_catalogue
from celltrial.eligibility.result import Judgment
from celltrial.errors import InvalidInput
from celltrial.jsoninput import parse_json

__all__ = [
    "FORM_NAME",
    "BooleanEntry",
    "CodedEntry",
    "ConditionEntry",
    "CountEntry",
    "QuantityEntry",
    "ScreeningFacts",
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


_ENTRY = ConfigDict(extra="forbid")


@with_config(_ENTRY)
class QuantityEntry(TypedDict):
    """A measured value: ``{value, unit, date, uln?, uln_unit?}`` (UCUM unit)."""

    value: float
    unit: Annotated[str, Field(min_length=1)]
    date: dt.date
    uln: NotRequired[Annotated[float, Field(gt=0)] | None]
    uln_unit: NotRequired[str | None]


@with_config(_ENTRY)
class CountEntry(TypedDict):
    """A whole number: ``{value, date?}``."""

    value: int
    date: NotRequired[dt.date | None]


@with_config(_ENTRY)
class CodedEntry(TypedDict):
    """A coded answer, one of the fact's values: ``{value, date?}``."""

    value: str
    date: NotRequired[dt.date | None]


@with_config(_ENTRY)
class BooleanEntry(TypedDict):
    """A yes/no answer: ``{value, date?}``."""

    value: bool
    date: NotRequired[dt.date | None]


@with_config(_ENTRY)
class ConditionEntry(TypedDict):
    """A diagnosis: ``{present, onset?, status?}`` (status active when omitted and present)."""

    present: bool
    onset: NotRequired[dt.date | None]
    status: NotRequired[ConditionStatus | None]


_ENTRY_TYPES: dict[str, Any] = {
    "quantity": QuantityEntry,
    "count": CountEntry,
    "coded": CodedEntry,
    "boolean": BooleanEntry,
    "condition": ConditionEntry,
}


def _facts_type() -> Any:
    """One optional key per catalogue fact, typed by the fact's type (one entry or a list)."""
    fields: dict[str, Any] = {}
    for name, definition in fact_catalogue().facts.items():
        entry = _ENTRY_TYPES[definition.type]
        described = Field(description=definition.text, union_mode="left_to_right")
        fields[name] = NotRequired[Annotated[entry | list[entry], described]]  # type: ignore[valid-type]
    facts: Any = TypedDict("ScreeningFacts", fields, total=False)  # type: ignore[misc]
    facts.__pydantic_config__ = _ENTRY  # type: ignore[attr-defined]
    return facts


ScreeningFacts = _facts_type()
_new = tuple.__new__  # a named tuple from all its fields, without its Python-level __new__
_SOURCES = {name: f"form: facts.{name}" for name in fact_catalogue().facts}


class ScreeningForm(_Strict):
    """A screening form: the patient, the screening date, the facts and the investigator's judgments."""

    form: Literal["celltrial-screening-form"] = FORM_NAME
    version: Literal[1] = 1
    patient: ScreeningPatient
    screening_date: dt.date | None = Field(
        default=None, description="the day of screening; a command-line date overrides it"
    )
    facts: ScreeningFacts = Field(default_factory=dict)  # type: ignore[valid-type]
    judgments: tuple[Judgment, ...] = ()


@dataclass(frozen=True, slots=True)
class ScreeningInput:
    """What a screening form gives the engine: facts, judgments and the screening date it names."""

    facts: PatientFacts
    judgments: tuple[Judgment, ...] = ()
    screening_date: dt.date | None = None


def is_screening_form(data: Any) -> bool:
    """Whether parsed JSON looks like a screening form (rather than a FHIR resource)."""
    return isinstance(data, dict) and "resourceType" not in data and ("facts" in data or "patient" in data)


def _entry_fact(name: str, definition: FactDefinition, entry: dict[str, Any], source: str) -> Fact:
    # Fact fields: name, value, date, source, unit, uln, uln_unit, status, problem
    kind = definition.type
    if kind == "condition":
        present = entry["present"]
        status = entry.get("status") or ("active" if present else None)
        return _new(Fact, (name, present, entry.get("onset"), source, None, None, None, status, None))
    problem = None
    value = entry["value"]
    if kind == "quantity" or kind == "count":
        if value < 0:
            problem = f"{source}.value: a negative value ({value}) is not a valid {definition.text.lower()}"
        elif definition.maximum is not None and value > definition.maximum:
            problem = f"{source}.value: {value} is above the plausible maximum {definition.maximum:g}"
        if kind == "quantity":
            uln, uln_unit = entry.get("uln"), entry.get("uln_unit")
            measured = (name, value, entry["date"], source, entry["unit"], uln, uln_unit, None, problem)
            return _new(Fact, measured)
    elif kind == "coded" and definition.values and value not in definition.values:
        problem = f"{source}.value: {value!r} is not one of {', '.join(definition.values)}"
    return _new(Fact, (name, value, entry.get("date"), source, None, None, None, None, problem))


def _path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "$"


def _is_branch(part: int | str) -> bool:
    """Whether an error location part names a union branch (``CountEntry``, ``list[CountEntry]``)."""
    return isinstance(part, str) and (part.startswith("list[") or part.endswith("Entry"))


def _validate(data: dict[str, Any]) -> tuple[ScreeningForm, dict[str, str]]:
    """The validated form, and the facts left out because their entries are malformed."""
    try:
        return ScreeningForm.model_validate(data), {}
    except ValidationError as error:
        catalogue = fact_catalogue().facts
        malformed: dict[str, str] = {}
        for problem in error.errors():
            location = tuple(problem["loc"])
            if len(location) >= 2 and location[0] == "facts" and location[1] in catalogue:
                where = _path(tuple(part for part in location if not _is_branch(part)))
                malformed.setdefault(str(location[1]), f"form: {where}: {problem['msg']}")
            elif len(location) == 2 and location[0] == "facts":
                message = f"unknown fact {location[1]!r} (the fact catalogue lists the names)"
                raise InvalidInput(message, field=f"facts.{location[1]}") from None
            else:
                raise InvalidInput(problem["msg"], field=_path(location)) from None
    facts = data.get("facts")
    kept = (
        {name: raw for name, raw in facts.items() if name not in malformed} if isinstance(facts, dict) else {}
    )
    return ScreeningForm.model_validate({**data, "facts": kept}), malformed


def read_form(data: Any) -> ScreeningInput:
    """Read a screening form (parsed JSON, or its JSON text) into the patient's facts and judgments.

    From JSON text, a whole valid form is validated without building Python objects first (the
    usual case, and the faster one); a form with a malformed entry is then read as parsed JSON,
    with the same result.
    """
    form: ScreeningForm | None = None
    malformed: dict[str, str] = {}
    if isinstance(data, str | bytes):
        try:
            form = ScreeningForm.model_validate_json(data)
        except ValidationError:
            data = parse_json(data, field="$")
    if form is None:
        if not isinstance(data, dict):
            raise InvalidInput("a screening form must be a JSON object", field="$")
        form, malformed = _validate(data)
    catalogue = fact_catalogue().facts
    facts: dict[str, tuple[Fact, ...]] = {}
    problems: list[str] = []
    given: dict[str, Any] = form.facts
    for name, raw in given.items():
        definition = catalogue[name]
        if type(raw) is list:
            read = tuple(
                _entry_fact(name, definition, entry, f"form: facts.{name}[{index}]")
                for index, entry in enumerate(raw)
            )
            problems += [fact.problem for fact in read if fact.problem]
        else:
            fact = _entry_fact(name, definition, raw, _SOURCES[name])
            if fact.problem:
                problems.append(fact.problem)
            read = (fact,)
        facts[name] = read
    for name, problem in malformed.items():
        facts[name] = (Fact(name, None, None, f"form: facts.{name}", problem=problem),)
        problems.append(problem)
    patient = form.patient
    birth = (
        Fact("birth_date", patient.birth_date.isoformat(), patient.birth_date, "form: patient.birth_date")
        if patient.birth_date
        else None
    )
    sex = Fact("sex", patient.sex, None, "form: patient.sex") if patient.sex else None
    facts_read = PatientFacts(patient.id, birth, sex, facts, tuple(problems))
    return ScreeningInput(facts_read, form.judgments, form.screening_date)
