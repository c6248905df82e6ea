"""Screening: record each attempt with its frozen eligibility result, judge what needs review, log.

A screening record keeps the eligibility engine's result exactly as it was (its SHA-256 is kept
beside it) with the rule-set version that produced it. The investigator answers the criteria
the engine left as ``needs_review``; the decision is recomputed from the verdicts and those
answers. An *ineligible* decision makes the subject screen-failed, with the failing criteria as
screen-fail reasons; a screen-failed patient may be screened again (a new attempt).

The screening log (:func:`screening_log`) lists every screened patient with their latest
decision and reasons: the input of the CONSORT flow diagram (:func:`consort_counts`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from celltrial.errors import Conflict, InvalidInput, NotFound
from celltrial.study.audit import service as audit
from celltrial.study.audit.service import canonical_json
from celltrial.study.permissions import Action, allowed, require, require_site, visible_site_id
from celltrial.study.screening.decision import (
    CriterionResult,
    EligibilityResult,
    decide,
    outstanding,
    parse_result,
    screen_fail_reasons,
)
from celltrial.study.screening.models import (
    EligibilityJudgment,
    JudgmentRead,
    ScreeningAttempt,
    ScreeningRead,
)
from celltrial.study.sites.models import Site
from celltrial.study.subjects.access import subject_for
from celltrial.study.subjects.lifecycle import move
from celltrial.study.subjects.models import Subject
from celltrial.study.subjects.status import SubjectStatus
from celltrial.study.types import utcnow
from celltrial.study.users.models import User
from celltrial.study.visits.models import Visit

__all__ = [
    "ScreeningLogRow",
    "consort_counts",
    "judge",
    "latest",
    "read",
    "record",
    "screening_log",
]

_ANSWERS = ("met", "not_met")


def _criteria(attempt: ScreeningAttempt) -> list[CriterionResult]:
    return EligibilityResult.model_validate(attempt.snapshot).criteria


def _judgments(session: Session, attempt_id: int) -> dict[str, EligibilityJudgment]:
    rows = session.scalars(select(EligibilityJudgment).where(EligibilityJudgment.screening_id == attempt_id))
    return {row.criterion_id: row for row in rows}


def latest(session: Session, *, subject_id: int) -> ScreeningAttempt | None:
    """The subject's latest screening attempt."""
    query = select(ScreeningAttempt).where(ScreeningAttempt.subject_id == subject_id)
    return session.scalars(query.order_by(ScreeningAttempt.attempt.desc()).limit(1)).first()


def record(
    session: Session,
    *,
    subject_id: int,
    result: Mapping[str, object],
    by: User,
    rule_set_version: str | None = None,
) -> ScreeningAttempt:
    """Store a new screening attempt for the subject from the eligibility engine's result."""
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.SCREENING_CREATE)
    parsed = parse_result(result)
    version = (rule_set_version or parsed.rule_set_version or parsed.rules_version or "").strip()
    if not version:
        raise InvalidInput(
            "the rule-set version that produced the result is required", field="rule_set_version"
        )
    if len(version) > 64:
        raise InvalidInput("the rule-set version is longer than 64 characters", field="rule_set_version")
    if parsed.screening_date > utcnow().date():
        raise InvalidInput(
            f"the screening date {parsed.screening_date} is in the future", field="result.screening_date"
        )
    if parsed.screening_date < subject.date_of_birth:
        raise InvalidInput("the screening date is before the date of birth", field="result.screening_date")
    if subject.status not in (SubjectStatus.SCREENING, SubjectStatus.SCREEN_FAILED):
        raise Conflict(f"subject {subject.label} is {subject.status}: screening is over", field="status")
    snapshot = json.loads(canonical_json(dict(result)))
    snapshot["rule_set_version"] = version
    digest = hashlib.sha256(canonical_json(snapshot).encode()).hexdigest()
    number = int(session.scalar(select(func.max(ScreeningAttempt.attempt)).where(
        ScreeningAttempt.subject_id == subject.id)) or 0) + 1  # fmt: skip
    attempt = ScreeningAttempt(
        subject_id=subject.id,
        attempt=number,
        screening_date=parsed.screening_date,
        rule_set_version=version,
        engine_decision=parsed.decision,
        decision=parsed.decision,
        snapshot=snapshot,
        snapshot_hash=digest,
        recorded_by_id=by.id,
    )
    session.add(attempt)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="screening",
        entity_id=attempt.id,
        new={
            "attempt": number,
            "screening_date": parsed.screening_date,
            "decision": parsed.decision,
            "rule_set_version": version,
            "snapshot_sha256": digest,
        },
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    if subject.status is SubjectStatus.SCREEN_FAILED:
        move(
            session,
            subject=subject,
            to=SubjectStatus.SCREENING,
            by=by,
            reason=f"re-screening, attempt {number}",
        )
    _settle(session, subject=subject, attempt=attempt, by=by, judgments={})
    _date_screening_visit(session, subject=subject, on=parsed.screening_date, by=by)
    return attempt


