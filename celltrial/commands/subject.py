"""``celltrial subject`` and ``celltrial screening``: screened patients, enrolment, the screening log.

Every command acts as a named study user (``--user`` or ``$CELLTRIAL_USER``): their role and
site decide what they may see and do. ``celltrial screening record FILE`` stores the result of
``celltrial screen FILE --json`` as a screening attempt, for a new patient (``--site``,
``--dob``, ``--sex``, ``--initials``) or an existing one (``--subject``).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput
from celltrial.jsoninput import read_json_file
from celltrial.study.consent import service as consents
from celltrial.study.console import DB_OPTION, command_session
from celltrial.study.screening import service as screenings
from celltrial.study.sites import service as sites
from celltrial.study.subjects import service as subjects
from celltrial.study.subjects.models import Subject
from celltrial.study.trial import service as trials
from celltrial.study.users import service as users
from celltrial.study.users.models import User
from celltrial.study.visits import service as visits

__all__ = ["acting_user", "parse_date", "register"]

subject_app = typer.Typer(help="Subjects: register, show, enrol, change status.", no_args_is_help=True)
screening_app = typer.Typer(
    help="Screening: record eligibility results, judge, the screening log.", no_args_is_help=True
)
USER_OPTION = typer.Option(
    None, "--user", envvar="CELLTRIAL_USER", help="The study user acting (default: $CELLTRIAL_USER)."
)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON.")
STUDY_OPTION = typer.Option(None, "--study", help="NCT id (default: the only study of the database).")


def register(app: typer.Typer) -> None:
    app.add_typer(subject_app, name="subject")
    app.add_typer(screening_app, name="screening")


def acting_user(session: Session, username: str | None) -> User:
    """The study user named by ``--user`` / ``$CELLTRIAL_USER``."""
    if not username or not username.strip():
        raise InvalidInput("name the study user acting with --user or CELLTRIAL_USER", field="--user")
    return users.get_by_username_or_raise(session, username=username)


def parse_date(value: str | None, option: str) -> date | None:
    """``YYYY-MM-DD`` or nothing; anything else is refused naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"expected a date YYYY-MM-DD, got {value!r}", field=option) from None


def _shown(subject: Subject, by: User) -> dict[str, Any]:
    return subjects.read(subject, by=by).model_dump(mode="json")


