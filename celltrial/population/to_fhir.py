"""A patient's OMOP CDM record as a FHIR R4 Bundle, for the per-patient screening engine.

Population prescreening finds candidates; a coordinator then screens each one with
``celltrial screen``, which reads FHIR. :func:`patient_bundles` turns the OMOP rows of chosen
persons into one Bundle each:

* person → Patient (``birthDate`` from ``birth_datetime``, else year-month-day, else the year
  alone; ``gender`` from the OMOP gender concept);
* measurement → Observation (``Observation/m<id>``), observation → Observation
  (``Observation/o<id>``), coded with the row's concept (LOINC, SNOMED CT or celltrial's
  CodeSystem); the value is ``valueQuantity`` when there is a number (UCUM unit from the unit
  concept, else the unit as written; ``range_high`` as ``referenceRange.high``), else
  ``valueCodeableConcept`` from ``value_as_concept_id``, else ``valueString``;
* condition_occurrence → Condition (``Condition/c<id>``) with the SNOMED CT and ICD-10-CM
  codings, onset, and ``clinicalStatus`` active unless the condition ended on or before the
  screening date; a SNOMED CT finding in ``observation`` → Condition as well.

Resources are written in the order of the record (measurements, then observations, by id), so
that among values of one day the engine picks the same one as the population query.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from celltrial.population.concepts import ConceptMap
from celltrial.population.fhir_tables import SYSTEMS
from celltrial.population.prescreen import ucum_codes, unit_code
from celltrial.population.source import OmopSource

__all__ = ["patient_bundles"]

_SYSTEM_OF = {vocabulary: system for system, vocabulary in SYSTEMS.items()}


def patient_bundles(
    source: OmopSource, concepts: ConceptMap, person_ids: list[int], as_of: date
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(person_id, FHIR Bundle) for each of ``person_ids``, as of the screening date ``as_of``."""
    chosen = sorted(set(person_ids))
    rows = {name: _rows(source, name, chosen) for name in ("person", "measurement", "observation")}
    rows["condition_occurrence"] = _rows(source, "condition_occurrence", chosen)
    codes = _concept_codes(source, rows)
    ucum = ucum_codes(
        source,
        concepts,
        {
            int(r["unit_concept_id"])
            for t in ("measurement", "observation")
            for r in rows[t]
            if r["unit_concept_id"]
        },
    )
    by_person: dict[int, list[dict[str, Any]]] = {pid: [] for pid in chosen}
    for row in sorted(rows["measurement"], key=lambda r: int(r["measurement_id"])):
        by_person[int(row["person_id"])].append(_observation(row, "m", "measurement", codes, ucum))
    for row in sorted(rows["observation"], key=lambda r: int(r["observation_id"])):
        concept = codes.get(int(row["observation_concept_id"] or 0))
        if concept is not None and concept[0] == "SNOMED":
            by_person[int(row["person_id"])].append(_finding(row, concept))
        else:
            by_person[int(row["person_id"])].append(_observation(row, "o", "observation", codes, ucum))
    for row in sorted(rows["condition_occurrence"], key=lambda r: int(r["condition_occurrence_id"])):
        by_person[int(row["person_id"])].append(_condition(row, codes, as_of))
    for person in rows["person"]:
        pid = int(person["person_id"])
        entries = [_patient(person, concepts), *by_person.get(pid, [])]
        yield (
            pid,
            {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": e} for e in entries]},
        )


def _rows(source: OmopSource, name: str, person_ids: list[int]) -> list[dict[str, Any]]:
    table = source.table(name)
    return list(table.filter(table.person_id.isin(person_ids)).to_pyarrow().to_pylist())


def _concept_codes(source: OmopSource, rows: dict[str, list[dict[str, Any]]]) -> dict[int, tuple[str, str]]:
    """Concept id -> (vocabulary, code) for every concept the rows use."""
    ids: set[int] = set()
    for name, columns in (
        ("measurement", ("measurement_concept_id", "value_as_concept_id")),
        ("observation", ("observation_concept_id", "value_as_concept_id")),
        ("condition_occurrence", ("condition_concept_id", "condition_source_concept_id")),
    ):
        ids.update(int(r[c]) for r in rows[name] for c in columns if r.get(c))
    if not ids or not source.has("concept"):
        return {}
    concept = source.table("concept")
    found = concept.filter(concept.concept_id.isin(sorted(ids))).select(
        "concept_id", "vocabulary_id", "concept_code"
    )
    return {
        int(r["concept_id"]): (str(r["vocabulary_id"]), str(r["concept_code"]))
        for r in found.to_pyarrow().to_pylist()
    }


def _coding(concept: tuple[str, str] | None, concept_id: int) -> dict[str, str]:
    if concept is None or concept[0] not in _SYSTEM_OF:
        return {"system": "https://ohdsi.org/omop/concept", "code": str(concept_id)}
    return {"system": _SYSTEM_OF[concept[0]], "code": concept[1]}


def _day(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, date) else str(value)


def _patient(person: dict[str, Any], concepts: ConceptMap) -> dict[str, Any]:
    gender_id = int(person["gender_concept_id"] or 0)
    gender = "male" if gender_id in concepts.male else "female" if gender_id in concepts.female else "unknown"
    resource: dict[str, Any] = {"resourceType": "Patient", "id": str(person["person_id"]), "gender": gender}
    year, month, day = person.get("year_of_birth"), person.get("month_of_birth"), person.get("day_of_birth")
    if person.get("birth_datetime") is not None:
        resource["birthDate"] = _day(person["birth_datetime"])
    elif year is not None and month is not None and day is not None:
        resource["birthDate"] = date(int(year), int(month), int(day)).isoformat()
    elif year is not None:
        resource["birthDate"] = f"{int(year):04d}"
    return resource


def _number(value: Any) -> float | int:
    number = float(value)
    return int(number) if number.is_integer() else number


def _observation(
    row: dict[str, Any], prefix: str, table: str, codes: dict[int, tuple[str, str]], ucum: dict[int, str]
) -> dict[str, Any]:
    concept_id = int(row[f"{table}_concept_id"] or 0)
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"{prefix}{row[f'{table}_id']}",
        "status": "final",
        "code": {"coding": [_coding(codes.get(concept_id), concept_id)]},
        "subject": {"reference": f"Patient/{row['person_id']}"},
    }
    when = _day(row.get(f"{table}_date"))
    if when is not None:
        resource["effectiveDateTime"] = when
    answer = int(row.get("value_as_concept_id") or 0)
    if row.get("value_as_number") is not None:
        unit = unit_code(row.get("unit_concept_id"), row.get("unit_source_value"), ucum)
        quantity: dict[str, Any] = {"value": _number(row["value_as_number"])}
        if unit is not None:
            quantity.update({"unit": unit, "system": "http://unitsofmeasure.org", "code": unit})
        resource["valueQuantity"] = quantity
        if row.get("range_high") is not None:
            high = {**quantity, "value": _number(row["range_high"])}
            resource["referenceRange"] = [{"high": high}]
    elif answer:
        resource["valueCodeableConcept"] = {"coding": [_coding(codes.get(answer), answer)]}
    elif row.get("value_as_string") is not None:
        resource["valueString"] = str(row["value_as_string"])
    return resource


def _finding(row: dict[str, Any], concept: tuple[str, str]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"o{row['observation_id']}",
        "code": {"coding": [{"system": _SYSTEM_OF["SNOMED"], "code": concept[1]}]},
        "subject": {"reference": f"Patient/{row['person_id']}"},
    }
    when = _day(row.get("observation_date"))
    if when is not None:
        resource["onsetDateTime"] = when
    return resource


def _condition(row: dict[str, Any], codes: dict[int, tuple[str, str]], as_of: date) -> dict[str, Any]:
    codings = []
    for column in ("condition_concept_id", "condition_source_concept_id"):
        concept_id = int(row.get(column) or 0)
        if concept_id:
            codings.append(_coding(codes.get(concept_id), concept_id))
    end = row.get("condition_end_date")
    ended = end is not None and (end.date() if isinstance(end, datetime) else end) <= as_of
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"c{row['condition_occurrence_id']}",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "resolved" if ended else "active",
                }
            ]
        },
        "code": {"coding": codings},
        "subject": {"reference": f"Patient/{row['person_id']}"},
    }
    when = _day(row.get("condition_start_date"))
    if when is not None:
        resource["onsetDateTime"] = when
    return resource
