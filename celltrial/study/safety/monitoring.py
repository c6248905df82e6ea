"""Safety monitoring from the database: DLT evaluation and confirmation, stopping rule, DSMB tables.

The medicine and the statistics are pure (:mod:`celltrial.analysis.dlt`,
:mod:`celltrial.analysis.stopping`, :mod:`celltrial.analysis.safety_tables`); this module gathers
a subject's records into their inputs. The stopping rule counts, among infused subjects, those
evaluable for it: the stopping-rule event (settings ``safety.stopping_rule.event``) occurred in
the DLT window, or the window is complete without it. A subject whose follow-up ended (death,
withdrawal, loss) before the window did, without the event, is not evaluable.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.analysis.dlt import (
    DltEvaluation,
    DltStatus,
    DltWindow,
    SubjectSafetyData,
    evaluate_dlt,
    parse_criteria,
    parse_event,
)
from celltrial.analysis.episodes import DailyGrades
from celltrial.analysis.safety_events import AdverseEventFacts, Aesi, Outcome, Relatedness, Seriousness
from celltrial.analysis.safety_tables import DeathRecord, SafetyTables, SubjectSafetyRecord, safety_tables
from celltrial.analysis.stopping import (
    SafetyStoppingRule,
    StoppingDecision,
    evaluate_stopping_rule,
    stopping_boundary,
)
from celltrial.errors import Conflict, InvalidInput
from celltrial.protocol.settings import ProtocolSettings
from celltrial.study.audit import service as audit
from celltrial.study.permissions import Action, require, visible_site_id
from celltrial.study.safety.access import ensure_may_read, read_action, subject_for_entry, today
from celltrial.study.safety.models import AdverseEvent, CrsIcansAssessment, DltAssessment
from celltrial.study.subjects.models import Subject
from celltrial.study.subjects.status import SubjectStatus
from celltrial.study.trial import service as trials
from celltrial.study.types import utcnow
from celltrial.study.users.models import User

__all__ = [
    "StoppingRuleStatus",
    "SubjectStoppingStatus",
    "confirm_dlt",
    "dlt_evaluation",
    "dsmb_tables",
    "stopping_rule",
    "stopping_rule_status",
]

_ENDED = frozenset({SubjectStatus.DIED, SubjectStatus.WITHDRAWN, SubjectStatus.LOST_TO_FOLLOW_UP})


def stopping_rule(settings: ProtocolSettings) -> SafetyStoppingRule:
    """The protocol's stopping rule; the maximum sample size is the enrolment cap."""
    rule = settings.safety.stopping_rule
    return SafetyStoppingRule(
        rate_threshold=rule.rate_threshold.value,
        posterior_cutoff=rule.posterior_cutoff.value,
        prior_alpha=rule.prior_alpha.value,
        prior_beta=rule.prior_beta.value,
        max_subjects=settings.enrolment.cap.value,
        first_look_after=rule.first_look_after.value,
    )


def _facts(row: AdverseEvent) -> AdverseEventFacts:
    return AdverseEventFacts(
        subject_id=row.subject_id,
        term=row.term,
        soc=row.soc,
        grade=row.grade,
        onset=row.onset_date,
        resolved_on=row.resolution_date,
        serious=row.serious,
        seriousness=frozenset(Seriousness(code) for code in row.seriousness),
        related_to_cart=Relatedness(row.related_to_cart),
        related_to_lymphodepletion=Relatedness(row.related_to_lymphodepletion),
        outcome=Outcome(row.outcome),
        aesi=frozenset(Aesi(code) for code in row.aesi),
        event_id=row.id,
    )


def _grades(row: CrsIcansAssessment) -> DailyGrades:
    return DailyGrades(
        day=row.assessment_date,
        crs_grade=row.crs_grade,
        icans_grade=row.icans_grade,
        tocilizumab_given=row.tocilizumab_given,
        corticosteroids_given=row.corticosteroids_given,
    )


