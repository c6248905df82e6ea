"""``celltrial report``: reports built from the study database (the DSMB report).

``report dsmb`` reads the trial as a stored user whose role may see safety and efficacy data
(sponsor, DSMB member, data manager: ``--user`` or ``$CELLTRIAL_USER``), analyses it at the data
cut-off and writes the PDF; the report handed out is recorded in the audit trail like an export.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from celltrial.commands.subject import JSON_OPTION, STUDY_OPTION, USER_OPTION, acting_user, parse_date
from celltrial.errors import InvalidInput
from celltrial.study.console import DB_OPTION, command_session

__all__ = ["register"]

report_app = typer.Typer(help="Reports from the study database: the DSMB report.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")


@report_app.command("dsmb")
def dsmb_command(
    out: Path = typer.Option(..., "--out", help="The PDF to write."),
    cutoff: str | None = typer.Option(
        None, "--cutoff", help="Data cut-off YYYY-MM-DD (default: the latest clinical date in the database)."
    ),
    user: str | None = USER_OPTION,
    study: str | None = STUDY_OPTION,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write the DSMB report (PDF): CONSORT, safety, stopping rule, efficacy, KM curves, kinetics."""
    from celltrial.reporting.dsmb_analyses import collect  # matplotlib and reportlab load when run
    from celltrial.reporting.dsmb_report import record_dsmb_report, write_dsmb_report

    if out.suffix.lower() != ".pdf":
        raise InvalidInput(f"the report is a PDF: name it *.pdf, not {out.name!r}", field="--out")
    if out.exists() and out.is_dir():
        raise InvalidInput(f"{out} is a folder", field="--out")
    cut = parse_date(cutoff, "--cutoff")
    with command_session(db) as session:
        by = acting_user(session, user)
        analyses = collect(session, by=by, cutoff=cut, nct_id=study)
        report = write_dsmb_report(analyses, out)
        record_dsmb_report(session, by=by, analyses=analyses, target=str(out), pages=report.pages)
    summary = {
        "out": str(out),
        "study": analyses.nct_id,
        "cutoff": analyses.cutoff.isoformat(),
        "draft": analyses.draft,
        "pages": report.pages,
        "infused": analyses.safety.subjects,
    }
    if as_json:
        typer.echo(json.dumps(summary))
        return
    draft = ", DRAFT (data not locked)" if analyses.draft else ""
    typer.echo(
        f"wrote {out}: DSMB report of {analyses.nct_id}, data cut-off {summary['cutoff']}, "
        f"{report.pages} pages, {analyses.safety.subjects} infused subjects{draft}"
    )
