"""Data queries: list, show with history, answer, close, re-open."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from celltrial.study.queries import service as queries
from celltrial.study.queries.models import QueryRead
from celltrial.web.api.common import AUTHENTICATED, MAX_ID, Id, Page, Paging, page_of, paging
from celltrial.web.api.subjects import WRITES
from celltrial.web.deps import ApiUser, DbSession
from celltrial.web.problems import problem_responses
from celltrial.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/queries", tags=["queries"])


class QueryText(BaseModel):
    """The answer, or the reason to re-open."""

    text: str = Field(min_length=1, max_length=2000)


class QueryClose(BaseModel):
    """Closing: a comment (required when the query was never answered)."""

    text: str | None = Field(default=None, max_length=2000)


@router.get("", response_model=Page[QueryRead], responses=AUTHENTICATED)
def list_queries(
    session: DbSession,
    user: ApiUser,
    chosen: Annotated[Paging, Depends(paging)],
    status: Annotated[Literal["open", "answered", "closed"] | None, Query()] = None,
    subject_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    form_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Page[QueryRead]:
    """The queries the user may see (a site role: their site's), oldest first."""
    found = queries.list_queries(session, by=user, subject_id=subject_id, form_id=form_id, status=status)
    window = found[chosen.offset : chosen.offset + chosen.limit]
    page = page_of(found, chosen)
    return Page[QueryRead](
        items=[queries.read(session, query=query) for query in window],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{query_id}", response_model=QueryRead, responses=AUTHENTICATED | problem_responses(404))
def show_query(session: DbSession, user: ApiUser, query_id: Id) -> QueryRead:
    """One query with its history."""
    return queries.read(session, query=queries.get_or_raise(session, query_id=query_id, by=user))


@router.post("/{query_id}/answer", response_model=QueryRead, responses=WRITES)
def answer(session: DbSession, user: ApiUser, query_id: Id, reply: QueryText) -> QueryRead:
    """The site answers: the query becomes answered."""
    return queries.read(session, query=queries.answer(session, query_id=query_id, text=reply.text, by=user))


@router.post("/{query_id}/close", response_model=QueryRead, responses=WRITES)
def close(session: DbSession, user: ApiUser, query_id: Id, closing: QueryClose) -> QueryRead:
    """The reviewer closes the query."""
    return queries.read(session, query=queries.close(session, query_id=query_id, text=closing.text, by=user))


@router.post("/{query_id}/reopen", response_model=QueryRead, responses=WRITES)
def reopen(session: DbSession, user: ApiUser, query_id: Id, why: QueryText) -> QueryRead:
    """The reviewer re-opens the query, saying why."""
    return queries.read(session, query=queries.reopen(session, query_id=query_id, text=why.text, by=user))
