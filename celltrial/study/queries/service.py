"""Data queries: raised on a form field by an edit check or by a monitor or data manager,
answered by the site, closed or re-opened by the reviewer; every step is kept in the query's
history and in the audit trail.

An edit-check query (``origin`` ``edit_check``) is raised by the form service when a save fails
a check, and closed by it (``resolve``) when a later save passes that check.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput, NotFound
from celltrial.study.audit import service as audit
from celltrial.study.forms.checks import CheckFailure
from celltrial.study.forms.dictionary import form_definition
from celltrial.study.forms.models import FormInstance
from celltrial.study.permissions import Action, require, require_site, visible_site_id
from celltrial.study.queries.lifecycle import QueryAction, QueryStatus, next_query_status
from celltrial.study.queries.models import DataQuery, QueryEvent, QueryEventRead, QueryRead
from celltrial.study.subjects.models import Subject
from celltrial.study.types import utcnow
from celltrial.study.users.models import User

__all__ = [
    "answer",
    "close",
    "get_or_raise",
    "list_queries",
    "open_automatic",
    "raise_automatic",
    "raise_query",
    "read",
    "reopen",
    "resolve_automatic",
]

TEXT_LIMIT = 2000


def _text(text: str | None, *, required: bool = True) -> str | None:
    cleaned = (text or "").strip()
    if not cleaned:
        if required:
            raise InvalidInput("the query text is empty", field="text")
        return None
    if len(cleaned) > TEXT_LIMIT:
        raise InvalidInput(f"the query text is longer than {TEXT_LIMIT} characters", field="text")
    return cleaned


def _step(session: Session, query: DataQuery, action: QueryAction, *, by: str, text: str | None) -> DataQuery:
    old = query.status
    new = next_query_status(old, action) if action is not QueryAction.RAISE else QueryStatus.OPEN
    query.status = new
    query.updated_at = utcnow()
    session.add(QueryEvent(query_id=query.id, action=action.value, status_after=new.value, text=text, by=by))
    audit.record(
        session,
        actor=by,
        action=f"query.{action.value}",
        entity="query",
        entity_id=query.id,
        field="status",
        old=None if action is QueryAction.RAISE else old.value,
        new={"status": new.value, "text": text} if text else {"status": new.value},
        subject_id=query.subject_id,
        site_id=query.site_id,
    )
    return query


def _new(
    session: Session,
    *,
    form: FormInstance,
    site_id: int,
    field: str | None,
    origin: str,
    check_id: str | None,
    text: str,
    by: str,
) -> DataQuery:
    query = DataQuery(
        subject_id=form.subject_id,
        site_id=site_id,
        form_id=form.id,
        field=field,
        origin=origin,
        check_id=check_id,
        status=QueryStatus.OPEN,
        text=text,
        raised_by=by,
    )
    session.add(query)
    session.flush()
    return _step(session, query, QueryAction.RAISE, by=by, text=text)


def raise_query(session: Session, *, form_id: int, field: str | None, text: str, by: User) -> DataQuery:
    """A manual query on a form field (or on the whole form when ``field`` is None)."""
    require(by, Action.QUERY_RAISE)
    cleaned = _text(text)
    assert cleaned is not None
    form = session.get(FormInstance, form_id)
    if form is None:
        raise NotFound(f"no form with id {form_id}", field="form")
    subject = session.get(Subject, form.subject_id)
    assert subject is not None
    require_site(by, subject.site_id, what="form", record_id=form_id)
    if field is not None:
        field = form_definition(form.form_code).field(field).name
    return _new(
        session,
        form=form,
        site_id=subject.site_id,
        field=field,
        origin="manual",
        check_id=None,
        text=cleaned,
        by=by.username,
    )


def get_or_raise(session: Session, *, query_id: int, by: User) -> DataQuery:
    """The query ``query_id`` if ``by`` may see it."""
    require(by, Action.FORM_VIEW)
    query = session.get(DataQuery, query_id)
    if query is None:
        raise NotFound(f"no query with id {query_id}", field="query")
    require_site(by, query.site_id, what="query", record_id=query_id)
    return query


def answer(session: Session, *, query_id: int, text: str, by: User) -> DataQuery:
    """The site's answer: the query becomes answered."""
    require(by, Action.QUERY_ANSWER)
    cleaned = _text(text)
    query = get_or_raise(session, query_id=query_id, by=by)
    return _step(session, query, QueryAction.ANSWER, by=by.username, text=cleaned)


