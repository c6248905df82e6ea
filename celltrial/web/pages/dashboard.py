"""The study dashboard: status, enrolment against the cap, and what needs attention."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from celltrial.web.api.study import summarize
from celltrial.web.deps import DbSession, Viewer, settings_of
from celltrial.web.templating import render

router = APIRouter()


@router.get("/")
def dashboard(request: Request, session: DbSession, visitor: Viewer) -> Response:
    """The study at a glance."""
    summary = summarize(session, settings_of(request))
    return render(request, "dashboard.html", {"summary": summary}, visitor=visitor)
