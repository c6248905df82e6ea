"""The product records as a reader sees them: chain of identity, custody log, vein-to-vein, CONSORT counts.

Read-only; each function checks ``product.view`` and the user's site. An exceptional release, a
temperature excursion and a blocked bedside verification are listed in ``flags`` wherever the
record they concern is shown.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.clinical.isbt128 import DonationIdentificationNumber
from celltrial.errors import NotFound
from celltrial.product.access import coi_for, subject_for_number
from celltrial.product.custody_rules import CustodyStep, LotOutcome, expected_next
from celltrial.product.models import (
    ApheresisCollection,
    BedsideVerification,
    ChainOfIdentity,
    CustodyEvent,
    ManufacturingLot,
    ProductBag,
)
from celltrial.product.vein_to_vein import COMPONENTS, summarise, vein_to_vein
from celltrial.study.permissions import Action, require, visible_site_id
from celltrial.study.subjects.models import Subject
from celltrial.study.users.models import User

__all__ = [
    "BagView",
    "CoiView",
    "CollectionView",
    "CustodyEventView",
    "LotView",
    "ManufacturingCounts",
    "ReleaseCheckView",
    "VeinToVeinReport",
    "VeinToVeinRow",
    "VerificationView",
    "coi_view",
    "custody_view",
    "keyboard_din",
    "manufacturing_counts",
    "vein_to_vein_report",
]


def keyboard_din(din13: str) -> str:
    """The DIN as typed: 13 characters and the keyboard check character."""
    return DonationIdentificationNumber(din13[:5], din13[5:7], din13[7:], "00").keyboard_entry


class BagView(BaseModel):
    """A final product bag."""

    bag_number: int
    din: str
    volume_ml: float
    total_nucleated_cells: float
    expires_at: datetime
    thawed_at: datetime | None
    infused_at: datetime | None


class ReleaseCheckView(BaseModel):
    """One release test against its specification."""

    test: str
    result: str
    specification: str
    passed: bool
    source: str = ""


class LotView(BaseModel):
    """A manufacturing lot, its release and its bags."""

    lot_id: int
    lot_number: str
    started_at: datetime
    ended_at: datetime | None
    outcome: LotOutcome | None
    failure_reason: str | None
    releasable: bool | None
    out_of_specification: list[str]
    exceptional_release: bool
    exceptional_justification: str | None
    exceptional_approved_at: datetime | None
    release_checks: list[ReleaseCheckView] = []
    bags: list[BagView]


class CollectionView(BaseModel):
    """One collection and the custody chain it started."""

    attempt: int
    din: str
    collected_at: datetime
    expires_at: datetime
    custody_step: CustodyStep
    next_step: CustodyStep | None
    lot: LotView | None


class VerificationView(BaseModel):
    """One bedside verification and why it was blocked, if it was."""

    verified_at: datetime
    passed: bool
    bag_read: str
    wristband_read: str
    problems: list[str]


class CoiView(BaseModel):
    """A subject's chain of identity as the CLI and the API show it."""

    coi_number: str
    subject_number: str
    subject_status: str
    site_id: int
    collections: list[CollectionView]
    bedside_verifications: list[VerificationView]
    flags: list[str]


class CustodyEventView(BaseModel):
    """One custody step as the CLI and the API show it."""

    apheresis_din: str
    step: CustodyStep
    occurred_at: datetime
    location: str
    handed_over_by: str
    received_by: str
    bags: list[str]
    temperature_range_c: tuple[float, float] | None
    readings: list[tuple[datetime, float, bool]]
    excursion: bool
    note: str | None
    flags: list[str]


def _lot_view(lot: ManufacturingLot) -> LotView:
    test = lot.release_test
    return LotView(
        lot_id=lot.id,
        lot_number=lot.lot_number,
        started_at=lot.started_at,
        ended_at=lot.ended_at,
        outcome=lot.outcome,
        failure_reason=lot.failure_reason,
        releasable=None if test is None else test.releasable,
        out_of_specification=[]
        if test is None
        else [
            f"{c['test']} {c['result']} (specification {c['specification']})"
            for c in test.checks
            if not c["passed"]
        ],
        exceptional_release=lot.exceptional_release,
        exceptional_justification=lot.exceptional_justification,
        exceptional_approved_at=lot.exceptional_approved_at,
        release_checks=[]
        if test is None
        else [
            ReleaseCheckView(
                test=str(c["test"]),
                result=str(c["result"]),
                specification=str(c["specification"]),
                passed=bool(c["passed"]),
                source=str(c.get("source", "")),
            )
            for c in test.checks
        ],
        bags=[
            BagView(
                bag_number=bag.bag_number,
                din=keyboard_din(bag.din),
                volume_ml=bag.volume_ml,
                total_nucleated_cells=bag.total_nucleated_cells,
                expires_at=bag.expires_at,
                thawed_at=bag.thawed_at,
                infused_at=bag.infused_at,
            )
            for bag in lot.bags
        ],
    )


def _chain_flags(chain: ApheresisCollection) -> list[str]:
    flags: list[str] = []
    lot = chain.lot
    if lot is not None and lot.exceptional_release:
        flags.append(
            f"EXCEPTIONAL RELEASE: lot {lot.lot_number} is out of specification, released on the sponsor's "
            f"documented approval ({lot.exceptional_justification})"
        )
    if lot is not None and lot.outcome is LotOutcome.FAILURE:
        flags.append(f"MANUFACTURING FAILURE: lot {lot.lot_number} ({lot.failure_reason})")
    for event in chain.events:
        if event.excursion:
            flags.append(f"TEMPERATURE EXCURSION at {event.step} (DIN {keyboard_din(chain.din)})")
    return flags


def coi_view(session: Session, *, by: User, subject_number: str) -> CoiView:
    """The subject's chain of identity: collections, lots, bags, release, bedside verifications, flags."""
    subject = subject_for_number(session, subject_number=subject_number, by=by, action=Action.PRODUCT_VIEW)
    coi = coi_for(session, subject=subject)
    if coi is None:
        raise NotFound(f"subject {subject.subject_number} has no chain of identity yet", field="subject")
    verifications = list(
        session.scalars(
            select(BedsideVerification)
            .where(BedsideVerification.coi_id == coi.id)
            .order_by(BedsideVerification.id)
        )
    )
    flags = [flag for chain in coi.collections for flag in _chain_flags(chain)]
    flags += [
        f"BEDSIDE VERIFICATION BLOCKED at {v.verified_at.isoformat()}: {'; '.join(v.problems)}"
        for v in verifications
        if not v.passed
    ]
    return CoiView(
        coi_number=coi.coi_number,
        subject_number=subject.subject_number or "",
        subject_status=str(subject.status),
        site_id=coi.site_id,
        collections=[
            CollectionView(
                attempt=chain.attempt,
                din=keyboard_din(chain.din),
                collected_at=chain.collected_at,
                expires_at=chain.expires_at,
                custody_step=chain.custody_step,
                next_step=None
                if chain.lot is not None and chain.lot.outcome is LotOutcome.FAILURE
                else expected_next(chain.custody_step),
                lot=_lot_view(chain.lot) if chain.lot is not None else None,
            )
            for chain in coi.collections
        ],
        bedside_verifications=[
            VerificationView(
                verified_at=v.verified_at,
                passed=v.passed,
                bag_read=keyboard_din(v.first_bag_read),
                wristband_read=v.first_wristband_read,
                problems=list(v.problems),
            )
            for v in verifications
        ],
        flags=flags,
    )


def _event_flags(event: CustodyEvent, lot: ManufacturingLot | None) -> list[str]:
    flags: list[str] = []
    if event.excursion:
        flags.append(f"TEMPERATURE EXCURSION outside {event_range_text(event)}")
    if event.step is CustodyStep.RELEASED and lot is not None and lot.exceptional_release:
        flags.append(f"EXCEPTIONAL RELEASE of out-of-specification lot {lot.lot_number} (sponsor approved)")
    return flags


def _range(event: CustodyEvent) -> tuple[float, float] | None:
    if event.temperature_min_c is None or event.temperature_max_c is None:
        return None
    return (event.temperature_min_c, event.temperature_max_c)


def event_range_text(event: CustodyEvent) -> str:
    """The allowed range the event's readings were checked against, as text."""
    if event.temperature_min_c is None or event.temperature_max_c is None:
        return "the shipment's range"
    return f"{event.temperature_min_c:g} to {event.temperature_max_c:g} °C"


def custody_view(session: Session, *, by: User, subject_number: str) -> list[CustodyEventView]:
    """Every custody step of every chain of the subject, in order."""
    subject = subject_for_number(session, subject_number=subject_number, by=by, action=Action.PRODUCT_VIEW)
    coi = coi_for(session, subject=subject)
    if coi is None:
        return []
    shown: list[CustodyEventView] = []
    for chain in coi.collections:
        for event in chain.events:
            shown.append(
                CustodyEventView(
                    apheresis_din=keyboard_din(chain.din),
                    step=event.step,
                    occurred_at=event.occurred_at,
                    location=event.location,
                    handed_over_by=event.handed_over_by_name,
                    received_by=event.received_by_name,
                    bags=[keyboard_din(din) for din in event.bags],
                    temperature_range_c=_range(event),
                    readings=[(r.at, r.celsius, r.within_range) for r in event.readings],
                    excursion=event.excursion,
                    note=event.note,
                    flags=_event_flags(event, chain.lot),
                )
            )
    return shown


class VeinToVeinRow(BaseModel):
    """One infused chain's vein-to-vein time and components, in days."""

    subject_number: str
    coi_number: str
    apheresis_din: str
    total_days: float
    components: dict[str, float]
    exceptional_release: bool


class VeinToVeinReport(BaseModel):
    """Vein-to-vein per subject and summarised (n, median, q1, q3, minimum, maximum, mean)."""

    subjects: list[VeinToVeinRow]
    summary: dict[str, dict[str, float | int | None]]
    components: list[str]


def _visible_cois(session: Session, by: User) -> list[tuple[ChainOfIdentity, Subject]]:
    query = select(ChainOfIdentity, Subject).join(Subject, Subject.id == ChainOfIdentity.subject_id)
    site = visible_site_id(by)
    if site is not None:
        query = query.where(ChainOfIdentity.site_id == site)
    return [(coi, subject) for coi, subject in session.execute(query.order_by(Subject.subject_number))]


def vein_to_vein_report(session: Session, *, by: User) -> VeinToVeinReport:
    """Vein-to-vein time and its components per infused subject, and their summary (days)."""
    require(by, Action.PRODUCT_VIEW)
    rows: list[VeinToVeinRow] = []
    measured = []
    for coi, subject in _visible_cois(session, by):
        for chain in coi.collections:
            times = {event.step: event.occurred_at for event in chain.events}
            result = vein_to_vein(times)
            if result is None:
                continue
            measured.append(result)
            rows.append(
                VeinToVeinRow(
                    subject_number=subject.subject_number or "",
                    coi_number=coi.coi_number,
                    apheresis_din=keyboard_din(chain.din),
                    total_days=result.total_days,
                    components=dict(result.components),
                    exceptional_release=chain.lot is not None and chain.lot.exceptional_release,
                )
            )
    summary = {name: dict(vars(days)) for name, days in summarise(measured).items()}
    return VeinToVeinReport(subjects=rows, summary=summary, components=[name for name, _, _ in COMPONENTS])


class ManufacturingCounts(BaseModel):
    """The product's boxes of the CONSORT flow."""

    subjects_apheresed: int
    lots_started: int
    manufacturing_failures: int
    out_of_specification: int
    exceptional_releases: int
    subjects_infused: int


def manufacturing_counts(session: Session, *, by: User) -> ManufacturingCounts:
    """How many subjects were apheresed and infused, and how lots ended (failures count in CONSORT)."""
    require(by, Action.PRODUCT_VIEW)
    apheresed = infused = 0
    lots: list[ManufacturingLot] = []
    for coi, _ in _visible_cois(session, by):
        if coi.collections:
            apheresed += 1
        if any(chain.custody_step is CustodyStep.INFUSED for chain in coi.collections):
            infused += 1
        lots += [chain.lot for chain in coi.collections if chain.lot is not None]
    return ManufacturingCounts(
        subjects_apheresed=apheresed,
        lots_started=len(lots),
        manufacturing_failures=sum(lot.outcome is LotOutcome.FAILURE for lot in lots),
        out_of_specification=sum(lot.outcome is LotOutcome.OUT_OF_SPECIFICATION for lot in lots),
        exceptional_releases=sum(lot.exceptional_release for lot in lots),
        subjects_infused=infused,
    )


def bag_or_collection(session: Session, din13: str) -> ProductBag | ApheresisCollection | None:
    """The bag or collection carrying ``din13``."""
    bag = session.scalar(select(ProductBag).where(ProductBag.din == din13))
    if bag is not None:
        return bag
    return session.scalar(select(ApheresisCollection).where(ApheresisCollection.din == din13))
