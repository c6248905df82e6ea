"""Sign-in state: web sessions (idle timeout, CSRF token) and API tokens, and changing one's password.

A secret (cookie value, bearer token) is 256 random bits shown once; only its SHA-256 is
stored. A web session ends at logout, after ``idle_timeout`` without a request, or when its
user changes password; a token ends at ``expires_at`` or when revoked. Logins themselves are
checked and audited by :func:`celltrial.study.users.service.authenticate`.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput, NotAllowed, NotFound
from celltrial.study.audit import service as audit
from celltrial.study.sessions.models import ApiToken, WebSession
from celltrial.study.types import utcnow
from celltrial.study.users import service as users
from celltrial.study.users.models import User
from celltrial.study.users.passwords import PasswordPolicy, check_rules, hash_password, password_matches

__all__ = [
    "TOUCH_EVERY",
    "change_password",
    "end",
    "end_all",
    "issue_token",
    "resume",
    "revoke_token",
    "start",
    "tokens_of",
    "user_for_token",
]

TOUCH_EVERY = timedelta(seconds=30)
"""A session's or token's last-use time is written at most this often (one write per page view is waste)."""

TOKEN_REFUSED = "the bearer token is unknown, expired or revoked: request a new one at /api/v1/auth/token"

_TOKEN_AND_USER = (
    select(User, ApiToken.id, ApiToken.expires_at, ApiToken.revoked_at, ApiToken.last_used_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.secret_hash == bindparam("digest"))
)
"""A bearer token's holder and the token's state, in one round trip."""


def _touch(session: Session, model: Any, row_id: int, column: Any, now: datetime, every: timedelta) -> None:
    """Record the last use of a session or token, at most every ``every``, without ever waiting.

    The UPDATE runs at once (not at the request's later flush) and, on PostgreSQL, skips a row
    another request is touching: a request never queues on the row of a token that fifty
    concurrent clients share, and never holds that row while it waits for the study's write lock.
    """
    query = update(model).where(model.id == row_id, or_(column.is_(None), column < now - every))
    if session.get_bind().dialect.name == "postgresql":
        free = select(model.id).where(model.id == row_id).with_for_update(skip_locked=True)
        query = query.where(model.id.in_(free))
    session.execute(query.values({column.key: now}).execution_options(synchronize_session=False))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def issue_token(
    session: Session, *, user: User, lifetime: timedelta, label: str = "api"
) -> tuple[str, ApiToken]:
    """A new bearer token for ``user`` (already authenticated); returns the secret and its row."""
    label = label.strip()
    if not label or len(label) > 100:
        raise InvalidInput("the token label must have 1 to 100 characters", field="label")
    if lifetime <= timedelta(0):
        raise InvalidInput("the token lifetime must be positive", field="lifetime")
    secret = _new_secret()
    now = utcnow()
    token = ApiToken(
        secret_hash=_digest(secret), user_id=user.id, label=label, created_at=now, expires_at=now + lifetime
    )
    session.add(token)
    session.flush()
    return secret, token


def user_for_token(session: Session, *, secret: str, now: datetime | None = None) -> User:
    """The active user holding this bearer token; NotAllowed when it is unknown, expired or revoked."""
    now = now or utcnow()
    found = session.execute(_TOKEN_AND_USER, {"digest": _digest(secret)}).first()
    if found is None:
        raise NotAllowed(TOKEN_REFUSED, field="authorization")
    user, token_id, expires_at, revoked_at, last_used_at = found
    if revoked_at is not None or expires_at <= now:
        raise NotAllowed(TOKEN_REFUSED, field="authorization")
    if not user.active:
        state = "disabled" if user.disabled else "locked"
        raise NotAllowed(f"the account {user.username!r} is {state}", field="authorization")
    if last_used_at is None or now - last_used_at >= TOUCH_EVERY:
        _touch(session, ApiToken, token_id, ApiToken.last_used_at, now, TOUCH_EVERY)
    return user


def tokens_of(session: Session, *, user: User) -> list[ApiToken]:
    """The user's tokens, newest first."""
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(session.scalars(query))


def revoke_token(session: Session, *, token_id: int, by: User) -> ApiToken:
    """Revoke one of ``by``'s own tokens (another user's token is reported as not found)."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != by.id:
        raise NotFound(f"no token with id {token_id}", field="token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def start(session: Session, *, user: User) -> tuple[str, WebSession]:
    """A new web session for ``user`` (already authenticated): the cookie secret and the row."""
    secret = _new_secret()
    now = utcnow()
    row = WebSession(
        secret_hash=_digest(secret),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    session.flush()
    return secret, row


def resume(
    session: Session, *, secret: str, idle_timeout: timedelta, now: datetime | None = None
) -> tuple[WebSession, User] | None:
    """The live session of this cookie and its user, or None (unknown, ended, idle too long, inactive user).

    A session idle for longer than ``idle_timeout`` is ended here, with reason ``idle``.
    """
    now = now or utcnow()
    row = session.scalar(select(WebSession).where(WebSession.secret_hash == _digest(secret)))
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen_at > idle_timeout:
        row.ended_at, row.end_reason = now, "idle"
        return None
    user = users.get(session, user_id=row.user_id)
    if user is None or not user.active:
        row.ended_at, row.end_reason = now, "account inactive"
        return None
    every = min(TOUCH_EVERY, idle_timeout / 10)
    if now - row.last_seen_at >= every:
        _touch(session, WebSession, row.id, WebSession.last_seen_at, now, every)
    return row, user


def end(session: Session, *, secret: str, reason: str = "logout") -> WebSession | None:
    """End the session of this cookie (logout); the ended session is returned, None if there was none."""
    row = session.scalar(select(WebSession).where(WebSession.secret_hash == _digest(secret)))
    if row is None or row.ended_at is not None:
        return None
    row.ended_at, row.end_reason = utcnow(), reason
    if reason == "logout":
        user = users.get(session, user_id=row.user_id)
        if user is not None:
            audit.record(
                session, actor=user.username, action="logout", entity="user", entity_id=user.id,
                site_id=user.site_id,
            )  # fmt: skip
    return row


def end_all(session: Session, *, user_id: int, reason: str, keep: WebSession | None = None) -> int:
    """End every live web session of a user (but ``keep``); return how many ended."""
    query = update(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(WebSession.id != keep.id)
    result = session.execute(
        query.values(ended_at=utcnow(), end_reason=reason).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def change_password(
    session: Session,
    *,
    user: User,
    current_password: str,
    new_password: str,
    keep: WebSession | None = None,
    policy: PasswordPolicy | None = None,
) -> User:
    """The user changes their own password: the current one is checked again (a wrong one counts
    as a failed login), the new one must follow the rules and differ; every other web session
    ends and every API token is revoked.
    """
    policy = policy or PasswordPolicy.from_environment()
    users.reauthenticate(session, user=user, password=current_password, purpose="password change")
    current = users.get_or_raise(session, user_id=user.id)
    check_rules(new_password, username=current.username, full_name=current.full_name, policy=policy)
    if password_matches(current.password_hash, new_password):
        raise InvalidInput("the new password must differ from the current one", field="new_password")
    current.password_hash = hash_password(new_password)
    current.password_changed_at = utcnow()
    end_all(session, user_id=current.id, reason="password changed", keep=keep)
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == current.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session, actor=current.username, action="password.change", entity="user", entity_id=current.id,
        site_id=current.site_id,
    )  # fmt: skip
    return current
