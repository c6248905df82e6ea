"""The query list, and answering, closing and re-opening a query."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from celltrial.errors import CelltrialError, InvalidInput
from celltrial.study.permissions import Action, allowed
from celltrial.study.queries import service as queries
from celltrial.study.subjects.models import Subject
from celltrial.web.deps import Actor, DbSession, Viewer
from celltrial.web.pages.common import DONE, attempt, back_to
from celltrial.web.pages.forms import form_page
from celltrial.web.routing import UnitOfWorkRoute
from celltrial.web.templating import render

router = APIRouter(route_class=UnitOfWorkRoute)
STATUSES = ("open", "answered", "closed")


@router.get("/queries")
def query_list(
    request: Request,
    session: DbSession,
    visitor: Viewer,
    status: str = "open",
    subject_id: int | None = None,
) -> Response:
    """The queries the user may see, by status (open by default)."""
    if status not in (*STATUSES, "all"):
        raise InvalidInput(
            f"unknown query status {status!r} (known: {', '.join(STATUSES)}, all)", field="status"
        )
    found = queries.list_queries(
        session, by=visitor.user, subject_id=subject_id, status=None if status == "all" else status
    )
    chosen = select(Subject).where(Subject.id.in_({query.subject_id for query in found}))
    labels = {subject.id: subject.label for subject in session.scalars(chosen)}
    return render(
        request,
        "queries.html",
        {
            "queries": found,
            "labels": labels,
            "status": status,
            "statuses": (*STATUSES, "all"),
            "subject_id": subject_id,
            "can_answer": allowed(visitor.user, Action.QUERY_ANSWER),
            "done": DONE.get(request.query_params.get("done", "")),
        },
        visitor=visitor,
    )


def _step(
    request: Request, session: DbSession, visitor: Actor, query_id: int, action: str, text: str
) -> Response:
    query = queries.get_or_raise(session, query_id=query_id, by=visitor.user)
    form_id = query.form_id
    user = visitor.user
    steps = {
        "answer": lambda: queries.answer(session, query_id=query_id, text=text, by=user),
        "close": lambda: queries.close(session, query_id=query_id, text=text or None, by=user),
        "reopen": lambda: queries.reopen(session, query_id=query_id, text=text, by=user),
    }
    outcome = attempt(session, steps[action])
    if isinstance(outcome, CelltrialError):
        return form_page(request, session, visitor, form_id, problem=outcome)
    return back_to(f"/forms/{form_id}", "query")


@router.post("/queries/{query_id}/answer")
def answer(
    request: Request,
    session: DbSession,
    visitor: Actor,
    query_id: int,
    text: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The site answers the query."""
    return _step(request, session, visitor, query_id, "answer", text)


@router.post("/queries/{query_id}/close")
def close(
    request: Request,
    session: DbSession,
    visitor: Actor,
    query_id: int,
    text: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The reviewer closes the query."""
    return _step(request, session, visitor, query_id, "close", text)


@router.post("/queries/{query_id}/reopen")
def reopen(
    request: Request,
    session: DbSession,
    visitor: Actor,
    query_id: int,
    text: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The reviewer re-opens the query."""
    return _step(request, session, visitor, query_id, "reopen", text)
