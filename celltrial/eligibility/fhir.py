"""Read the eligibility facts of one patient from a FHIR R4 Bundle (Synthea-style).

Speed comes from reading only what the rules read: the Bundle is plain JSON; entries are picked
by ``resourceType`` and code first (Patient, Observations whose LOINC or celltrial code the fact
catalogue lists, Conditions whose SNOMED CT / ICD-10-CM / celltrial code it lists), and only the
elements of those resources that the rules use are then validated with ``fhir.resources``
(R4B element models such as ``Quantity`` and ``CodeableConcept``) and ``fhir_core``'s FHIR
primitive types (``dateTime``, ``date``). Everything else in the Bundle — encounters, claims,
unrelated observations — is never validated.

Reading rules (docs/eligibility.md has the full list):

* Observation value: ``valueQuantity`` (unit: the UCUM ``code``, else ``unit``), ``valueInteger``,
  ``valueBoolean``, ``valueString``, ``valueCodeableConcept`` (positive/negative/detected/not
  detected by SNOMED CT, HL7 v2 0078 or text; ECOG by LOINC answer codes LA9622-7…LA9627-6);
  date: ``effectiveDateTime``, ``effectivePeriod.start``, ``effectiveInstant`` or ``issued``;
  ULN: ``referenceRange[0].high``. Statuses ``entered-in-error`` and ``cancelled`` are skipped.
* Condition: present unless ``verificationStatus`` is ``refuted`` or ``entered-in-error``;
  status from ``clinicalStatus``; onset from ``onsetDateTime`` or ``onsetPeriod.start``.
  A condition the catalogue codes in SNOMED CT or ICD-10-CM and the Bundle does not hold is
  recorded as absent: the Bundle is the patient's record.
* Problems (no value, a negative value, an unreadable element, no Patient) become problems on
  their fact; the criteria that read it say ``unknown`` with the problem as reason.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from datetime import date, datetime
from functools import cache
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.quantity import Quantity
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import DateTimeType, DateType
from fhir_core.types import Decimal as FhirDecimal
from pydantic import TypeAdapter, ValidationError

from celltrial.eligibility.facts import Fact, FactDefinition, PatientFacts, fact_catalogue
from celltrial.errors import InvalidInput

__all__ = [
    "ANSWER_CODES",
    "ANSWER_SYNONYMS",
    "CELLTRIAL_SYSTEM",
    "ECOG_ANSWER_CODES",
    "read_bundle",
]

CELLTRIAL_SYSTEM = "https://celltrial.org/fhir/CodeSystem/eligibility-facts"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"

_DATETIME = TypeAdapter(DateTimeType)
_DATE = TypeAdapter(DateType)
# The usual spellings of a full date and of a dateTime with its time zone, each a subset of what
# FHIR's own patterns accept (years 1000-9999, at most microseconds, offsets up to 14:00).
_FULL_DATE = re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}")
_ZONED_DATETIME = re.compile(
    r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9]|[+-]14:00)"
)
_ELEMENT_PROBLEMS: dict[Hashable, str | None] = {}  # FHIR's verdict on elements already validated
_SKIPPED_STATUSES = frozenset({"entered-in-error", "cancelled"})
_NOT_PRESENT = frozenset({"refuted", "entered-in-error"})

# Answer codes for coded results (SNOMED CT qualifiers, HL7 v2 table 0078, LOINC answers).
_ANSWERS = {
    "10828004": "positive",
    "260385009": "negative",
    "260373001": "detected",
    "260415000": "not_detected",
    "POS": "positive",
    "NEG": "negative",
    "DET": "detected",
    "ND": "not_detected",
    "373066001": "yes",
    "373067005": "no",
    "LA33-6": "yes",
    "LA32-8": "no",
}
_SYNONYMS = {
    "positive": ("positive", "detected", "yes", True),
    "detected": ("positive", "detected", "yes", True),
    "reactive": ("positive", "detected", "yes", True),
    "yes": ("positive", "detected", "yes", True),
    "negative": ("negative", "not_detected", "no", False),
    "not_detected": ("negative", "not_detected", "no", False),
    "not detected": ("negative", "not_detected", "no", False),
    "non-reactive": ("negative", "not_detected", "no", False),
    "no": ("negative", "not_detected", "no", False),
}
_ECOG_ANSWERS = {"LA9622-7": 0, "LA9623-5": 1, "LA9624-3": 2, "LA9625-0": 3, "LA9626-8": 4, "LA9627-6": 5}


# Public names of the answer tables, for readers of the same codes elsewhere (population prescreening).
ANSWER_CODES = _ANSWERS
ANSWER_SYNONYMS = _SYNONYMS
ECOG_ANSWER_CODES = _ECOG_ANSWERS


class _Codes:
    """Fact look-up by code, built once from the catalogue."""

    def __init__(self) -> None:
        catalogue = fact_catalogue()
        self.observations: dict[tuple[str, str], str] = {}
        self.conditions: dict[tuple[str, str], str] = {}
        self.icd10: list[tuple[str, str]] = []
        self.coded_conditions: list[str] = []
        for name, definition in catalogue.facts.items():
            if definition.celltrial:
                self.observations[(CELLTRIAL_SYSTEM, definition.celltrial)] = name
            if definition.type == "condition":
                for code in definition.snomed:
                    self.conditions[(SNOMED, code)] = name
                if definition.celltrial:
                    self.conditions[(CELLTRIAL_SYSTEM, definition.celltrial)] = name
                self.icd10.extend((prefix.replace(".", ""), name) for prefix in definition.icd10)
                if definition.snomed or definition.icd10:
                    self.coded_conditions.append(name)
            else:
                for code in definition.loinc:
                    self.observations[(LOINC, code)] = name

    def condition(self, codings: Any) -> str | None:
        for coding in codings if isinstance(codings, list) else ():
            if not isinstance(coding, dict):
                continue
            system, code = coding.get("system"), coding.get("code")
            if not (isinstance(system, str) and isinstance(code, str)):
                continue
            found = self.conditions.get((system, code))
            if found:
                return found
            if system == ICD10CM:
                compact = code.replace(".", "").upper()
                for prefix, name in self.icd10:
                    if compact.startswith(prefix):
                        return name
        return None

    def observation(self, codings: Any) -> str | None:
        for coding in codings if isinstance(codings, list) else ():
            if isinstance(coding, dict):
                system, code = coding.get("system"), coding.get("code")
                if not (isinstance(system, str) and isinstance(code, str)):
                    continue
                found = self.observations.get((system, code))
                if found:
                    return found
        return None


@cache
def _codes() -> _Codes:
    return _Codes()


def _codings(resource: dict[str, Any]) -> Any:
    code = resource.get("code")
    return code.get("coding") if isinstance(code, dict) else None


def _source(resource: dict[str, Any], index: int) -> str:
    kind = resource.get("resourceType", "resource")
    identifier = resource.get("id")
    return f"{kind}/{identifier}" if isinstance(identifier, str) else f"Bundle.entry[{index}] ({kind})"


def _message(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"] if not str(part).startswith("function"))
    return f"{where + ': ' if where else ''}{first['msg']}"


def _frozen(value: Any) -> Hashable:
    """Parsed JSON as a dictionary key; types are kept apart (``1``, ``1.0`` and ``true`` differ)."""
    if type(value) is str:  # the usual leaf; every other one becomes a tuple
        return value
    if isinstance(value, dict):
        return (dict, tuple([(key, _frozen(item)) for key, item in value.items()]))
    if isinstance(value, list):
        return (list, tuple([_frozen(item) for item in value]))
    return (type(value), value)


def _validation_problem(model: type[FHIRAbstractModel], element: Any) -> str | None:
    """Why ``element`` is not a valid ``model`` (None when it is), as FHIR's validation says."""
    try:
        model.model_validate(element)
    except ValidationError as error:
        return _message(error)
    return None


