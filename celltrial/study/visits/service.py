"""A subject's visits: created from the protocol's schedule, re-dated on infusion, flagged on a day.

- At registration the pre-enrolment visits (anchored on enrolment, before day 0: screening)
  are created with their forms, undated.
- At enrolment the whole schedule is created (:func:`schedule_after_enrolment`): enrolment
  visits dated, infusion visits placed provisionally from the enrolment date.
- When the infusion date is recorded, the infusion visits are re-dated from day 0
  (:func:`reanchor_on_infusion`), each change audited.
- Unscheduled visits may be added at any time while data may be collected.

Flags (out of window, missed) are computed for the day asked about, never stored.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput, NotFound
from celltrial.study.audit import service as audit
from celltrial.study.consent import service as consents
from celltrial.study.forms import service as forms
from celltrial.study.forms.dictionary import form_definition
from celltrial.study.locks.service import ensure_unlocked
from celltrial.study.permissions import Action, require, require_site, visible_site_id
from celltrial.study.subjects.access import subject_for
from celltrial.study.subjects.lifecycle import ACTIVE_STATUSES
from celltrial.study.subjects.models import Subject
from celltrial.study.trial import service as trials
from celltrial.study.types import utcnow
from celltrial.study.users.models import User
from celltrial.study.visits.models import Visit, VisitRead
from celltrial.study.visits.schedule import PlannedVisit, plan_schedule, visit_flags

__all__ = [
    "add_unscheduled",
    "create_pre_enrolment_visits",
    "list_visits",
    "missed_visits",
    "reanchor_on_infusion",
    "record_visit_date",
    "schedule_after_enrolment",
]


def _audit(
    session: Session, *, subject: Subject, visit: Visit, by: User, action: str, **change: object
) -> None:
    audit.record(
        session,
        actor=by.username,
        action=action,
        entity="visit",
        entity_id=visit.id,
        subject_id=subject.id,
        site_id=subject.site_id,
        **change,  # type: ignore[arg-type]
    )


def _create(session: Session, *, subject: Subject, planned: PlannedVisit, by: User, dated: bool) -> Visit:
    visit = Visit(
        subject_id=subject.id,
        code=planned.code,
        name=planned.name,
        anchor=planned.anchor,
        day=planned.day,
        target_date=planned.target if dated else None,
        window_start=planned.earliest if dated else None,
        window_end=planned.latest if dated else None,
        provisional=planned.provisional or not dated,
        unscheduled=False,
        forms=list(planned.forms),
    )
    session.add(visit)
    session.flush()
    _audit(
        session,
        subject=subject,
        visit=visit,
        by=by,
        action="create",
        new={"code": visit.code, "target_date": visit.target_date, "provisional": visit.provisional},
    )
    for code in planned.forms:
        forms.create_instance(session, subject=subject, form_code=code, by=by, visit=visit, first=True)
    return visit


def _plan(session: Session, subject: Subject) -> list[PlannedVisit]:
    schedule = trials.settings_of(trials.get_or_raise(session, study_id=subject.study_id)).schedule
    return plan_schedule(
        schedule, enrolment=subject.enrolment_date or utcnow().date(), infusion=subject.infusion_date
    )


def create_pre_enrolment_visits(session: Session, *, subject: Subject, by: User) -> list[Visit]:
    """The visits before enrolment (screening), undated until the enrolment date is known."""
    before = [visit for visit in _plan(session, subject) if visit.anchor == "enrolment" and visit.day < 0]
    return [_create(session, subject=subject, planned=planned, by=by, dated=False) for planned in before]


def _existing(session: Session, subject: Subject) -> dict[str, Visit]:
    return {
        visit.code: visit for visit in session.scalars(select(Visit).where(Visit.subject_id == subject.id))
    }


def _redate(
    session: Session, *, subject: Subject, visit: Visit, planned: PlannedVisit, by: User, reason: str
) -> None:
    before = (visit.target_date, visit.window_start, visit.window_end, visit.provisional)
    after = (planned.target, planned.earliest, planned.latest, planned.provisional)
    if before == after:
        return
    visit.target_date, visit.window_start, visit.window_end, visit.provisional = after
    _audit(
        session,
        subject=subject,
        visit=visit,
        by=by,
        action="update",
        field="target_date",
        old={"target_date": before[0], "provisional": before[3]},
        new={"target_date": after[0], "provisional": after[3]},
        reason=reason,
    )


def schedule_after_enrolment(session: Session, *, subject: Subject, by: User) -> list[Visit]:
    """Date the pre-enrolment visits and create every other visit of the schedule."""
    if subject.enrolment_date is None:
        raise InvalidInput(f"subject {subject.label} is not enrolled", field="enrolment_date")
    existing = _existing(session, subject)
    created = []
    for planned in _plan(session, subject):
        visit = existing.get(planned.code)
        if visit is None:
            created.append(_create(session, subject=subject, planned=planned, by=by, dated=True))
        else:
            _redate(session, subject=subject, visit=visit, planned=planned, by=by, reason="subject enrolled")
    return created


def reanchor_on_infusion(session: Session, *, subject: Subject, by: User) -> None:
    """Re-date the visits anchored on the infusion from the infusion date (day 0)."""
    if subject.infusion_date is None:
        raise InvalidInput(f"subject {subject.label} has no infusion date", field="infusion_date")
    existing = _existing(session, subject)
    reason = f"infusion on {subject.infusion_date}"
    for planned in _plan(session, subject):
        visit = existing.get(planned.code)
        if visit is None:
            _create(session, subject=subject, planned=planned, by=by, dated=True)
        elif visit.anchor == "infusion":
            _redate(session, subject=subject, visit=visit, planned=planned, by=by, reason=reason)


def _visit_for(session: Session, visit_id: int, by: User, action: Action) -> tuple[Visit, Subject]:
    require(by, action)
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"no visit with id {visit_id}", field="visit")
    subject = session.get(Subject, visit.subject_id)
    assert subject is not None
    require_site(by, subject.site_id, what="visit", record_id=visit_id)
    return visit, subject


def record_visit_date(
    session: Session, *, visit_id: int, on: date, by: User, reason: str | None = None
) -> Visit:
    """The date the visit took place; changing a recorded date needs a reason."""
    visit, subject = _visit_for(session, visit_id, by, Action.VISIT_SCHEDULE)
    if not isinstance(on, date):
        raise InvalidInput(f"expected a date, got {on!r}", field="on")
    if on > utcnow().date():
        raise InvalidInput(f"the visit date {on} is in the future", field="on")
    why = (reason or "").strip() or None
    if visit.actual_date is not None and visit.actual_date != on and why is None:
        raise InvalidInput("a reason is required to change a recorded visit date", field="reason")
    ensure_unlocked(session, subject_id=subject.id)
    if visit.actual_date is None:
        consents.require_consent(session, subject=subject)
        consented = consents.first_consent_date(session, subject_id=subject.id)
        if consented is not None and on < consented:
            raise InvalidInput(
                f"the visit date {on} is before the subject's consent ({consented})", field="on"
            )
    if visit.actual_date == on:
        return visit
    old = visit.actual_date
    visit.actual_date = on
    _audit(
        session,
        subject=subject,
        visit=visit,
        by=by,
        action="update" if old is not None else "enter",
        field="actual_date",
        old=old,
        new=on,
        reason=why,
    )
    return visit


def add_unscheduled(
    session: Session, *, subject_id: int, on: date, reason: str, form_codes: list[str], by: User
) -> Visit:
    """An unscheduled visit (``UNS1``, ``UNS2``...) with the forms it needs."""
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.VISIT_SCHEDULE)
    why = (reason or "").strip()
    if not why:
        raise InvalidInput("an unscheduled visit needs a reason", field="reason")
    if not isinstance(on, date) or on > utcnow().date():
        raise InvalidInput(f"the visit date {on!r} must be a date not in the future", field="on")
    codes = [form_definition(code).code for code in form_codes]
    if len(set(codes)) != len(codes):
        raise InvalidInput("a form is named twice", field="form_codes")
    ensure_unlocked(session, subject_id=subject.id)
    consents.require_consent(session, subject=subject)
    count = session.scalar(
        select(func.count()).where(Visit.subject_id == subject.id, Visit.unscheduled.is_(True))
    )
    visit = Visit(
        subject_id=subject.id,
        code=f"UNS{int(count or 0) + 1}",
        name=f"Unscheduled visit {int(count or 0) + 1}",
        unscheduled=True,
        provisional=False,
        reason=why,
        forms=codes,
        actual_date=on,
    )
    session.add(visit)
    session.flush()
    _audit(
        session,
        subject=subject,
        visit=visit,
        by=by,
        action="create",
        new={"code": visit.code, "on": on},
        reason=why,
    )
    for code in codes:
        forms.create_instance(session, subject=subject, form_code=code, by=by, visit=visit, first=True)
    return visit


def _read(visit: Visit, subject: Subject, today: date) -> VisitRead:
    shown = VisitRead.model_validate(visit)
    if visit.window_start is None or visit.window_end is None or visit.unscheduled:
        return shown
    still_due = subject.status in ACTIVE_STATUSES or (
        subject.status_changed_at is not None and visit.window_end < subject.status_changed_at.date()
    )
    flags = visit_flags(
        earliest=visit.window_start,
        latest=visit.window_end,
        actual=visit.actual_date,
        today=today,
        provisional=visit.provisional or (visit.actual_date is None and not still_due),
    )
    return shown.model_copy(
        update={
            "out_of_window": flags.out_of_window,
            "missed": flags.missed,
            "overdue_days": flags.overdue_days,
        }
    )


def list_visits(session: Session, *, subject_id: int, today: date, by: User) -> list[VisitRead]:
    """The subject's visits in date order, flagged as of ``today``."""
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.SUBJECT_VIEW)
    visits = session.scalars(
        select(Visit)
        .where(Visit.subject_id == subject.id)
        .order_by(
            func.coalesce(Visit.actual_date, Visit.target_date).is_(None),
            func.coalesce(Visit.actual_date, Visit.target_date),
            Visit.id,
        )
    )
    return [_read(visit, subject, today) for visit in visits]


def missed_visits(
    session: Session, *, study_id: int, today: date, by: User
) -> list[tuple[Subject, VisitRead]]:
    """Every missed visit of the study as of ``today`` (of the user's site for site roles)."""
    require(by, Action.SUBJECT_VIEW)
    query = (
        select(Visit, Subject)
        .join(Subject, Subject.id == Visit.subject_id)
        .where(
            Subject.study_id == study_id,
            Visit.actual_date.is_(None),
            Visit.provisional.is_(False),
            Visit.window_end < today,
        )
        .order_by(Visit.window_end, Visit.id)
    )
    site = visible_site_id(by)
    if site is not None:
        query = query.where(Subject.site_id == site)
    found = []
    for visit, subject in session.execute(query).all():
        shown = _read(visit, subject, today)
        if shown.missed:
            found.append((subject, shown))
    return found