def close(session: Session, *, query_id: int, by: User, text: str | None = None) -> DataQuery:
    """The reviewer accepts the answer (or withdraws the query): closed."""
    require(by, Action.QUERY_CLOSE)
    cleaned = _text(text, required=False)
    query = get_or_raise(session, query_id=query_id, by=by)
    if query.status is QueryStatus.OPEN and cleaned is None:
        raise InvalidInput("closing an unanswered query needs a comment saying why", field="text")
    return _step(session, query, QueryAction.CLOSE, by=by.username, text=cleaned)


def reopen(session: Session, *, query_id: int, text: str, by: User) -> DataQuery:
    """The reviewer is not satisfied: the query is open again, with the reason."""
    require(by, Action.QUERY_RAISE)
    cleaned = _text(text)
    query = get_or_raise(session, query_id=query_id, by=by)
    return _step(session, query, QueryAction.REOPEN, by=by.username, text=cleaned)


_OPEN_AUTOMATIC = select(DataQuery).where(
    DataQuery.form_id == bindparam("form_id"),
    DataQuery.origin == "edit_check",
    DataQuery.status != QueryStatus.CLOSED,
)


def open_automatic(session: Session, *, form_id: int) -> list[DataQuery]:
    """Edit-check queries of a form that still wait (open or answered)."""
    return list(session.scalars(_OPEN_AUTOMATIC, {"form_id": form_id}))


def raise_automatic(
    session: Session, *, form: FormInstance, site_id: int, failure: CheckFailure, by: User
) -> DataQuery:
    """Open a query for a failed edit check on its field (the saving user is named as raiser)."""
    return _new(
        session,
        form=form,
        site_id=site_id,
        field=failure.field,
        origin="edit_check",
        check_id=failure.check,
        text=failure.message,
        by=by.username,
    )


def resolve_automatic(session: Session, *, query: DataQuery, by: User) -> DataQuery:
    """Close an edit-check query because the data now pass its check."""
    return _step(session, query, QueryAction.RESOLVE, by=by.username, text="the data now pass the check")


def list_queries(
    session: Session,
    *,
    by: User,
    subject_id: int | None = None,
    form_id: int | None = None,
    status: str | None = None,
) -> list[DataQuery]:
    """Queries the user may see, optionally of one subject or form, or in one status."""
    require(by, Action.FORM_VIEW)
    query = select(DataQuery).order_by(DataQuery.id)
    if subject_id is not None:
        query = query.where(DataQuery.subject_id == subject_id)
    if form_id is not None:
        query = query.where(DataQuery.form_id == form_id)
    if status is not None:
        try:
            query = query.where(DataQuery.status == QueryStatus(status))
        except ValueError:
            known = ", ".join(item.value for item in QueryStatus)
            raise InvalidInput(f"unknown query status {status!r} (known: {known})", field="status") from None
    site = visible_site_id(by)
    if site is not None:
        query = query.where(DataQuery.site_id == site)
    return list(session.scalars(query))


def read(session: Session, *, query: DataQuery) -> QueryRead:
    """The query with its whole history."""
    events = session.scalars(
        select(QueryEvent).where(QueryEvent.query_id == query.id).order_by(QueryEvent.id)
    )
    shown = QueryRead.model_validate(query)
    return shown.model_copy(update={"history": [QueryEventRead.model_validate(event) for event in events]})
