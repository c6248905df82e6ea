"""FHIR R4 export of the trial as one Bundle (type ``collection``), validated with fhir.resources (R4B).

Resources: the ResearchStudy (from the registry record), per subject a pseudonymised Patient
(identifier ``STUDYID-SITEID-SUBJID``, sex, birth year only, date of death; tagged PSEUDED),
a ResearchSubject with its status, each Consent, each AdverseEvent (CTCAE or ASTCT grade as an
extension), Observations (laboratory results with LOINC codes, disease responses) and Procedures
(leukapheresis, CAR-T infusion, identified by the chain of identity number and the ISBT 128 DINs
of the collection or of the bags infused). Every entry has a ``urn:uuid`` fullUrl derived from the study
and the record, and every reference points at an entry of the same Bundle
(:func:`unresolved_references` checks it). A draft (unlocked data) carries the meta tag ``draft``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from celltrial.errors import InvalidInput
from celltrial.reporting.sdtm.common import usubjid
from celltrial.reporting.sdtm.events import grading_scale
from celltrial.reporting.trialdata import SubjectRecord, TrialData

__all__ = ["build_bundle", "unresolved_references", "write_fhir"]

EXTENSION = "urn:celltrial:fhir:extension"
IDENTIFIER_SYSTEM = "urn:celltrial:usubjid"
_STUDY_STATUS = {
    "NOT_YET_RECRUITING": "approved",
    "RECRUITING": "active",
    "ENROLLING_BY_INVITATION": "active",
    "ACTIVE_NOT_RECRUITING": "closed-to-accrual",
    "SUSPENDED": "temporarily-closed-to-accrual",
    "TERMINATED": "administratively-completed",
    "COMPLETED": "completed",
    "WITHDRAWN": "withdrawn",
}
_SUBJECT_STATUS = {
    "screening": "screening",
    "screen_failed": "ineligible",
    "enrolled": "on-study",
    "apheresed": "on-study",
    "infused": "on-study-intervention",
    "in_follow_up": "follow-up",
    "completed": "off-study",
    "withdrawn": "withdrawn",
    "lost_to_follow_up": "off-study",
    "died": "off-study",
}
_OUTCOMES = {
    "recovered": "resolved",
    "recovering": "recovering",
    "not_recovered": "ongoing",
    "recovered_with_sequelae": "resolvedWithSequelae",
    "fatal": "fatal",
    "unknown": "unknown",
}
LOINC = {
    "wbc": "6690-2",
    "anc": "751-8",
    "alc": "731-0",
    "hemoglobin": "718-7",
    "platelets": "777-3",
    "creatinine": "2160-0",
    "total_bilirubin": "1975-2",
    "alt": "1742-6",
    "ast": "1920-8",
    "ldh": "2532-0",
    "crp": "1988-5",
    "ferritin": "2276-4",
    "fibrinogen": "3255-7",
    "il6": "26881-3",
}
"""LOINC codes of the labs CRF's fields (serum/plasma or blood, mass or count concentration)."""


def _uuid(data: TrialData, kind: str, key: object) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'celltrial:{data.nct_id}:{kind}:{key}')}"


def _ref(url: str) -> dict[str, str]:
    return {"reference": url}


def _instant(value: object) -> str:
    """A stored date or date-time as FHIR dateTime (a time always with its zone, UTC when none)."""
    text = str(value)
    if "T" not in text:
        return date.fromisoformat(text[:10]).isoformat()
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _study(data: TrialData) -> dict[str, Any]:
    section = data.record.protocol_section
    phases = (section.design_module.phases or ["NA"]) if section.design_module else ["NA"]
    phase = {
        "NA": "n-a",
        "EARLY_PHASE1": "early-phase-1",
        "PHASE1": "phase-1",
        "PHASE2": "phase-2",
        "PHASE3": "phase-3",
        "PHASE4": "phase-4",
    }[phases[0]]
    conditions = section.conditions_module.conditions or [] if section.conditions_module else []
    arms = section.arms_interventions_module.arm_groups or [] if section.arms_interventions_module else []
    return {
        "resourceType": "ResearchStudy",
        "identifier": [{"system": "https://clinicaltrials.gov", "value": data.nct_id}],
        "title": data.record.brief_title,
        "status": _STUDY_STATUS.get(data.status, "active"),
        "phase": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/research-study-phase", "code": phase}
            ]
        },
        "condition": [{"text": condition} for condition in conditions],
        "arm": [{"name": arm.label, "description": arm.description} for arm in arms],
        "description": (section.description_module.brief_summary if section.description_module else None),
    }


