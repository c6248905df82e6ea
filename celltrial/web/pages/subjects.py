"""Subjects: the list, registering a patient for screening, the casebook, consent, enrolment, status.

The casebook shows the visit timeline with windows and flags, each visit's forms with their
status, open queries and signature state, the log forms, consents and the latest screening.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from celltrial.errors import CelltrialError, InvalidInput
from celltrial.study.consent import service as consents
from celltrial.study.forms import service as forms
from celltrial.study.forms.dictionary import form_definitions
from celltrial.study.permissions import Action, allowed
from celltrial.study.screening import service as screenings
from celltrial.study.sites import service as sites
from celltrial.study.subjects import service as subjects
from celltrial.study.subjects.status import SUBJECT_TRANSITIONS, SubjectStatus
from celltrial.study.types import utcnow
from celltrial.study.visits import service as visits
from celltrial.web.api.study import running_trial
from celltrial.web.api.subjects import subject_out
from celltrial.web.casebook import casebook_forms
from celltrial.web.deps import Actor, DbSession, Viewer, Visitor, settings_of
from celltrial.web.pages.common import DONE, attempt, back_to
from celltrial.web.routing import UnitOfWorkRoute
from celltrial.web.templating import render

router = APIRouter(route_class=UnitOfWorkRoute)
_BY_HAND = (
    SubjectStatus.APHERESED,
    SubjectStatus.INFUSED,
    SubjectStatus.IN_FOLLOW_UP,
    SubjectStatus.COMPLETED,
    SubjectStatus.WITHDRAWN,
    SubjectStatus.LOST_TO_FOLLOW_UP,
    SubjectStatus.DIED,
    SubjectStatus.SCREEN_FAILED,
)


def parse_day(value: str, field: str) -> date:
    """A date typed into a date input."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date (YYYY-MM-DD)", field=field) from None


def parse_instant(value: str, field: str) -> datetime:
    """A date and time typed into a datetime-local input, read as UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date and time (YYYY-MM-DDTHH:MM, UTC)", field=field) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _list_page(
    request: Request, session: Session, visitor: Visitor, *, problem: CelltrialError | None = None
) -> Response:
    user = visitor.user
    trial = running_trial(session, settings_of(request))
    found = subjects.list_subjects(session, by=user, study_id=trial.id if trial else None)
    codes = {site.id: site.code for site in sites.get_all(session)}
    return render(
        request,
        "subjects.html",
        {
            "subjects": [subject_out(subject, by=user) for subject in found],
            "site_codes": codes,
            "can_register": trial is not None and allowed(user, Action.SCREENING_CREATE) and user.site_id,
            "problem": problem,
            "done": DONE.get(request.query_params.get("done", "")),
        },
        visitor=visitor,
        status_code=problem.http_status if problem else 200,
    )


@router.get("/subjects")
def subject_list(request: Request, session: DbSession, visitor: Viewer) -> Response:
    """The subjects the user may see, and (site staff) the form to register a patient."""
    return _list_page(request, session, visitor)


@router.post("/subjects")
def register(
    request: Request,
    session: DbSession,
    visitor: Actor,
    date_of_birth: Annotated[str, Form(max_length=20)] = "",
    sex: Annotated[str, Form(max_length=10)] = "",
    initials: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Register a patient of the user's site for screening."""
    trial = running_trial(session, settings_of(request))

    def act() -> int:
        if trial is None:
            raise InvalidInput("no study is running in this database", field="study")
        subject = subjects.register(
            session,
            study_id=trial.id,
            site_id=visitor.user.site_id or 0,
            date_of_birth=parse_day(date_of_birth, "date_of_birth"),
            sex=sex,
            initials=initials,
            by=visitor.user,
        )
        return subject.id

    outcome = attempt(session, act)
    if isinstance(outcome, CelltrialError):
        return _list_page(request, session, visitor, problem=outcome)
    return back_to(f"/subjects/{outcome}/screening", "registered")


def casebook(
    request: Request,
    session: Session,
    visitor: Visitor,
    subject_id: int,
    *,
    problem: CelltrialError | None = None,
) -> Response:
    """The casebook page of one subject (with ``problem`` shown when an action failed)."""
    user = visitor.user
    subject = subjects.get(session, subject_id=subject_id, by=user)
    today = utcnow().date()
    attempt_row = screenings.latest(session, subject_id=subject.id)
    screening = screenings.read(session, attempt=attempt_row) if attempt_row else None
    state = consents.consent_state(session, subject=subject)
    schedule = visits.list_visits(session, subject_id=subject.id, today=today, by=user)
    items = casebook_forms(session, subject_id=subject.id, by=user) if allowed(user, Action.FORM_VIEW) else []
    by_visit: dict[int | None, list[object]] = defaultdict(list)
    for item in items:
        by_visit[item.visit_id].append(item)
    can_enrol = (
        allowed(user, Action.SUBJECT_ENROL)
        and subject.status is SubjectStatus.SCREENING
        and screening is not None
        and screening.decision == "eligible"
        and state.valid
    )
    return render(
        request,
        "casebook.html",
        {
            "subject": subject_out(subject, by=user),
            "site": sites.get_or_raise(session, site_id=subject.site_id),
            "screening": screening,
            "consents": consents.history(session, subject_id=subject.id, by=user),
            "consent_state": state,
            "visits": schedule,
            "forms_by_visit": by_visit,
            "log_forms": by_visit.get(None, []),
            "repeating_forms": [d for d in form_definitions().values() if d.repeating],
            "can_consent": allowed(user, Action.CONSENT_RECORD) and not state.withdrawn,
            "can_enrol": can_enrol,
            "can_edit": allowed(user, Action.FORM_EDIT),
            "can_schedule": allowed(user, Action.VISIT_SCHEDULE),
            "can_audit": allowed(user, Action.AUDIT_VIEW),
            "next_statuses": [s for s in _BY_HAND if s in SUBJECT_TRANSITIONS[subject.status]]
            if allowed(user, Action.SUBJECT_STATUS)
            else [],
            "today": today,
            "problem": problem,
            "done": DONE.get(request.query_params.get("done", "")),
        },
        visitor=visitor,
        status_code=problem.http_status if problem else 200,
    )


