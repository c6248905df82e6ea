"""Tokens: sign in for a bearer token, see and revoke one's tokens, who am I."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel

from celltrial.errors import NotAllowed, NotAuthenticated
from celltrial.study.permissions import PERMISSIONS
from celltrial.study.sessions import service as sessions
from celltrial.study.sessions.models import ApiTokenRead
from celltrial.study.users import service as users
from celltrial.study.users.models import Role, UserRead
from celltrial.web.api.common import Id
from celltrial.web.deps import ApiUser, DbSession, bearer, settings_of
from celltrial.web.problems import problem_responses
from celltrial.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/auth", tags=["auth"])


class Token(BaseModel):
    """A bearer token: send it as ``Authorization: Bearer <access_token>`` until ``expires_at``."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    user: UserRead


class Me(BaseModel):
    """The signed-in user and what their role may do."""

    user: UserRead
    permissions: list[str]


@router.post("/token", response_model=Token, responses=problem_responses(401, 422, 503))
def issue_token(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    label: Annotated[str, Form(min_length=1, max_length=100)] = "api",
) -> Token:
    """Exchange a username and password (OAuth2 password form) for a bearer token.

    Failed attempts count towards the account's lockout.
    """
    try:
        user = users.authenticate(session, username=username, password=password)
    except NotAllowed as refused:
        raise NotAuthenticated(refused.message, field=refused.field) from None
    secret, token = sessions.issue_token(
        session, user=user, lifetime=settings_of(request).token_lifetime, label=label
    )
    return Token(access_token=secret, expires_at=token.expires_at, user=UserRead.model_validate(user))


@router.get("/me", response_model=Me, responses=problem_responses(401, 503))
def me(user: ApiUser) -> Me:
    """The user the token belongs to, and the actions their role permits."""
    return Me(
        user=UserRead.model_validate(user),
        permissions=sorted(action.value for action in PERMISSIONS[Role(user.role)]),
    )


@router.get("/tokens", response_model=list[ApiTokenRead], responses=problem_responses(401, 503))
def my_tokens(session: DbSession, user: ApiUser) -> list[ApiTokenRead]:
    """The signed-in user's tokens, newest first (never their secrets)."""
    return [ApiTokenRead.model_validate(token) for token in sessions.tokens_of(session, user=user)]


@router.delete(
    "/tokens/{token_id}", response_model=ApiTokenRead, responses=problem_responses(401, 404, 422, 503)
)
def revoke_token(session: DbSession, user: ApiUser, token_id: Id) -> ApiTokenRead:
    """Revoke one of the signed-in user's tokens."""
    return ApiTokenRead.model_validate(sessions.revoke_token(session, token_id=token_id, by=user))


__all__ = ["Me", "Token", "bearer", "router"]
