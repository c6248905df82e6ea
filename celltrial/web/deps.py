"""What a route asks for: the request's unit of work, the signed-in user (bearer token or cookie), CSRF.

The unit of work is one session per request, committed when the route returns and before the
response is sent (so a failed commit is an error response), rolled back when it raises. No
connection is held while a request waits for a worker thread:

- an API request's bearer token is checked at the start of the route's own call, in its worker
  thread and transaction (:class:`~celltrial.web.routing.InRouteCall`): one thread hand-over,
  one connection checkout and one transaction per request;
- a page's sign-in check (cookie) commits its own short transaction before the route runs.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from celltrial.database import unit_of_work
from celltrial.errors import NotAllowed, NotAuthenticated
from celltrial.study.sessions import service as sessions
from celltrial.study.sessions.models import WebSession
from celltrial.study.users.models import User
from celltrial.web.routing import InRouteCall
from celltrial.web.settings import WebSettings

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "Actor",
    "ApiUser",
    "DbSession",
    "LoginRequired",
    "MaybeViewer",
    "Viewer",
    "Visitor",
    "settings_of",
]

SESSION_COOKIE = "celltrial_session"
LOGIN_CSRF_COOKIE = "celltrial_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """A page needs a signed-in user: the browser is sent to the login page."""

    def __init__(self, next_path: str, *, expired: bool) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.expired = expired


def settings_of(request: Request) -> WebSettings:
    """The settings of the app serving ``request``."""
    settings = request.app.state.settings
    assert isinstance(settings, WebSettings)
    return settings


async def _db_session(request: Request) -> AsyncIterator[Session]:
    # An async generator: the commit (or rollback) after the route runs on the event loop, not in
    # a worker thread, so a request holding the study write lock never waits for a free thread
    # while the threads wait for that lock.
    with unit_of_work(request.app.state.sessions) as session:
        yield session


DbSession = Annotated[Session, Depends(_db_session, scope="function")]
"""The request's unit of work."""


def _end_sign_in_check(session: Session) -> None:
    """Commit the sign-in check (and its last-use mark) so the connection goes back to the pool
    before the route itself runs in another thread."""
    session.commit()


bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


class _BearerCheck(InRouteCall):
    """A bearer token to check on the request's session, in the route's own call."""

    def __init__(self, session: Session, secret: str) -> None:
        self.session = session
        self.secret = secret

    def resolve(self) -> User:
        try:
            return sessions.user_for_token(self.session, secret=self.secret)
        except NotAllowed as refused:
            raise NotAuthenticated(refused.message, field=refused.field) from None


async def _api_user(session: DbSession, token: Annotated[str | None, Depends(bearer)]) -> User:
    # Declared to answer a User, which is what the route receives: UnitOfWorkRoute checks the
    # token (a database read) at the start of the route's call. A missing token is refused here.
    if not token:
        raise NotAuthenticated(
            "sign in first: send 'Authorization: Bearer <token>' with a token from POST /api/v1/auth/token",
            field="authorization",
        )
    return _BearerCheck(session, token)  # type: ignore[return-value]


ApiUser = Annotated[User, Depends(_api_user)]
"""The user of an API request (bearer token), for routes of a
:class:`~celltrial.web.routing.UnitOfWorkRoute` router (which checks the token)."""


@dataclass(frozen=True)
class Visitor:
    """A signed-in browser: its user and its web session (which holds the CSRF token)."""

    user: User
    web_session: WebSession

    @property
    def csrf_token(self) -> str:
        return self.web_session.csrf_token


def _visitor(request: Request, session: DbSession) -> Visitor:
    secret = request.cookies.get(SESSION_COOKIE)
    resumed = (
        sessions.resume(session, secret=secret, idle_timeout=settings_of(request).idle_timeout)
        if secret
        else None
    )
    if resumed is None:
        session.commit()  # keep the end of a session found idle (or its user inactive) on record
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target, expired=bool(secret))
    row, user = resumed
    _end_sign_in_check(session)
    return Visitor(user=user, web_session=row)


async def _actor(request: Request, visitor: Annotated[Visitor, Depends(_visitor)]) -> Visitor:
    if request.method in _SAFE_METHODS:
        return visitor
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent, visitor.csrf_token):
        raise NotAllowed(
            "the form's security token is missing or out of date: reload the page and try again",
            field=CSRF_FIELD,
        )
    return visitor


def _maybe_visitor(request: Request, session: DbSession) -> Visitor | None:
    try:
        return _visitor(request, session)
    except LoginRequired:
        return None


Viewer = Annotated[Visitor, Depends(_visitor)]
"""The signed-in browser of a page that only reads."""

Actor = Annotated[Visitor, Depends(_actor)]
"""The signed-in browser of a request that changes something (its CSRF token checked)."""

MaybeViewer = Annotated[Visitor | None, Depends(_maybe_visitor)]
"""The signed-in browser of a public page, or None for a visitor who is not signed in."""