def _element_problem(model: type[FHIRAbstractModel], element: Any) -> str | None:
    """:func:`_validation_problem`, remembered: answers and units repeat from patient to patient."""
    try:
        key = (model, _frozen(element))
        if key in _ELEMENT_PROBLEMS:
            return _ELEMENT_PROBLEMS[key]
    except TypeError:  # an unhashable value (not from JSON)
        return _validation_problem(model, element)
    if len(_ELEMENT_PROBLEMS) >= 4096:
        _ELEMENT_PROBLEMS.clear()
    problem = _ELEMENT_PROBLEMS[key] = _validation_problem(model, element)
    return problem


def _quantity_problem(quantity: Any) -> str | None:
    """Why ``quantity`` is not a valid FHIR Quantity (None when it is).

    A number that is a valid FHIR decimal on its own is set aside, so that the rest of the element
    (unit, system, code), which repeats from result to result, is validated once.
    """
    value = quantity.get("value") if isinstance(quantity, dict) else None
    if (
        (type(value) is int or type(value) is float)
        and FhirDecimal.pattern.fullmatch(str(value))
        and _element_problem(Quantity, {**quantity, "value": 0}) is None
    ):
        return None
    return _validation_problem(Quantity, quantity)


def _usual_day(value: Any, date_only: bool) -> date | None:
    """The day of a full date (or, unless ``date_only``, a dateTime with its time zone); else None.

    The common spellings, read without FHIR's general validation (which the caller falls back to).
    """
    if type(value) is not str:
        return None
    if _FULL_DATE.fullmatch(value) or (not date_only and _ZONED_DATETIME.fullmatch(value)):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:  # not a day of the calendar: FHIR's validation says why
            return None
    return None


