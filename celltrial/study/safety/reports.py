"""SAE reporting: the site's report to the sponsor, follow-ups, expectedness, SUSAR submission, clocks.

The site reports (``safety.report``); the sponsor assesses expectedness and records the SUSAR
submission to the regulators, both central assessments (``safety.assess`` with every site in
scope). Every step is audited; the clocks are computed by
:func:`celltrial.analysis.sae_clocks.sae_clocks`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from celltrial.analysis.sae_clocks import (
    Clock,
    ClockRules,
    ClockStatus,
    FollowUpTimeline,
    SaeTimeline,
    sae_clocks,
)
from celltrial.analysis.safety_events import Outcome, Seriousness
from celltrial.errors import Conflict, InvalidInput, NotFound
from celltrial.protocol.settings import ProtocolSettings
from celltrial.study.audit import service as audit
from celltrial.study.permissions import visible_site_id
from celltrial.study.safety.access import read_action, subject_for_central_assessment, subject_for_entry
from celltrial.study.safety.models import AdverseEvent, SaeFollowUp, SeriousAdverseEvent
from celltrial.study.subjects.models import Subject
from celltrial.study.trial import service as trials
from celltrial.study.types import utcnow
from celltrial.study.users.models import User

__all__ = [
    "SaeClocks",
    "add_follow_up",
    "assess_expectedness",
    "clock_board",
    "clock_rules",
    "record_follow_up_report",
    "record_sponsor_report",
    "record_susar_submission",
]


class SaeClocks(BaseModel):
    """One SAE with its clocks, as the sponsor and the site see them."""

    model_config = ConfigDict(frozen=True)

    sae_id: int
    subject_id: int
    subject: str
    site_id: int
    term: str
    clocks: tuple[Clock, ...]

    @property
    def overdue(self) -> bool:
        return any(clock.status is ClockStatus.OVERDUE for clock in self.clocks)


def clock_rules(settings: ProtocolSettings) -> ClockRules:
    """The protocol's reporting deadlines."""
    safety = settings.safety
    return ClockRules(
        report_to_sponsor_hours=safety.sae_report_to_sponsor_hours.value,
        susar_fatal_days=safety.susar_fatal_days.value,
        susar_other_days=safety.susar_other_days.value,
    )