def _settle(
    session: Session, *, subject: Subject, attempt: ScreeningAttempt, by: User, judgments: Mapping[str, str]
) -> None:
    criteria = _criteria(attempt)
    decision = decide(criteria, judgments)
    if decision != attempt.decision:
        audit.record(
            session,
            actor=by.username,
            action="decide",
            entity="screening",
            entity_id=attempt.id,
            field="decision",
            old=attempt.decision,
            new=decision,
            subject_id=subject.id,
            site_id=subject.site_id,
        )
        attempt.decision = decision
    if decision == "ineligible" and subject.status is SubjectStatus.SCREENING:
        reasons = ", ".join(screen_fail_reasons(criteria, judgments))
        move(
            session, subject=subject, to=SubjectStatus.SCREEN_FAILED, by=by, reason=f"not eligible: {reasons}"
        )


def _date_screening_visit(session: Session, *, subject: Subject, on: date, by: User) -> None:
    query = select(Visit).where(Visit.subject_id == subject.id, Visit.anchor == "enrolment", Visit.day < 0)
    for visit in session.scalars(query):
        if visit.actual_date is None:
            visit.actual_date = on
            audit.record(
                session,
                actor=by.username,
                action="enter",
                entity="visit",
                entity_id=visit.id,
                field="actual_date",
                new=on,
                subject_id=subject.id,
                site_id=subject.site_id,
            )


def judge(
    session: Session,
    *,
    screening_id: int,
    criterion_id: str,
    answer: str,
    comment: str,
    by: User,
    reason: str | None = None,
) -> ScreeningAttempt:
    """The investigator's answer (met / not_met, with a comment) for a ``needs_review`` criterion."""
    require(by, Action.SCREENING_JUDGE)
    attempt = session.get(ScreeningAttempt, screening_id)
    if attempt is None:
        raise NotFound(f"no screening with id {screening_id}", field="screening")
    try:
        subject = subject_for(session, subject_id=attempt.subject_id, by=by, action=Action.SCREENING_JUDGE)
    except NotFound:  # another site's screening: answered exactly as one that does not exist
        raise NotFound(f"no screening with id {screening_id}", field="screening") from None
    if answer not in _ANSWERS:
        raise InvalidInput(f"the answer must be met or not_met, not {answer!r}", field="answer")
    note = (comment or "").strip()
    if not note:
        raise InvalidInput("a judgment needs a comment giving its grounds", field="comment")
    criteria = {criterion.id: criterion for criterion in _criteria(attempt)}
    criterion = criteria.get(criterion_id)
    if criterion is None:
        raise InvalidInput(f"the screening has no criterion {criterion_id!r}", field="criterion_id")
    if criterion.verdict != "needs_review":
        raise InvalidInput(
            f"criterion {criterion_id} was decided by the rules ({criterion.verdict}); only needs_review "
            "criteria are judged",
            field="criterion_id",
        )
    newest = latest(session, subject_id=subject.id)
    if newest is None or newest.id != attempt.id:
        raise Conflict(f"attempt {attempt.attempt} is not the subject's latest screening", field="screening")
    if subject.status is not SubjectStatus.SCREENING:
        raise Conflict(f"subject {subject.label} is {subject.status}: screening is over", field="status")
    existing = _judgments(session, attempt.id)
    previous = existing.get(criterion_id)
    why = (reason or "").strip() or None
    if previous is not None and why is None:
        raise InvalidInput(
            f"criterion {criterion_id} was judged already: a reason for change is required", field="reason"
        )
    old = None if previous is None else {"answer": previous.answer, "comment": previous.comment}
    if previous is None:
        previous = EligibilityJudgment(
            screening_id=attempt.id,
            criterion_id=criterion_id,
            answer=answer,
            comment=note,
            judged_by_id=by.id,
            judged_by_name=by.full_name,
        )
        session.add(previous)
    else:
        previous.answer, previous.comment = answer, note
        previous.judged_by_id, previous.judged_by_name, previous.judged_at = by.id, by.full_name, utcnow()
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="update" if old else "judge",
        entity="screening",
        entity_id=attempt.id,
        field=f"judgment.{criterion_id}",
        old=old,
        new={"answer": answer, "comment": note},
        reason=why,
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    answers = {row.criterion_id: row.answer for row in existing.values()} | {criterion_id: answer}
    _settle(session, subject=subject, attempt=attempt, by=by, judgments=answers)
    return attempt