def _patient(data: TrialData, subject: SubjectRecord, died: str | None) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "meta": {
            "security": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                    "code": "PSEUDED",
                    "display": "pseudonymized",
                }
            ]
        },
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": usubjid(data.nct_id, subject)}],
        "gender": subject.sex if subject.sex in {"female", "male"} else "unknown",
        "birthDate": str(subject.birth_year),
    }
    if died:
        patient["deceasedDateTime"] = died
    return patient


def _subject_resources(
    data: TrialData, subject: SubjectRecord, study: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    from celltrial.reporting.sdtm.subjects import death_date

    died = death_date(data, subject)
    patient = _uuid(data, "patient", subject.id)
    yield patient, _patient(data, subject, died.isoformat() if died else None)
    consents = [c for c in data.consents if c.subject_id == subject.id]
    for consent in consents:
        yield (
            _uuid(data, "consent", consent.id),
            {
                "resourceType": "Consent",
                "status": "inactive" if consent.withdrawn_at else "active",
                "scope": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "research"}
                    ]
                },
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://loinc.org",
                                "code": "57016-8",
                                "display": "Privacy policy acknowledgment Document",
                            }
                        ],
                        "text": f"Informed consent to {data.nct_id}",
                    }
                ],
                "patient": _ref(patient),
                "dateTime": consent.signed_at.isoformat(),
                "policyRule": {
                    "text": f"Informed consent form version {consent.icf_version} ({consent.signer})"
                },
            },
        )
    research_subject: dict[str, Any] = {
        "resourceType": "ResearchSubject",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": usubjid(data.nct_id, subject)}],
        "status": _SUBJECT_STATUS[subject.status],
        "study": _ref(study),
        "individual": _ref(patient),
    }
    start = subject.enrolment_date or (consents[0].signed_at.date() if consents else None)
    if start:
        research_subject["period"] = {"start": start.isoformat()}
    if subject.subject_number:
        research_subject["assignedArm"] = "CD7 CAR-T"
    if subject.infusion_date:
        research_subject["actualArm"] = "CD7 CAR-T"
    if consents:
        research_subject["consent"] = _ref(_uuid(data, "consent", consents[-1].id))
    yield _uuid(data, "research-subject", subject.id), research_subject
    for event in (e for e in data.adverse_events if e.subject_id == subject.id):
        coding = (
            [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/mdr",
                    "code": event.meddra_code,
                    "display": event.term,
                }
            ]
            if event.meddra_code
            else []
        )
        yield (
            _uuid(data, "adverse-event", event.id),
            {
                "resourceType": "AdverseEvent",
                "extension": [
                    {"url": f"{EXTENSION}/toxicity-grade", "valueInteger": event.grade},
                    {"url": f"{EXTENSION}/grading-scale", "valueString": grading_scale(event)},
                ],
                "actuality": "actual",
                "event": {"coding": coding, "text": event.term},
                "subject": _ref(patient),
                "date": event.onset_date.isoformat(),
                "seriousness": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness",
                            "code": "serious" if event.serious else "non-serious",
                        }
                    ]
                },
                "outcome": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/adverse-event-outcome",
                            "code": _OUTCOMES[event.outcome],
                        }
                    ]
                },
                "study": [_ref(study)],
            },
        )
    yield from _observations(data, subject, patient)
    yield from _procedures(data, subject, patient)


def _observations(
    data: TrialData, subject: SubjectRecord, patient: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    from celltrial.study.forms.dictionary import form_definition

    labs = form_definition("labs")
    for form in data.forms_of("labs", subject.id):
        for field, code in LOINC.items():
            value = form.data.get(field)
            if value is None:
                continue
            unit = labs.field(field).unit
            yield (
                _uuid(data, "observation", f"{form.id}.{field}"),
                {
                    "resourceType": "Observation",
                    "status": "final",
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                    "code": "laboratory",
                                }
                            ]
                        }
                    ],
                    "code": {
                        "coding": [{"system": "http://loinc.org", "code": code}],
                        "text": labs.field(field).label,
                    },
                    "subject": _ref(patient),
                    "effectiveDateTime": _instant(form.data.get("collection_date")),
                    "valueQuantity": {
                        "value": value,
                        "unit": unit,
                        "system": "http://unitsofmeasure.org",
                        "code": unit,
                    },
                },
            )
    for form in data.forms_of("response", subject.id):
        result = form.data.get("overall_response")
        if result is None:
            continue
        yield (
            _uuid(data, "observation", f"{form.id}.overall_response"),
            {
                "resourceType": "Observation",
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "exam",
                            }
                        ]
                    }
                ],
                "code": {"text": "Overall disease response"},
                "subject": _ref(patient),
                "effectiveDateTime": _instant(form.data.get("assessment_date")),
                "valueCodeableConcept": {
                    "coding": [{"system": "urn:celltrial:response", "code": str(result)}],
                    "text": str(result).upper(),
                },
            },
        )


