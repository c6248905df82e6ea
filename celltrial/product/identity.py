"""The chain of identity: the subject's COI record, the apheresis collection's DIN, the final bags' DINs.

A DIN names one thing only: no two collections or bags share one, so a scanned DIN always leads
back to exactly one subject. The COI number is ``COI-<subject number>``; the subject's wristband
carries the subject number, which is what the bedside check reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.clinical.isbt128 import DonationIdentificationNumber, product_description
from celltrial.errors import Conflict, IllegalTransition, InvalidInput
from celltrial.product import inputs
from celltrial.product.access import coi_for, confirm_second_person, lot_for, subject_for
from celltrial.product.custody import lock, write_event
from celltrial.product.custody_rules import (
    CHAIN_ORDER,
    ChainFacts,
    CustodyStep,
    LotOutcome,
    ProposedEvent,
    check_custody_event,
)
from celltrial.product.models import ApheresisCollection, ChainOfIdentity, ManufacturingLot, ProductBag
from celltrial.product.subject_steps import check_signatories, mark_apheresed
from celltrial.study.audit import service as audit
from celltrial.study.permissions import Action
from celltrial.study.subjects.models import Subject
from celltrial.study.subjects.status import SubjectStatus
from celltrial.study.users.models import User

__all__ = [
    "FINAL_PRODUCT",
    "BagSpec",
    "coi_number",
    "din_in_use",
    "open_coi",
    "record_collection",
    "register_bags",
]

FINAL_PRODUCT = "final_product"
"""The product description key of a final CAR-T bag (``celltrial/clinical/data/isbt128_products.yaml``)."""


def coi_number(subject: Subject) -> str:
    """``COI-`` and the subject number."""
    if not subject.subject_number:
        raise IllegalTransition(
            f"subject {subject.screening_number} is not enrolled (no subject number): no chain of identity",
            field="subject",
        )
    return f"COI-{subject.subject_number}"


def din_in_use(session: Session, din13: str) -> bool:
    """Whether a collection or a bag already carries this DIN."""
    for column in (ApheresisCollection.din, ProductBag.din):
        if session.scalar(select(column).where(column == din13).limit(1)) is not None:
            return True
    return False


def _open(session: Session, *, by: User, subject: Subject) -> ChainOfIdentity:
    number = coi_number(subject)
    coi = ChainOfIdentity(
        coi_number=number, subject_id=subject.id, site_id=subject.site_id, created_by_id=by.id
    )
    session.add(coi)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="chain_of_identity",
        entity_id=coi.id,
        new={"coi_number": number, "subject_number": subject.subject_number},
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    return coi


def open_coi(session: Session, *, by: User, subject_id: int) -> ChainOfIdentity:
    """Open the enrolled subject's chain-of-identity record (Conflict if it exists)."""
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.PRODUCT_CUSTODY)
    coi_number(subject)
    lock(session)
    if coi_for(session, subject=subject) is not None:
        raise Conflict(f"subject {subject.subject_number} already has a chain of identity", field="subject")
    return _open(session, by=by, subject=subject)


def _refuse_second_chain(session: Session, coi: ChainOfIdentity) -> int:
    """The next collection attempt number; refused while the previous chain is still alive."""
    latest = session.scalar(
        select(ApheresisCollection)
        .where(ApheresisCollection.coi_id == coi.id)
        .order_by(ApheresisCollection.attempt.desc())
        .limit(1)
    )
    if latest is None:
        return 1
    if latest.lot is None or latest.lot.outcome is not LotOutcome.FAILURE:
        raise IllegalTransition(
            f"{coi.coi_number} already has collection {latest.din} (chain at {latest.custody_step}); a new "
            "collection is recorded only after its manufacturing failed",
            field="din",
        )
    return latest.attempt + 1


def record_collection(
    session: Session,
    *,
    by: User,
    subject_id: int,
    din: str,
    collected_at: datetime,
    expires_at: datetime,
    location: str,
    handed_over_by: User,
    received_by: User,
    counterpart_password: str,
    note: str | None = None,
) -> ApheresisCollection:
    """Record the apheresis collection (its DIN) and the chain's first step, ``collected``.

    Opens the subject's chain of identity if needed. Signed by the person who handed the
    collection over (apheresis unit) and the person who received it; ``by`` is one of them.
    """
    number = inputs.din(din, "din")
    at = inputs.instant(collected_at, "collected_at")
    if not isinstance(expires_at, datetime) or expires_at.tzinfo is None:
        raise InvalidInput(
            f"must be a date and time with a time zone, got {expires_at!r}", field="expires_at"
        )
    if expires_at <= at:
        raise InvalidInput(
            f"{expires_at.isoformat()} is not after the collection {at.isoformat()}", field="expires_at"
        )
    where = inputs.text(location, "location", limit=200)
    remark = inputs.text(note, "note", limit=2000, required=False)
    assert where is not None
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.PRODUCT_CUSTODY)
    coi_number(subject)
    for name, person in (("handed_over_by", handed_over_by), ("received_by", received_by)):
        if not isinstance(person, User):
            raise InvalidInput(f"must be a study user, got {type(person).__name__}", field=name)
    if by.id not in (handed_over_by.id, received_by.id):
        raise InvalidInput(
            f"{by.username!r} records the hand-over and must be one of its two sides", field="handed_over_by"
        )
    other = received_by if by.id == handed_over_by.id else handed_over_by
    confirmed = confirm_second_person(
        session,
        by=by,
        other=other,
        password=counterpart_password,
        action=Action.PRODUCT_CUSTODY,
        site_id=subject.site_id,
        purpose="the collected hand-over",
    )
    lock(session)
    proposed = ProposedEvent(CustodyStep.COLLECTED, at, handed_over_by.id, received_by.id)
    check_custody_event(ChainFacts(subject_status=str(subject.status)), proposed)
    if din_in_use(session, number.din13):
        raise Conflict(f"the DIN {number.keyboard_entry} is already in use", field="din")
    coi = coi_for(session, subject=subject) or _open(session, by=by, subject=subject)
    attempt = _refuse_second_chain(session, coi)
    chain = ApheresisCollection(
        coi_id=coi.id,
        attempt=attempt,
        din=number.din13,
        din_flags=number.flags,
        collected_at=at,
        expires_at=expires_at,
        custody_step=CustodyStep.COLLECTED,
        custody_at=at,
    )
    session.add(chain)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="apheresis_collection",
        entity_id=chain.id,
        new={"din": number.keyboard_entry, "attempt": attempt, "collected_at": at, "expires_at": expires_at},
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    people = (confirmed, by) if other.id == handed_over_by.id else (by, confirmed)
    if subject.status is SubjectStatus.ENROLLED:
        check_signatories(people, what="the apheresis collection")
    write_event(
        session,
        by=by,
        subject=subject,
        chain=chain,
        event=proposed,
        people=people,
        location=where,
        readings=(),
        note=remark,
    )
    mark_apheresed(session, subject=subject, people=people, din=number.keyboard_entry)
    return chain


