"""Recording the chain of custody: each hand-over, checked by the pure rules, signed by two people, audited.

:func:`record_custody_event` records every step after ``collected`` (which
:func:`celltrial.product.identity.record_collection` records with the collection's DIN). The
person recording (``by``) is one side of the hand-over; the other side confirms with their
password. The study write lock is taken before the chain's state is read, so two people cannot
record the same step at once; a step out of order is refused with the reason
(:class:`~celltrial.errors.IllegalTransition`) and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.errors import Conflict, InvalidInput
from celltrial.product import inputs
from celltrial.product.access import confirm_second_person, current_chain, subject_for
from celltrial.product.custody_rules import (
    RECEIPT_OF,
    ChainFacts,
    CustodyStep,
    ProposedEvent,
    ReleaseStatus,
    TemperatureRange,
    TemperatureReading,
    check_custody_event,
    excursions,
)
from celltrial.product.models import (
    ApheresisCollection,
    BedsideVerification,
    CustodyEvent,
    ManufacturingLot,
    TemperatureLog,
)
from celltrial.product.subject_steps import check_signatories, mark_infused
from celltrial.study.audit import service as audit
from celltrial.study.permissions import Action
from celltrial.study.serialise import serialise_writes
from celltrial.study.subjects.models import Subject
from celltrial.study.users.models import User

__all__ = ["chain_facts", "lock", "record_custody_event", "write_event"]


def lock(session: Session) -> None:
    """Become the study's only writer and forget what was read before, so checks see the latest state."""
    serialise_writes(session)
    session.flush()
    session.expire_all()


def _release_status(lot: ManufacturingLot | None) -> tuple[ReleaseStatus, tuple[str, ...]]:
    if lot is None or lot.release_test is None:
        return ReleaseStatus.UNTESTED, ()
    if lot.release_test.releasable:
        return ReleaseStatus.RELEASABLE, ()
    failures = tuple(
        f"{check['test']} {check['result']} (specification {check['specification']})"
        for check in lot.release_test.checks
        if not check["passed"]
    )
    if lot.exceptional_release:
        return ReleaseStatus.EXCEPTIONAL_APPROVED, failures
    return ReleaseStatus.NOT_RELEASABLE, failures


def _event(chain: ApheresisCollection, step: CustodyStep) -> CustodyEvent | None:
    return next((event for event in chain.events if event.step == step), None)


def _verified_bags(session: Session, chain: ApheresisCollection, at: datetime | None) -> frozenset[str]:
    """Bags whose latest bedside verification since the thaw (and not after ``at``) passed."""
    lot = chain.lot
    thawed = _event(chain, CustodyStep.THAWED)
    if lot is None or thawed is None:
        return frozenset()
    query = (
        select(BedsideVerification)
        .where(
            BedsideVerification.collection_id == chain.id,
            BedsideVerification.bag_id.is_not(None),
            BedsideVerification.verified_at >= thawed.occurred_at,
        )
        .order_by(BedsideVerification.id)
    )
    if at is not None:
        query = query.where(BedsideVerification.verified_at <= at)
    latest: dict[int, bool] = {}
    for verification in session.scalars(query):
        assert verification.bag_id is not None
        latest[verification.bag_id] = verification.passed
    return frozenset(bag.din for bag in lot.bags if latest.get(bag.id))


def chain_facts(
    session: Session, *, chain: ApheresisCollection, subject: Subject, at: datetime | None
) -> ChainFacts:
    """What the custody rules need to know about ``chain`` (verifications counted up to ``at``)."""
    lot = chain.lot
    status, failures = _release_status(lot)
    bags = lot.bags if lot is not None else []
    return ChainFacts(
        last_step=chain.custody_step,
        last_at=chain.custody_at,
        subject_status=str(subject.status),
        lot_ended=lot is not None and lot.ended_at is not None,
        lot_outcome=lot.outcome if lot is not None else None,
        lot_failure_reason=lot.failure_reason if lot is not None else None,
        release_status=status,
        release_failures=failures,
        bags=frozenset(bag.din for bag in bags),
        thawed_bags=frozenset(bag.din for bag in bags if bag.thawed_at is not None),
        verified_bags=_verified_bags(session, chain, at),
    )


def _range_for(
    chain: ApheresisCollection, step: CustodyStep, given: TemperatureRange | None
) -> TemperatureRange | None:
    if given is not None or step not in RECEIPT_OF:
        return given
    shipment = _event(chain, RECEIPT_OF[step])
    if shipment is None or shipment.temperature_min_c is None or shipment.temperature_max_c is None:
        return None
    return TemperatureRange(shipment.temperature_min_c, shipment.temperature_max_c)


def write_event(
    session: Session,
    *,
    by: User,
    subject: Subject,
    chain: ApheresisCollection,
    event: ProposedEvent,
    people: tuple[User, User],
    location: str,
    readings: Sequence[TemperatureReading],
    note: str | None,
    extra: dict[str, Any] | None = None,
) -> CustodyEvent:
    """Write a checked step: event, readings (excursions flagged), the chain's state, the audit entry."""
    handed_over, received = people
    allowed = _range_for(chain, event.step, event.temperature_range)
    if readings and allowed is None:
        raise InvalidInput(
            f"temperature readings of {event.step} need the allowed range (none was given or shipped with)",
            field="temperature_range",
        )
    outside = excursions(readings, allowed) if allowed is not None else []
    record = CustodyEvent(
        collection_id=chain.id,
        step=event.step,
        occurred_at=event.at,
        location=location,
        handed_over_by_id=handed_over.id,
        handed_over_by_name=handed_over.full_name,
        received_by_id=received.id,
        received_by_name=received.full_name,
        bags=list(event.bags),
        temperature_min_c=allowed.min_c if allowed else None,
        temperature_max_c=allowed.max_c if allowed else None,
        excursion=bool(outside),
        note=note,
        recorded_by_id=by.id,
    )
    record.readings = [
        TemperatureLog(
            at=r.at, celsius=float(r.celsius), within_range=allowed is None or allowed.holds(r.celsius)
        )
        for r in readings
    ]
    session.add(record)
    chain.custody_step = event.step
    chain.custody_at = event.at
    session.flush()
    content: dict[str, Any] = {
        "step": event.step.value,
        "occurred_at": event.at,
        "location": location,
        "handed_over_by": handed_over.username,
        "received_by": received.username,
        "bags": list(event.bags),
        "apheresis_din": chain.din,
        **(extra or {}),
    }
    if allowed is not None:
        content["temperature_range_c"] = [allowed.min_c, allowed.max_c]
    if readings:
        content["readings"] = len(readings)
    if outside:
        content["temperature_excursion"] = [{"at": r.at, "celsius": r.celsius} for r in outside]
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="custody_event",
        entity_id=record.id,
        new=content,
        reason=f"temperature excursion outside {allowed}" if outside else None,
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    return record


def _people(by: User, handed_over_by: User, received_by: User) -> User:
    """The other person of the hand-over; ``by`` must be one of the two."""
    for name, person in (("handed_over_by", handed_over_by), ("received_by", received_by)):
        if not isinstance(person, User):
            raise InvalidInput(f"must be a study user, got {type(person).__name__}", field=name)
    if by.id == handed_over_by.id:
        return received_by
    if by.id == received_by.id:
        return handed_over_by
    raise InvalidInput(
        f"{by.username!r} records the hand-over and must be one of its two sides (handed over or received)",
        field="handed_over_by",
    )


def _bag_dins(bags: Sequence[str]) -> tuple[str, ...]:
    if isinstance(bags, str):
        raise InvalidInput("give the bags as a list of DINs", field="bags")
    return tuple(inputs.din(value, f"bags[{index}]").din13 for index, value in enumerate(bags))


