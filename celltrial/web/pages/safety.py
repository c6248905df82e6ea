"""The safety pages: the trial's safety (stopping rule and its operating characteristics, SAE clocks,
DSMB tables) and one subject's adverse events and DLT evaluation, with their entry forms."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from celltrial.analysis.dlt import DltEvaluation
from celltrial.analysis.safety_events import (
    SYSTEM_ORGAN_CLASSES,
    ActionTaken,
    Aesi,
    Outcome,
    Relatedness,
    Seriousness,
)
from celltrial.errors import CelltrialError, Conflict
from celltrial.study.permissions import Action, allowed
from celltrial.study.safety import monitoring
from celltrial.study.safety import service as safety
from celltrial.study.safety.access import ensure_may_read, read_action
from celltrial.web.api.safety import clock_rows, operating_characteristics_of, the_trial
from celltrial.web.deps import Actor, DbSession, Viewer, Visitor
from celltrial.web.pages.common import attempt, back_to
from celltrial.web.pages.subjects import parse_day, parse_instant
from celltrial.web.routing import UnitOfWorkRoute
from celltrial.web.templating import render

router = APIRouter(route_class=UnitOfWorkRoute)

MESSAGES = {
    "adverse_event": "The adverse event is recorded.",
    "dlt": "Your DLT assessment is recorded.",
}


@router.get("/safety")
def safety_overview(request: Request, session: DbSession, visitor: Viewer) -> Response:
    """Stopping rule, its operating characteristics, SAE clocks and (for safety.view) the DSMB tables."""
    user = visitor.user
    read_action(user)
    trial = the_trial(session, request)
    clocks = clock_rows(session, by=user, study_id=trial.id)
    return render(
        request,
        "safety_overview.html",
        {
            "status": monitoring.stopping_rule_status(session, by=user, study_id=trial.id),
            "oc": operating_characteristics_of(session, by=user, trial=trial),
            "clocks": clocks,
            "overdue": sum(1 for row in clocks if row.overdue),
            "tables": monitoring.dsmb_tables(session, by=user, study_id=trial.id)
            if allowed(user, Action.SAFETY_VIEW)
            else None,
        },
        visitor=visitor,
    )


def _dlt(session: DbSession, visitor: Visitor, subject_id: int) -> DltEvaluation | None:
    try:
        return monitoring.dlt_evaluation(session, by=visitor.user, subject_id=subject_id)
    except Conflict:
        return None  # not infused: no DLT window yet


def safety_page(
    request: Request,
    session: DbSession,
    visitor: Visitor,
    subject_id: int,
    *,
    problem: CelltrialError | None = None,
    entered: dict[str, Any] | None = None,
) -> Response:
    """One subject's adverse events, SAE clocks and DLT evaluation."""
    user = visitor.user
    subject = ensure_may_read(session, subject_id=subject_id, by=user)
    trial = the_trial(session, request)
    clocks = [row for row in clock_rows(session, by=user, study_id=trial.id) if row.subject_id == subject.id]
    return render(
        request,
        "safety_subject.html",
        {
            "subject": subject,
            "events": safety.adverse_events(session, by=user, subject_id=subject_id),
            "clocks": clocks,
            "dlt": _dlt(session, visitor, subject_id),
            "can_report": allowed(user, Action.SAFETY_REPORT),
            "can_assess": allowed(user, Action.SAFETY_ASSESS) and allowed(user, Action.SAFETY_REPORT),
            "choices": {
                "soc": SYSTEM_ORGAN_CLASSES,
                "relatedness": list(Relatedness),
                "outcome": list(Outcome),
                "seriousness": list(Seriousness),
                "aesi": list(Aesi),
                "action_taken": list(ActionTaken),
            },
            "entered": entered or {},
            "done": MESSAGES.get(request.query_params.get("done", "")),
            "problem": problem,
        },
        visitor=visitor,
        status_code=200 if problem is None else 422,
    )


@router.get("/subjects/{subject_id}/safety")
def show_safety(request: Request, session: DbSession, visitor: Viewer, subject_id: int) -> Response:
    """The subject's safety data."""
    return safety_page(request, session, visitor, subject_id)


Text = Annotated[str, Form(max_length=200)]
Codes = Annotated[list[str], Form(max_length=40)]


@router.post("/subjects/{subject_id}/safety/adverse-events")
def record_adverse_event(
    request: Request,
    session: DbSession,
    visitor: Actor,
    subject_id: int,
    term: Text = "",
    soc: Text = "",
    grade: Text = "",
    onset_date: Text = "",
    resolution_date: Text = "",
    serious: Text = "",
    site_awareness_at: Text = "",
    related_to_cart: Text = "",
    related_to_lymphodepletion: Text = "",
    outcome: Text = "",
    seriousness: Codes | None = None,
    aesi: Codes | None = None,
    action_taken: Codes | None = None,
) -> Response:
    """Report an adverse event from the form; a serious one opens its SAE and its clocks."""
    single = {
        "term": term,
        "soc": soc,
        "grade": grade,
        "onset_date": onset_date,
        "resolution_date": resolution_date,
        "serious": serious,
        "site_awareness_at": site_awareness_at,
        "related_to_cart": related_to_cart,
        "related_to_lymphodepletion": related_to_lymphodepletion,
        "outcome": outcome,
    }
    values: dict[str, Any] = {
        name: single[name].strip()
        for name in ("term", "soc", "related_to_cart", "related_to_lymphodepletion", "outcome")
        if single[name].strip()
    }
    values |= {
        "serious": serious == "yes",
        "seriousness": seriousness or [],
        "aesi": aesi or [],
        "action_taken": action_taken or [],
    }

    def act() -> object:
        if grade.strip():
            values["grade"] = int(grade) if grade.strip().isdigit() else grade
        values["onset_date"] = parse_day(onset_date, "onset_date")
        if resolution_date.strip():
            values["resolution_date"] = parse_day(resolution_date, "resolution_date")
        if site_awareness_at.strip():
            values["site_awareness_at"] = parse_instant(site_awareness_at, "site_awareness_at")
        return safety.record_adverse_event(session, by=visitor.user, subject_id=subject_id, event=values)

    result = attempt(session, act)
    if isinstance(result, CelltrialError):
        return safety_page(request, session, visitor, subject_id, problem=result, entered=single)
    return back_to(f"/subjects/{subject_id}/safety", "adverse_event")


@router.post("/subjects/{subject_id}/safety/dlt")
def confirm_dlt(
    request: Request,
    session: DbSession,
    visitor: Actor,
    subject_id: int,
    is_dlt: Annotated[str, Form(max_length=3)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The investigator confirms or overrules today's automatic DLT evaluation."""
    outcome = attempt(
        session,
        lambda: monitoring.confirm_dlt(
            session, by=visitor.user, subject_id=subject_id, is_dlt=is_dlt == "yes", comment=comment
        ),
    )
    if isinstance(outcome, CelltrialError):
        return safety_page(request, session, visitor, subject_id, problem=outcome)
    return back_to(f"/subjects/{subject_id}/safety", "dlt")
