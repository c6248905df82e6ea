"""Users: create, list, disable, reset passwords, change roles; sign in with lockout; re-authenticate to sign.

Logins, failed logins, lockouts and role changes are written to the audit trail (ICH E6(R3)
4.2.2: who may do what in the system, and when that changed, is part of the trial's record).
A failed attempt must be remembered even though the caller's transaction rolls back on the
refusal, so it is recorded in a transaction of its own (unless the caller's transaction already
holds the study write lock, in which case a second transaction would wait on it; it is then
recorded in the caller's).
"""

from __future__ import annotations

import getpass
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.errors import Conflict, InvalidInput, NotAllowed, NotFound
from celltrial.study.audit import service as audit
from celltrial.study.permissions import Action, require
from celltrial.study.serialise import holds_write_lock, serialise_writes
from celltrial.study.sites.models import Site
from celltrial.study.types import utcnow
from celltrial.study.users.models import SITE_ROLES, Role, User
from celltrial.study.users.passwords import (
    PasswordPolicy,
    check_rules,
    dummy_hash,
    hash_password,
    needs_rehash,
    password_matches,
)

__all__ = [
    "authenticate",
    "change_role",
    "create",
    "disable",
    "get",
    "get_all",
    "get_by_username",
    "get_by_username_or_raise",
    "get_or_raise",
    "operator",
    "reauthenticate",
    "reset_password",
]

_USERNAME = re.compile(r"[a-z][a-z0-9._-]{2,63}")
WRONG_CREDENTIALS = "wrong username or password"


def operator(name: str | None = None) -> User:
    """The administrator at the server console (the CLI's actor); never stored as a user."""
    login = name or getpass.getuser()
    username = f"console:{login}"[:64]
    return User(username=username, full_name=login, role=Role.ADMIN, locked=False, disabled=False)


def get(session: Session, *, user_id: int) -> User | None:
    """The user with this id, or None."""
    return session.get(User, user_id)


def get_or_raise(session: Session, *, user_id: int) -> User:
    """The user with this id; NotFound otherwise."""
    user = get(session, user_id=user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}", field="user")
    return user


def get_by_username(session: Session, *, username: str) -> User | None:
    """The user with this username (case-insensitive), or None."""
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def get_by_username_or_raise(session: Session, *, username: str) -> User:
    """The user with this username; NotFound otherwise."""
    user = get_by_username(session, username=username)
    if user is None:
        raise NotFound(f"no user named {username!r}", field="username")
    return user


def get_all(session: Session, *, site_id: int | None = None) -> list[User]:
    """Every user (of one site when ``site_id`` is given), by username."""
    query = select(User).order_by(User.username)
    if site_id is not None:
        query = query.where(User.site_id == site_id)
    return list(session.scalars(query))


def create(
    session: Session,
    *,
    username: str,
    full_name: str,
    role: Role | str,
    password: str,
    site_id: int | None = None,
    by: User,
    policy: PasswordPolicy | None = None,
) -> User:
    """Add a user. Site roles need a site; central roles must have none."""
    require(by, Action.USER_MANAGE)
    policy = policy or PasswordPolicy.from_environment()
    username = username.strip().lower()
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            f"the username {username!r} must be 3-64 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter",
            field="username",
        )
    full_name = full_name.strip()
    if not full_name or len(full_name) > 200:
        raise InvalidInput("the full name must have 1 to 200 characters", field="full_name")
    role = role if isinstance(role, Role) else Role.parse(role)
    _check_site(session, role, site_id)
    if get_by_username(session, username=username) is not None:
        raise Conflict(f"a user named {username!r} already exists", field="username")
    check_rules(password, username=username, full_name=full_name, policy=policy)
    user = User(
        username=username,
        full_name=full_name,
        role=role,
        site_id=site_id,
        password_hash=hash_password(password),
        failed_logins=0,
        locked=False,
        disabled=False,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="user",
        entity_id=user.id,
        new={"username": username, "full_name": full_name, "role": role, "site_id": site_id},
        site_id=site_id,
    )
    return user


def disable(session: Session, *, username: str, reason: str, by: User) -> User:
    """Disable an account (it can no longer sign in or sign); its records keep its name."""
    require(by, Action.USER_MANAGE)
    if not reason.strip():
        raise InvalidInput("say why the account is disabled", field="reason")
    user = get_by_username_or_raise(session, username=username)
    if user.disabled:
        raise Conflict(f"the account {user.username!r} is already disabled", field="username")
    user.disabled = True
    audit.record(
        session,
        actor=by.username,
        action="disable",
        entity="user",
        entity_id=user.id,
        field="disabled",
        old=False,
        new=True,
        reason=reason.strip(),
        site_id=user.site_id,
    )
    return user


def _check_site(session: Session, role: Role, site_id: int | None) -> None:
    if role in SITE_ROLES and site_id is None:
        raise InvalidInput(f"a {role} belongs to a site: give the site", field="site")
    if role not in SITE_ROLES and site_id is not None:
        raise InvalidInput(f"a {role} works across sites and has no site", field="site")
    if site_id is not None and session.get(Site, site_id) is None:
        raise NotFound(f"no site with id {site_id}", field="site")


