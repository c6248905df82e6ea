"""ODM 1.3.2 export of a trial built through the services: schema-valid, counts, audit records, signatures."""

from __future__ import annotations

from pathlib import Path

from lxml import etree
from reporting_world import Trial
from sqlalchemy import func, select

from celltrial.reporting.odm import write_odm
from celltrial.reporting.odm_import import import_odm_forms
from celltrial.reporting.schemas import odm_schema
from celltrial.reporting.trialdata import load_trial_data
from celltrial.study.audit.models import AuditEntry
from celltrial.study.forms.dictionary import form_definitions, parse_form_definition
from celltrial.study.forms.models import FormInstance
from celltrial.study.signatures.models import Signature
from celltrial.study.subjects.models import Subject

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}


def test_the_odm_file_is_schema_valid_and_holds_every_subject_form_audit_record_and_signature(
    trial: Trial, tmp_path: Path
) -> None:
    trial.locked()
    path = tmp_path / "study.xml"
    result = trial.edc.run(lambda s: write_odm(s, load_trial_data(s, by=trial.edc["sponsor"]), path))
    document = etree.parse(str(path))
    assert odm_schema().validate(document)
    with trial.edc.sessions() as session:
        subjects = session.scalar(select(func.count()).select_from(Subject))
        saved = session.scalars(select(FormInstance.id).where(FormInstance.version > 0)).all()
        audited = session.scalar(
            select(func.count()).where(
                AuditEntry.entity == "form", AuditEntry.entity_id.in_([str(i) for i in saved])
            )
        )
        signatures = session.scalar(select(func.count()).select_from(Signature))
    assert len(document.findall(".//odm:SubjectData", NS)) == subjects == result.counts["subjects"]
    assert len(document.findall(".//odm:FormData", NS)) == len(saved)
    assert len(document.findall("odm:ClinicalData/odm:AuditRecords/odm:AuditRecord", NS)) == audited
    assert len(document.findall("odm:ClinicalData/odm:Signatures/odm:Signature", NS)) == signatures == 1
    changed = document.find(".//odm:ItemData[@ItemOID='I.vital_signs.heart_rate']", NS)
    assert changed is not None
    assert changed.get("Value") == "84"
    assert changed.findtext("odm:AuditRecord/odm:ReasonForChange", namespaces=NS) == "transcription error"
    assert document.find(".//odm:FormData[@FormOID='F.infusion']/odm:Signature", NS) is not None
    assert "DRAFT" not in document.getroot().get("Description", "")


def test_importing_the_exported_metadata_gives_back_every_shipped_form(trial: Trial, tmp_path: Path) -> None:
    trial.unlocked()
    path = tmp_path / "study.xml"
    trial.edc.run(lambda s: write_odm(s, load_trial_data(s, by=trial.edc["sponsor"], draft=True), path))
    assert "DRAFT" in etree.parse(str(path)).getroot().get("Description", "")
    written = import_odm_forms(path, tmp_path / "forms")
    imported = {p.stem: parse_form_definition(p.read_text(), origin=p.name) for p in written}
    assert imported == form_definitions()
