"""Write a patient's eligibility facts as a FHIR R4 Bundle that ``read_bundle`` reads back.

Observations carry the fact's LOINC code when it has one, else its code in celltrial's
CodeSystem (``https://celltrial.org/fhir/CodeSystem/eligibility-facts``); present conditions
become Conditions coded in SNOMED CT (else celltrial's CodeSystem). An absent condition that
has a SNOMED CT or ICD-10-CM code is simply left out (absence in the record is absence); one
coded only in celltrial's CodeSystem becomes an Observation with ``valueBoolean: false``.
Facts with a problem are left out. Used to screen the same patient through both inputs and to
build test and benchmark bundles.
"""

from __future__ import annotations

from typing import Any

from celltrial.eligibility.facts import Fact, FactDefinition, PatientFacts, fact_catalogue
from celltrial.eligibility.fhir import CELLTRIAL_SYSTEM, LOINC, SNOMED, UCUM

__all__ = ["facts_to_bundle"]

_ANSWER_CODES = {
    "positive": (SNOMED, "10828004"),
    "negative": (SNOMED, "260385009"),
    "detected": (SNOMED, "260373001"),
    "not_detected": (SNOMED, "260415000"),
}


def _code(definition: FactDefinition) -> dict[str, Any]:
    if definition.type != "condition" and definition.loinc:
        return {"coding": [{"system": LOINC, "code": definition.loinc[0]}], "text": definition.text}
    if definition.type == "condition" and definition.snomed:
        return {"coding": [{"system": SNOMED, "code": definition.snomed[0]}], "text": definition.text}
    return {"coding": [{"system": CELLTRIAL_SYSTEM, "code": definition.celltrial}], "text": definition.text}


def _observation(fact: Fact, definition: FactDefinition, identifier: str, patient: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": identifier,
        "status": "final",
        "code": _code(definition),
        "subject": {"reference": patient},
    }
    if fact.date is not None:
        resource["effectiveDateTime"] = fact.date.isoformat()
    value = fact.value
    if definition.type == "quantity":
        resource["valueQuantity"] = {"value": value, "unit": fact.unit, "system": UCUM, "code": fact.unit}
        if fact.uln is not None:
            unit = fact.uln_unit or fact.unit
            resource["referenceRange"] = [
                {"high": {"value": fact.uln, "unit": unit, "system": UCUM, "code": unit}}
            ]
    elif definition.type == "count":
        resource["valueInteger"] = value
    elif isinstance(value, bool):
        resource["valueBoolean"] = value
    elif isinstance(value, str) and value in _ANSWER_CODES:
        system, code = _ANSWER_CODES[value]
        resource["valueCodeableConcept"] = {"coding": [{"system": system, "code": code}], "text": value}
    else:
        resource["valueCodeableConcept"] = {"coding": [{"system": CELLTRIAL_SYSTEM, "code": value}]}
    return resource


def _condition(fact: Fact, definition: FactDefinition, identifier: str, patient: str) -> dict[str, Any]:
    status = fact.status or "active"
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": identifier,
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]
        },
        "code": _code(definition),
        "subject": {"reference": patient},
    }
    if fact.date is not None:
        resource["onsetDateTime"] = fact.date.isoformat()
    return resource


def facts_to_bundle(facts: PatientFacts) -> dict[str, Any]:
    """A ``collection`` Bundle holding the patient and every usable fact."""
    patient_id = facts.patient_id or "patient"
    reference = f"Patient/{patient_id}"
    patient: dict[str, Any] = {"resourceType": "Patient", "id": patient_id}
    if facts.birth_date is not None and facts.birth_date.date is not None:
        patient["birthDate"] = facts.birth_date.date.isoformat()
    if facts.sex is not None and isinstance(facts.sex.value, str):
        patient["gender"] = facts.sex.value
    resources: list[dict[str, Any]] = [patient]
    catalogue = fact_catalogue()
    for name, recorded in facts.facts.items():
        definition = catalogue.facts[name]
        for index, fact in enumerate(recorded):
            if fact.problem is not None:
                continue
            identifier = f"{name.replace('_', '-')}-{index}"
            if definition.type != "condition":
                resources.append(_observation(fact, definition, identifier, reference))
            elif fact.value is True:
                resources.append(_condition(fact, definition, identifier, reference))
            elif not (definition.snomed or definition.icd10):
                resources.append(_observation(fact, definition, identifier, reference))
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }
