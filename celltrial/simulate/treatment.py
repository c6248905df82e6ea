"""From enrolment to infusion: apheresis, manufacturing, release, shipment, lymphodepletion, infusion.

Every hand-over of the product is recorded through the product services and signed by its two
sides (the second confirms with their password); the cell-therapy lab registers the bags and the
release results, the sponsor approves an out-of-specification lot for exceptional release, two
investigators check the bag against the wristband at the bedside. A failed manufacturing run
ends the chain; a second apheresis starts a new one, or the subject leaves the study.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.clinical.isbt128 import make_din
from celltrial.product import bedside, custody, identity, manufacturing
from celltrial.product.bedside import BedsideRead
from celltrial.product.custody_rules import CustodyStep, TemperatureRange
from celltrial.product.identity import BagSpec
from celltrial.product.models import ManufacturingLot
from celltrial.product.release_rules import ReleaseResults
from celltrial.simulate import crf_values, endings, follow_up
from celltrial.simulate.crf import date_visit, enter, load_schedule
from celltrial.simulate.outcomes import Collection
from celltrial.simulate.world import Journey, World, at
from celltrial.study.subjects.models import Subject
from celltrial.study.users.models import User

__all__ = ["after_enrolment"]

S = CustodyStep
COLD = TemperatureRange(2.0, 8.0)
CRYO = TemperatureRange(-196.0, -150.0)
_GOOD = ReleaseResults(
    viability_percent=92.0,
    car_positive_percent=45.0,
    cd3_positive_percent=97.0,
    sterility="no_growth",
    endotoxin_eu_per_ml=0.4,
    mycoplasma="negative",
    vector_copy_number=2.1,
)
_LOW_VIABILITY = ReleaseResults(
    viability_percent=64.0,
    car_positive_percent=38.0,
    cd3_positive_percent=95.0,
    sterility="no_growth",
    endotoxin_eu_per_ml=0.4,
    mycoplasma="negative",
    vector_copy_number=2.3,
)


def after_enrolment(session: Session, world: World, journey: Journey) -> None:
    """Plan the product path and the treatment of a subject just enrolled."""
    course = journey.course
    assert course is not None
    for number, collection in enumerate(course.collections, start=1):
        _plan_collection(world, journey, number, collection)
    if course.off_before_infusion is not None:
        assert course.off_day is not None
        off = journey.day(course.off_day, from_infusion=False)
        world.plan(journey, off, 15, lambda later: endings.before_infusion(later, world, journey, off))
        return
    infusion = course.infusion_day
    assert infusion is not None
    day = journey.day(infusion, from_infusion=False)
    world.plan(
        journey, day - timedelta(days=5), 8, lambda later: _lymphodepletion(later, world, journey, day)
    )
    world.plan(journey, day, 9, lambda later: _infuse(later, world, journey, day))


def _site_facility(journey: Journey) -> str:
    return f"C17{int(journey.site[1:]) % 100:02d}"


def _dins(journey: Journey, number: int, when: date) -> tuple[str, str]:
    facility, year = _site_facility(journey), when.year % 100
    sequence = journey.patient.number * 10 + number
    return (
        make_din(facility, year, sequence).keyboard_entry,
        make_din(facility, year, 500_000 + sequence).keyboard_entry,
    )


def _step(
    session: Session,
    world: World,
    journey: Journey,
    step: CustodyStep,
    when: date,
    hour: float,
    *,
    by: User,
    other: User,
    receives: bool = False,
    **options: object,
) -> None:
    assert journey.subject_id is not None
    handed, received = (other, by) if receives else (by, other)
    custody.record_custody_event(
        session,
        by=by,
        subject_id=journey.subject_id,
        step=step,
        occurred_at=at(when, hour),
        location=options.pop("location", "Cell therapy laboratory"),  # type: ignore[arg-type]
        handed_over_by=handed,
        received_by=received,
        counterpart_password=world.staff.password,
        **options,  # type: ignore[arg-type]
    )


def _plan_collection(world: World, journey: Journey, number: int, collection: Collection) -> None:
    day = journey.day(collection.apheresis_day, from_infusion=False)
    end = day + timedelta(days=collection.manufacturing_days)
    plan = world.plan
    plan(journey, day, 8, lambda s: _collect(s, world, journey, number, day))
    plan(journey, day + timedelta(days=2), 9, lambda s: _start_lot(s, world, journey, number, day))
    plan(journey, end, 15, lambda s: _end_lot(s, world, journey, number, collection, end))
    if collection.failed:
        return
    plan(journey, end + timedelta(days=1), 14, lambda s: _release(s, world, journey, collection, end))
    plan(journey, end + timedelta(days=2), 10, lambda s: _ship(s, world, journey, end + timedelta(days=2)))


def _collect(session: Session, world: World, journey: Journey, number: int, day: date) -> None:
    team = world.site_staff(journey)
    assert journey.subject_id is not None
    din, _bag = _dins(journey, number, day)
    journey.facts["din"] = din
    identity.record_collection(
        session,
        by=team.lab,
        subject_id=journey.subject_id,
        din=din,
        collected_at=at(day, 8),
        expires_at=at(day, 8) + timedelta(hours=72),
        location="Apheresis unit",
        handed_over_by=team.investigator,
        received_by=team.lab,
        counterpart_password=world.staff.password,
    )
    world.tally["apheresis collections"] += 1
    if number == 1:
        date_visit(session, journey, "APH", day, by=team.coordinator)
        enter(
            session,
            world,
            journey,
            "APH",
            "apheresis",
            crf_values.apheresis(journey.rng, day),
            day,
            by=team.coordinator,
        )
        enter(
            session,
            world,
            journey,
            "APH",
            "labs",
            crf_values.labs(journey.rng, day, phase="baseline"),
            day,
            by=team.coordinator,
        )
    _step(
        session,
        world,
        journey,
        S.SHIPPED_TO_MANUFACTURING,
        day,
        12,
        by=team.lab,
        other=team.lab2,
        temperature_range=COLD,
    )
    _step(session, world, journey, S.RECEIVED, day, 16, by=team.lab2, other=team.lab, receives=True)


def _lot_number(journey: Journey, number: int) -> str:
    return f"LOT-{journey.patient.number:03d}-{number}"


def _start_lot(session: Session, world: World, journey: Journey, number: int, day: date) -> None:
    team = world.site_staff(journey)
    journey.facts["lot"] = _lot_number(journey, number)
    _step(
        session,
        world,
        journey,
        S.MANUFACTURING_STARTED,
        day + timedelta(days=2),
        9,
        by=team.lab2,
        other=team.lab,
        lot_number=journey.facts["lot"],
    )


def _lot_id(session: Session, journey: Journey) -> int:
    """The id of the lot the manufacturing service opened (looked up by its number, read only)."""
    lot_id = session.scalar(
        select(ManufacturingLot.id).where(ManufacturingLot.lot_number == journey.facts["lot"])
    )
    assert lot_id is not None
    return lot_id


def _end_lot(
    session: Session, world: World, journey: Journey, number: int, collection: Collection, end: date
) -> None:
    team = world.site_staff(journey)
    lot_id = _lot_id(session, journey)
    journey.facts["lot_id"] = lot_id
    failure = (
        "CAR-T cells failed to expand (fold expansion below 5 at harvest)" if collection.failed else None
    )
    manufacturing.end_manufacturing(
        session, by=team.lab, lot_id=lot_id, ended_at=at(end, 15), failure_reason=failure
    )
    if collection.failed:
        world.tally["manufacturing failures"] += 1
        return
    _step(session, world, journey, S.QC_SAMPLED, end, 16, by=team.lab, other=team.lab2)
    din = _dins(journey, number, end)[1]
    journey.facts["bag"] = din
    identity.register_bags(
        session,
        by=team.lab,
        lot_id=lot_id,
        bags=[BagSpec(din, 70.0, 2.0e8, at(end, 17) + timedelta(days=365))],
    )


def _release(session: Session, world: World, journey: Journey, collection: Collection, end: date) -> None:
    team = world.site_staff(journey)
    day = end + timedelta(days=1)
    results = _LOW_VIABILITY if collection.out_of_specification else _GOOD
    manufacturing.record_release_tests(
        session,
        by=team.lab,
        lot_id=journey.facts["lot_id"],
        results=results,
        weight_kg=journey.patient.weight_kg,
        tested_at=at(day, 11),
        settings=world.settings,
    )
    if collection.out_of_specification:
        manufacturing.approve_exceptional_release(
            session,
            by=world.staff.sponsor,
            lot_id=journey.facts["lot_id"],
            justification="viability 64 % below the 70 % specification; no alternative product; "
            "benefit outweighs the risk for this patient",
            password=world.staff.password,
        )
        world.tally["exceptional releases"] += 1
    _step(session, world, journey, S.RELEASED, day, 15, by=team.lab, other=team.lab2)
    _step(session, world, journey, S.CRYOPRESERVED, day, 17, by=team.lab2, other=team.lab)


def _ship(session: Session, world: World, journey: Journey, day: date) -> None:
    team = world.site_staff(journey)
    _step(
        session,
        world,
        journey,
        S.SHIPPED_TO_SITE,
        day,
        10,
        by=team.lab,
        other=team.lab2,
        temperature_range=CRYO,
    )
    _step(
        session,
        world,
        journey,
        S.RECEIVED_AT_SITE,
        day + timedelta(days=1),
        9,
        by=team.lab2,
        other=team.lab,
        receives=True,
    )
    _step(session, world, journey, S.STORED_LN2, day + timedelta(days=1), 10, by=team.lab, other=team.lab2)


def _lymphodepletion(session: Session, world: World, journey: Journey, infusion: date) -> None:
    team = world.site_staff(journey)
    start, end = infusion - timedelta(days=5), infusion - timedelta(days=3)
    date_visit(session, journey, "LD", start, by=team.coordinator)
    values = crf_values.lymphodepletion(journey.patient, start, end)
    enter(session, world, journey, "LD", "lymphodepletion", values, end, by=team.coordinator)
    labs = crf_values.labs(journey.rng, start, phase="baseline")
    enter(session, world, journey, "LD", "labs", labs, end, by=team.coordinator)


def _infuse(session: Session, world: World, journey: Journey, day: date) -> None:
    team = world.site_staff(journey)
    assert journey.subject_id is not None
    bag = journey.facts["bag"]
    _step(
        session,
        world,
        journey,
        S.THAWED,
        day,
        9,
        by=team.lab,
        other=team.investigator,
        bags=[bag],
        location="Ward",
    )
    subject = session.get_one(Subject, journey.subject_id)
    band = subject.subject_number or ""
    bedside.verify_at_bedside(
        session,
        by=team.investigator,
        subject_id=journey.subject_id,
        verified_at=at(day, 9.5),
        first=BedsideRead(bag, band),
        second_person=team.subinvestigator,
        second_password=world.staff.password,
        second=BedsideRead(bag, band),
    )
    _step(
        session,
        world,
        journey,
        S.INFUSED,
        day,
        10,
        by=team.lab,
        other=team.investigator,
        bags=[bag],
        location="Ward",
    )
    journey.infused_on = day
    world.tally["infused"] += 1
    load_schedule(session, world, journey, by=team.coordinator)
    date_visit(session, journey, "D0", day, by=team.coordinator)
    dose = world.scenario.product.dose_cells_per_kg.value
    infused_at = at(day, 10).isoformat()
    enter(
        session,
        world,
        journey,
        "D0",
        "infusion",
        crf_values.infusion(journey.patient, infused_at, journey.facts["lot"], dose),
        day,
        by=team.coordinator,
    )
    enter(
        session,
        world,
        journey,
        "D0",
        "vital_signs",
        crf_values.vital_signs(journey.rng, day),
        day,
        by=team.coordinator,
    )
    follow_up.after_infusion(session, world, journey)
