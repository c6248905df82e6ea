"""Case report forms: definitions, a subject's forms, saves with edit checks and optimistic locking,
source-data verification, electronic signatures, revisions.

A save names the version it started from, as ``expected_version`` in the body or as the ETag
in ``If-Match``; if somebody saved first the answer is 409 saying what changed, and nothing is
overwritten.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput
from celltrial.study.forms import service as forms
from celltrial.study.forms.dictionary import FormDefinition, form_definition, form_definitions
from celltrial.study.forms.models import FormInstance, FormRead
from celltrial.study.queries import service as queries
from celltrial.study.queries.models import QueryRead
from celltrial.study.signatures.models import Meaning
from celltrial.web.api.common import AUTHENTICATED, Id
from celltrial.web.api.subjects import WRITES
from celltrial.web.casebook import FormListItem, casebook_forms
from celltrial.web.deps import ApiUser, DbSession
from celltrial.web.problems import problem_responses
from celltrial.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["forms"])

READS = AUTHENTICATED | problem_responses(404)
_CASEBOOK = TypeAdapter(list[FormListItem])
"""Serialises the casebook straight to JSON (it is already validated: no second pass)."""
_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,9})"\s*$')


class FormSummary(BaseModel):
    """A form of the data dictionary."""

    code: str
    name: str
    version: int
    repeating: bool


class SignatureOut(BaseModel):
    """A signature as 21 CFR 11.50 shows it, and whether the form still holds what was signed."""

    printed_name: str
    role: str
    meaning: Meaning
    signed_at: datetime
    valid: bool


class FormOut(FormRead):
    """A form of a subject: values, status, version, SDV'd fields, open queries, signatures."""

    name: str
    signed: list[SignatureOut] = Field(default_factory=list)


class CheckFailureOut(BaseModel):
    """An edit check the saved values fail; a query was raised on the field."""

    field: str
    check: str
    message: str


class SaveOut(BaseModel):
    """What a save did."""

    form: FormOut
    changes: dict[str, list[Any]]
    failures: list[CheckFailureOut]
    queries_raised: list[QueryRead]
    queries_resolved: list[int]


class FormAdd(BaseModel):
    """A form to add: a log entry (adverse event, medication) or a form a visit lacks."""

    form_code: str = Field(min_length=1, max_length=64, examples=["adverse_events"])
    visit_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class FormSave(BaseModel):
    """Values to save (a partial update), the version they start from, and the reason for a change."""

    values: dict[str, Any]
    expected_version: int | None = Field(default=None, ge=0, le=1_000_000_000)
    reason: str | None = Field(default=None, max_length=2000)
    complete: bool = False


class Verification(BaseModel):
    """The monitor's source-data verification of one field."""

    field: str = Field(min_length=1, max_length=64)
    comment: str | None = Field(default=None, max_length=2000)


class SignatureCreate(BaseModel):
    """Sign the form: the password again, and what the signature means."""

    password: str = Field(min_length=1, max_length=256)
    meaning: Meaning


class RevisionOut(BaseModel):
    """One save: the version it made, what changed (field: [old, new]), who, when, why."""

    version: int
    changes: dict[str, list[Any]]
    reason: str | None
    saved_by: str
    saved_at: datetime


class QueryCreate(BaseModel):
    """A manual query on a field (or on the whole form)."""

    field: str | None = Field(default=None, min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=2000)


def etag(form: FormInstance) -> str:
    """The form's version as an entity tag."""
    return f'W/"{form.version}"'


def form_out(session: Session, form: FormInstance) -> FormOut:
    """The form as shown, with the state of its signatures."""
    shown, states = forms.detail(session, form=form)
    return FormOut(
        **shown.model_dump(),
        name=form_definition(form.form_code).name,
        signed=[
            SignatureOut(
                printed_name=state.signature.printed_name,
                role=state.signature.role,
                meaning=state.signature.meaning,
                signed_at=state.signature.signed_at,
                valid=state.valid,
            )
            for state in states
        ],
    )


@router.get("/form-definitions", response_model=list[FormSummary], responses=AUTHENTICATED)
def list_definitions(_user: ApiUser) -> list[FormSummary]:
    """Every case report form of the data dictionary."""
    return [
        FormSummary(code=item.code, name=item.name, version=item.version, repeating=item.repeating)
        for item in form_definitions().values()
    ]


@router.get("/form-definitions/{code}", response_model=FormDefinition, responses=READS)
def show_definition(_user: ApiUser, code: str) -> FormDefinition:
    """One form's fields, units, ranges, choices, branching and edit checks."""
    return form_definition(code)


