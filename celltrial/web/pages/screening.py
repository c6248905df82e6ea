"""Screening: the screening log, and a subject's screening page.

On the subject's page the coordinator or investigator fills the screening form (one row per
fact) or uploads a screening-form JSON or a FHIR R4 Bundle; the result is stored as a screening
attempt and shown as a verdict table with the evidence of each criterion. The investigator
records a judgment for each ``needs_review`` criterion; once the decision is eligible and the
consent valid, the subject can be enrolled from there.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from celltrial.errors import CelltrialError, InvalidInput, NotFound
from celltrial.jsoninput import refuse_deep_json
from celltrial.study.consent import service as consents
from celltrial.study.permissions import Action, allowed, require
from celltrial.study.screening import service as screenings
from celltrial.study.subjects import service as subjects
from celltrial.study.subjects.models import Subject
from celltrial.study.subjects.status import SubjectStatus
from celltrial.study.trial import service as trials
from celltrial.study.types import utcnow
from celltrial.web import screening_form
from celltrial.web.api.study import running_trial
from celltrial.web.api.subjects import subject_out
from celltrial.web.deps import Actor, DbSession, Viewer, Visitor, settings_of
from celltrial.web.pages.common import DONE, attempt, back_to
from celltrial.web.routing import UnitOfWorkRoute
from celltrial.web.screening import evaluate_document
from celltrial.web.templating import render

router = APIRouter(route_class=UnitOfWorkRoute)
MAX_UPLOAD = 5_000_000


@router.get("/screening")
def screening_log(request: Request, session: DbSession, visitor: Viewer) -> Response:
    """Every screened patient with the latest decision and screen-fail reasons; the CONSORT counts."""
    require(visitor.user, Action.SUBJECT_VIEW)
    trial = running_trial(session, settings_of(request))
    rows = screenings.screening_log(session, study_id=trial.id, by=visitor.user) if trial else []
    waiting = [
        subject_out(subject, by=visitor.user)
        for subject in subjects.list_subjects(session, by=visitor.user, study_id=trial.id if trial else None)
        if subject.status is SubjectStatus.SCREENING
        and screenings.latest(session, subject_id=subject.id) is None
    ]
    return render(
        request,
        "screening_log.html",
        {
            "rows": rows,
            "consort": screenings.consort_counts(rows),
            "waiting": waiting,
            "can_register": allowed(visitor.user, Action.SCREENING_CREATE),
        },
        visitor=visitor,
    )


def _patient(subject: Subject) -> dict[str, Any]:
    return {
        "id": subject.screening_number,
        "birth_date": subject.date_of_birth.isoformat(),
        "sex": subject.sex,
    }


def screening_page(
    request: Request,
    session: Session,
    visitor: Visitor,
    subject_id: int,
    *,
    problem: CelltrialError | None = None,
    posted: dict[str, str] | None = None,
) -> Response:
    """The subject's screening page (the problem of a failed action shown, the typed values kept)."""
    user = visitor.user
    subject = subjects.get(session, subject_id=subject_id, by=user)
    trial = trials.get_or_raise(session, study_id=subject.study_id)
    latest = screenings.latest(session, subject_id=subject.id)
    shown = screenings.read(session, attempt=latest) if latest else None
    judged = {item.criterion_id: item for item in shown.judgments} if shown else {}
    state = consents.consent_state(session, subject=subject)
    can_screen = allowed(user, Action.SCREENING_CREATE) and subject.status in (
        SubjectStatus.SCREENING,
        SubjectStatus.SCREEN_FAILED,
    )
    return render(
        request,
        "screening.html",
        {
            "subject": subject_out(subject, by=user),
            "screening": shown,
            "criteria": shown.snapshot.get("criteria", []) if shown else [],
            "judged": judged,
            "can_screen": can_screen,
            "can_judge": allowed(user, Action.SCREENING_JUDGE) and subject.status is SubjectStatus.SCREENING,
            "can_enrol": allowed(user, Action.SUBJECT_ENROL)
            and subject.status is SubjectStatus.SCREENING
            and shown is not None
            and shown.decision == "eligible"
            and state.valid,
            "consent_state": state,
            "fields": screening_form.fields(trials.settings_of(trial)) if can_screen else [],
            "posted": posted or {},
            "today": utcnow().date(),
            "problem": problem,
            "done": DONE.get(request.query_params.get("done", "")),
        },
        visitor=visitor,
        status_code=problem.http_status if problem else 200,
    )


