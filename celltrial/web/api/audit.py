"""The audit trail: a subject's or a form's history, and the verification of the hash chain."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from celltrial.study.audit import service as audit
from celltrial.study.audit.models import AuditEntryRead
from celltrial.study.forms import service as forms
from celltrial.study.permissions import Action, require
from celltrial.study.subjects import service as subjects
from celltrial.web.api.common import AUTHENTICATED, Id
from celltrial.web.deps import ApiUser, DbSession
from celltrial.web.problems import problem_responses
from celltrial.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["audit"])
READS = AUTHENTICATED | problem_responses(404)


class ChainReport(BaseModel):
    """The audit chain recomputed: OK with the entry count, or the first broken entry."""

    ok: bool
    count: int
    first_broken_id: int | None
    problem: str | None


@router.get("/subjects/{subject_id}/audit", response_model=list[AuditEntryRead], responses=READS)
def subject_audit(session: DbSession, user: ApiUser, subject_id: Id) -> list[AuditEntryRead]:
    """Every audit entry about the subject, oldest first (who, when, field, old, new, reason)."""
    subject = subjects.get(session, subject_id=subject_id, by=user)
    require(user, Action.AUDIT_VIEW, site_id=subject.site_id)
    return [AuditEntryRead.model_validate(entry) for entry in audit.history(session, subject_id=subject.id)]


@router.get("/forms/{form_id}/audit", response_model=list[AuditEntryRead], responses=READS)
def form_audit(session: DbSession, user: ApiUser, form_id: Id) -> list[AuditEntryRead]:
    """Every audit entry about the form, oldest first: each field's old and new values with reasons."""
    form = forms.get_or_raise(session, form_id=form_id, by=user)
    subject = subjects.get(session, subject_id=form.subject_id, by=user)
    require(user, Action.AUDIT_VIEW, site_id=subject.site_id)
    entries = audit.history(session, entity="form", entity_id=str(form.id))
    return [AuditEntryRead.model_validate(entry) for entry in entries]


@router.get("/audit/verification", response_model=ChainReport, responses=AUTHENTICATED)
def verify_chain(session: DbSession, user: ApiUser) -> ChainReport:
    """Recompute the hash chain of the whole audit trail."""
    require(user, Action.AUDIT_VERIFY)
    report = audit.verify(session)
    return ChainReport(
        ok=report.ok, count=report.count, first_broken_id=report.first_broken_id, problem=report.problem
    )
