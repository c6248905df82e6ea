"""Bedside verification before infusion: two people read the bag's DIN and the subject's wristband.

Both reads must agree with each other and with the chain of identity: the wristband carries the
subject number of the subject being treated, the bag is a final product bag of that subject's
current chain, made from a released lot and thawed for this infusion. Any disagreement blocks
the infusion; the verification is recorded either way (the custody step ``infused`` accepts only
bags whose latest verification passed). FACT-JACIE International Standards, 8th ed., clinical
standards on administration: two qualified persons verify the identity of the recipient and of
the product immediately before administration.

A read that is not a well-formed DIN (wrong length, lower case, wrong check character) is
refused as input and nothing is recorded: the person reads again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput
from celltrial.product import inputs
from celltrial.product.access import coi_for, confirm_second_person, subject_for
from celltrial.product.custody import lock
from celltrial.product.custody_rules import CHAIN_ORDER, CustodyStep, LotOutcome
from celltrial.product.models import ApheresisCollection, BedsideVerification, ChainOfIdentity, ProductBag
from celltrial.study.audit import service as audit
from celltrial.study.permissions import Action
from celltrial.study.subjects.models import Subject
from celltrial.study.users.models import User

__all__ = ["BedsideRead", "bedside_problems", "verify_at_bedside"]


@dataclass(frozen=True)
class BedsideRead:
    """What one person scanned or typed: the bag's DIN and the wristband's ID."""

    bag_din: str
    wristband_id: str


@dataclass(frozen=True)
class BagState:
    """The bag a read points to, as the chain of identity knows it."""

    din: str
    coi_id: int
    in_current_chain: bool
    released: bool
    thawed: bool
    infused: bool


def bedside_problems(
    *, subject_number: str, coi_id: int, first: tuple[str, str], second: tuple[str, str], bag: BagState | None
) -> list[str]:
    """Why the two reads (bag DIN, wristband) do not allow the infusion; empty when they do. Pure."""
    problems: list[str] = []
    (bag_1, band_1), (bag_2, band_2) = first, second
    if band_1 != band_2:
        problems.append(f"the two wristband reads differ ({band_1!r} and {band_2!r})")
    for band in dict.fromkeys((band_1, band_2)):
        if band != subject_number:
            problems.append(f"wristband {band!r} is not subject {subject_number}'s")
    if bag_1 != bag_2:
        problems.append(f"the two bag reads differ ({bag_1} and {bag_2})")
    if bag is None:
        problems.append(f"bag {bag_1} is not a product bag known to any chain of identity")
    elif bag.coi_id != coi_id:
        problems.append(f"bag {bag.din} belongs to another subject's chain of identity: WRONG BAG")
    elif not bag.in_current_chain:
        problems.append(f"bag {bag.din} belongs to an earlier, ended chain of this subject")
    elif not bag.released:
        problems.append(f"bag {bag.din} comes from a lot that has not been released")
    elif bag.infused:
        problems.append(f"bag {bag.din} was already infused")
    elif not bag.thawed:
        problems.append(f"bag {bag.din} has not been thawed for this infusion")
    return problems


def _read(read: BedsideRead, who: str) -> tuple[str, str]:
    if not isinstance(read, BedsideRead):
        raise InvalidInput("must be a BedsideRead (bag DIN and wristband ID)", field=who)
    din13 = inputs.din(read.bag_din, f"{who}.bag_din").din13
    band = inputs.text(read.wristband_id, f"{who}.wristband_id", limit=64)
    assert band is not None
    return din13, band


def _bag_state(
    session: Session, din13: str, current: ApheresisCollection | None
) -> tuple[BagState | None, ProductBag | None]:
    bag = session.scalar(select(ProductBag).where(ProductBag.din == din13))
    if bag is None:
        return None, None
    chain = bag.lot.collection
    released = CHAIN_ORDER.index(chain.custody_step) >= CHAIN_ORDER.index(CustodyStep.RELEASED)
    state = BagState(
        din=din13,
        coi_id=chain.coi_id,
        in_current_chain=current is not None and chain.id == current.id,
        released=released and bag.lot.outcome is not LotOutcome.FAILURE,
        thawed=bag.thawed_at is not None,
        infused=bag.infused_at is not None,
    )
    return state, bag


def _current(session: Session, coi: ChainOfIdentity) -> ApheresisCollection | None:
    return session.scalar(
        select(ApheresisCollection)
        .where(ApheresisCollection.coi_id == coi.id)
        .order_by(ApheresisCollection.attempt.desc())
        .limit(1)
    )


def verify_at_bedside(
    session: Session,
    *,
    by: User,
    subject_id: int,
    verified_at: datetime,
    first: BedsideRead,
    second_person: User,
    second_password: str,
    second: BedsideRead,
) -> BedsideVerification:
    """Record two people's reads at the bedside; ``passed`` only if everything matches the chain of identity.

    ``by`` made the ``first`` read; ``second_person`` made the ``second`` and confirms with their
    password. A mismatch is recorded (and audited) with its problems and blocks the infusion;
    it is returned, not raised, so that the record is kept.
    """
    at = inputs.instant(verified_at, "verified_at")
    read_1, read_2 = _read(first, "first"), _read(second, "second")
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.PRODUCT_CUSTODY)
    confirmed = confirm_second_person(
        session,
        by=by,
        other=second_person,
        password=second_password,
        action=Action.PRODUCT_CUSTODY,
        site_id=subject.site_id,
        purpose="the bedside verification",
    )
    lock(session)
    subject = session.get_one(Subject, subject.id)
    coi = coi_for(session, subject=subject)
    if coi is None or not subject.subject_number:
        raise InvalidInput(
            f"subject {subject.screening_number} has no chain of identity to verify against", field="subject"
        )
    current = _current(session, coi)
    state, bag = _bag_state(session, read_1[0], current)
    ours = bag is not None and state is not None and state.coi_id == coi.id and read_1[0] == read_2[0]
    problems = bedside_problems(
        subject_number=subject.subject_number, coi_id=coi.id, first=read_1, second=read_2, bag=state
    )
    verification = BedsideVerification(
        coi_id=coi.id,
        collection_id=current.id if current is not None else None,
        bag_id=bag.id if ours and bag is not None else None,
        verified_at=at,
        first_user_id=by.id,
        first_bag_read=read_1[0],
        first_wristband_read=read_1[1],
        second_user_id=confirmed.id,
        second_bag_read=read_2[0],
        second_wristband_read=read_2[1],
        passed=not problems,
        problems=problems,
    )
    session.add(verification)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="verify" if not problems else "verify_blocked",
        entity="bedside_verification",
        entity_id=verification.id,
        new={
            "coi_number": coi.coi_number,
            "passed": not problems,
            "first": {"by": by.username, "bag": read_1[0], "wristband": read_1[1]},
            "second": {"by": confirmed.username, "bag": read_2[0], "wristband": read_2[1]},
            "problems": problems,
        },
        reason="; ".join(problems) or None,
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    return verification