def _day(value: Any, field: str, source: str, *, date_only: bool = False) -> tuple[date | None, str | None]:
    if value is None:
        return None, None
    usual = _usual_day(value, date_only)
    if usual is not None:
        return usual, None
    try:
        parsed = (_DATE if date_only else _DATETIME).validate_python(value)
    except ValidationError as error:
        kind = "date" if date_only else "dateTime"
        return None, f"{source}.{field}: {value!r} is not a FHIR {kind} ({_message(error)})"
    if isinstance(parsed, datetime):
        return parsed.date(), None
    if isinstance(parsed, date):
        return parsed, None
    text = str(parsed)  # a partial date (year or year-month) cannot place a value in a window
    return None, f"{source}.{field}: partial date {text!r} is not precise enough"


def _observation_date(resource: dict[str, Any], source: str) -> tuple[date | None, str | None]:
    for field in ("effectiveDateTime", "effectiveInstant"):
        if field in resource:
            return _day(resource[field], field, source)
    period = resource.get("effectivePeriod")
    if isinstance(period, dict) and "start" in period:
        return _day(period["start"], "effectivePeriod.start", source)
    if "issued" in resource:
        return _day(resource["issued"], "issued", source)
    return None, None


def _answer(concept: Any, source: str) -> tuple[Any, str | None]:
    invalid = _element_problem(CodeableConcept, concept)
    if invalid is not None:
        return None, f"{source}.valueCodeableConcept: {invalid}"
    for coding in concept.get("coding") or []:
        code = coding.get("code")
        if coding.get("system") == CELLTRIAL_SYSTEM:
            return code, None
        if not isinstance(code, str):
            continue
        if code in _ECOG_ANSWERS:
            return _ECOG_ANSWERS[code], None
        if code in _ANSWERS:
            return _ANSWERS[code], None
    text = concept.get("text")
    return (text.strip().lower(), None) if isinstance(text, str) else (None, f"{source}: unrecognised answer")


def _as_fact_value(raw: Any, definition: FactDefinition) -> Any:
    """Map a read answer onto the fact's own values (``detected`` for a positive/negative test…)."""
    if definition.type in ("count",) and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if definition.type in ("count",) and isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if definition.type in ("boolean", "condition"):
        if isinstance(raw, bool):
            return raw
        return _SYNONYMS.get(str(raw).lower(), (None, None, None, None))[3]
    if definition.type == "coded" and raw is not None and not isinstance(raw, (list, dict)):
        if raw in definition.values:
            return raw
        for candidate in _SYNONYMS.get(str(raw).lower(), ()):
            if candidate in definition.values:
                return candidate
    return raw


def _observation(name: str, resource: dict[str, Any], source: str) -> Fact | None:
    definition = fact_catalogue().facts[name]
    status = resource.get("status")
    if isinstance(status, str) and status in _SKIPPED_STATUSES:
        return None
    day, problem = _observation_date(resource, source)
    unit = uln = uln_unit = None
    value: Any = None
    if "valueQuantity" in resource:
        raw = resource["valueQuantity"]
        invalid = _quantity_problem(raw)
        if invalid is not None:
            return Fact(name, None, day, source, problem=f"{source}.valueQuantity: {invalid}")
        value = raw.get("value")
        unit = raw.get("code") if raw.get("system") == UCUM and raw.get("code") else raw.get("unit")
        if value is None:
            problem = problem or f"{source}.valueQuantity.value: missing"
        high = _reference_high(resource)
        if high is not None:
            uln, uln_unit = high
    elif "valueInteger" in resource:
        value = resource["valueInteger"]
    elif "valueBoolean" in resource:
        value = resource["valueBoolean"]
    elif "valueString" in resource:
        value = resource["valueString"].strip().lower() if isinstance(resource["valueString"], str) else None
    elif "valueCodeableConcept" in resource:
        value, answer_problem = _answer(resource["valueCodeableConcept"], source)
        problem = problem or answer_problem
    else:
        absent = " (dataAbsentReason given)" if "dataAbsentReason" in resource else ""
        problem = problem or f"{source}: Observation has no value[x]{absent}"
    value = _as_fact_value(value, definition)
    if problem is None:
        problem = _implausible(value, definition, source)
    if definition.type == "condition":
        return Fact(name, value, day, source, status="active" if value else None, problem=problem)
    return Fact(name, value, day, source, unit, uln, uln_unit, problem=problem)