def _instant(value: object, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(f"expected a date and time, got {value!r}", field=field)
    if value.tzinfo is None:
        raise InvalidInput(f"{value.isoformat()} has no time zone", field=field)
    if value > utcnow():
        raise InvalidInput(f"{value.isoformat()} is in the future", field=field)
    return value


def _sae(session: Session, sae_id: int) -> SeriousAdverseEvent:
    sae = session.get(SeriousAdverseEvent, sae_id)
    if sae is None:
        raise NotFound(f"no SAE with id {sae_id}", field="sae")
    return sae


def _audit(
    session: Session,
    by: User,
    sae: SeriousAdverseEvent,
    subject: Subject,
    field: str,
    old: object,
    new: object,
) -> None:
    audit.record(
        session,
        actor=by.username,
        action="update" if old is not None else "report",
        entity="serious_adverse_event",
        entity_id=sae.id,
        field=field,
        old=old,
        new=new,
        reason="correction" if old is not None else None,
        subject_id=subject.id,
        site_id=subject.site_id,
    )


def record_sponsor_report(
    session: Session, *, by: User, sae_id: int, reported_at: datetime
) -> SeriousAdverseEvent:
    """The site sent the SAE report to the sponsor at ``reported_at``."""
    sae = _sae(session, sae_id)
    subject = subject_for_entry(session, subject_id=sae.subject_id, by=by, what="SAE")
    reported_at = _instant(reported_at, "reported_at")
    if reported_at < sae.site_awareness_at:
        raise InvalidInput(
            f"reported at {reported_at.isoformat()}, before the site became aware "
            f"({sae.site_awareness_at.isoformat()})",
            field="reported_at",
        )
    if sae.reported_to_sponsor_at is not None:
        raise Conflict(f"SAE {sae.id} was already reported to the sponsor", field="reported_at")
    sae.reported_to_sponsor_at = reported_at
    sae.version += 1
    _audit(session, by, sae, subject, "reported_to_sponsor_at", None, reported_at)
    return sae


def add_follow_up(
    session: Session,
    *,
    by: User,
    sae_id: int,
    received_at: datetime,
    summary: str,
    reported_at: datetime | None = None,
) -> SaeFollowUp:
    """New information about the SAE, received by the site at ``received_at`` (reported when given)."""
    sae = _sae(session, sae_id)
    subject = subject_for_entry(session, subject_id=sae.subject_id, by=by, what="SAE")
    received_at = _instant(received_at, "received_at")
    text = " ".join((summary or "").split())
    if not text:
        raise InvalidInput("say what the new information is", field="summary")
    if received_at < sae.site_awareness_at:
        raise InvalidInput("a follow-up cannot precede the site's first awareness", field="received_at")
    if reported_at is not None:
        reported_at = _instant(reported_at, "reported_at")
        if reported_at < received_at:
            raise InvalidInput("a follow-up cannot be reported before it was received", field="reported_at")
    number = int(session.scalar(select(func.count()).where(SaeFollowUp.sae_id == sae.id)) or 0) + 1
    follow_up = SaeFollowUp(
        sae_id=sae.id, number=number, received_at=received_at, reported_at=reported_at, summary=text
    )
    session.add(follow_up)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="sae_follow_up",
        entity_id=follow_up.id,
        new={
            "sae_id": sae.id,
            "number": number,
            "received_at": received_at,
            "reported_at": reported_at,
            "summary": text,
        },
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    return follow_up


def record_follow_up_report(
    session: Session, *, by: User, follow_up_id: int, reported_at: datetime
) -> SaeFollowUp:
    """The site sent follow-up ``follow_up_id`` to the sponsor."""
    follow_up = session.get(SaeFollowUp, follow_up_id)
    if follow_up is None:
        raise NotFound(f"no SAE follow-up with id {follow_up_id}", field="follow_up")
    sae = _sae(session, follow_up.sae_id)
    subject = subject_for_entry(session, subject_id=sae.subject_id, by=by, what="SAE")
    reported_at = _instant(reported_at, "reported_at")
    if follow_up.reported_at is not None:
        raise Conflict(
            f"follow-up {follow_up.number} of SAE {sae.id} was already reported", field="reported_at"
        )
    if reported_at < follow_up.received_at:
        raise InvalidInput("a follow-up cannot be reported before it was received", field="reported_at")
    follow_up.reported_at = reported_at
    audit.record(
        session,
        actor=by.username,
        action="report",
        entity="sae_follow_up",
        entity_id=follow_up.id,
        field="reported_at",
        new=reported_at,
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    return follow_up


def assess_expectedness(session: Session, *, by: User, sae_id: int, expected: bool) -> SeriousAdverseEvent:
    """The sponsor's assessment against the reference safety information (investigator's brochure)."""
    sae = _sae(session, sae_id)
    subject = subject_for_central_assessment(session, subject_id=sae.subject_id, by=by)
    if not isinstance(expected, bool):
        raise InvalidInput("expected is true or false", field="expected")
    if sae.reported_to_sponsor_at is None:
        raise Conflict("the sponsor assesses an SAE once the site has reported it", field="expected")
    old = sae.expected
    sae.expected = expected
    sae.expectedness_assessed_at = utcnow()
    sae.version += 1
    _audit(session, by, sae, subject, "expected", old, expected)
    return sae


def record_susar_submission(
    session: Session, *, by: User, sae_id: int, submitted_at: datetime
) -> SeriousAdverseEvent:
    """The sponsor submitted the SUSAR to the regulators at ``submitted_at``."""
    sae = _sae(session, sae_id)
    subject = subject_for_central_assessment(session, subject_id=sae.subject_id, by=by)
    submitted_at = _instant(submitted_at, "submitted_at")
    event = session.get(AdverseEvent, sae.adverse_event_id)
    assert event is not None
    if sae.reported_to_sponsor_at is None or submitted_at < sae.reported_to_sponsor_at:
        raise InvalidInput("a SUSAR is submitted after the sponsor received the SAE", field="submitted_at")
    if not event.related_to_cart.suspected or sae.expected is not False:
        raise Conflict(
            "only a suspected (related) reaction assessed as unexpected is a SUSAR", field="submitted_at"
        )
    if sae.susar_reported_at is not None:
        raise Conflict(f"the SUSAR of SAE {sae.id} was already submitted", field="submitted_at")
    sae.susar_reported_at = submitted_at
    sae.version += 1
    _audit(session, by, sae, subject, "susar_reported_at", None, submitted_at)
    return sae


def _timeline(sae: SeriousAdverseEvent, event: AdverseEvent, follow_ups: list[SaeFollowUp]) -> SaeTimeline:
    criteria = set(event.seriousness)
    return SaeTimeline(
        site_awareness_at=sae.site_awareness_at,
        reported_to_sponsor_at=sae.reported_to_sponsor_at,
        fatal_or_life_threatening=event.outcome is Outcome.FATAL
        or bool(criteria & {Seriousness.DEATH.value, Seriousness.LIFE_THREATENING.value}),
        suspected=event.related_to_cart.suspected,
        expected=sae.expected,
        susar_reported_at=sae.susar_reported_at,
        follow_ups=tuple(
            FollowUpTimeline(received_at=f.received_at, reported_at=f.reported_at) for f in follow_ups
        ),
    )


def clock_board(
    session: Session, *, by: User, now: datetime, study_id: int | None = None, overdue_only: bool = False
) -> list[SaeClocks]:
    """Every SAE the user may see with its clocks at ``now`` (overdue ones first)."""
    read_action(by)
    if now.tzinfo is None:
        raise InvalidInput(f"{now.isoformat()} has no time zone", field="now")
    query = (
        select(SeriousAdverseEvent, AdverseEvent, Subject)
        .join(AdverseEvent, AdverseEvent.id == SeriousAdverseEvent.adverse_event_id)
        .join(Subject, Subject.id == SeriousAdverseEvent.subject_id)
        .order_by(SeriousAdverseEvent.site_awareness_at, SeriousAdverseEvent.id)
    )
    site = visible_site_id(by)
    if site is not None:
        query = query.where(Subject.site_id == site)
    if study_id is not None:
        query = query.where(Subject.study_id == study_id)
    board: list[SaeClocks] = []
    rules_by_study: dict[int, ClockRules] = {}
    for sae, event, subject in session.execute(query).all():
        if subject.study_id not in rules_by_study:
            trial = trials.get_or_raise(session, study_id=subject.study_id)
            rules_by_study[subject.study_id] = clock_rules(trials.settings_of(trial))
        follow_ups = list(
            session.scalars(
                select(SaeFollowUp).where(SaeFollowUp.sae_id == sae.id).order_by(SaeFollowUp.number)
            )
        )
        clocks = sae_clocks(
            _timeline(sae, event, follow_ups), now=now, rules=rules_by_study[subject.study_id]
        )
        row = SaeClocks(
            sae_id=sae.id,
            subject_id=subject.id,
            subject=subject.label,
            site_id=subject.site_id,
            term=event.term,
            clocks=clocks,
        )
        if row.overdue or not overdue_only:
            board.append(row)
    board.sort(key=lambda row: not row.overdue)
    return board
