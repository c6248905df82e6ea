"""Subjects: register at screening, find, show, enrol, move along the trial path.

Enrolment (:func:`enrol`) is allowed only when the latest screening decision is *eligible*
and recent enough (``screening_window_days``), the subject's consent stands on the current ICF
version, and the study is RECRUITING. The enrolment cap of the protocol settings holds under
any concurrency: the checks are repeated after :func:`celltrial.study.trial.service.lock_for_enrolment`
has made this the only enrolment of the study in progress, so with 39 enrolled and 200
simultaneous attempts exactly one succeeds. The subject number is the site's next number in the
settings' format (``{site}-{number:03d}``: ``S01-001``).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from celltrial.errors import Conflict, InvalidInput, NotFound
from celltrial.protocol.status import StudyStatus
from celltrial.study.audit import service as audit
from celltrial.study.consent import service as consents
from celltrial.study.locks.service import ensure_unlocked
from celltrial.study.permissions import Action, allowed, require, visible_site_id
from celltrial.study.screening.models import ScreeningAttempt
from celltrial.study.sites.models import Site
from celltrial.study.sites.service import get_or_raise as site_or_raise
from celltrial.study.subjects.access import subject_for
from celltrial.study.subjects.lifecycle import move
from celltrial.study.subjects.models import Subject, SubjectIdentified, SubjectRead
from celltrial.study.subjects.status import SubjectStatus, check_subject_transition
from celltrial.study.trial import service as trials
from celltrial.study.trial.models import Trial
from celltrial.study.types import utcnow
from celltrial.study.users.models import User
from celltrial.study.visits import service as visits

__all__ = [
    "change_status",
    "enrol",
    "find",
    "get",
    "list_subjects",
    "read",
    "register",
]

_INITIALS = re.compile(r"[A-Z][A-Z-]{1,3}")
_SEXES = ("female", "male")
_OLDEST = 120
# Statuses a coordinator sets by hand; screening, enrolment and consent withdrawal have their own services.
_MANUAL = frozenset(
    {
        SubjectStatus.SCREEN_FAILED,
        SubjectStatus.APHERESED,
        SubjectStatus.INFUSED,
        SubjectStatus.IN_FOLLOW_UP,
        SubjectStatus.COMPLETED,
        SubjectStatus.WITHDRAWN,
        SubjectStatus.LOST_TO_FOLLOW_UP,
        SubjectStatus.DIED,
    }
)


def _today() -> date:
    return utcnow().date()


def register(
    session: Session,
    *,
    study_id: int,
    site_id: int,
    date_of_birth: date,
    sex: str,
    initials: str,
    by: User,
) -> Subject:
    """A newly screened patient: status screening, next screening number of the site (``S01-S001``)."""
    require(by, Action.SCREENING_CREATE, site_id=site_id)
    if not isinstance(date_of_birth, date) or isinstance(date_of_birth, datetime):
        raise InvalidInput(f"expected a date, got {date_of_birth!r}", field="date_of_birth")
    if date_of_birth > _today():
        raise InvalidInput(f"the date of birth {date_of_birth} is in the future", field="date_of_birth")
    if _today().year - date_of_birth.year > _OLDEST:
        raise InvalidInput(
            f"the date of birth {date_of_birth} is more than {_OLDEST} years ago", field="date_of_birth"
        )
    sex_code = (sex or "").strip().lower()
    if sex_code not in _SEXES:
        raise InvalidInput(f"sex must be female or male, not {sex!r}", field="sex")
    letters = (initials or "").strip().upper()
    if not _INITIALS.fullmatch(letters):
        raise InvalidInput(
            f"initials {initials!r} must be 2-4 letters (a hyphen for a missing middle initial)",
            field="initials",
        )
    site = site_or_raise(session, site_id=site_id)
    trial = trials.lock_for_enrolment(session, study_id=study_id)
    count = session.scalar(select(func.count()).where(Subject.site_id == site.id))
    subject = Subject(
        study_id=trial.id,
        site_id=site.id,
        screening_number=f"{site.code}-S{int(count or 0) + 1:03d}",
        status=SubjectStatus.SCREENING,
        date_of_birth=date_of_birth,
        sex=sex_code,
        initials=letters,
        created_by_id=by.id,
    )
    session.add(subject)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="subject",
        entity_id=subject.id,
        new={
            "screening_number": subject.screening_number,
            "site": site.code,
            "sex": sex_code,
            "initials": letters,
            "date_of_birth": date_of_birth,
        },
        subject_id=subject.id,
        site_id=site.id,
    )
    visits.create_pre_enrolment_visits(session, subject=subject, by=by)
    return subject


def get(session: Session, *, subject_id: int, by: User) -> Subject:
    """The subject ``subject_id`` if ``by`` may see it (another site's subject is not found)."""
    return subject_for(session, subject_id=subject_id, by=by, action=Action.SUBJECT_VIEW)


def find(session: Session, *, number: str, by: User) -> Subject:
    """A subject by subject number or screening number."""
    require(by, Action.SUBJECT_VIEW)
    key = (number or "").strip().upper()
    subject = session.scalar(
        select(Subject).where((Subject.subject_number == key) | (Subject.screening_number == key))
    )
    if subject is None:
        raise NotFound(f"no subject numbered {number!r}", field="subject")
    return get(session, subject_id=subject.id, by=by)


def list_subjects(
    session: Session, *, by: User, study_id: int | None = None, status: str | None = None
) -> list[Subject]:
    """The subjects ``by`` may see (their site's only, for site roles), by screening number."""
    require(by, Action.SUBJECT_VIEW)
    query = select(Subject).order_by(Subject.screening_number)
    if study_id is not None:
        query = query.where(Subject.study_id == study_id)
    if status is not None:
        query = query.where(Subject.status == SubjectStatus.parse(status))
    site = visible_site_id(by)
    if site is not None:
        query = query.where(Subject.site_id == site)
    return list(session.scalars(query))


def read(subject: Subject, *, by: User) -> SubjectRead:
    """The subject as ``by`` may see it: identifying data only for the roles that need them."""
    if allowed(by, Action.IDENTIFYING_DATA_VIEW):
        return SubjectIdentified.model_validate(subject)
    return SubjectRead.model_validate(subject)


def _latest_screening(session: Session, subject_id: int) -> ScreeningAttempt | None:
    query = select(ScreeningAttempt).where(ScreeningAttempt.subject_id == subject_id)
    return session.scalars(query.order_by(ScreeningAttempt.attempt.desc()).limit(1)).first()


def _check_enrolable(session: Session, subject: Subject, trial: Trial, on: date) -> None:
    if subject.status is not SubjectStatus.SCREENING:
        check_subject_transition(subject.status, SubjectStatus.ENROLLED)
    if trial.status is not StudyStatus.RECRUITING:
        raise Conflict(f"the study {trial.nct_id} is {trial.status}, not RECRUITING", field="study.status")
    screening = _latest_screening(session, subject.id)
    if screening is None:
        raise Conflict(f"subject {subject.label} has no screening", field="screening")
    if screening.decision != "eligible":
        raise Conflict(
            f"the latest screening (attempt {screening.attempt}) of subject {subject.label} "
            f"decided {screening.decision}, not eligible",
            field="screening.decision",
        )
    window = trials.settings_of(trial).schedule.screening_window_days.value
    if on < screening.screening_date:
        raise InvalidInput(
            f"the enrolment date {on} is before the screening ({screening.screening_date})", field="on"
        )
    if (on - screening.screening_date).days > window:
        raise Conflict(
            f"the screening of {screening.screening_date} is more than {window} days before {on}: re-screen",
            field="screening.screening_date",
        )
    consents.require_valid_for_enrolment(session, subject=subject)


def _next_subject_number(session: Session, trial: Trial, site: Site) -> str:
    pattern = trials.settings_of(trial).enrolment.subject_number_format.value
    count = session.scalar(
        select(func.count()).where(Subject.site_id == site.id, Subject.subject_number.is_not(None))
    )
    try:
        return pattern.format(site=site.code, number=int(count or 0) + 1)
    except (KeyError, IndexError, ValueError) as error:
        raise InvalidInput(
            f"the subject number format {pattern!r} cannot be used: {error}",
            field="enrolment.subject_number_format",
        ) from None


def enrol(session: Session, *, subject_id: int, by: User, on: date | None = None) -> Subject:
    """Enrol the subject: checks, the cap under the study lock, subject number, visit schedule."""
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.SUBJECT_ENROL)
    day = on or _today()
    if not isinstance(day, date) or day > _today():
        raise InvalidInput(f"the enrolment date {day!r} must be a date not in the future", field="on")
    _check_enrolable(session, subject, trials.get_or_raise(session, study_id=subject.study_id), day)
    trial = trials.lock_for_enrolment(session, study_id=subject.study_id)
    ensure_unlocked(session, subject_id=subject.id)
    session.refresh(subject)
    _check_enrolable(session, subject, trial, day)
    cap = trials.settings_of(trial).enrolment.cap.value
    enrolled = trials.enrolled_count(session, study_id=trial.id)
    if enrolled >= cap:
        raise Conflict(
            f"the enrolment cap of {cap} subjects is reached ({enrolled} enrolled)", field="enrolment"
        )
    site = site_or_raise(session, site_id=subject.site_id)
    subject.subject_number = _next_subject_number(session, trial, site)
    subject.enrolment_date = day
    subject.enrolled_at = utcnow()
    trial.enrolled_count = enrolled + 1
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="enrol",
        entity="subject",
        entity_id=subject.id,
        field="subject_number",
        new={"subject_number": subject.subject_number, "enrolment_date": day},
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    move(session, subject=subject, to=SubjectStatus.ENROLLED, by=by)
    visits.schedule_after_enrolment(session, subject=subject, by=by)
    return subject


