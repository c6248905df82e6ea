"""The cell product pages: the trial's products, one subject's chain of identity and custody, the
two-person bedside verification, and bag labels as PDF."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.errors import CelltrialError
from celltrial.product import labelling, views
from celltrial.product.models import BedsideVerification, ChainOfIdentity
from celltrial.study.permissions import Action, allowed, require
from celltrial.study.subjects import service as subjects
from celltrial.study.users.models import User
from celltrial.web.api.product import BedsideCheck, ScannedRead, record_bedside_check, subject_number_of
from celltrial.web.api.study import running_trial
from celltrial.web.deps import Actor, DbSession, Viewer, Visitor, settings_of
from celltrial.web.pages.common import attempt
from celltrial.web.routing import UnitOfWorkRoute
from celltrial.web.templating import render, templates

router = APIRouter(route_class=UnitOfWorkRoute)

templates.env.globals.setdefault("may", lambda user, name: allowed(user, Action(name)))
"""``may(user, "product.view")`` in a template: whether the user's role permits the action."""

MESSAGES = {
    "passed": "Bedside verification passed: bag and wristband match the chain of identity.",
}


def _enrolled(session: Session, request: Request, user: User) -> list[Any]:
    trial = running_trial(session, settings_of(request))
    found = subjects.list_subjects(session, by=user, study_id=trial.id if trial else None)
    return [subject for subject in found if subject.subject_number]


@router.get("/product")
def product_overview(request: Request, session: DbSession, visitor: Viewer) -> Response:
    """Every enrolled subject's product, the vein-to-vein times and the manufacturing counts."""
    require(visitor.user, Action.PRODUCT_VIEW)
    listed = _enrolled(session, request, visitor.user)
    with_chain = set(session.scalars(select(ChainOfIdentity.subject_id)))
    return render(
        request,
        "product_overview.html",
        {
            "subjects": listed,
            "with_chain": with_chain,
            "v2v": views.vein_to_vein_report(session, by=visitor.user),
            "counts": views.manufacturing_counts(session, by=visitor.user),
        },
        visitor=visitor,
    )


def _blocked(session: Session, subject_id: int) -> BedsideVerification | None:
    coi = session.scalar(select(ChainOfIdentity).where(ChainOfIdentity.subject_id == subject_id))
    if coi is None:
        return None
    latest = session.scalar(
        select(BedsideVerification)
        .where(BedsideVerification.coi_id == coi.id)
        .order_by(BedsideVerification.id.desc())
        .limit(1)
    )
    return latest if latest is not None and not latest.passed else None


def product_page(
    request: Request,
    session: DbSession,
    visitor: Visitor,
    subject_id: int,
    *,
    problem: CelltrialError | None = None,
    status_code: int = 200,
) -> Response:
    """One subject's chain of identity, custody timeline, release results and bedside verifications."""
    user = visitor.user
    number = subject_number_of(session, subject_id=subject_id, by=user)
    coi = views.coi_view(session, by=user, subject_number=number)
    done = request.query_params.get("done", "")
    return render(
        request,
        "product_subject.html",
        {
            "subject_id": subject_id,
            "coi": coi,
            "events": views.custody_view(session, by=user, subject_number=number),
            "can_custody": allowed(user, Action.PRODUCT_CUSTODY),
            "blocked": _blocked(session, subject_id) if done == "blocked" else None,
            "done": MESSAGES.get(done),
            "problem": problem,
        },
        visitor=visitor,
        status_code=status_code,
    )


@router.get("/subjects/{subject_id}/product")
def show_product(request: Request, session: DbSession, visitor: Viewer, subject_id: int) -> Response:
    """The subject's product from apheresis to infusion."""
    return product_page(request, session, visitor, subject_id)


@router.post("/subjects/{subject_id}/product/bedside")
def bedside_verification(
    request: Request,
    session: DbSession,
    visitor: Actor,
    subject_id: int,
    first_bag: Annotated[str, Form(max_length=32)] = "",
    first_wristband: Annotated[str, Form(max_length=32)] = "",
    second_person: Annotated[str, Form(max_length=64)] = "",
    second_password: Annotated[str, Form(max_length=256)] = "",
    second_bag: Annotated[str, Form(max_length=32)] = "",
    second_wristband: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Record both people's reads; a mismatch is recorded and blocks the infusion."""

    def act() -> BedsideVerification:
        check = BedsideCheck.model_construct(
            first=ScannedRead.model_construct(bag_din=first_bag, wristband=first_wristband),
            second_person=second_person,
            second_password=second_password,
            second=ScannedRead.model_construct(bag_din=second_bag, wristband=second_wristband),
            verified_at=None,
        )
        return record_bedside_check(session, subject_id=subject_id, check=check, by=visitor.user)

    outcome = attempt(session, act)
    if isinstance(outcome, CelltrialError):
        return product_page(request, session, visitor, subject_id, problem=outcome, status_code=422)
    session.commit()
    verdict = "passed" if outcome.passed else "blocked"
    return _redirect(f"/subjects/{subject_id}/product?done={verdict}#bedside")


def _redirect(target: str) -> Response:
    return Response(status_code=303, headers={"Location": target})


@router.get("/product/labels/{din}.pdf")
def label_pdf(session: DbSession, visitor: Viewer, din: str) -> Response:
    """The PDF label of the collection or bag carrying ``din``."""
    pdf = labelling.label_pdf_for_din(session, by=visitor.user, din=din)
    headers = {"Content-Disposition": f'attachment; filename="label-{din}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)