@router.get("/subjects/{subject_id}/screening")
def show_screening(request: Request, session: DbSession, visitor: Viewer, subject_id: int) -> Response:
    """The subject's screening: the latest verdicts with evidence, judgments, the form to screen."""
    return screening_page(request, session, visitor, subject_id)


def _record(session: Session, visitor: Visitor, subject_id: int, document: Any, on: date | None) -> None:
    require(visitor.user, Action.SCREENING_CREATE)
    subject = subjects.get(session, subject_id=subject_id, by=visitor.user)
    trial = trials.get_or_raise(session, study_id=subject.study_id)
    result = evaluate_document(document, nct_id=trial.nct_id, on=on, today=utcnow().date())
    screenings.record(
        session,
        subject_id=subject.id,
        result=result.to_json(),
        rule_set_version=result.rules_version,
        by=visitor.user,
    )


def _screening_date(raw: str) -> date | None:
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"{raw!r} is not a date (YYYY-MM-DD)", field="screening_date") from None


@router.post("/subjects/{subject_id}/screening/upload")
async def upload(
    request: Request,
    session: DbSession,
    visitor: Actor,
    subject_id: int,
    document: Annotated[UploadFile, File(description="Screening-form JSON or FHIR R4 Bundle")],
    screening_date: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Screen the subject from an uploaded screening form or FHIR Bundle."""
    raw = await document.read(MAX_UPLOAD + 1)
    name = document.filename or "upload"

    def act() -> None:
        if len(raw) > MAX_UPLOAD:
            raise InvalidInput(f"the file is larger than {MAX_UPLOAD // 1_000_000} MB", field=name)
        refuse_deep_json(raw, field=name)
        try:
            parsed = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidInput(f"not a JSON file: {error}", field=name) from None
        _record(session, visitor, subject_id, parsed, _screening_date(screening_date))

    outcome = attempt(session, act)
    if isinstance(outcome, CelltrialError):
        return screening_page(request, session, visitor, subject_id, problem=outcome)
    return back_to(f"/subjects/{subject_id}/screening", "screened")


@router.post("/subjects/{subject_id}/screening")
async def screen_with_form(request: Request, session: DbSession, visitor: Actor, subject_id: int) -> Response:
    """Screen the subject from the filled screening form."""
    posted = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}

    def act() -> None:
        subject = subjects.get(session, subject_id=subject_id, by=visitor.user)
        trial = trials.get_or_raise(session, study_id=subject.study_id)
        on = _screening_date(posted.get("screening_date", "")) or utcnow().date()
        document = screening_form.document(
            posted, settings=trials.settings_of(trial), patient=_patient(subject), screening_date=on
        )
        _record(session, visitor, subject_id, document, on)

    outcome = attempt(session, act)
    if isinstance(outcome, CelltrialError):
        return screening_page(request, session, visitor, subject_id, problem=outcome, posted=posted)
    return back_to(f"/subjects/{subject_id}/screening", "screened")


@router.post("/screenings/{screening_id}/judgments")
def judge(
    request: Request,
    session: DbSession,
    visitor: Actor,
    screening_id: int,
    subject_id: Annotated[int, Form()],
    criterion_id: Annotated[str, Form(max_length=16)] = "",
    answer: Annotated[str, Form(max_length=16)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Record the investigator's judgment of a criterion that needs review."""
    outcome = attempt(
        session,
        lambda: screenings.judge(
            session,
            screening_id=screening_id,
            criterion_id=criterion_id,
            answer=answer,
            comment=comment,
            reason=reason or None,
            by=visitor.user,
        ),
    )
    if isinstance(outcome, CelltrialError):
        return screening_page(request, session, visitor, subject_id, problem=outcome)
    if outcome.subject_id != subject_id:
        raise NotFound(f"screening {screening_id} is not the subject's", field="screening")
    return back_to(f"/subjects/{subject_id}/screening", "judged")
