"""The cell product: chain of identity, custody timeline, release, bedside verification, labels."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from celltrial.errors import NotFound
from celltrial.product import bedside, labelling, manufacturing, views
from celltrial.product.bedside import BedsideRead
from celltrial.product.models import BedsideVerification
from celltrial.study.subjects import service as subjects
from celltrial.study.types import utcnow
from celltrial.study.users import service as users
from celltrial.study.users.models import User
from celltrial.web.api.common import AUTHENTICATED, Id
from celltrial.web.deps import ApiUser, DbSession
from celltrial.web.problems import problem_responses
from celltrial.web.routing import UnitOfWorkRoute

__all__ = ["BedsideCheck", "record_bedside_check", "router", "subject_number_of"]

router = APIRouter(route_class=UnitOfWorkRoute, tags=["product"])

READS = AUTHENTICATED | problem_responses(404)
WRITES = AUTHENTICATED | problem_responses(404, 409)
DinPath = Annotated[
    str, Path(min_length=13, max_length=16, description="A DIN (13 characters, check optional)")
]


def subject_number_of(session: Session, *, subject_id: int, by: User) -> str:
    """The subject number of an enrolled subject ``by`` may see (its chain of identity is named by it)."""
    subject = subjects.get(session, subject_id=subject_id, by=by)
    if subject.subject_number is None:
        raise NotFound(f"subject {subject.label} is not enrolled: it has no cell product", field="subject")
    return subject.subject_number


class ScannedRead(BaseModel):
    """What one person scanned or typed at the bedside."""

    bag_din: str = Field(min_length=1, max_length=32, examples=["G12342600012300L"])
    wristband: str = Field(min_length=1, max_length=32, examples=["S01-001"])


class BedsideCheck(BaseModel):
    """The two reads of the bedside verification; the second person confirms with their password."""

    first: ScannedRead
    second_person: str = Field(min_length=1, max_length=64, description="the second person's username")
    second_password: str = Field(min_length=1, max_length=256)
    second: ScannedRead
    verified_at: datetime | None = Field(default=None, description="default: now")


def record_bedside_check(
    session: Session, *, subject_id: int, check: BedsideCheck, by: User
) -> BedsideVerification:
    """Record the two-person bedside verification (a mismatch is recorded too, and blocks the infusion)."""
    other = users.get_by_username(session, username=check.second_person)
    if other is None:
        raise NotFound(f"no user named {check.second_person!r}", field="second_person")
    return bedside.verify_at_bedside(
        session,
        by=by,
        subject_id=subject_id,
        verified_at=check.verified_at or utcnow(),
        first=BedsideRead(check.first.bag_din, check.first.wristband),
        second_person=other,
        second_password=check.second_password,
        second=BedsideRead(check.second.bag_din, check.second.wristband),
    )


class ExceptionalRelease(BaseModel):
    """The sponsor's documented approval of an out-of-specification lot (password asked again)."""

    justification: str = Field(min_length=1, max_length=4000)
    password: str = Field(min_length=1, max_length=256)


class LotOut(BaseModel):
    """A lot after the exceptional release approval."""

    lot_number: str
    exceptional_release: bool
    exceptional_approved_at: datetime | None


@router.get("/subjects/{subject_id}/product", response_model=views.CoiView, responses=READS)
def chain_of_identity(session: DbSession, user: ApiUser, subject_id: Id) -> views.CoiView:
    """The subject's chain of identity: collections, lots, release results, bags, bedside checks."""
    number = subject_number_of(session, subject_id=subject_id, by=user)
    return views.coi_view(session, by=user, subject_number=number)


@router.get(
    "/subjects/{subject_id}/product/custody", response_model=list[views.CustodyEventView], responses=READS
)
def custody_timeline(session: DbSession, user: ApiUser, subject_id: Id) -> list[views.CustodyEventView]:
    """Every custody step in order, with its signatories and temperature readings (excursions flagged)."""
    number = subject_number_of(session, subject_id=subject_id, by=user)
    return views.custody_view(session, by=user, subject_number=number)


@router.post(
    "/subjects/{subject_id}/product/bedside-verifications",
    response_model=views.VerificationView,
    status_code=201,
    responses=WRITES,
)
def verify_at_bedside(
    session: DbSession, user: ApiUser, subject_id: Id, check: BedsideCheck
) -> views.VerificationView:
    """Two people's reads of bag and wristband against the COI; ``passed`` false blocks the infusion."""
    row = record_bedside_check(session, subject_id=subject_id, check=check, by=user)
    return views.VerificationView(
        verified_at=row.verified_at,
        passed=row.passed,
        bag_read=row.first_bag_read,
        wristband_read=row.first_wristband_read,
        problems=list(row.problems),
    )


@router.get(
    "/product/labels/{din}.pdf",
    response_class=Response,
    responses=READS | {200: {"content": {"application/pdf": {}}, "description": "the label"}},
)
def label_pdf(session: DbSession, user: ApiUser, din: DinPath) -> Response:
    """The 100 x 100 mm PDF label (Code 128 and 2D barcodes) of the collection or bag carrying ``din``."""
    pdf = labelling.label_pdf_for_din(session, by=user, din=din)
    headers = {"Content-Disposition": f'attachment; filename="label-{din}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/product/vein-to-vein", response_model=views.VeinToVeinReport, responses=AUTHENTICATED)
def vein_to_vein(session: DbSession, user: ApiUser) -> views.VeinToVeinReport:
    """Vein-to-vein time and its components per infused subject, and their summary (days)."""
    return views.vein_to_vein_report(session, by=user)


@router.post("/product/lots/{lot_id}/exceptional-release", response_model=LotOut, responses=WRITES)
def approve_exceptional_release(
    session: DbSession, user: ApiUser, lot_id: Id, approval: ExceptionalRelease
) -> LotOut:
    """The sponsor approves releasing an out-of-specification lot; the lot is flagged from then on."""
    lot = manufacturing.approve_exceptional_release(
        session, by=user, lot_id=lot_id, justification=approval.justification, password=approval.password
    )
    return LotOut(
        lot_number=lot.lot_number,
        exceptional_release=lot.exceptional_release,
        exceptional_approved_at=lot.exceptional_approved_at,
    )
