"""User administration (administrator): list, add, disable, change a role, reset a password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from celltrial.study.permissions import Action, require
from celltrial.study.users import service as users
from celltrial.study.users.models import Role, UserRead
from celltrial.web.api.common import AUTHENTICATED, Page, Paging, page_of, paging
from celltrial.web.deps import ApiUser, DbSession
from celltrial.web.problems import problem_responses
from celltrial.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/users", tags=["users"])


class UserCreate(BaseModel):
    """A new user; site roles (investigator, coordinator, cell_lab) need a site, others have none."""

    username: str = Field(min_length=1, max_length=64)
    full_name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str = Field(min_length=1, max_length=256)
    site_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class Disable(BaseModel):
    """Why an account is disabled."""

    reason: str = Field(min_length=1, max_length=1000)


class RoleChange(BaseModel):
    """Another role for a user (site roles need a site, others have none) and why."""

    role: Role
    site_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    reason: str = Field(min_length=1, max_length=1000)


class PasswordReset(BaseModel):
    """A new password chosen by the administrator (it also lifts a lockout)."""

    password: str = Field(min_length=1, max_length=256)


@router.get("", response_model=Page[UserRead], responses=AUTHENTICATED)
def list_users(
    session: DbSession,
    user: ApiUser,
    chosen: Annotated[Paging, Depends(paging)],
    site_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> Page[UserRead]:
    """Every user, by username (of one site with ``site_id``)."""
    require(user, Action.USER_MANAGE)
    found = users.get_all(session, site_id=site_id)
    return page_of([UserRead.model_validate(item) for item in found], chosen)


@router.post(
    "", response_model=UserRead, status_code=201, responses=AUTHENTICATED | problem_responses(404, 409)
)
def create_user(session: DbSession, user: ApiUser, new: UserCreate) -> UserRead:
    """Add a user."""
    created = users.create(
        session,
        username=new.username,
        full_name=new.full_name,
        role=new.role,
        password=new.password,
        site_id=new.site_id,
        by=user,
    )
    return UserRead.model_validate(created)


@router.post(
    "/{username}/disable", response_model=UserRead, responses=AUTHENTICATED | problem_responses(404, 409)
)
def disable_user(session: DbSession, user: ApiUser, username: str, why: Disable) -> UserRead:
    """Disable an account (it can no longer sign in or sign)."""
    return UserRead.model_validate(users.disable(session, username=username, reason=why.reason, by=user))


@router.post(
    "/{username}/role", response_model=UserRead, responses=AUTHENTICATED | problem_responses(404, 409)
)
def change_role(session: DbSession, user: ApiUser, username: str, change: RoleChange) -> UserRead:
    """Give a user another role (audited with the old and new role and the reason)."""
    changed = users.change_role(
        session, username=username, role=change.role, site_id=change.site_id, reason=change.reason, by=user
    )
    return UserRead.model_validate(changed)


@router.post(
    "/{username}/password", response_model=UserRead, responses=AUTHENTICATED | problem_responses(404)
)
def reset_password(session: DbSession, user: ApiUser, username: str, new: PasswordReset) -> UserRead:
    """Set a new password for an account (lifts a lockout)."""
    return UserRead.model_validate(
        users.reset_password(session, username=username, password=new.password, by=user)
    )
