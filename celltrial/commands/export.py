"""``celltrial export``: SDTM, ODM, FHIR, ClinicalTrials.gov results and the registry record.

Each command acts as a study user whose role may run exports (``--user`` or ``$CELLTRIAL_USER``:
data manager or sponsor), reads the study database in one transaction, refuses unlocked data
unless ``--draft`` (draft output says so), and records the run in the audit trail (action
``export``) in the same transaction, so that an export that failed leaves no entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from sqlalchemy.orm import Session

from celltrial.commands.subject import JSON_OPTION, STUDY_OPTION, USER_OPTION, acting_user
from celltrial.errors import InvalidInput
from celltrial.study.console import DB_OPTION, command_session

if TYPE_CHECKING:  # the writers (pandas, pyreadstat, lxml, fhir.resources) load when an export runs
    from celltrial.reporting.trialdata import TrialData

__all__ = ["register"]

export_app = typer.Typer(
    help="Export the trial: CDISC SDTM and ODM, FHIR, ClinicalTrials.gov results and record.",
    no_args_is_help=True,
)
DRAFT_OPTION = typer.Option(False, "--draft", help="Export data that are not locked yet (marked DRAFT).")


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")


def _run(
    *,
    db: str | None,
    user: str | None,
    study: str | None,
    draft: bool,
    kind: str,
    target: str,
    write: Callable[[Session, TrialData], dict[str, Any]],
) -> dict[str, Any]:
    from celltrial.reporting.trialdata import load_trial_data, record_export

    with command_session(db) as session:
        by = acting_user(session, user)
        data = load_trial_data(session, by=by, nct_id=study, draft=draft)
        summary = write(session, data)
        record_export(session, by=by, data=data, kind=kind, target=target, summary=summary)
    return {"format": kind, "target": target, "draft": data.draft, **summary}


def _show(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result))
        return
    marker = " (DRAFT)" if result["draft"] else ""
    counts = ", ".join(f"{k} {v}" for k, v in result.get("counts", {}).items())
    typer.echo(f"{result['format']} export{marker} written to {result['target']}: {counts}")


@export_app.command("sdtm")
def sdtm(
    out: Path = typer.Option(..., "--out", help="Folder for the XPT files, define.xml and conformance.json."),
    draft: bool = DRAFT_OPTION,
    study: str | None = STUDY_OPTION,
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """SDTMIG 3.4 datasets as SAS transport v5 files with define.xml 2.1."""
    from celltrial.reporting.sdtm import write_sdtm

    findings: list[str] = []

    def write(_session: Session, data: TrialData) -> dict[str, Any]:
        result = write_sdtm(data, out)
        findings.extend(str(finding) for finding in result.findings)
        return {"counts": result.records, "conformance_findings": len(result.findings)}

    result = _run(db=db, user=user, study=study, draft=draft, kind="sdtm", target=str(out), write=write)
    _show(result, as_json)
    if findings:
        raise InvalidInput(
            f"{len(findings)} conformance findings (see conformance.json), first: {findings[0]}", field="sdtm"
        )


@export_app.command("odm")
def odm(
    out: Path = typer.Option(..., "--out", help="The ODM 1.3.2 XML file to write."),
    draft: bool = DRAFT_OPTION,
    study: str | None = STUDY_OPTION,
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """CDISC ODM 1.3.2: CRF metadata and clinical data with audit records and signatures."""
    from celltrial.reporting.odm import write_odm

    result = _run(
        db=db,
        user=user,
        study=study,
        draft=draft,
        kind="odm",
        target=str(out),
        write=lambda session, data: {"counts": write_odm(session, data, out).counts},
    )
    _show(result, as_json)


@export_app.command("fhir")
def fhir(
    out: Path = typer.Option(..., "--out", help="The FHIR Bundle (JSON) to write."),
    draft: bool = DRAFT_OPTION,
    study: str | None = STUDY_OPTION,
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """A FHIR R4 Bundle: ResearchStudy, subjects, patients, consents, adverse events, observations."""
    from celltrial.reporting.fhir_export import write_fhir

    result = _run(
        db=db,
        user=user,
        study=study,
        draft=draft,
        kind="fhir",
        target=str(out),
        write=lambda _session, data: {"counts": write_fhir(data, out)},
    )
    _show(result, as_json)


@export_app.command("ctgov-results")
def ctgov_results(
    out: Path = typer.Option(..., "--out", help="The results JSON to write."),
    draft: bool = DRAFT_OPTION,
    study: str | None = STUDY_OPTION,
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The ClinicalTrials.gov resultsSection, after the registry's data-quality checks."""
    from celltrial.reporting.ctgov_results import write_results

    def write(_session: Session, data: TrialData) -> dict[str, Any]:
        results = write_results(data, out)["resultsSection"]
        flow = results["participantFlowModule"]["periods"][0]["milestones"][0]["achievements"][0]
        return {
            "counts": {
                "started": int(flow["numSubjects"]),
                "outcome_measures": len(results["outcomeMeasuresModule"]["outcomeMeasures"]),
            }
        }

    result = _run(
        db=db, user=user, study=study, draft=draft, kind="ctgov-results", target=str(out), write=write
    )
    _show(result, as_json)


@export_app.command("ctgov-record")
def ctgov_record(
    out: Path | None = typer.Option(None, "--out", help="Write the record here (default: print it)."),
    study: str | None = STUDY_OPTION,
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """The registry record (CT.gov API v2 JSON) with the current status and enrolment."""
    from celltrial.reporting.ctgov_results import current_record

    record: dict[str, Any] = {}

    def write(_session: Session, data: TrialData) -> dict[str, Any]:
        record.update(current_record(data))
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        design = record["protocolSection"]["designModule"]["enrollmentInfo"]
        return {"status": record["protocolSection"]["statusModule"]["overallStatus"], "enrolment": design}

    _run(
        db=db,
        user=user,
        study=study,
        draft=True,
        kind="ctgov-record",
        target=str(out or "stdout"),
        write=write,
    )
    if out is None:
        typer.echo(json.dumps(record, indent=2, ensure_ascii=False))
    else:
        typer.echo(f"registry record written to {out}")
