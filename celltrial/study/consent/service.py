"""Informed consent: ICF versions, consent and assent, re-consent, withdrawal.

- An ICF version is approved by the ethics committee on a date; the one approved last is
  current. Subjects consented on an earlier version must re-consent before enrolment
  (:func:`needing_reconsent` lists them).
- A subject aged ``minor_age_years`` (protocol settings) or more consents themself; a younger
  subject's parent or guardian consents and the subject gives assent (I9: "Subject or guardian").
- No study procedure before consent: the form service calls :func:`require_consent` before any
  data is entered.
- Withdrawal of consent: nothing new is collected from then on; what was collected is kept and
  marked (``consent_withdrawn`` on each form), and the subject's status becomes withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from celltrial.errors import Conflict, InvalidInput, NotFound
from celltrial.study.audit import service as audit
from celltrial.study.consent.icf import approve_icf_version, current_icf_version
from celltrial.study.consent.models import Consent, ConsentRead, IcfVersion
from celltrial.study.forms.models import FormInstance
from celltrial.study.locks.service import ensure_unlocked
from celltrial.study.permissions import Action, require, visible_site_id
from celltrial.study.subjects.access import subject_for
from celltrial.study.subjects.lifecycle import move
from celltrial.study.subjects.models import Subject
from celltrial.study.subjects.status import SubjectStatus
from celltrial.study.trial import service as trials
from celltrial.study.types import utcnow
from celltrial.study.users.models import User

__all__ = [
    "ConsentState",
    "approve_icf_version",
    "check_consent_for_data",
    "consent_state",
    "current_icf_version",
    "history",
    "needing_reconsent",
    "record_consent",
    "require_consent",
    "require_consent_date",
    "require_valid_for_enrolment",
    "withdraw",
]

_WITHDRAWN_FROM = frozenset(
    {
        SubjectStatus.SCREENING,
        SubjectStatus.ENROLLED,
        SubjectStatus.APHERESED,
        SubjectStatus.INFUSED,
        SubjectStatus.IN_FOLLOW_UP,
    }
)


def _text(value: str | None, field: str, *, limit: int, required: bool = True) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise InvalidInput(f"{field.replace('_', ' ')} is required", field=field)
        return None
    if len(cleaned) > limit:
        raise InvalidInput(f"{field.replace('_', ' ')} is longer than {limit} characters", field=field)
    return cleaned


def _instant(value: object, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(f"expected a date and time, got {value!r}", field=field)
    if value.tzinfo is None:
        raise InvalidInput(f"{value.isoformat()} has no time zone", field=field)
    if value > utcnow():
        raise InvalidInput(f"{value.isoformat()} is in the future", field=field)
    return value


def _latest(session: Session, subject_id: int) -> Consent | None:
    query = (
        select(Consent)
        .where(Consent.subject_id == subject_id)
        .order_by(Consent.signed_at.desc(), Consent.id.desc())
    )
    return session.scalars(query.limit(1)).first()


def record_consent(
    session: Session,
    *,
    subject_id: int,
    icf_version: str,
    signed_at: datetime,
    by: User,
    guardian_name: str | None = None,
    guardian_relationship: str | None = None,
    assent_at: datetime | None = None,
) -> Consent:
    """Record a signed consent (and, for a minor, the guardian's consent with the subject's assent)."""
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.CONSENT_RECORD)
    signed_at = _instant(signed_at, "signed_at")
    icf = session.scalar(
        select(IcfVersion).where(
            IcfVersion.study_id == subject.study_id, IcfVersion.version == icf_version.strip()
        )
    )
    if icf is None:
        raise NotFound(f"no ICF version {icf_version!r} for this study", field="icf_version")
    if signed_at.date() < icf.approved_on:
        raise InvalidInput(
            f"signed on {signed_at.date()}, before ICF version {icf.version} "
            f"was approved ({icf.approved_on})",
            field="signed_at",
        )
    in_force = current_icf_version(session, study_id=subject.study_id, on=signed_at.date())
    if in_force is not None and in_force.id != icf.id:
        raise Conflict(
            f"ICF version {icf.version} was superseded by version {in_force.version} "
            f"(approved {in_force.approved_on}) before {signed_at.date()}",
            field="icf_version",
        )
    if subject.consent_withdrawn_at is not None:
        raise Conflict(
            f"the subject withdrew consent on {subject.consent_withdrawn_at.date()}", field="consent"
        )
    if subject.status not in _WITHDRAWN_FROM | {SubjectStatus.SCREEN_FAILED}:
        raise Conflict(f"a subject who is {subject.status} cannot consent", field="status")
    if signed_at.date() < subject.date_of_birth:
        raise InvalidInput("signed before the subject's date of birth", field="signed_at")
    enrolment = trials.settings_of(trials.get_or_raise(session, study_id=subject.study_id)).enrolment
    adult_age = enrolment.minor_age_years.value
    age = subject.age_on(signed_at.date())
    if age < adult_age:
        name = _text(guardian_name, "guardian_name", limit=200)
        relationship = _text(guardian_relationship, "guardian_relationship", limit=64)
        if assent_at is None:
            raise InvalidInput(
                f"the subject is {age}, under {adult_age}: the subject's assent is required",
                field="assent_at",
            )
        assent = _instant(assent_at, "assent_at")
        signer = "guardian"
    else:
        for field, value in (
            ("guardian_name", guardian_name),
            ("guardian_relationship", guardian_relationship),
        ):
            if value:
                raise InvalidInput(f"the subject is {age}, an adult who consents themself", field=field)
        if assent_at is not None:
            raise InvalidInput(f"the subject is {age}: assent is for minors only", field="assent_at")
        name = relationship = None
        assent = None
        signer = "subject"
    consent = Consent(
        subject_id=subject.id,
        icf_version_id=icf.id,
        signed_at=signed_at,
        signer=signer,
        guardian_name=name,
        guardian_relationship=relationship,
        assent_at=assent,
        recorded_by_id=by.id,
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="consent",
        entity_id=consent.id,
        new={
            "icf_version": icf.version,
            "signed_at": signed_at,
            "signer": signer,
            "guardian_name": name,
            "guardian_relationship": relationship,
            "assent_at": assent,
        },
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    return consent


@dataclass(frozen=True)
class ConsentState:
    """Where a subject stands on consent."""

    consented: bool
    withdrawn: bool
    on_current_version: bool
    consent: Consent | None
    current_version: IcfVersion | None

    @property
    def valid(self) -> bool:
        return self.consented and not self.withdrawn


def consent_state(session: Session, *, subject: Subject) -> ConsentState:
    latest = _latest(session, subject.id)
    current = current_icf_version(session, study_id=subject.study_id)
    return ConsentState(
        consented=latest is not None,
        withdrawn=subject.consent_withdrawn_at is not None,
        on_current_version=latest is not None and current is not None and latest.icf_version_id == current.id,
        consent=latest,
        current_version=current,
    )


def require_consent(session: Session, *, subject: Subject) -> Consent:
    """The subject's consent; refuse when there is none or it was withdrawn (no procedure without it)."""
    state = consent_state(session, subject=subject)
    if state.consent is None:
        raise Conflict(
            f"subject {subject.label} has not consented: no study procedure or data before consent",
            field="consent",
        )
    if state.withdrawn:
        assert subject.consent_withdrawn_at is not None
        raise Conflict(
            f"subject {subject.label} withdrew consent on {subject.consent_withdrawn_at.date()}: "
            "no new data may be collected",
            field="consent",
        )
    return state.consent


