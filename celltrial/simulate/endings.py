"""How a subject leaves the study: death, withdrawal of consent, loss to follow-up, no product.

The disposition CRF is entered first (after a withdrawal of consent no new data may be
collected), then the death CRF and the fatal adverse event for a death, then the status change
through the subject or consent service.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from celltrial.simulate.crf import add_entry
from celltrial.simulate.safety_steps import record_death_event
from celltrial.simulate.world import Journey, World, at
from celltrial.study.consent import service as consents
from celltrial.study.subjects import service as subjects

__all__ = ["before_infusion", "complete", "die", "lose", "withdraw"]

_DEATH_CAUSE = {"disease_progression": "disease_progression", "infection": "infection", "crs": "crs"}


def _disposition(
    session: Session, world: World, journey: Journey, day: date, status: str, *, reason: str | None = None
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "disposition_date": day.isoformat(),
        "last_contact_date": day.isoformat(),
    }
    if reason is not None and status in ("withdrawn_by_investigator", "other"):
        values["reason"] = reason
    outcome = journey.course.treatment if journey.course else None
    if outcome is not None and journey.infused_on is not None:
        hsct = outcome.hsct_day is not None and (day - journey.infused_on).days > outcome.hsct_day
        values["proceeded_to_hsct"] = hsct
        if hsct and outcome.hsct_day is not None:
            values["hsct_date"] = journey.day(outcome.hsct_day).isoformat()
    add_entry(session, world, journey, "disposition", values, day, by=world.site_staff(journey).coordinator)


def die(session: Session, world: World, journey: Journey, day: date, cause: str) -> None:
    """The subject died on ``day``."""
    team = world.site_staff(journey)
    assert journey.subject_id is not None
    outcome = journey.course.treatment if journey.course else None
    _disposition(session, world, journey, day, "death")
    related = "definite" if cause == "crs" else "possible" if cause == "infection" else "not_related"
    death = {
        "death_date": day.isoformat(),
        "primary_cause": _DEATH_CAUSE.get(cause, "other"),
        "relationship_to_cart": related,
    }
    add_entry(session, world, journey, "death", death, day, by=team.coordinator)
    if outcome is not None:
        record_death_event(session, world, journey, outcome, day)
    subjects.change_status(
        session, subject_id=journey.subject_id, status="died", reason=f"died on {day}", by=team.investigator
    )
    journey.ended = "died"
    world.tally["deaths"] += 1


def withdraw(session: Session, world: World, journey: Journey, day: date, reason: str) -> None:
    """The subject withdraws consent on ``day``."""
    team = world.site_staff(journey)
    assert journey.subject_id is not None
    _disposition(session, world, journey, day, "withdrawn_by_subject")
    consents.withdraw(
        session, subject_id=journey.subject_id, withdrawn_at=at(day, 14), reason=reason, by=team.coordinator
    )
    journey.ended = "withdrew consent"
    world.tally["withdrawals of consent"] += 1


def lose(session: Session, world: World, journey: Journey, day: date) -> None:
    """Three contact attempts failed: the subject is lost to follow-up."""
    team = world.site_staff(journey)
    assert journey.subject_id is not None
    _disposition(session, world, journey, day, "lost_to_follow_up")
    subjects.change_status(
        session,
        subject_id=journey.subject_id,
        status="lost_to_follow_up",
        reason="three contact attempts failed",
        by=team.coordinator,
    )
    journey.ended = "lost to follow-up"
    world.tally["lost to follow-up"] += 1


def complete(session: Session, world: World, journey: Journey, day: date) -> None:
    """The subject completes the study at the month-24 visit (long-term follow-up goes on elsewhere)."""
    assert journey.subject_id is not None
    _disposition(session, world, journey, day, "completed")
    subjects.change_status(
        session,
        subject_id=journey.subject_id,
        status="completed",
        reason="month-24 visit done",
        by=world.site_staff(journey).coordinator,
    )
    journey.ended = "completed"
    world.tally["completed"] += 1


def before_infusion(session: Session, world: World, journey: Journey, day: date) -> None:
    """The subject leaves between enrolment and infusion (death, withdrawal, no product)."""
    course = journey.course
    assert course is not None
    assert journey.subject_id is not None
    if course.off_before_infusion == "died":
        team = world.site_staff(journey)
        _disposition(session, world, journey, day, "death")
        death = {
            "death_date": day.isoformat(),
            "primary_cause": "disease_progression",
            "relationship_to_cart": "not_related",
        }
        add_entry(session, world, journey, "death", death, day, by=team.coordinator)
        subjects.change_status(
            session,
            subject_id=journey.subject_id,
            status="died",
            reason="disease progression before infusion",
            by=team.investigator,
        )
        journey.ended = "died before infusion"
        world.tally["deaths before infusion"] += 1
    elif course.off_before_infusion == "withdrew":
        withdraw(session, world, journey, day, "the subject decided not to continue before the infusion")
    else:
        team = world.site_staff(journey)
        reason = "no product: manufacturing failed and no new apheresis was possible"
        _disposition(session, world, journey, day, "withdrawn_by_investigator", reason=reason)
        subjects.change_status(
            session, subject_id=journey.subject_id, status="withdrawn", reason=reason, by=team.investigator
        )
        journey.ended = "no product"
        world.tally["withdrawn without product"] += 1
