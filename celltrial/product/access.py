"""Finding product records on behalf of a user, and checking the second person of a two-person act.

Every product record belongs to a subject, and through the subject to a site: a site role acting
on another site's product is told it does not exist (:func:`celltrial.study.permissions.require`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput, NotAllowed, NotFound
from celltrial.product.models import ApheresisCollection, ChainOfIdentity, ManufacturingLot
from celltrial.study.permissions import Action, require
from celltrial.study.subjects.models import Subject
from celltrial.study.users import service as users
from celltrial.study.users.models import User

__all__ = [
    "coi_for",
    "confirm_second_person",
    "current_chain",
    "lot_for",
    "subject_for",
    "subject_for_number",
]


def _check_id(value: object, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"an id is a number, not {value!r}", field=field)
    return value


def subject_for(session: Session, *, subject_id: int, by: User, action: Action) -> Subject:
    """The subject ``subject_id`` if ``by`` may take ``action`` on its product."""
    require(by, action)
    subject = session.get(Subject, _check_id(subject_id, "subject_id"))
    if subject is None:
        raise NotFound(f"no subject with id {subject_id}", field="subject")
    require(by, action, site_id=subject.site_id, record_id=subject_id)
    return subject


def subject_for_number(session: Session, *, subject_number: str, by: User, action: Action) -> Subject:
    """The enrolled subject numbered ``subject_number`` (e.g. ``S01-001``) if ``by`` may act on it."""
    require(by, action)
    number = str(subject_number).strip()
    if not number:
        raise InvalidInput("name the subject by its subject number", field="subject")
    subject = session.scalar(select(Subject).where(Subject.subject_number == number))
    if subject is None:
        raise NotFound(f"no enrolled subject numbered {number!r}", field="subject")
    require(by, action, site_id=subject.site_id)
    return subject


def coi_for(session: Session, *, subject: Subject) -> ChainOfIdentity | None:
    """The subject's chain-of-identity record, or None before it is opened."""
    return session.scalar(select(ChainOfIdentity).where(ChainOfIdentity.subject_id == subject.id))


def current_chain(session: Session, *, subject: Subject) -> ApheresisCollection:
    """The subject's latest collection (the custody chain in progress); NotFound before apheresis."""
    coi = coi_for(session, subject=subject)
    chain = None
    if coi is not None:
        chain = session.scalar(
            select(ApheresisCollection)
            .where(ApheresisCollection.coi_id == coi.id)
            .order_by(ApheresisCollection.attempt.desc())
            .limit(1)
        )
    if chain is None:
        raise NotFound(
            f"subject {subject.subject_number} has no apheresis collection recorded", field="subject"
        )
    return chain


def lot_for(session: Session, *, lot_id: int, by: User, action: Action) -> ManufacturingLot:
    """The lot ``lot_id`` if ``by`` may take ``action`` on its subject's product."""
    require(by, action)
    lot = session.get(ManufacturingLot, _check_id(lot_id, "lot_id"))
    if lot is None:
        raise NotFound(f"no manufacturing lot with id {lot_id}", field="lot")
    require(by, action, site_id=lot.collection.coi.site_id, what="lot")
    return lot


def confirm_second_person(
    session: Session, *, by: User, other: User, password: str, action: Action, site_id: int, purpose: str
) -> User:
    """Check that ``other`` is another person, allowed ``action`` at the site, who confirms with a password.

    Returns the freshly loaded ``other``. A wrong password counts as a failed login (it can lock
    the account) and refuses the act.
    """
    if not isinstance(other, User) or other.id is None:
        raise InvalidInput("the second person must be a registered user", field="second_person")
    if other.id == by.id:
        raise InvalidInput(
            f"{purpose} needs two different people; {by.username!r} cannot be both", field="second_person"
        )
    current = session.get(User, other.id)
    if current is None:
        raise NotFound(f"no user with id {other.id}", field="second_person")
    try:
        require(current, action, site_id=site_id)
    except (NotAllowed, NotFound):
        raise NotAllowed(
            f"{current.username!r} ({current.role}) may not sign {purpose} for this subject's product",
            field="second_person",
        ) from None
    if not isinstance(password, str) or not password:
        raise InvalidInput(
            f"{current.username!r} must confirm {purpose} with their password", field="password"
        )
    users.reauthenticate(session, user=current, password=password, purpose=purpose)
    return current
