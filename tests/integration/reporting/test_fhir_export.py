"""FHIR export of a trial built through the services: every resource valid, references resolve, counts."""

from __future__ import annotations

import json
from pathlib import Path

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from reporting_world import Trial
from sqlalchemy import func, select

from celltrial.reporting.fhir_export import unresolved_references, write_fhir
from celltrial.reporting.trialdata import load_trial_data
from celltrial.study.consent.models import Consent
from celltrial.study.safety.models import AdverseEvent
from celltrial.study.subjects.models import Subject


def test_the_bundle_reads_back_with_every_resource_valid_and_every_reference_inside_it(
    trial: Trial, tmp_path: Path
) -> None:
    trial.locked()
    path = tmp_path / "bundle.json"
    counts = trial.edc.run(lambda s: write_fhir(load_trial_data(s, by=trial.edc["sponsor"]), path))
    raw = json.loads(path.read_text())
    bundle = Bundle.model_validate(raw)
    assert bundle.type == "collection"
    for entry in raw["entry"]:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    assert unresolved_references(raw) == []
    with trial.edc.sessions() as session:
        subjects = session.scalar(select(func.count()).select_from(Subject))
        consents = session.scalar(select(func.count()).select_from(Consent))
        events = session.scalar(select(func.count()).select_from(AdverseEvent))
    assert counts["ResearchStudy"] == 1
    assert counts["Patient"] == counts["ResearchSubject"] == subjects
    assert counts["Consent"] == consents
    assert counts["AdverseEvent"] == events
    assert counts["Procedure"] == 4
    patients = [e["resource"] for e in raw["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert all("name" not in p and len(p["birthDate"]) == 4 for p in patients)
    statuses = sorted(
        e["resource"]["status"] for e in raw["entry"] if e["resource"]["resourceType"] == "ResearchSubject"
    )
    assert statuses == ["ineligible", "off-study", "on-study", "on-study-intervention"]
    assert "meta" not in raw or "tag" not in raw["meta"]