def require_consent_date(session: Session, *, subject: Subject, correcting: bool = False) -> date:
    """The day the subject first consented, refusing data before consent or new data after withdrawal.

    ``correcting``: the form already holds data collected before a withdrawal; correcting it is allowed.
    """
    return check_consent_for_data(
        subject, first_consent_date(session, subject_id=subject.id), correcting=correcting
    )


def check_consent_for_data(subject: Subject, first_consent: date | None, *, correcting: bool) -> date:
    """:func:`require_consent_date` once the first consent date is known."""
    if first_consent is None:
        raise Conflict(
            f"subject {subject.label} has not consented: no study procedure or data before consent",
            field="consent",
        )
    if subject.consent_withdrawn_at is not None and not correcting:
        raise Conflict(
            f"subject {subject.label} withdrew consent on {subject.consent_withdrawn_at.date()}: "
            "no new data may be collected",
            field="consent",
        )
    return first_consent


def require_valid_for_enrolment(session: Session, *, subject: Subject) -> Consent:
    """Refuse enrolment unless the subject's consent stands and is on the current ICF version."""
    consent = require_consent(session, subject=subject)
    state = consent_state(session, subject=subject)
    if not state.on_current_version:
        current = state.current_version.version if state.current_version else "none"
        raise Conflict(
            f"subject {subject.label} must re-consent on the current ICF version {current}", field="consent"
        )
    return consent


