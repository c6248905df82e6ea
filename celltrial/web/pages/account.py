"""Signing in and out, and changing one's password.

A login starts a new server-side session (a new cookie value; any session the browser held
is ended first). The login form carries its own CSRF token (a cookie matched by a form field),
since there is no session yet to hold one.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from celltrial.errors import CelltrialError, InvalidInput, NotAllowed
from celltrial.study.sessions import service as sessions
from celltrial.study.users import service as users
from celltrial.web.deps import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Actor, DbSession, Viewer, settings_of
from celltrial.web.routing import UnitOfWorkRoute
from celltrial.web.templating import render

router = APIRouter(route_class=UnitOfWorkRoute)


def _secure(request: Request) -> bool:
    chosen = settings_of(request).secure_cookies
    return request.url.scheme == "https" if chosen is None else chosen


def safe_next(target: str | None) -> str:
    """A local path to go to after login (anything else goes to the dashboard)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target:
        return target
    return "/"


def _login_form(
    request: Request,
    *,
    next_path: str,
    problem: CelltrialError | None = None,
    username: str = "",
    status: int = 200,
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    notice = None
    if request.query_params.get("expired"):
        notice = "Your session ended after a period without activity. Please sign in again."
    elif request.query_params.get("logged_out"):
        notice = "You are signed out."
    elif request.query_params.get("password_changed"):
        notice = "Your password was changed. Sign in with the new one."
    response = render(
        request,
        "login.html",
        {"csrf_token": token, "next": next_path, "problem": problem, "username": username, "notice": notice},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/login"
    )
    return response


@router.get("/login")
def login_page(
    request: Request, session: DbSession, next_path: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    """The login form (a signed-in browser goes straight on)."""
    secret = request.cookies.get(SESSION_COOKIE)
    idle = settings_of(request).idle_timeout
    if secret and sessions.resume(session, secret=secret, idle_timeout=idle) is not None:
        return RedirectResponse(safe_next(next_path), status_code=303)
    return _login_form(request, next_path=safe_next(next_path))


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "/",
) -> Response:
    """Check the username and password; on success start a new session and go on."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not secrets.compare_digest(expected, csrf_token):
        stale = NotAllowed("the login form expired: please try again", field="csrf_token")
        return _login_form(
            request, next_path=safe_next(next_path), problem=stale, username=username, status=403
        )
    try:
        user = users.authenticate(session, username=username, password=password)
    except NotAllowed as refused:
        session.rollback()
        return _login_form(
            request, next_path=safe_next(next_path), problem=refused, username=username, status=401
        )
    if old := request.cookies.get(SESSION_COOKIE):
        sessions.end(session, secret=old, reason="new login")
    secret, _row = sessions.start(session, user=user)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, secret, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession, visitor: Actor) -> Response:
    """End the session; the cookie is forgotten and the session can never be used again."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        sessions.end(session, secret=secret, reason="logout")
    response = RedirectResponse("/login?logged_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/password")
def password_page(request: Request, visitor: Viewer) -> Response:
    """The change-password form."""
    return render(request, "password.html", {"problem": None}, visitor=visitor)


@router.post("/password")
def change_password(
    request: Request,
    session: DbSession,
    visitor: Actor,
    current_password: Annotated[str, Form(max_length=500)] = "",
    new_password: Annotated[str, Form(max_length=500)] = "",
    confirm_password: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Change one's own password: the current one again, the new one twice."""
    try:
        if new_password != confirm_password:
            raise InvalidInput("the two new passwords differ", field="confirm_password")
        sessions.change_password(
            session,
            user=visitor.user,
            current_password=current_password,
            new_password=new_password,
            keep=visitor.web_session,
        )
    except CelltrialError as problem:
        session.rollback()
        return render(
            request, "password.html", {"problem": problem}, visitor=visitor, status_code=problem.http_status
        )
    return render(request, "password.html", {"problem": None, "changed": True}, visitor=visitor)
