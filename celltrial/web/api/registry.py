"""The trial registry, public: search, a trial's record, its page sections, related trials."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from celltrial.registry import service as registry
from celltrial.registry.schemas import RelatedTrials, SearchPage, SortOrder, TrialDetail
from celltrial.registry.trial_page import TrialPage
from celltrial.web.deps import DbSession
from celltrial.web.problems import problem_responses
from celltrial.web.registry_view import search_query, trial_page
from celltrial.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/registry", tags=["registry"])
READS = problem_responses(404, 422, 503)


@router.get("/trials", response_model=SearchPage, responses=problem_responses(422, 503))
def search_trials(
    session: DbSession,
    text: Annotated[str | None, Query(max_length=500, description="Words to find")] = None,
    status: Annotated[list[str] | None, Query(description="Overall status (any of)")] = None,
    phase: Annotated[list[str] | None, Query(description="Phase (any of)")] = None,
    study_type: Annotated[str | None, Query(max_length=40)] = None,
    condition: Annotated[str | None, Query(max_length=200)] = None,
    intervention: Annotated[str | None, Query(max_length=200)] = None,
    age: Annotated[float | None, Query(ge=0, le=130, description="A patient's age in years")] = None,
    sex: Annotated[Literal["FEMALE", "MALE"] | None, Query()] = None,
    healthy_volunteers: Annotated[bool | None, Query()] = None,
    country: Annotated[str | None, Query(max_length=120)] = None,
    start_year_from: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    start_year_to: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    sort: Annotated[SortOrder, Query()] = "relevance",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchPage:
    """Trials matching the words and filters, with counts by status and phase."""
    query = search_query(
        {
            "text": text,
            "status": status or [],
            "phase": phase or [],
            "study_type": study_type,
            "condition": condition,
            "intervention": intervention,
            "age": age,
            "sex": sex,
            "healthy_volunteers": healthy_volunteers,
            "country": country,
            "start_year_from": start_year_from,
            "start_year_to": start_year_to,
            "sort": sort,
            "page": page,
            "page_size": page_size,
        }
    )
    return registry.search_trials(session=session, query=query)


@router.get("/trials/{nct_id}", response_model=TrialDetail, responses=READS)
def show_trial(session: DbSession, nct_id: str) -> TrialDetail:
    """A trial's merged record, the source of each field, the facts read from its text."""
    return registry.get_trial_or_raise(session=session, nct_id=nct_id)


@router.get("/trials/{nct_id}/page", response_model=TrialPage, responses=READS)
def show_page(session: DbSession, nct_id: str) -> TrialPage:
    """The trial's page, section by section, as the portal shows it."""
    return trial_page(session, nct_id)


@router.get("/trials/{nct_id}/related", response_model=RelatedTrials, responses=READS)
def related(session: DbSession, nct_id: str, top: Annotated[int, Query(ge=1, le=100)] = 10) -> RelatedTrials:
    """The trials most like this one, each with a score and a one-line reason."""
    return registry.related_trials(session=session, nct_id=nct_id, top=top)