@dataclass(frozen=True)
class BagSpec:
    """A final product bag as manufacturing registers it."""

    din: str
    volume_ml: float
    total_nucleated_cells: float
    expires_at: datetime


def _check_bag(spec: BagSpec, index: int, ended_at: datetime) -> DonationIdentificationNumber:
    where = f"bags[{index}]"
    if not isinstance(spec, BagSpec):
        raise InvalidInput("must be a BagSpec (DIN, volume, total nucleated cells, expiry)", field=where)
    number = inputs.din(spec.din, f"{where}.din")
    inputs.positive(spec.volume_ml, f"{where}.volume_ml", "mL")
    inputs.positive(spec.total_nucleated_cells, f"{where}.total_nucleated_cells", "cells")
    if not isinstance(spec.expires_at, datetime) or spec.expires_at.tzinfo is None:
        raise InvalidInput("must be a date and time with a time zone", field=f"{where}.expires_at")
    if spec.expires_at <= ended_at:
        raise InvalidInput(
            f"{spec.expires_at.isoformat()} is not after the end of manufacturing {ended_at.isoformat()}",
            field=f"{where}.expires_at",
        )
    return number


def register_bags(session: Session, *, by: User, lot_id: int, bags: Sequence[BagSpec]) -> list[ProductBag]:
    """Register the lot's final product bags, each with its own DIN, before the lot is released."""
    if isinstance(bags, BagSpec) or not bags:
        raise InvalidInput("give at least one bag (a list of BagSpec)", field="bags")
    lot = lot_for(session, lot_id=lot_id, by=by, action=Action.PRODUCT_CUSTODY)
    lock(session)
    lot = session.get_one(ManufacturingLot, lot.id)
    if lot.outcome is LotOutcome.FAILURE:
        raise IllegalTransition(f"lot {lot.lot_number} failed manufacturing: it has no bags", field="lot")
    if lot.ended_at is None:
        raise IllegalTransition(
            f"lot {lot.lot_number} is still in manufacturing (no end recorded)", field="lot"
        )
    chain = lot.collection
    if CHAIN_ORDER.index(chain.custody_step) >= CHAIN_ORDER.index(CustodyStep.RELEASED):
        raise IllegalTransition(
            f"lot {lot.lot_number} is already released: bags cannot be added", field="lot"
        )
    numbers = [_check_bag(spec, index, lot.ended_at) for index, spec in enumerate(bags)]
    seen: set[str] = set()
    for index, number in enumerate(numbers):
        if number.din13 in seen:
            raise InvalidInput(f"the DIN {number.keyboard_entry} is given twice", field=f"bags[{index}].din")
        seen.add(number.din13)
        if din_in_use(session, number.din13):
            raise Conflict(f"the DIN {number.keyboard_entry} is already in use", field=f"bags[{index}].din")
    subject = session.get_one(Subject, chain.coi.subject_id)
    product_description(FINAL_PRODUCT)
    created: list[ProductBag] = []
    first = len(lot.bags) + 1
    for offset, (spec, number) in enumerate(zip(bags, numbers, strict=True)):
        bag = ProductBag(
            lot_id=lot.id,
            bag_number=first + offset,
            din=number.din13,
            din_flags=number.flags,
            product_key=FINAL_PRODUCT,
            volume_ml=float(spec.volume_ml),
            total_nucleated_cells=float(spec.total_nucleated_cells),
            expires_at=spec.expires_at,
        )
        session.add(bag)
        session.flush()
        created.append(bag)
        audit.record(
            session,
            actor=by.username,
            action="create",
            entity="product_bag",
            entity_id=bag.id,
            new={
                "lot_number": lot.lot_number,
                "bag_number": bag.bag_number,
                "din": number.keyboard_entry,
                "volume_ml": bag.volume_ml,
                "total_nucleated_cells": bag.total_nucleated_cells,
                "expires_at": bag.expires_at,
            },
            subject_id=subject.id,
            site_id=subject.site_id,
        )
    session.expire(lot, ["bags"])
    return created
