"""CDISC ODM 1.3.2 export: the CRFs' metadata and every subject's data with audit records and signatures.

- Study: the metadata of every CRF (:mod:`celltrial.reporting.odm_metadata`).
- AdminData: the users who entered or signed data (login and printed name), the sites as
  Locations (plus ``LOC.CENTRAL`` for central staff) and one SignatureDef per signature meaning
  (21 CFR 11.50).
- ClinicalData: per subject (``SubjectKey`` is the pseudonymous ``STUDYID-SITEID-SUBJID``), its
  visits, forms and values. Each ItemData carries the AuditRecord of its last change (who, where,
  when, reason, the audit entry as SourceID); each signed FormData its last Signature. The full
  history of every form, and every signature, follow in ClinicalData's AuditRecords and
  Signatures collections (ODM 1.3.1+), each with an ID.

The document is checked against the ODM 1.3.2 schema (vendored, see ``schemas/NOTICE.txt``)
before it is written. A draft (unlocked data) says so in the ODM ``Description``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial import __version__
from celltrial.errors import InvalidInput
from celltrial.reporting.odm_metadata import ODM_NS, add_metadata, odm, oid_part
from celltrial.reporting.schemas import odm_schema, schema_errors
from celltrial.reporting.sdtm.common import usubjid
from celltrial.reporting.trialdata import FormRecord, TrialData
from celltrial.study.audit.models import AuditEntry
from celltrial.study.forms.dictionary import form_definitions
from celltrial.study.signatures.models import Signature
from celltrial.study.users.models import User

__all__ = ["OdmExport", "build_odm", "write_odm"]

MDV_OID = "MDV.CRF"
CENTRAL = "LOC.CENTRAL"


class OdmExport:
    """What the ODM export wrote: the file, and how many subjects, forms, audit records, signatures."""

    def __init__(self, path: Path, counts: dict[str, int], draft: bool) -> None:
        self.path, self.counts, self.draft = path, counts, draft


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e15 else repr(value)
    return str(value)


def _audit_record(parent: etree._Element, entry: AuditEntry, location: str, *, with_id: bool) -> None:
    record = etree.SubElement(parent, odm("AuditRecord"), {"ID": f"AR.{entry.id}"} if with_id else {})
    etree.SubElement(record, odm("UserRef"), {"UserOID": f"USR.{oid_part(entry.actor)}"})
    etree.SubElement(record, odm("LocationRef"), {"LocationOID": location})
    etree.SubElement(record, odm("DateTimeStamp")).text = _stamp(entry.at)
    if entry.reason:
        etree.SubElement(record, odm("ReasonForChange")).text = entry.reason
    what = f"{entry.action} {entry.field or entry.entity}"
    source = f"celltrial audit entry {entry.id} ({what}; sha256 {entry.hash})"
    etree.SubElement(record, odm("SourceID")).text = source


def _signature(parent: etree._Element, signature: Signature, location: str, *, with_id: bool) -> None:
    element = etree.SubElement(parent, odm("Signature"), {"ID": f"SG.{signature.id}"} if with_id else {})
    etree.SubElement(element, odm("UserRef"), {"UserOID": f"USR.{oid_part(signature.username)}"})
    etree.SubElement(element, odm("LocationRef"), {"LocationOID": location})
    etree.SubElement(element, odm("SignatureRef"), {"SignatureOID": f"SD.{signature.meaning}"})
    etree.SubElement(element, odm("DateTimeStamp")).text = _stamp(signature.signed_at)


def _history(session: Session, forms: list[FormRecord]) -> dict[int, list[AuditEntry]]:
    ids = {str(form.id) for form in forms}
    found: dict[int, list[AuditEntry]] = {}
    query = select(AuditEntry).where(AuditEntry.entity == "form").order_by(AuditEntry.id)
    for entry in session.scalars(query):
        if entry.entity_id in ids:
            found.setdefault(int(entry.entity_id), []).append(entry)
    return found


def _signatures(session: Session, forms: list[FormRecord]) -> dict[int, list[Signature]]:
    ids = {str(form.id) for form in forms}
    found: dict[int, list[Signature]] = {}
    for signature in session.scalars(
        select(Signature).where(Signature.entity == "form").order_by(Signature.id)
    ):
        if signature.entity_id in ids:
            found.setdefault(int(signature.entity_id), []).append(signature)
    return found


def _admin(root: etree._Element, session: Session, data: TrialData, usernames: set[str]) -> None:
    admin = etree.SubElement(root, odm("AdminData"), {"StudyOID": data.nct_id})
    people = {
        user.username: user for user in session.scalars(select(User).where(User.username.in_(usernames)))
    }
    sites = {site.id: site.code for site in data.sites}
    for username in sorted(usernames):
        user = etree.SubElement(admin, odm("User"), {"OID": f"USR.{oid_part(username)}"})
        etree.SubElement(user, odm("LoginName")).text = username
        person = people.get(username)
        etree.SubElement(user, odm("FullName")).text = person.full_name if person else username
        if person is not None and person.site_id in sites:
            etree.SubElement(user, odm("LocationRef"), {"LocationOID": f"LOC.{sites[person.site_id]}"})
    for oid, name in [(f"LOC.{site.code}", site.name) for site in data.sites] + [
        (CENTRAL, "Central study team")
    ]:
        location = etree.SubElement(
            admin, odm("Location"), {"OID": oid, "Name": name, "LocationType": "Site"}
        )
        etree.SubElement(
            location,
            odm("MetaDataVersionRef"),
            {
                "StudyOID": data.nct_id,
                "MetaDataVersionOID": MDV_OID,
                "EffectiveDate": data.extracted_on.isoformat(),
            },
        )
    for meaning in ("authored", "reviewed", "approved"):
        definition = etree.SubElement(
            admin, odm("SignatureDef"), {"OID": f"SD.{meaning}", "Methodology": "Electronic"}
        )
        etree.SubElement(definition, odm("Meaning")).text = meaning
        etree.SubElement(
            definition, odm("LegalReason")
        ).text = "Electronic signature under 21 CFR Part 11, bound to the record's content by SHA-256"


def _location(data: TrialData, site_code: str, actor: str, central: set[str]) -> str:
    return CENTRAL if actor in central or actor.startswith("console:") else f"LOC.{site_code}"


def build_odm(session: Session, data: TrialData) -> tuple[etree._ElementTree, dict[str, int]]:
    """The ODM document of ``data`` and counts of what it holds."""
    description = f"celltrial export of {data.nct_id}"
    if data.draft:
        description = f"DRAFT: unlocked data, not final. {description}"
    root = etree.Element(
        odm("ODM"),
        {
            "FileType": "Snapshot",
            "Granularity": "All",
            "FileOID": f"ODM.{data.nct_id}.{data.extracted_at:%Y%m%dT%H%M%S}",
            "CreationDateTime": _stamp(data.extracted_at),
            "ODMVersion": "1.3.2",
            "Originator": "celltrial",
            "SourceSystem": "celltrial",
            "SourceSystemVersion": __version__,
            "Description": description,
        },
        nsmap={None: ODM_NS},
    )
    study = etree.SubElement(root, odm("Study"), {"OID": data.nct_id})
    global_variables = etree.SubElement(study, odm("GlobalVariables"))
    etree.SubElement(global_variables, odm("StudyName")).text = data.nct_id
    etree.SubElement(global_variables, odm("StudyDescription")).text = data.record.brief_title
    etree.SubElement(global_variables, odm("ProtocolName")).text = data.nct_id
    definitions = list(form_definitions().values())
    add_metadata(study, oid=MDV_OID, definitions=definitions, schedule=data.settings.schedule)
    forms = list(data.forms)
    history, signed = _history(session, forms), _signatures(session, forms)
    central = {u.username for u in session.scalars(select(User).where(User.site_id.is_(None)))}
    usernames = {e.actor for entries in history.values() for e in entries}
    usernames |= {s.username for sigs in signed.values() for s in sigs}
    _admin(root, session, data, usernames)
    clinical = etree.SubElement(
        root, odm("ClinicalData"), {"StudyOID": data.nct_id, "MetaDataVersionOID": MDV_OID}
    )
    known = {d.code: d for d in definitions}
    counts = {"subjects": 0, "forms": 0, "items": 0, "audit_records": 0, "signatures": 0}
    for subject in data.subjects:
        subject_element = etree.SubElement(
            clinical, odm("SubjectData"), {"SubjectKey": usubjid(data.nct_id, subject)}
        )
        etree.SubElement(subject_element, odm("SiteRef"), {"LocationOID": f"LOC.{subject.site_code}"})
        counts["subjects"] += 1
        by_event: dict[tuple[str, str | None], list[FormRecord]] = {}
        for form in (f for f in forms if f.subject_id == subject.id and f.form_code in known):
            visit = data.visit(form.visit_id)
            key: tuple[str, str | None]
            if visit is None:
                key = ("LOG", None)
            elif visit.unscheduled:
                key = ("UNS", visit.code.removeprefix("UNS"))
            else:
                key = (oid_part(visit.code), None)
            by_event.setdefault(key, []).append(form)
        for (event, repeat), event_forms in by_event.items():
            attributes = {"StudyEventOID": f"SE.{event}"}
            if repeat:
                attributes["StudyEventRepeatKey"] = repeat
            event_element = etree.SubElement(subject_element, odm("StudyEventData"), attributes)
            for form in event_forms:
                counts["forms"] += 1
                form_element = etree.SubElement(
                    event_element,
                    odm("FormData"),
                    {"FormOID": f"F.{form.form_code}", "FormRepeatKey": str(form.sequence)},
                )
                entries = history.get(form.id, [])
                signatures = signed.get(form.id, [])
                if signatures:
                    last = signatures[-1]
                    _signature(
                        form_element,
                        last,
                        _location(data, subject.site_code, last.username, central),
                        with_id=False,
                    )
                group = etree.SubElement(
                    form_element, odm("ItemGroupData"), {"ItemGroupOID": f"IG.{form.form_code}"}
                )
                for field in known[form.form_code].fields:
                    value = form.data.get(field.name)
                    if value is None:
                        continue
                    counts["items"] += 1
                    item = etree.SubElement(
                        group,
                        odm("ItemData"),
                        {"ItemOID": f"I.{form.form_code}.{field.name}", "Value": _value(value)},
                    )
                    changes = [e for e in entries if e.field == f"{form.form_code}.{field.name}"]
                    if changes:
                        _audit_record(
                            item,
                            changes[-1],
                            _location(data, subject.site_code, changes[-1].actor, central),
                            with_id=False,
                        )
    records = etree.SubElement(clinical, odm("AuditRecords"))
    signatures_element = etree.SubElement(clinical, odm("Signatures"))
    codes = {subject.id: subject.site_code for subject in data.subjects}
    for form in forms:
        site = codes[form.subject_id]
        for entry in history.get(form.id, []):
            _audit_record(records, entry, _location(data, site, entry.actor, central), with_id=True)
            counts["audit_records"] += 1
        for signature in signed.get(form.id, []):
            _signature(
                signatures_element,
                signature,
                _location(data, site, signature.username, central),
                with_id=True,
            )
            counts["signatures"] += 1
    return etree.ElementTree(root), counts


def write_odm(session: Session, data: TrialData, path: Path) -> OdmExport:
    """Write the ODM file after checking it against the ODM 1.3.2 schema."""
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder; name the ODM file to write", field="--out")
    document, counts = build_odm(session, data)
    problems = schema_errors(odm_schema(), document)
    if problems:
        raise InvalidInput(
            f"the ODM document does not match the ODM 1.3.2 schema: {problems[0]}", field="odm"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    document.write(str(path), xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return OdmExport(path, counts, data.draft)