def read(session: Session, *, attempt: ScreeningAttempt, by: User | None = None) -> ScreeningRead:
    """The attempt with its judgments and screen-fail reasons.

    Given ``by``, the snapshot is shown as that user may see it: without the evidence (which can
    hold a birth date or a record id) for roles that may not see identifying data.
    """
    judgments = _judgments(session, attempt.id)
    answers = {criterion: row.answer for criterion, row in judgments.items()}
    shown = ScreeningRead.model_validate(attempt)
    update: dict[str, object] = {
        "judgments": [JudgmentRead.model_validate(row) for row in judgments.values()],
        "screen_fail_reasons": screen_fail_reasons(_criteria(attempt), answers),
    }
    if by is not None and not allowed(by, Action.IDENTIFYING_DATA_VIEW):
        update["snapshot"] = _without_evidence(attempt.snapshot)
    return shown.model_copy(update=update)


def _without_evidence(node: object) -> Any:
    if isinstance(node, dict):
        return {key: _without_evidence(value) for key, value in node.items() if key != "evidence"}
    if isinstance(node, list):
        return [_without_evidence(item) for item in node]
    return node


@dataclass(frozen=True)
class ScreeningLogRow:
    """One screened patient in the screening log (no identifying data)."""

    subject_id: int
    site: str
    screening_number: str
    subject_number: str | None
    status: str
    attempts: int
    first_screened: date
    latest_screened: date
    decision: str
    screen_fail_reasons: tuple[str, ...]
    outstanding: tuple[str, ...]


def screening_log(
    session: Session, *, study_id: int, by: User, site_id: int | None = None
) -> list[ScreeningLogRow]:
    """Every screened patient of the study (of the user's site for site roles), by screening number."""
    require(by, Action.SUBJECT_VIEW)
    if site_id is not None:
        require_site(by, site_id, what="site")
    query = (
        select(Subject, Site.code)
        .join(Site, Site.id == Subject.site_id)
        .where(Subject.study_id == study_id)
        .order_by(Subject.screening_number)
    )
    visible = visible_site_id(by)
    for restriction in (visible, site_id):
        if restriction is not None:
            query = query.where(Subject.site_id == restriction)
    rows = []
    for subject, site_code in session.execute(query).all():
        attempts = list(
            session.scalars(
                select(ScreeningAttempt)
                .where(ScreeningAttempt.subject_id == subject.id)
                .order_by(ScreeningAttempt.attempt)
            )
        )
        if not attempts:
            continue
        last = attempts[-1]
        answers = {criterion: row.answer for criterion, row in _judgments(session, last.id).items()}
        criteria = _criteria(last)
        rows.append(
            ScreeningLogRow(
                subject_id=subject.id,
                site=site_code,
                screening_number=subject.screening_number,
                subject_number=subject.subject_number,
                status=subject.status.value,
                attempts=len(attempts),
                first_screened=attempts[0].screening_date,
                latest_screened=last.screening_date,
                decision=last.decision,
                screen_fail_reasons=tuple(screen_fail_reasons(criteria, answers)),
                outstanding=tuple(outstanding(criteria, answers)),
            )
        )
    return rows


def consort_counts(log: list[ScreeningLogRow]) -> dict[str, object]:
    """The enrolment box of a CONSORT flow diagram from the screening log.

    ``assessed``: patients screened; ``excluded``: screen failures, with how many failed each
    criterion (a patient may fail several); ``pending``: still in screening; ``enrolled``.
    """
    failed = [row for row in log if row.status == SubjectStatus.SCREEN_FAILED.value]
    reasons: Counter[str] = Counter(reason for row in failed for reason in row.screen_fail_reasons)
    return {
        "assessed": len(log),
        "excluded": len(failed),
        "excluded_by_criterion": dict(sorted(reasons.items())),
        "pending": sum(row.status == SubjectStatus.SCREENING.value for row in log),
        "withdrawn_before_enrolment": sum(
            row.subject_number is None and row.status == SubjectStatus.WITHDRAWN.value for row in log
        ),
        "enrolled": sum(row.subject_number is not None for row in log),
    }
