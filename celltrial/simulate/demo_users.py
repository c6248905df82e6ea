"""One demo login per role, with one known password, for the demo and the simulated trial.

:func:`create_demo_users` adds ``investigator``, ``coordinator`` and ``lab`` at a site and the
central ``datamanager``, ``monitor``, ``sponsor``, ``dsmb`` and ``admin`` (usernames have at
least three characters, so the principal investigator is ``investigator``), all with
:data:`DEMO_PASSWORD`, through the user service (audited like any account). Users that already
exist are left as they are, so calling it twice is harmless.

The demo's password is printed on the screen, so its hashes protect nothing: inside
:func:`quick_password_hashing` they are made with argon2id at small parameters, which lets the
simulated staff re-enter their password for thousands of custody hand-overs in seconds. The
user service renews such a hash with the full parameters at the account's first login.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from celltrial.study.users import passwords
from celltrial.study.users import service as users
from celltrial.study.users.models import SITE_ROLES, Role, User

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "create_demo_users", "quick_password_hashing"]

DEMO_PASSWORD = "cd7-car-t-demo-2025"
"""The password of every demo account (printed by ``celltrial demo``)."""

DEMO_USERS: dict[Role, tuple[str, str]] = {
    Role.INVESTIGATOR: ("investigator", "Dr Li Ming"),
    Role.COORDINATOR: ("coordinator", "Zhao Hong"),
    Role.CELL_LAB: ("lab", "Chen Jing"),
    Role.DATA_MANAGER: ("datamanager", "Sun Ping"),
    Role.MONITOR: ("monitor", "Zhou Yan"),
    Role.SPONSOR: ("sponsor", "Wu Gang"),
    Role.DSMB: ("dsmb", "Prof Xu Hua"),
    Role.ADMIN: ("admin", "Ma Qiang"),
}
"""Username and full name of the demo account of each role."""


@contextmanager
def quick_password_hashing() -> Iterator[None]:
    """Within the block, new password hashes use argon2id with small parameters (see the module)."""
    kept = passwords._HASHER
    passwords._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        yield
    finally:
        passwords._HASHER = kept


def create_demo_users(
    session: Session, *, site_id: int, by: User, password: str = DEMO_PASSWORD
) -> dict[Role, User]:
    """The demo account of every role (site roles at ``site_id``), created when missing."""
    made: dict[Role, User] = {}
    for role, (username, full_name) in DEMO_USERS.items():
        existing = users.get_by_username(session, username=username)
        made[role] = existing or users.create(
            session,
            username=username,
            full_name=full_name,
            role=role,
            password=password,
            site_id=site_id if role in SITE_ROLES else None,
            by=by,
        )
    return made
