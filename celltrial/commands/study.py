"""``celltrial study`` and ``celltrial consent``: the study's status, ICF versions, consents.

Commands act as a named study user (``--user`` or ``$CELLTRIAL_USER``).
"""

from __future__ import annotations

import json
from datetime import datetime

import typer

from celltrial.commands.subject import JSON_OPTION, STUDY_OPTION, USER_OPTION, acting_user, parse_date
from celltrial.errors import InvalidInput
from celltrial.study.consent import service as consents
from celltrial.study.console import DB_OPTION, command_session
from celltrial.study.subjects import service as subjects
from celltrial.study.trial import service as trials
from celltrial.study.trial.models import TrialRead

study_app = typer.Typer(
    help="The study: register a protocol, show and change its status.", no_args_is_help=True
)
consent_app = typer.Typer(help="Informed consent: ICF versions, consent, withdrawal.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(study_app, name="study")
    app.add_typer(consent_app, name="consent")


def _instant(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"expected a date and time like 2026-03-01T09:30+00:00, got {value!r}", field=option
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{value!r} has no time zone (add +00:00 or the site's offset)", field=option)
    return moment


@study_app.command("register")
def register_study(
    nct_id: str = typer.Argument(..., help="The protocol, e.g. NCT07008872."),
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Start running a protocol in this database (status from its registry record)."""
    with command_session(db) as session:
        trial = trials.register(session, nct_id=nct_id, by=acting_user(session, user))
        shown = f"{trial.nct_id} registered, status {trial.status}"
    typer.echo(shown)


@study_app.command("show")
def show(
    study: str | None = STUDY_OPTION,
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The study's status and how many subjects are enrolled."""
    with command_session(db) as session:
        acting_user(session, user)
        trial = trials.the_study(session, nct_id=study)
        shown = TrialRead.model_validate(trial).model_dump(mode="json")
        shown["enrolment_cap"] = trials.settings_of(trial).enrolment.cap.value
    if as_json:
        typer.echo(json.dumps(shown))
        return
    typer.echo(
        f"{shown['nct_id']}: {shown['status']} since {shown['status_changed_at']}, "
        f"{shown['enrolled_count']} of {shown['enrolment_cap']} enrolled"
    )


@study_app.command("status")
def status(
    new: str = typer.Argument(
        ..., help="RECRUITING, ACTIVE_NOT_RECRUITING, SUSPENDED, COMPLETED, TERMINATED, WITHDRAWN."
    ),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the audit trail)."),
    study: str | None = STUDY_OPTION,
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Change the study's overall status."""
    with command_session(db) as session:
        by = acting_user(session, user)
        trial = trials.change_status(
            session, study_id=trials.the_study(session, nct_id=study).id, status=new, reason=reason, by=by
        )
        shown = f"{trial.nct_id} is now {trial.status}"
    typer.echo(shown)


@consent_app.command("approve-icf")
def approve_icf(
    version: str = typer.Argument(..., help="ICF version label, e.g. 2.0."),
    approved_on: str = typer.Option(..., "--approved-on", help="Ethics approval date YYYY-MM-DD."),
    summary: str = typer.Option("", "--summary", help="What changed."),
    study: str | None = STUDY_OPTION,
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Record an ICF version approved by the ethics committee (it becomes the current one)."""
    with command_session(db) as session:
        by = acting_user(session, user)
        trial = trials.the_study(session, nct_id=study)
        icf = consents.approve_icf_version(
            session, study_id=trial.id, version=version, approved_on=parse_date(approved_on, "--approved-on"),  # type: ignore[arg-type]
            summary=summary, by=by,
        )  # fmt: skip
        waiting = [s.label for s in consents.needing_reconsent(session, study_id=trial.id, by=by)]
        label = icf.version
    typer.echo(f"ICF {label} is current; to re-consent: {', '.join(waiting) or 'nobody'}")


@consent_app.command("record")
def record(
    number: str = typer.Argument(..., help="Screening or subject number."),
    icf: str = typer.Option(..., "--icf", help="ICF version signed."),
    signed_at: str = typer.Option(
        ..., "--signed-at", help="When, with time zone, e.g. 2026-03-01T09:30+08:00."
    ),
    guardian: str | None = typer.Option(None, "--guardian", help="A minor's parent or guardian."),
    relationship: str | None = typer.Option(None, "--relationship", help="The guardian's relationship."),
    assent_at: str | None = typer.Option(None, "--assent-at", help="When the minor gave assent."),
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Record a signed consent (a guardian's with the minor's assent, under the protocol's adult age)."""
    with command_session(db) as session:
        by = acting_user(session, user)
        subject = subjects.find(session, number=number, by=by)
        consents.record_consent(
            session,
            subject_id=subject.id,
            icf_version=icf,
            signed_at=_instant(signed_at, "--signed-at"),  # type: ignore[arg-type]
            guardian_name=guardian,
            guardian_relationship=relationship,
            assent_at=_instant(assent_at, "--assent-at"),
            by=by,
        )
    typer.echo(f"{number}: consent on ICF {icf} recorded")


@consent_app.command("withdraw")
def withdraw(
    number: str = typer.Argument(..., help="Screening or subject number."),
    reason: str = typer.Option(..., "--reason", help="The subject's reason, as stated."),
    at: str | None = typer.Option(None, "--at", help="When, with time zone (default: now)."),
    user: str | None = USER_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Record the withdrawal of consent: data kept and marked, nothing new collected."""
    with command_session(db) as session:
        by = acting_user(session, user)
        subject = subjects.find(session, number=number, by=by)
        when = _instant(at, "--at") or datetime.now().astimezone()
        consents.withdraw(session, subject_id=subject.id, withdrawn_at=when, reason=reason, by=by)
        state = subject.status.value
    typer.echo(f"{number}: consent withdrawn; subject is {state}")
