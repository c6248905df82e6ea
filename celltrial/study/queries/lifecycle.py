"""A data query's lifecycle: open → answered → closed, or re-opened.

::

    open ──answer──> answered ──close──> closed
     ^  └─────────close (withdrawn)──────> │
     └──────────reopen─── answered/closed ─┘

The site answers; the monitor or data manager who reviews the answer closes the query or
re-opens it. A query raised by an edit check also closes itself when a later save passes the
check (``resolve``). Pure: no database.
"""

from __future__ import annotations

from enum import StrEnum

from celltrial.errors import IllegalTransition

__all__ = ["QueryAction", "QueryStatus", "next_query_status"]


class QueryStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class QueryAction(StrEnum):
    RAISE = "raise"
    ANSWER = "answer"
    CLOSE = "close"
    REOPEN = "reopen"
    RESOLVE = "resolve"
    """An edit-check query closed by the system because a later save passes the check."""


_NEXT: dict[tuple[QueryStatus, QueryAction], QueryStatus] = {
    (QueryStatus.OPEN, QueryAction.ANSWER): QueryStatus.ANSWERED,
    (QueryStatus.OPEN, QueryAction.CLOSE): QueryStatus.CLOSED,
    (QueryStatus.OPEN, QueryAction.RESOLVE): QueryStatus.CLOSED,
    (QueryStatus.ANSWERED, QueryAction.CLOSE): QueryStatus.CLOSED,
    (QueryStatus.ANSWERED, QueryAction.REOPEN): QueryStatus.OPEN,
    (QueryStatus.ANSWERED, QueryAction.RESOLVE): QueryStatus.CLOSED,
    (QueryStatus.CLOSED, QueryAction.REOPEN): QueryStatus.OPEN,
}


def next_query_status(current: QueryStatus, action: QueryAction) -> QueryStatus:
    """The status after ``action``; an action the lifecycle does not allow is refused."""
    try:
        return _NEXT[(current, action)]
    except KeyError:
        allowed = ", ".join(sorted(a.value for (s, a) in _NEXT if s is current))
        raise IllegalTransition(
            f"a query that is {current} cannot be {_PAST[action]} (allowed: {allowed})", field="status"
        ) from None


_PAST = {
    QueryAction.RAISE: "raised",
    QueryAction.ANSWER: "answered",
    QueryAction.CLOSE: "closed",
    QueryAction.REOPEN: "re-opened",
    QueryAction.RESOLVE: "resolved",
}