def _start_lot(
    session: Session, *, by: User, subject: Subject, chain: ApheresisCollection, number: str, at: datetime
) -> None:
    if session.scalar(select(ManufacturingLot.id).where(ManufacturingLot.lot_number == number)) is not None:
        raise Conflict(f"a manufacturing lot numbered {number!r} already exists", field="lot_number")
    lot = ManufacturingLot(
        collection_id=chain.id, lot_number=number, started_at=at, exceptional_release=False
    )
    session.add(lot)
    session.flush()
    chain.lot = lot
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="manufacturing_lot",
        entity_id=lot.id,
        new={"lot_number": number, "started_at": at, "apheresis_din": chain.din},
        subject_id=subject.id,
        site_id=subject.site_id,
    )


def record_custody_event(
    session: Session,
    *,
    by: User,
    subject_id: int,
    step: CustodyStep | str,
    occurred_at: datetime,
    location: str,
    handed_over_by: User,
    received_by: User,
    counterpart_password: str,
    temperature_range: TemperatureRange | None = None,
    readings: Sequence[TemperatureReading] = (),
    bags: Sequence[str] = (),
    lot_number: str | None = None,
    note: str | None = None,
) -> CustodyEvent:
    """Record the next step of the subject's current chain, signed by both sides of the hand-over.

    ``manufacturing_started`` opens the manufacturing lot ``lot_number``; ``thawed`` and
    ``infused`` name the bags by DIN. Shipments give their allowed ``temperature_range``; the
    data logger's ``readings`` come with the shipment or its receipt, and readings outside the
    range flag the event as a temperature excursion.
    """
    step = step if isinstance(step, CustodyStep) else CustodyStep.parse(step)
    if step is CustodyStep.COLLECTED:
        raise InvalidInput(
            "a collection is recorded with its DIN (record_collection), not as a later step", field="step"
        )
    at = inputs.instant(occurred_at, "occurred_at")
    where = inputs.text(location, "location", limit=200)
    remark = inputs.text(note, "note", limit=2000, required=False)
    assert where is not None
    dins = _bag_dins(bags)
    if step is CustodyStep.MANUFACTURING_STARTED:
        number = inputs.lot_number(lot_number)
    elif lot_number is not None:
        raise InvalidInput(
            f"{step} does not take a lot number; manufacturing_started opens the lot", field="lot_number"
        )
    if temperature_range is not None and not isinstance(temperature_range, TemperatureRange):
        raise InvalidInput("must be a TemperatureRange", field="temperature_range")
    checked_readings = [r if isinstance(r, TemperatureReading) else TemperatureReading(*r) for r in readings]
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.PRODUCT_CUSTODY)
    other = _people(by, handed_over_by, received_by)
    if other.id == by.id:
        raise InvalidInput(
            f"{step} must be signed by two different people: the one who handed the product over and the "
            "one who received it",
            field="received_by",
        )
    confirmed = confirm_second_person(
        session,
        by=by,
        other=other,
        password=counterpart_password,
        action=Action.PRODUCT_CUSTODY,
        site_id=subject.site_id,
        purpose=f"the {step} hand-over",
    )
    lock(session)
    chain = current_chain(session, subject=subject)
    proposed = ProposedEvent(step, at, handed_over_by.id, received_by.id, dins, temperature_range)
    check_custody_event(chain_facts(session, chain=chain, subject=subject, at=at), proposed)
    extra: dict[str, Any] = {}
    if step is CustodyStep.MANUFACTURING_STARTED:
        _start_lot(session, by=by, subject=subject, chain=chain, number=number, at=at)
        extra["lot_number"] = number
    if step in (CustodyStep.THAWED, CustodyStep.INFUSED) and chain.lot is not None:
        for bag in chain.lot.bags:
            if bag.din in dins:
                if step is CustodyStep.THAWED:
                    bag.thawed_at = at
                else:
                    bag.infused_at = at
    people = (confirmed, by) if other.id == handed_over_by.id else (by, confirmed)
    if step is CustodyStep.INFUSED:
        check_signatories(people, what="the infusion")
    record = write_event(
        session,
        by=by,
        subject=subject,
        chain=chain,
        event=proposed,
        people=people,
        location=where,
        readings=checked_readings,
        note=remark,
        extra=extra,
    )
    if step is CustodyStep.INFUSED:
        mark_infused(session, subject=subject, people=people, at=at, bags=dins)
    return record