_FIRST_CONSENT = (
    select(Consent.signed_at)
    .where(Consent.subject_id == bindparam("subject_id"))
    .order_by(Consent.signed_at)
    .limit(1)
)


def first_consent_date(session: Session, *, subject_id: int) -> date | None:
    """The day the subject first consented (study procedures may not be dated earlier)."""
    first = session.scalars(_FIRST_CONSENT, {"subject_id": subject_id}).first()
    return first.date() if first else None


def withdraw(session: Session, *, subject_id: int, withdrawn_at: datetime, reason: str, by: User) -> Consent:
    """Record the withdrawal of consent: data kept and marked, nothing new collected, status withdrawn."""
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.CONSENT_RECORD)
    withdrawn_at = _instant(withdrawn_at, "withdrawn_at")
    cause = _text(reason, "reason", limit=2000)
    consent = _latest(session, subject.id)
    if consent is None:
        raise Conflict(f"subject {subject.label} has no consent to withdraw", field="consent")
    if subject.consent_withdrawn_at is not None:
        raise Conflict(
            f"consent was already withdrawn on {subject.consent_withdrawn_at.date()}", field="consent"
        )
    if withdrawn_at < consent.signed_at:
        raise InvalidInput(
            f"withdrawn before the consent was signed ({consent.signed_at})", field="withdrawn_at"
        )
    ensure_unlocked(session, subject_id=subject.id)
    move_status = subject.status in _WITHDRAWN_FROM
    if not move_status and subject.status is not SubjectStatus.SCREEN_FAILED:
        raise Conflict(f"a subject who is {subject.status} cannot withdraw consent", field="status")
    consent.withdrawn_at = withdrawn_at
    consent.withdrawal_reason = cause
    subject.consent_withdrawn_at = withdrawn_at
    marked = list(
        session.scalars(
            select(FormInstance.id).where(FormInstance.subject_id == subject.id, FormInstance.version > 0)
        )
    )
    if marked:
        session.execute(
            update(FormInstance).where(FormInstance.id.in_(marked)).values(consent_withdrawn=True)
        )
    audit.record(
        session,
        actor=by.username,
        action="withdraw",
        entity="consent",
        entity_id=consent.id,
        field="withdrawn_at",
        new=withdrawn_at,
        reason=cause,
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    for form_id in marked:
        audit.record(
            session,
            actor=by.username,
            action="mark",
            entity="form",
            entity_id=form_id,
            field="consent_withdrawn",
            old=False,
            new=True,
            reason=cause,
            subject_id=subject.id,
            site_id=subject.site_id,
        )
    if move_status:
        move(
            session, subject=subject, to=SubjectStatus.WITHDRAWN, by=by, reason=f"consent withdrawn: {cause}"
        )
    return consent


def needing_reconsent(session: Session, *, study_id: int, by: User) -> list[Subject]:
    """Subjects still in the study whose latest consent is not on the current ICF version."""
    require(by, Action.SUBJECT_VIEW)
    current = current_icf_version(session, study_id=study_id)
    if current is None:
        return []
    query = select(Subject).where(
        Subject.study_id == study_id,
        Subject.status.in_(_WITHDRAWN_FROM),
        Subject.consent_withdrawn_at.is_(None),
    )
    site = visible_site_id(by)
    if site is not None:
        query = query.where(Subject.site_id == site)
    found = []
    for subject in session.scalars(query.order_by(Subject.id)):
        latest = _latest(session, subject.id)
        if latest is not None and latest.icf_version_id != current.id:
            found.append(subject)
    return found


def history(session: Session, *, subject_id: int, by: User) -> list[ConsentRead]:
    """Every consent of the subject, oldest first."""
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.SUBJECT_VIEW)
    current = current_icf_version(session, study_id=subject.study_id)
    rows = session.execute(
        select(Consent, IcfVersion.version)
        .join(IcfVersion, IcfVersion.id == Consent.icf_version_id)
        .where(Consent.subject_id == subject.id)
        .order_by(Consent.signed_at, Consent.id)
    ).all()
    return [
        ConsentRead(
            id=consent.id,
            subject_id=consent.subject_id,
            icf_version=version,
            signed_at=consent.signed_at,
            signer="guardian" if consent.signer == "guardian" else "subject",
            guardian_relationship=consent.guardian_relationship,
            assent_at=consent.assent_at,
            withdrawn_at=consent.withdrawn_at,
            withdrawal_reason=consent.withdrawal_reason,
            current=current is not None and consent.icf_version_id == current.id,
        )
        for consent, version in rows
    ]
