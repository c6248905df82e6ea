"""``celltrial audit``: verify the hash chain, show a subject's history."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from celltrial.database import Base
from celltrial.errors import NotFound
from celltrial.study.audit import service as audit
from celltrial.study.audit.models import AuditEntryRead
from celltrial.study.console import DB_OPTION, command_session

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)


@audit_app.command("verify")
def verify(db: str | None = DB_OPTION, as_json: bool = typer.Option(False, "--json")) -> None:
    """Recompute the hash chain: "OK, N entries", or the first broken entry and exit code 1."""
    with command_session(db) as session:
        report = audit.verify(session)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "count": report.count,
                    "first_broken_id": report.first_broken_id,
                    "problem": report.problem,
                }
            )
        )
    else:
        typer.echo(str(report))
    if not report.ok:
        raise typer.Exit(1)


def _subject_id(session: Session, subject: str) -> int:
    """The id of the subject named by its subject number, screening number or id."""
    table = Base.metadata.tables.get("subject")
    if table is None:
        if subject.isdigit():
            return int(subject)
        raise NotFound(f"no subject {subject!r}", field="subject")
    conditions = [table.c.subject_number == subject, table.c.screening_number == subject]
    if subject.isdigit():
        conditions.append(table.c.id == int(subject))
    found = session.execute(select(table.c.id).where(or_(*conditions))).first()
    if found is None:
        raise NotFound(
            f"no subject {subject!r} (give its subject number, screening number or id)", field="subject"
        )
    return int(found[0])


@audit_app.command("show")
def show(
    subject: str = typer.Argument(..., help="Subject number (e.g. S01-001), screening number or id."),
    db: str | None = DB_OPTION,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Print a subject's audit history, oldest first."""
    with command_session(db) as session:
        subject_id = _subject_id(session, subject)
        entries = [AuditEntryRead.model_validate(e) for e in audit.history(session, subject_id=subject_id)]
    if as_json:
        typer.echo(json.dumps([entry.model_dump(mode="json") for entry in entries]))
        return
    table = Table(title=f"Audit trail of subject {subject} ({len(entries)} entries)")
    for heading in ("#", "when (UTC)", "who", "what", "record", "field", "old", "new", "reason"):
        table.add_column(heading)
    for e in entries:
        table.add_row(
            str(e.id), e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action, f"{e.entity} {e.entity_id}",
            e.field or "", e.old_value or "", e.new_value or "", e.reason or "",
        )  # fmt: skip
    Console(soft_wrap=True).print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