@router.get("/subjects/{subject_id}/forms", response_model=list[FormListItem], responses=READS)
def subject_forms(session: DbSession, user: ApiUser, subject_id: Id) -> Response:
    """The subject's casebook: every form by visit, with status, open queries and signature state."""
    items = casebook_forms(session, subject_id=subject_id, by=user)
    return Response(_CASEBOOK.dump_json(items), media_type="application/json")


@router.post("/subjects/{subject_id}/forms", response_model=FormOut, status_code=201, responses=WRITES)
def add_form(session: DbSession, user: ApiUser, subject_id: Id, new: FormAdd) -> FormOut:
    """Add a form to the subject (a log entry, or a form a visit does not have yet)."""
    form = forms.add_form(
        session, subject_id=subject_id, form_code=new.form_code, visit_id=new.visit_id, by=user
    )
    return form_out(session, form)


@router.get("/forms/{form_id}", response_model=FormOut, responses=READS)
def show_form(session: DbSession, user: ApiUser, form_id: Id, response: Response) -> FormOut:
    """One form; its ETag is its version (send it back in If-Match when saving)."""
    form = forms.get_or_raise(session, form_id=form_id, by=user)
    response.headers["ETag"] = etag(form)
    return form_out(session, form)


def _expected(save: FormSave, if_match: str | None) -> int:
    if save.expected_version is not None:
        return save.expected_version
    if if_match is not None:
        matched = _ETAG.match(if_match)
        if matched is None:
            raise InvalidInput(f'If-Match {if_match!r} is not a form version such as W/"3"', field="If-Match")
        return int(matched.group(1))
    raise InvalidInput(
        "say which version the save starts from: expected_version or If-Match", field="expected_version"
    )


@router.put("/forms/{form_id}", response_model=SaveOut, responses=WRITES)
def save_form(
    session: DbSession,
    user: ApiUser,
    form_id: Id,
    save: FormSave,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=64)] = None,
) -> SaveOut:
    """Save values: edit checks run and raise queries on failing fields; a stale version is a 409."""
    result = forms.save(
        session,
        form_id=form_id,
        values=save.values,
        expected_version=_expected(save, if_match),
        reason=save.reason,
        complete=save.complete,
        by=user,
    )
    response.headers["ETag"] = etag(result.form)
    return SaveOut(
        form=form_out(session, result.form),
        changes={name: [old, new] for name, (old, new) in result.changes.items()},
        failures=[CheckFailureOut(field=f.field, check=f.check, message=f.message) for f in result.failures],
        queries_raised=[queries.read(session, query=query) for query in result.raised],
        queries_resolved=[query.id for query in result.resolved],
    )


@router.post("/forms/{form_id}/verifications", response_model=FormOut, status_code=201, responses=WRITES)
def verify_field(session: DbSession, user: ApiUser, form_id: Id, verification: Verification) -> FormOut:
    """Tick a field as verified against source (monitor); the form is verified when every field is."""
    forms.verify_field(
        session, form_id=form_id, field=verification.field, comment=verification.comment, by=user
    )
    return form_out(session, forms.get_or_raise(session, form_id=form_id, by=user))


@router.post("/forms/{form_id}/signatures", response_model=FormOut, status_code=201, responses=WRITES)
def sign_form(session: DbSession, user: ApiUser, form_id: Id, signature: SignatureCreate) -> FormOut:
    """Sign the form electronically (password again, meaning); a later change invalidates the signature."""
    forms.sign_form(session, form_id=form_id, password=signature.password, meaning=signature.meaning, by=user)
    return form_out(session, forms.get_or_raise(session, form_id=form_id, by=user))


@router.get("/forms/{form_id}/revisions", response_model=list[RevisionOut], responses=READS)
def form_revisions(session: DbSession, user: ApiUser, form_id: Id) -> list[RevisionOut]:
    """Every save of the form, oldest first."""
    return [
        RevisionOut(
            version=item.version,
            changes={name: list(pair) for name, pair in item.changes.items()},
            reason=item.reason,
            saved_by=item.saved_by,
            saved_at=item.saved_at,
        )
        for item in forms.revisions(session, form_id=form_id, by=user)
    ]


@router.post("/forms/{form_id}/queries", response_model=QueryRead, status_code=201, responses=WRITES)
def raise_query(session: DbSession, user: ApiUser, form_id: Id, new: QueryCreate) -> QueryRead:
    """Raise a query on a field of the form (monitor, data manager)."""
    query = queries.raise_query(session, form_id=form_id, field=new.field, text=new.text, by=user)
    return queries.read(session, query=query)
