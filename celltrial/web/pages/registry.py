"""The trial registry portal, public: search the landscape, a trial's page with every section.

Staff signed in see, on the page of the trial this server runs, its status and enrolment here
and a link to screening.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from celltrial.registry import service as registry
from celltrial.study.permissions import Action, allowed
from celltrial.web.api.study import summarize
from celltrial.web.deps import DbSession, MaybeViewer, settings_of
from celltrial.web.registry_view import search, search_query, trial_page
from celltrial.web.routing import UnitOfWorkRoute
from celltrial.web.templating import render

router = APIRouter(route_class=UnitOfWorkRoute)
STATUSES = (
    "RECRUITING",
    "NOT_YET_RECRUITING",
    "ACTIVE_NOT_RECRUITING",
    "COMPLETED",
    "TERMINATED",
    "WITHDRAWN",
)
PHASES = ("EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "NA")


@router.get("/registry")
def search_page(request: Request, session: DbSession, visitor: MaybeViewer) -> Response:
    """Search the registry: words, status, phase, a patient's age and sex, country; sorted, paged."""
    params = request.query_params
    query = search_query(
        {
            "text": params.get("text"),
            "status": [value for value in params.getlist("status") if value],
            "phase": [value for value in params.getlist("phase") if value],
            "age": params.get("age"),
            "sex": params.get("sex"),
            "country": params.get("country"),
            "condition": params.get("condition"),
            "sort": params.get("sort") or "relevance",
            "page": params.get("page") or 1,
        }
    )
    imported = registry.registry_counts(session=session)["trials"]
    results = search(session, query) if imported else None
    return render(
        request,
        "registry_search.html",
        {
            "query": query,
            "results": results,
            "statuses": STATUSES,
            "phases": PHASES,
            "served": settings_of(request).nct_id or summarize(session, settings_of(request)).nct_id,
        },
        visitor=visitor,
    )


@router.get("/registry/{nct_id}")
def trial(request: Request, session: DbSession, visitor: MaybeViewer, nct_id: str) -> Response:
    """A trial's page: results, basic information, summary, design, groups, interventions,
    eligibility, sponsors, responsible party, identifiers, sites, related trials."""
    page = trial_page(session, nct_id)
    summary = None
    if visitor is not None and page.operations_available:
        current = summarize(session, settings_of(request))
        summary = current if current.nct_id == page.nct_id else None
    return render(
        request,
        "registry_trial.html",
        {
            "page": page,
            "summary": summary,
            "can_screen": visitor is not None and allowed(visitor.user, Action.SCREENING_CREATE),
        },
        visitor=visitor,
    )