def change_status(
    session: Session, *, subject_id: int, status: str, by: User, reason: str, on: date | None = None
) -> Subject:
    """Move the subject along the trial path (apheresed, infused with its date, follow-up, end)."""
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.SUBJECT_STATUS)
    new = SubjectStatus.parse(status)
    why = (reason or "").strip()
    if not why:
        raise InvalidInput("a reason is required to change a subject's status", field="reason")
    if new not in _MANUAL:
        raise InvalidInput(
            f"{new} is set by its own service (screening, enrolment or consent), not by hand", field="status"
        )
    check_subject_transition(subject.status, new)
    if new is SubjectStatus.INFUSED:
        if on is None:
            raise InvalidInput("the infusion date is required", field="on")
        if on > _today() or (subject.enrolment_date is not None and on < subject.enrolment_date):
            raise InvalidInput(
                f"the infusion date {on} must lie between the enrolment ({subject.enrolment_date}) and today",
                field="on",
            )
    ensure_unlocked(session, subject_id=subject.id)
    move(session, subject=subject, to=new, by=by, reason=why)
    if new is SubjectStatus.INFUSED:
        assert on is not None
        subject.infusion_date = on
        audit.record(
            session,
            actor=by.username,
            action="enter",
            entity="subject",
            entity_id=subject.id,
            field="infusion_date",
            new=on,
            subject_id=subject.id,
            site_id=subject.site_id,
        )
        visits.reanchor_on_infusion(session, subject=subject, by=by)
    return subject