def _records(
    session: Session, subject_ids: list[int]
) -> tuple[dict[int, list[AdverseEventFacts]], dict[int, list[DailyGrades]]]:
    events: dict[int, list[AdverseEventFacts]] = {subject_id: [] for subject_id in subject_ids}
    days: dict[int, list[DailyGrades]] = {subject_id: [] for subject_id in subject_ids}
    if subject_ids:
        for event in session.scalars(select(AdverseEvent).where(AdverseEvent.subject_id.in_(subject_ids))):
            events[event.subject_id].append(_facts(event))
        for row in session.scalars(
            select(CrsIcansAssessment).where(CrsIcansAssessment.subject_id.in_(subject_ids))
        ):
            days[row.subject_id].append(_grades(row))
    return events, days


def _ended_on(subject: Subject, events: list[AdverseEventFacts]) -> date | None:
    deaths = [event.death_date for event in events if event.death_date is not None]
    if deaths:
        return min(deaths)
    return subject.status_changed_at.date() if subject.status in _ENDED else None


def _data(subject: Subject, events: list[AdverseEventFacts], days: list[DailyGrades]) -> SubjectSafetyData:
    assert subject.infusion_date is not None
    return SubjectSafetyData(
        subject_id=subject.id,
        infusion_date=subject.infusion_date,
        assessments=tuple(days),
        adverse_events=tuple(events),
        follow_up_ended_on=_ended_on(subject, events),
    )


def _settings(session: Session, study_id: int) -> ProtocolSettings:
    return trials.settings_of(trials.get_or_raise(session, study_id=study_id))


def _window(settings: ProtocolSettings) -> DltWindow:
    return DltWindow.of(settings.safety.dlt_window_days.value)


def _evaluate(session: Session, subject: Subject, as_of: date) -> DltEvaluation:
    if subject.infusion_date is None:
        raise Conflict(f"subject {subject.label} has not been infused: no DLT window yet", field="subject")
    settings = _settings(session, subject.study_id)
    events, days = _records(session, [subject.id])
    criteria = parse_criteria(settings.safety.dlt_definitions.value)
    return evaluate_dlt(
        _data(subject, events[subject.id], days[subject.id]), criteria, window=_window(settings), as_of=as_of
    )


def dlt_evaluation(
    session: Session, *, by: User, subject_id: int, as_of: date | None = None
) -> DltEvaluation:
    """The automatic DLT evaluation of a subject as of ``as_of`` (default: today)."""
    subject = ensure_may_read(session, subject_id=subject_id, by=by)
    return _evaluate(session, subject, as_of or today())


def confirm_dlt(
    session: Session, *, by: User, subject_id: int, is_dlt: bool, comment: str = ""
) -> DltAssessment:
    """The investigator confirms (or overrules, with a comment) the automatic DLT evaluation of today.

    Needs ``safety.assess`` and the right to enter the subject's safety data at its site.
    """
    require(by, Action.SAFETY_ASSESS)
    subject = subject_for_entry(session, subject_id=subject_id, by=by)
    if not isinstance(is_dlt, bool):
        raise InvalidInput("is_dlt is true or false", field="is_dlt")
    evaluation = _evaluate(session, subject, today())
    text = " ".join((comment or "").split())
    automatic = evaluation.status is DltStatus.DLT
    if not is_dlt and evaluation.status is DltStatus.PENDING:
        raise Conflict(
            f"the DLT window ends on {evaluation.window_end} and findings may still come: "
            "'no DLT' can be confirmed once it is complete",
            field="is_dlt",
        )
    if is_dlt != automatic and not text:
        raise InvalidInput(
            f"the automatic evaluation says {evaluation.status.value}: explain why you judge otherwise",
            field="comment",
        )
    row = session.scalar(select(DltAssessment).where(DltAssessment.subject_id == subject.id))
    old: dict[str, Any] | None = None
    if row is None:
        row = DltAssessment(subject_id=subject.id, version=0)
        session.add(row)
    else:
        old = {
            "status": row.status,
            "investigator_dlt": row.investigator_dlt,
            "comment": row.investigator_comment,
        }
    row.status = evaluation.status.value
    row.as_of = today()
    row.findings = [finding.model_dump(mode="json") for finding in evaluation.findings]
    row.pending = [finding.model_dump(mode="json") for finding in evaluation.pending]
    row.evaluated_at = utcnow()
    row.investigator_dlt = is_dlt
    row.investigator_comment = text or None
    row.confirmed_by_id = by.id
    row.confirmed_at = utcnow()
    row.version += 1
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="confirm" if old is None else "update",
        entity="dlt_assessment",
        entity_id=row.id,
        old=old,
        new={
            "status": row.status,
            "investigator_dlt": is_dlt,
            "comment": text or None,
            "findings": row.findings,
        },
        reason=None if old is None else (text or "re-confirmed"),
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    return row


class SubjectStoppingStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject_id: int
    subject: str
    status: DltStatus
    event: bool
    evidence: tuple[str, ...]


class StoppingRuleStatus(BaseModel):
    """Where the safety stopping rule stands."""

    model_config = ConfigDict(frozen=True)

    as_of: date
    event_definition: str
    rule: SafetyStoppingRule
    infused: int
    evaluable: int
    events: int
    awaiting: int
    not_evaluable: int
    decision: StoppingDecision
    events_to_stop_now: int | None
    subjects: tuple[SubjectStoppingStatus, ...]


def _infused(session: Session, study_id: int) -> list[Subject]:
    query = select(Subject).where(Subject.study_id == study_id, Subject.infusion_date.is_not(None))
    return list(session.scalars(query.order_by(Subject.infusion_date, Subject.id)))


def stopping_rule_status(
    session: Session, *, by: User, study_id: int, as_of: date | None = None
) -> StoppingRuleStatus:
    """The stopping rule after the infused subjects who completed the window (or had the event)."""
    read_action(by)
    as_of = as_of or today()
    settings = _settings(session, study_id)
    rule = stopping_rule(settings)
    event_text = settings.safety.stopping_rule.event.value
    criteria = parse_event(event_text)
    subjects = _infused(session, study_id)
    events, days = _records(session, [s.id for s in subjects])
    rows = []
    for subject in subjects:
        result = evaluate_dlt(
            _data(subject, events[subject.id], days[subject.id]),
            criteria,
            window=_window(settings),
            as_of=as_of,
        )
        rows.append((subject, result))
    evaluable = sum(1 for _, result in rows if result.evaluable)
    with_event = sum(1 for _, result in rows if result.status is DltStatus.DLT)
    if evaluable > rule.max_subjects:
        raise InvalidInput(
            f"{evaluable} evaluable subjects exceed the rule's {rule.max_subjects}", field="study"
        )
    boundary = stopping_boundary(rule).get(max(evaluable, rule.first_look_after))
    site = visible_site_id(by)
    return StoppingRuleStatus(
        as_of=as_of,
        event_definition=event_text,
        rule=rule,
        infused=len(rows),
        evaluable=evaluable,
        events=with_event,
        awaiting=sum(1 for _, result in rows if result.status is DltStatus.PENDING),
        not_evaluable=sum(1 for _, result in rows if result.status is DltStatus.NOT_EVALUABLE),
        decision=evaluate_stopping_rule(with_event, evaluable, rule),
        events_to_stop_now=boundary,
        subjects=tuple(
            SubjectStoppingStatus(
                subject_id=subject.id,
                subject=subject.label,
                status=result.status,
                event=result.status is DltStatus.DLT,
                evidence=tuple(finding.evidence for finding in result.findings),
            )
            for subject, result in rows
            if site is None or subject.site_id == site
        ),
    )


def dsmb_tables(session: Session, *, by: User, study_id: int) -> SafetyTables:
    """The DSMB safety tables of the infused subjects the user may see."""
    require(by, Action.SAFETY_VIEW)
    subjects = _infused(session, study_id)
    site = visible_site_id(by)
    if site is not None:
        subjects = [subject for subject in subjects if subject.site_id == site]
    events, days = _records(session, [s.id for s in subjects])
    records = []
    other_deaths = []
    for subject in subjects:
        assert subject.infusion_date is not None
        records.append(
            SubjectSafetyRecord(
                subject_id=subject.id,
                label=subject.label,
                infusion_date=subject.infusion_date,
                adverse_events=tuple(events[subject.id]),
                assessments=tuple(days[subject.id]),
            )
        )
        if subject.status is SubjectStatus.DIED and not any(e.fatal for e in events[subject.id]):
            other_deaths.append(
                DeathRecord(
                    subject_id=subject.id,
                    on=subject.status_changed_at.date(),
                    cause="not recorded as an adverse event",
                )
            )
    return safety_tables(records, other_deaths=other_deaths)