@router.get("/subjects/{subject_id}")
def show_casebook(request: Request, session: DbSession, visitor: Viewer, subject_id: int) -> Response:
    """A subject's casebook."""
    return casebook(request, session, visitor, subject_id)


def _after(
    request: Request, session: Session, visitor: Visitor, subject_id: int, outcome: object, done: str
) -> Response:
    if isinstance(outcome, CelltrialError):
        return casebook(request, session, visitor, subject_id, problem=outcome)
    return back_to(f"/subjects/{subject_id}", done)


@router.post("/subjects/{subject_id}/consents")
def record_consent(
    request: Request,
    session: DbSession,
    visitor: Actor,
    subject_id: int,
    icf_version: Annotated[str, Form(max_length=32)] = "",
    signed_at: Annotated[str, Form(max_length=32)] = "",
    guardian_name: Annotated[str, Form(max_length=200)] = "",
    guardian_relationship: Annotated[str, Form(max_length=64)] = "",
    assent_at: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Record the subject's signed consent (guardian and assent for a minor)."""
    outcome = attempt(
        session,
        lambda: consents.record_consent(
            session,
            subject_id=subject_id,
            icf_version=icf_version,
            signed_at=parse_instant(signed_at, "signed_at"),
            guardian_name=guardian_name or None,
            guardian_relationship=guardian_relationship or None,
            assent_at=parse_instant(assent_at, "assent_at") if assent_at.strip() else None,
            by=visitor.user,
        ),
    )
    return _after(request, session, visitor, subject_id, outcome, "consented")


@router.post("/subjects/{subject_id}/withdrawal")
def withdraw(
    request: Request,
    session: DbSession,
    visitor: Actor,
    subject_id: int,
    withdrawn_at: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Record the withdrawal of consent."""
    outcome = attempt(
        session,
        lambda: consents.withdraw(
            session,
            subject_id=subject_id,
            withdrawn_at=parse_instant(withdrawn_at, "withdrawn_at"),
            reason=reason,
            by=visitor.user,
        ),
    )
    return _after(request, session, visitor, subject_id, outcome, "withdrawn")


@router.post("/subjects/{subject_id}/enrolment")
def enrol(request: Request, session: DbSession, visitor: Actor, subject_id: int) -> Response:
    """Enrol the subject today."""
    outcome = attempt(session, lambda: subjects.enrol(session, subject_id=subject_id, by=visitor.user))
    return _after(request, session, visitor, subject_id, outcome, "enrolled")


@router.post("/subjects/{subject_id}/status")
def change_status(
    request: Request,
    session: DbSession,
    visitor: Actor,
    subject_id: int,
    status: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Move the subject along the trial path."""
    outcome = attempt(
        session,
        lambda: subjects.change_status(
            session,
            subject_id=subject_id,
            status=status,
            reason=reason,
            on=parse_day(on, "on") if on.strip() else None,
            by=visitor.user,
        ),
    )
    return _after(request, session, visitor, subject_id, outcome, "status")


@router.post("/visits/{visit_id}/date")
def record_visit_date(
    request: Request,
    session: DbSession,
    visitor: Actor,
    visit_id: int,
    subject_id: Annotated[int, Form()],
    on: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Record the day a visit took place."""
    outcome = attempt(
        session,
        lambda: visits.record_visit_date(
            session, visit_id=visit_id, on=parse_day(on, "on"), reason=reason or None, by=visitor.user
        ),
    )
    return _after(request, session, visitor, subject_id, outcome, "visit")


@router.post("/subjects/{subject_id}/forms")
def add_form(
    request: Request,
    session: DbSession,
    visitor: Actor,
    subject_id: int,
    form_code: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Add a log form (adverse event, medication...) to the casebook."""
    outcome = attempt(
        session, lambda: forms.add_form(session, subject_id=subject_id, form_code=form_code, by=visitor.user)
    )
    if isinstance(outcome, CelltrialError):
        return casebook(request, session, visitor, subject_id, problem=outcome)
    return back_to(f"/forms/{outcome.id}", "form")