def _product_identifiers(data: TrialData, subject: SubjectRecord, code: str) -> list[dict[str, str]]:
    """The chain of identity number and the ISBT 128 DINs of the collection or of the bags infused."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for product in (p for p in data.products if p.subject_id == subject.id):
        found[("coi", product.coi_number)] = {
            "system": "urn:celltrial:chain-of-identity",
            "value": product.coi_number,
        }
        dins = [product.collection_din] if code == "apheresis" else [din for din, _ in product.infused_bags]
        for din in dins:
            found[("din", din)] = {"system": "urn:celltrial:isbt128-din", "value": din}
    return list(found.values())


def _procedures(
    data: TrialData, subject: SubjectRecord, patient: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    for code, label, when in (
        ("apheresis", "Leukapheresis for CAR-T manufacturing", "collection_date"),
        ("infusion", "CD7 CAR-T cell infusion", "infusion_datetime"),
    ):
        for form in data.forms_of(code, subject.id):
            if form.data.get(when) is None:
                continue
            procedure: dict[str, Any] = {
                "resourceType": "Procedure",
                "status": "completed",
                "code": {"text": label},
                "subject": _ref(patient),
                "performedDateTime": _instant(form.data[when]),
            }
            identifiers = _product_identifiers(data, subject, code)
            if identifiers:
                procedure["identifier"] = identifiers
            yield _uuid(data, "procedure", form.id), procedure


def _validated(resource: dict[str, Any], where: str) -> dict[str, Any]:
    kind = get_fhir_model_class(resource["resourceType"])
    try:
        model = kind.model_validate(resource)
    except ValidationError as error:
        first = error.errors()[0]
        path = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(
            f"invalid {resource['resourceType']}: {first['msg']}", field=f"{where}.{path}"
        ) from None
    return json.loads(model.model_dump_json(exclude_none=True))  # type: ignore[no-any-return]


def build_bundle(data: TrialData) -> dict[str, Any]:
    """The Bundle: its envelope and every resource validated by their fhir.resources models."""
    study = _uuid(data, "research-study", data.nct_id)
    entries = [(study, _study(data))]
    for subject in data.subjects:
        entries += list(_subject_resources(data, subject, study))
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": data.extracted_at.isoformat(),
        "entry": [{"fullUrl": url} for url, _ in entries],
    }
    if data.draft:
        bundle["meta"] = {
            "tag": [
                {
                    "system": "urn:celltrial:export",
                    "code": "draft",
                    "display": "Draft: extract of unlocked data",
                }
            ]
        }
    shell = _validated(bundle, "Bundle")  # each resource is validated on its own below, once
    for index, (entry, (_url, resource)) in enumerate(zip(shell["entry"], entries, strict=True)):
        entry["resource"] = _validated(resource, f"entry[{index}]")
    return shell


def unresolved_references(bundle: dict[str, Any]) -> list[str]:
    """Every reference in the Bundle that names no entry's fullUrl."""
    urls = {entry["fullUrl"] for entry in bundle.get("entry", [])}
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            reference = node.get("reference")
            if isinstance(reference, str) and reference not in urls:
                found.append(reference)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(bundle.get("entry", []))
    return found


def write_fhir(data: TrialData, path: Path) -> dict[str, int]:
    """Write the Bundle as JSON; return the count of each resource type."""
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder; name the bundle file to write", field="--out")
    bundle = build_bundle(data)
    dangling = unresolved_references(bundle)
    if dangling:
        raise InvalidInput(f"references outside the Bundle: {', '.join(dangling[:3])}", field="Bundle.entry")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    counts: dict[str, int] = {}
    for entry in bundle["entry"]:
        kind = entry["resource"]["resourceType"]
        counts[kind] = counts.get(kind, 0) + 1
    return counts
