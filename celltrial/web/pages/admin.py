"""Administration: users (add, disable, reset a password) and data locks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from celltrial.errors import CelltrialError
from celltrial.study.audit import service as audit
from celltrial.study.audit.models import AuditEntryRead
from celltrial.study.locks import service as locks
from celltrial.study.permissions import Action, allowed, require
from celltrial.study.sites import service as sites
from celltrial.study.subjects import service as subjects
from celltrial.study.users import service as users
from celltrial.study.users.models import Role
from celltrial.web.api.study import running_trial
from celltrial.web.deps import Actor, DbSession, Viewer, Visitor, settings_of
from celltrial.web.pages.common import DONE, attempt, back_to
from celltrial.web.routing import UnitOfWorkRoute
from celltrial.web.templating import render

router = APIRouter(route_class=UnitOfWorkRoute)


def _users_page(
    request: Request, session: Session, visitor: Visitor, *, problem: CelltrialError | None = None
) -> Response:
    require(visitor.user, Action.USER_MANAGE)
    return render(
        request,
        "users.html",
        {
            "users": users.get_all(session),
            "sites": sites.get_all(session),
            "roles": list(Role),
            "problem": problem,
            "done": DONE.get(request.query_params.get("done", "")),
        },
        visitor=visitor,
        status_code=problem.http_status if problem else 200,
    )


@router.get("/admin/users")
def user_list(request: Request, session: DbSession, visitor: Viewer) -> Response:
    """Every user with role, site and account state; forms to add, disable and reset."""
    return _users_page(request, session, visitor)


@router.post("/admin/users")
def add_user(
    request: Request,
    session: DbSession,
    visitor: Actor,
    username: Annotated[str, Form(max_length=64)] = "",
    full_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    site_id: Annotated[str, Form(max_length=12)] = "",
    password: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Add a user."""
    outcome = attempt(
        session,
        lambda: users.create(
            session,
            username=username,
            full_name=full_name,
            role=role,
            password=password,
            site_id=int(site_id) if site_id.isdigit() else None,
            by=visitor.user,
        ),
    )
    if isinstance(outcome, CelltrialError):
        return _users_page(request, session, visitor, problem=outcome)
    return back_to("/admin/users", "user")


@router.post("/admin/users/{username}/disable")
def disable_user(
    request: Request,
    session: DbSession,
    visitor: Actor,
    username: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Disable an account."""
    outcome = attempt(
        session, lambda: users.disable(session, username=username, reason=reason, by=visitor.user)
    )
    if isinstance(outcome, CelltrialError):
        return _users_page(request, session, visitor, problem=outcome)
    return back_to("/admin/users", "disabled")


@router.post("/admin/users/{username}/role")
def change_role(
    request: Request,
    session: DbSession,
    visitor: Actor,
    username: str,
    role: Annotated[str, Form(max_length=32)] = "",
    site_id: Annotated[str, Form(max_length=12)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Give a user another role (and site), with the reason (audited)."""
    site = int(site_id) if site_id.isdigit() else None
    outcome = attempt(
        session,
        lambda: users.change_role(
            session, username=username, role=role, site_id=site, reason=reason, by=visitor.user
        ),
    )
    if isinstance(outcome, CelltrialError):
        return _users_page(request, session, visitor, problem=outcome)
    return back_to("/admin/users", "role")


@router.post("/admin/users/{username}/password")
def reset_password(
    request: Request,
    session: DbSession,
    visitor: Actor,
    username: str,
    password: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Set a new password for an account (lifts a lockout)."""
    outcome = attempt(
        session, lambda: users.reset_password(session, username=username, password=password, by=visitor.user)
    )
    if isinstance(outcome, CelltrialError):
        return _users_page(request, session, visitor, problem=outcome)
    return back_to("/admin/users", "password")


def _locks_page(
    request: Request, session: Session, visitor: Visitor, *, problem: CelltrialError | None = None
) -> Response:
    user = visitor.user
    if not allowed(user, Action.DATA_UNLOCK):
        require(user, Action.DATA_LOCK)
    trial = running_trial(session, settings_of(request))
    listed = subjects.list_subjects(session, by=user, study_id=trial.id if trial else None)
    return render(
        request,
        "locks.html",
        {
            "locks": locks.active_locks(session),
            "subjects": {subject.id: subject.label for subject in listed},
            "can_lock": allowed(user, Action.DATA_LOCK),
            "can_unlock": allowed(user, Action.DATA_UNLOCK),
            "problem": problem,
            "done": DONE.get(request.query_params.get("done", "")),
        },
        visitor=visitor,
        status_code=problem.http_status if problem else 200,
    )


@router.get("/locks")
def lock_list(request: Request, session: DbSession, visitor: Viewer) -> Response:
    """The locks in force; forms to lock a subject or the study, and to unlock with a reason."""
    return _locks_page(request, session, visitor)


@router.post("/locks")
def lock(
    request: Request,
    session: DbSession,
    visitor: Actor,
    subject_id: Annotated[str, Form(max_length=12)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Lock one subject's data (or the whole study when no subject is chosen)."""
    chosen = int(subject_id) if subject_id.isdigit() else None
    outcome = attempt(
        session, lambda: locks.lock(session, subject_id=chosen, reason=reason or None, by=visitor.user)
    )
    if isinstance(outcome, CelltrialError):
        return _locks_page(request, session, visitor, problem=outcome)
    return back_to("/locks", "locked")


@router.post("/locks/release")
def unlock(
    request: Request,
    session: DbSession,
    visitor: Actor,
    subject_id: Annotated[str, Form(max_length=12)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Lift a lock, with the reason."""
    chosen = int(subject_id) if subject_id.isdigit() else None
    outcome = attempt(
        session, lambda: locks.unlock(session, subject_id=chosen, reason=reason, by=visitor.user)
    )
    if isinstance(outcome, CelltrialError):
        return _locks_page(request, session, visitor, problem=outcome)
    return back_to("/locks", "unlocked")


@router.get("/subjects/{subject_id}/audit")
def subject_audit(request: Request, session: DbSession, visitor: Viewer, subject_id: int) -> Response:
    """Every audit entry about a subject: who, when, what, old and new values, reason."""
    subject = subjects.get(session, subject_id=subject_id, by=visitor.user)
    require(visitor.user, Action.AUDIT_VIEW, site_id=subject.site_id)
    entries = [
        AuditEntryRead.model_validate(entry) for entry in audit.history(session, subject_id=subject.id)
    ]
    return render(request, "audit.html", {"subject": subject, "entries": entries}, visitor=visitor)
