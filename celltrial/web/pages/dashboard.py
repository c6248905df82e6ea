"""The study dashboard: status, enrolment against the cap, the screening funnel, subjects by
status, open queries, missed visits, SAE reporting clocks and the safety stopping rule, each
shown to the roles allowed to see it."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from celltrial.study.permissions import Action, allowed
from celltrial.study.queries import service as queries
from celltrial.study.safety import monitoring
from celltrial.study.safety import reports as safety
from celltrial.study.screening import service as screenings
from celltrial.study.subjects import service as subjects
from celltrial.study.trial.models import Trial
from celltrial.study.types import utcnow
from celltrial.study.users.models import User
from celltrial.study.visits import service as visits
from celltrial.web.api.study import running_trial, summarize
from celltrial.web.deps import DbSession, Viewer, settings_of
from celltrial.web.routing import UnitOfWorkRoute
from celltrial.web.templating import render

router = APIRouter(route_class=UnitOfWorkRoute)


def panels(session: Session, *, user: User, trial: Trial) -> dict[str, Any]:
    """What the dashboard shows ``user`` about ``trial`` (a panel the role may not see is left out)."""
    shown: dict[str, Any] = {}
    now = utcnow()
    if allowed(user, Action.SUBJECT_VIEW):
        log = screenings.screening_log(session, study_id=trial.id, by=user)
        shown["funnel"] = screenings.consort_counts(log)
        listed = subjects.list_subjects(session, by=user, study_id=trial.id)
        shown["by_status"] = sorted(Counter(subject.status.value for subject in listed).items())
        shown["missed"] = visits.missed_visits(session, study_id=trial.id, today=now.date(), by=user)[:20]
    if allowed(user, Action.FORM_VIEW):
        shown["open_queries"] = len(queries.list_queries(session, by=user, status="open"))
        shown["answered_queries"] = len(queries.list_queries(session, by=user, status="answered"))
    if allowed(user, Action.SAFETY_VIEW) or allowed(user, Action.SAFETY_REPORT):
        board = safety.clock_board(session, by=user, now=now, study_id=trial.id)
        shown["sae_clocks"] = [
            row for row in board if any(c.status.value in ("pending", "overdue") for c in row.clocks)
        ]
        shown["stopping"] = monitoring.stopping_rule_status(session, by=user, study_id=trial.id)
    return shown


@router.get("/")
def dashboard(request: Request, session: DbSession, visitor: Viewer) -> Response:
    """The study at a glance."""
    settings = settings_of(request)
    summary = summarize(session, settings)
    trial = running_trial(session, settings)
    shown = panels(session, user=visitor.user, trial=trial) if trial else {}
    return render(request, "dashboard.html", {"summary": summary, "panels": shown}, visitor=visitor)