@subject_app.command("list")
def list_subjects(
    status: str | None = typer.Option(None, "--status", help="Only subjects in this status."),
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List the subjects you may see."""
    with command_session(db) as session:
        by = acting_user(session, user)
        rows = [_shown(subject, by) for subject in subjects.list_subjects(session, by=by, status=status)]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table("screening no.", "subject no.", "status", "enrolled", "infused")
    for row in rows:
        table.add_row(
            row["screening_number"],
            row["subject_number"] or "",
            row["status"],
            row["enrolment_date"] or "",
            row["infusion_date"] or "",
        )
    Console(highlight=False).print(table)


@subject_app.command("show")
def show(
    number: str = typer.Argument(..., help="Subject or screening number, e.g. S01-001 or S01-S001."),
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
    on: str | None = typer.Option(None, "--today", help="Flag visits as of this date (default: today)."),
) -> None:
    """Show a subject: status, consent, latest screening and visits with their flags."""
    today = parse_date(on, "--today") or date.today()
    with command_session(db) as session:
        by = acting_user(session, user)
        subject = subjects.find(session, number=number, by=by)
        shown = _shown(subject, by)
        shown["consents"] = [
            c.model_dump(mode="json") for c in consents.history(session, subject_id=subject.id, by=by)
        ]
        latest = screenings.latest(session, subject_id=subject.id)
        shown["screening"] = (
            screenings.read(session, attempt=latest, by=by).model_dump(mode="json", exclude={"snapshot"})
            if latest
            else None
        )
        shown["visits"] = [
            v.model_dump(mode="json")
            for v in visits.list_visits(session, subject_id=subject.id, today=today, by=by)
        ]
    if as_json:
        typer.echo(json.dumps(shown))
        return
    typer.echo(f"{shown['subject_number'] or shown['screening_number']}  {shown['status']}")
    if "initials" in shown:
        typer.echo(f"  initials {shown['initials']}, born {shown['date_of_birth']}, {shown['sex']}")
    for consent in shown["consents"]:
        state = f"withdrawn {consent['withdrawn_at']}" if consent["withdrawn_at"] else "in force"
        typer.echo(
            f"  consent ICF {consent['icf_version']} signed {consent['signed_at']} "
            f"by {consent['signer']}: {state}"
        )
    if shown["screening"]:
        screening = shown["screening"]
        reasons = ", ".join(screening["screen_fail_reasons"]) or "none"
        typer.echo(
            f"  screening attempt {screening['attempt']} on {screening['screening_date']}: "
            f"{screening['decision']} (screen-fail reasons: {reasons})"
        )
    for visit in shown["visits"]:
        flags = [name for name in ("out_of_window", "missed") if visit[name]]
        window = f"{visit['window_start']}..{visit['window_end']}" if visit["window_start"] else "undated"
        typer.echo(
            f"  {visit['code']:<9} target {visit['target_date'] or '-'} window {window} "
            f"done {visit['actual_date'] or '-'}{' PROVISIONAL' if visit['provisional'] else ''}"
            f"{' ' + ' '.join(flag.upper() for flag in flags) if flags else ''}"
        )


@subject_app.command("register")
def register_subject(
    site: str = typer.Option(..., "--site", help="Site code, e.g. S01."),
    dob: str = typer.Option(..., "--dob", help="Date of birth YYYY-MM-DD."),
    sex: str = typer.Option(..., "--sex", help="female or male."),
    initials: str = typer.Option(..., "--initials", help="2-4 letters."),
    study: str | None = STUDY_OPTION,
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Register a newly screened patient; prints the screening number."""
    with command_session(db) as session:
        by = acting_user(session, user)
        subject = subjects.register(
            session,
            study_id=trials.the_study(session, nct_id=study).id,
            site_id=sites.get_by_code_or_raise(session, code=site).id,
            date_of_birth=parse_date(dob, "--dob"),  # type: ignore[arg-type]
            sex=sex,
            initials=initials,
            by=by,
        )
        number = subject.screening_number
    typer.echo(f"registered {number}")


@subject_app.command("enrol")
def enrol(
    number: str = typer.Argument(..., help="Screening number, e.g. S01-S001."),
    on: str | None = typer.Option(None, "--date", help="Enrolment date YYYY-MM-DD (default: today)."),
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Enrol an eligible, consented subject; prints the subject number."""
    with command_session(db) as session:
        by = acting_user(session, user)
        subject = subjects.find(session, number=number, by=by)
        subjects.enrol(session, subject_id=subject.id, by=by, on=parse_date(on, "--date"))
        assigned = subject.subject_number
    typer.echo(f"enrolled {number} as {assigned}")


@subject_app.command("status")
def status(
    number: str = typer.Argument(..., help="Subject number."),
    new: str = typer.Argument(
        ..., help="apheresed, infused, in_follow_up, completed, withdrawn, lost_to_follow_up, died."
    ),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the audit trail)."),
    on: str | None = typer.Option(None, "--date", help="The infusion date, for infused."),
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Move a subject along the trial path."""
    with command_session(db) as session:
        by = acting_user(session, user)
        subject = subjects.find(session, number=number, by=by)
        subjects.change_status(
            session, subject_id=subject.id, status=new, reason=reason, on=parse_date(on, "--date"), by=by
        )
        now = subject.status.value
    typer.echo(f"{number} is now {now}")


def _read_result(file: Path) -> dict[str, Any]:
    data = read_json_file(file)
    if not isinstance(data, dict):
        raise InvalidInput("an eligibility result is a JSON object", field=file.name)
    return data


@screening_app.command("record")
def record(
    file: Path = typer.Argument(..., help="The output of `celltrial screen FILE --json`."),
    subject_number: str | None = typer.Option(None, "--subject", help="An already registered subject."),
    site: str | None = typer.Option(None, "--site", help="Site of a new patient, e.g. S01."),
    dob: str | None = typer.Option(None, "--dob", help="New patient's date of birth YYYY-MM-DD."),
    sex: str | None = typer.Option(None, "--sex", help="New patient's sex: female or male."),
    initials: str | None = typer.Option(None, "--initials", help="New patient's initials."),
    rule_set_version: str | None = typer.Option(
        None, "--rule-set-version", help="Rules that produced the result (default: the file's rules_version)."
    ),
    study: str | None = STUDY_OPTION,
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Store an eligibility result as a screening attempt (a new patient, or a re-screening)."""
    result = _read_result(file)
    if subject_number is None:
        missing = [
            name
            for name, value in (("--site", site), ("--dob", dob), ("--sex", sex), ("--initials", initials))
            if not value
        ]
        if missing:
            raise InvalidInput(
                f"a new patient needs {', '.join(missing)} (or give --subject)", field=missing[0]
            )
    with command_session(db) as session:
        by = acting_user(session, user)
        if subject_number is not None:
            subject = subjects.find(session, number=subject_number, by=by)
        else:
            subject = subjects.register(
                session,
                study_id=trials.the_study(session, nct_id=study).id,
                site_id=sites.get_by_code_or_raise(session, code=site or "").id,
                date_of_birth=parse_date(dob, "--dob"),  # type: ignore[arg-type]
                sex=sex or "",
                initials=initials or "",
                by=by,
            )
        attempt = screenings.record(
            session, subject_id=subject.id, result=result, by=by, rule_set_version=rule_set_version
        )
        shown = screenings.read(session, attempt=attempt, by=by).model_dump(mode="json", exclude={"snapshot"})
        shown["screening_number"] = subject.screening_number
        shown["subject_status"] = subject.status.value
    if as_json:
        typer.echo(json.dumps(shown))
        return
    reasons = ", ".join(shown["screen_fail_reasons"]) or "none"
    typer.echo(
        f"{shown['screening_number']} screening attempt {shown['attempt']} on {shown['screening_date']}: "
        f"{shown['decision']} (screen-fail reasons: {reasons}); subject is {shown['subject_status']}"
    )


@screening_app.command("judge")
def judge(
    number: str = typer.Argument(..., help="Screening number."),
    criterion: str = typer.Argument(..., help="A needs_review criterion, e.g. I4."),
    answer: str = typer.Argument(..., help="met or not_met."),
    comment: str = typer.Option(..., "--comment", help="The grounds of the judgment."),
    reason: str | None = typer.Option(None, "--reason", help="Reason for changing an earlier judgment."),
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """The investigator's judgment of a criterion the rules left to them."""
    with command_session(db) as session:
        by = acting_user(session, user)
        subject = subjects.find(session, number=number, by=by)
        latest = screenings.latest(session, subject_id=subject.id)
        if latest is None:
            raise InvalidInput(f"{number} has no screening", field="number")
        attempt = screenings.judge(
            session,
            screening_id=latest.id,
            criterion_id=criterion,
            answer=answer,
            comment=comment,
            reason=reason,
            by=by,
        )
        decision = attempt.decision
    typer.echo(f"{number}: {criterion} judged {answer}; decision {decision}")


@screening_app.command("log")
def log(
    site: str | None = typer.Option(None, "--site", help="Only this site."),
    study: str | None = STUDY_OPTION,
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The screening log with screen-fail reasons, and the CONSORT enrolment counts."""
    with command_session(db) as session:
        by = acting_user(session, user)
        site_id = sites.get_by_code_or_raise(session, code=site).id if site else None
        rows = screenings.screening_log(
            session, study_id=trials.the_study(session, nct_id=study).id, by=by, site_id=site_id
        )
    counts = screenings.consort_counts(rows)
    if as_json:
        typer.echo(json.dumps({"log": [_row(row) for row in rows], "consort": counts}))
        return
    table = Table(
        "site", "screening no.", "subject no.", "attempts", "latest", "decision", "screen-fail reasons"
    )
    for row in rows:
        table.add_row(
            row.site,
            row.screening_number,
            row.subject_number or "",
            str(row.attempts),
            str(row.latest_screened),
            row.decision,
            ", ".join(row.screen_fail_reasons),
        )
    console = Console(highlight=False)
    console.print(table)
    console.print(
        f"assessed {counts['assessed']}, excluded {counts['excluded']}, pending {counts['pending']}, "
        f"enrolled {counts['enrolled']}"
    )


def _row(row: screenings.ScreeningLogRow) -> dict[str, Any]:
    return {
        "subject_id": row.subject_id,
        "site": row.site,
        "screening_number": row.screening_number,
        "subject_number": row.subject_number,
        "status": row.status,
        "attempts": row.attempts,
        "first_screened": row.first_screened.isoformat(),
        "latest_screened": row.latest_screened.isoformat(),
        "decision": row.decision,
        "screen_fail_reasons": list(row.screen_fail_reasons),
        "outstanding": list(row.outstanding),
    }