def _reference_high(resource: dict[str, Any]) -> tuple[float, str | None] | None:
    ranges = resource.get("referenceRange")
    if not isinstance(ranges, list) or not ranges or not isinstance(ranges[0], dict):
        return None
    high = ranges[0].get("high")
    if not isinstance(high, dict) or high.get("value") is None:
        return None
    if _quantity_problem(high) is not None:
        return None
    unit = high.get("code") if high.get("system") == UCUM and high.get("code") else high.get("unit")
    return float(high["value"]), unit


def _implausible(value: Any, definition: FactDefinition, source: str) -> str | None:
    if value is None:
        return f"{source}: the value is not one celltrial can read for {definition.text.lower()}"
    if definition.type in ("quantity", "count"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{source}: {definition.text} value {value!r} is not a number"
        if value < 0:
            return f"{source}.value: a negative value ({value}) is not a valid {definition.text.lower()}"
        if definition.maximum is not None and value > definition.maximum:
            return f"{source}.value: {value} is above the plausible maximum {definition.maximum:g}"
    if definition.type == "coded" and definition.values and value not in definition.values:
        return f"{source}: {definition.text} answer {value!r} is not one of {', '.join(definition.values)}"
    return None


def _condition(name: str, resource: dict[str, Any], source: str) -> Fact | None:
    verification = _first_code(resource.get("verificationStatus"))
    if verification in _NOT_PRESENT:
        return None
    status = _first_code(resource.get("clinicalStatus"))
    if "onsetDateTime" in resource:
        onset, problem = _day(resource["onsetDateTime"], "onsetDateTime", source)
    elif isinstance(resource.get("onsetPeriod"), dict):
        onset, problem = _day(resource["onsetPeriod"].get("start"), "onsetPeriod.start", source)
    else:
        onset, problem = None, None
    return Fact(name, True, onset, source, status=status or "active", problem=problem)


def _first_code(concept: Any) -> str | None:
    if isinstance(concept, dict):
        for coding in concept.get("coding", []) or []:
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                return str(coding["code"])
    return None


def _patient(resource: dict[str, Any], source: str) -> tuple[Fact, Fact]:
    birth, problem = _day(resource.get("birthDate"), "birthDate", source, date_only=True)
    if birth is None and problem is None:
        problem = f"{source}.birthDate: missing"
    birth_fact = Fact("birth_date", resource.get("birthDate"), birth, f"{source}.birthDate", problem=problem)
    gender = resource.get("gender")
    if gender not in ("male", "female", "other", "unknown"):
        gender = "unknown"
    return birth_fact, Fact("sex", gender, None, f"{source}.gender")


def read_bundle(data: Any) -> PatientFacts:
    """The facts of the one patient in a FHIR R4 Bundle (parsed JSON)."""
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        kind = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        raise InvalidInput(f"expected a FHIR Bundle, found {kind!r}", field="resourceType")
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise InvalidInput("Bundle.entry must be a list", field="entry")
    codes = _codes()
    facts: dict[str, list[Fact]] = {}
    patients: list[tuple[Fact, Fact, str]] = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        kind = resource.get("resourceType")
        fact: Fact | None = None
        if kind == "Observation":
            name = codes.observation(_codings(resource))
            if name:
                fact = _observation(name, resource, _source(resource, index))
        elif kind == "Condition":
            name = codes.condition(_codings(resource))
            if name:
                fact = _condition(name, resource, _source(resource, index))
        elif kind == "Patient":
            source = _source(resource, index)
            patients.append((*_patient(resource, source), source))
        if fact is not None:
            facts.setdefault(fact.name, []).append(fact)
    if len(patients) > 1:
        found = ", ".join(source for _, _, source in patients)
        raise InvalidInput(f"a screening Bundle holds one patient; found {found}", field="entry")
    for name in codes.coded_conditions:
        if name not in facts:
            text = fact_catalogue().facts[name].text.lower()
            facts[name] = [Fact(name, False, None, f"Bundle: no Condition coded as {text}")]
    if patients:
        birth, sex, source = patients[0]
        patient_id: str | None = source.removeprefix("Patient/")
    else:
        problem = "Bundle.entry: the Bundle has no Patient resource"
        birth = Fact("birth_date", None, None, "Bundle.entry", problem=problem)
        sex = Fact("sex", "unknown", None, "Bundle.entry", problem=problem)
        patient_id = None
    problems = [f.problem for found in facts.values() for f in found if f.problem]
    problems.extend(f.problem for f in (birth, sex) if f.problem and f.problem not in problems)
    return PatientFacts(
        patient_id, birth, sex, {name: tuple(found) for name, found in facts.items()}, tuple(problems)
    )