def change_role(
    session: Session, *, username: str, role: Role | str, reason: str, by: User, site_id: int | None = None
) -> User:
    """Give a user another role (and the site a site role needs); audited with the old and new
    role and site and the reason. The change applies from the user's next request."""
    require(by, Action.USER_MANAGE)
    if not reason.strip():
        raise InvalidInput("say why the role changes", field="reason")
    user = get_by_username_or_raise(session, username=username)
    role = role if isinstance(role, Role) else Role.parse(role)
    _check_site(session, role, site_id)
    if role == user.role and site_id == user.site_id:
        raise Conflict(f"{user.username!r} already is a {role} there", field="role")
    old_site = user.site_id
    old = {"role": str(user.role), "site_id": old_site}
    user.role, user.site_id = role, site_id
    audit.record(
        session,
        actor=by.username,
        action="role.change",
        entity="user",
        entity_id=user.id,
        field="role",
        old=old,
        new={"role": str(role), "site_id": site_id},
        reason=reason.strip(),
        site_id=site_id if site_id is not None else old_site,
    )
    return user


def reset_password(
    session: Session, *, username: str, password: str, by: User, policy: PasswordPolicy | None = None
) -> User:
    """Set a new password chosen by an administrator; this also lifts a lockout."""
    require(by, Action.USER_MANAGE)
    policy = policy or PasswordPolicy.from_environment()
    user = get_by_username_or_raise(session, username=username)
    check_rules(password, username=user.username, full_name=user.full_name, policy=policy)
    was_locked = user.locked
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.failed_logins = 0
    user.locked = False
    audit.record(
        session,
        actor=by.username,
        action="password.reset",
        entity="user",
        entity_id=user.id,
        new={"unlocked": was_locked},
        site_id=user.site_id,
    )
    return user


def authenticate(
    session: Session, *, username: str, password: str, policy: PasswordPolicy | None = None
) -> User:
    """The user whose username and password these are; NotAllowed otherwise.

    A successful login is recorded in the caller's transaction; failed logins are counted and
    recorded even though the refusal rolls the caller's transaction back. After
    ``policy.max_failed_logins`` failures in a row the account locks until its password is reset.
    """
    policy = policy or PasswordPolicy.from_environment()
    user = get_by_username(session, username=username)
    if user is None:
        password_matches(dummy_hash(), password)
        why = "unknown username"
        _security_event(session, username=username, user_id=None, why=why, counts=False, policy=policy)
        raise NotAllowed(WRONG_CREDENTIALS, field="password")
    _refuse_inactive(session, user, policy=policy, purpose="login")
    if not password_matches(user.password_hash, password):
        _security_event(
            session, username=user.username, user_id=user.id, why="wrong password", counts=True, policy=policy
        )
        raise NotAllowed(WRONG_CREDENTIALS, field="password")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.last_login_at = utcnow()
    audit.record(
        session, actor=user.username, action="login", entity="user", entity_id=user.id, site_id=user.site_id
    )
    return user


def reauthenticate(
    session: Session, *, user: User, password: str, purpose: str, policy: PasswordPolicy | None = None
) -> None:
    """Check the password of a signed-in user again (electronic signature, 21 CFR 11.200(a)).

    A wrong password counts as a failed login and can lock the account.
    """
    policy = policy or PasswordPolicy.from_environment()
    current = get_or_raise(session, user_id=user.id)
    _refuse_inactive(session, current, policy=policy, purpose=purpose)
    if not password_matches(current.password_hash, password):
        why = f"wrong password ({purpose})"
        name = current.username
        _security_event(session, username=name, user_id=current.id, why=why, counts=True, policy=policy)
        raise NotAllowed(f"the password is wrong: {purpose} refused", field="password")


def _refuse_inactive(session: Session, user: User, *, policy: PasswordPolicy, purpose: str) -> None:
    if not (user.disabled or user.locked):
        return
    password_matches(dummy_hash(), "")
    state = "disabled" if user.disabled else f"locked after {policy.max_failed_logins} failed logins"
    why = f"account {state}"
    _security_event(session, username=user.username, user_id=user.id, why=why, counts=False, policy=policy)
    hint = "" if user.disabled else "; an administrator must reset the password"
    raise NotAllowed(f"the account {user.username!r} is {state}{hint} ({purpose} refused)", field="username")


def _security_event(
    session: Session, *, username: str, user_id: int | None, why: str, counts: bool, policy: PasswordPolicy
) -> None:
    """Audit a refused attempt (and count it when ``counts``) so that it survives the caller's rollback."""
    if holds_write_lock(session):
        _count_failure(session, username=username, user_id=user_id, why=why, counts=counts, policy=policy)
        return
    with Session(bind=session.get_bind(), expire_on_commit=False) as own, own.begin():
        _count_failure(own, username=username, user_id=user_id, why=why, counts=counts, policy=policy)
    if user_id is not None and (user := session.get(User, user_id)) is not None:
        session.expire(user)


def _count_failure(
    session: Session, *, username: str, user_id: int | None, why: str, counts: bool, policy: PasswordPolicy
) -> None:
    serialise_writes(session)
    name = username.strip()[:64] or "(empty)"
    user = session.get(User, user_id, populate_existing=True) if user_id is not None else None
    counted = None
    if user is not None and counts and not user.locked:
        user.failed_logins += 1
        counted = user.failed_logins
    audit.record(
        session,
        actor=name,
        action="login.failed",
        entity="user",
        entity_id=user_id if user_id is not None else name,
        new={"reason": why, "failed_logins": counted},
        site_id=user.site_id if user else None,
    )
    if user is not None and counted is not None and counted >= policy.max_failed_logins:
        user.locked = True
        audit.record(
            session,
            actor=name,
            action="lock",
            entity="user",
            entity_id=user.id,
            field="locked",
            old=False,
            new=True,
            reason=f"{counted} failed logins in a row",
            site_id=user.site_id,
        )
