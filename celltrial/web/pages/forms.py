"""Data entry: a form's fields with the values, edit-check messages and queries inline, SDV ticks,
signatures with the e-signature dialog, and each field's audit history.

Saving posts every field with the version the page was loaded at; a save from a stale version
shows what changed since and overwrites nothing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from celltrial.errors import CelltrialError, InvalidInput
from celltrial.study.audit import service as audit
from celltrial.study.forms import service as forms
from celltrial.study.forms.checks import visible_fields
from celltrial.study.forms.dictionary import FieldDefinition, form_definition
from celltrial.study.forms.models import FormStatus
from celltrial.study.permissions import Action, allowed
from celltrial.study.queries import service as queries
from celltrial.study.subjects import service as subjects
from celltrial.study.visits.models import Visit
from celltrial.web.api.forms import form_out
from celltrial.web.api.subjects import subject_out
from celltrial.web.deps import Actor, DbSession, Viewer, Visitor
from celltrial.web.pages.common import DONE, attempt, back_to
from celltrial.web.routing import UnitOfWorkRoute
from celltrial.web.templating import render

router = APIRouter(route_class=UnitOfWorkRoute)
PREFIX = "field__"
_FILLED = (FormStatus.COMPLETE, FormStatus.VERIFIED, FormStatus.SIGNED)


def shown_value(field: FieldDefinition, value: Any) -> Any:
    """A stored value as its input shows it."""
    if value is None:
        return [] if field.type == "multi_choice" else ""
    if field.type == "boolean":
        return "yes" if value else "no"
    if field.type == "datetime":
        return str(value)[:16]
    if field.type == "decimal" and isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list):
        return [str(item) for item in value]
    return str(value)


def _same(posted: Any, shown: Any) -> bool:
    if isinstance(posted, list) and isinstance(shown, list):
        return sorted(posted) == sorted(shown)
    return bool(posted == shown)


def form_page(
    request: Request,
    session: Session,
    visitor: Visitor,
    form_id: int,
    *,
    problem: CelltrialError | None = None,
    posted: dict[str, Any] | None = None,
) -> Response:
    """The data-entry page of a form (a failed save shows its problem with the typed values)."""
    user = visitor.user
    form = forms.get_or_raise(session, form_id=form_id, by=user)
    shown = form_out(session, form)
    definition = form_definition(form.form_code)
    subject = subjects.get(session, subject_id=form.subject_id, by=user)
    visit = session.get(Visit, form.visit_id) if form.visit_id else None
    by_field: dict[str | None, list[Any]] = defaultdict(list)
    for query in queries.list_queries(session, by=user, form_id=form.id):
        by_field[query.field].append(queries.read(session, query=query))
    history: dict[str, list[Any]] = defaultdict(list)
    if allowed(user, Action.AUDIT_VIEW):
        for entry in audit.history(session, entity="form", entity_id=str(form.id)):
            if entry.field and entry.field.startswith(f"{definition.code}."):
                history[entry.field.removeprefix(f"{definition.code}.")].append(entry)
    values = (
        posted
        if posted is not None
        else {f.name: shown_value(f, form.data.get(f.name)) for f in definition.fields}
    )
    editable = shown.status is not FormStatus.LOCKED and not form.consent_withdrawn
    return render(
        request,
        "form.html",
        {
            "form": shown,
            "definition": definition,
            "subject": subject_out(subject, by=user),
            "visit": visit,
            "visible": visible_fields(definition, form.data),
            "values": values,
            "queries_by_field": by_field,
            "history": history,
            "verified": set(shown.verified_fields),
            "can_edit": allowed(user, Action.FORM_EDIT) and editable,
            "can_verify": allowed(user, Action.FORM_VERIFY) and shown.status in _FILLED,
            "can_sign": allowed(user, Action.FORM_SIGN) and shown.status in _FILLED,
            "can_raise": allowed(user, Action.QUERY_RAISE),
            "can_answer": allowed(user, Action.QUERY_ANSWER),
            "can_close": allowed(user, Action.QUERY_CLOSE),
            "can_audit": allowed(user, Action.AUDIT_VIEW),
            "problem": problem,
            "done": DONE.get(request.query_params.get("done", "")),
        },
        visitor=visitor,
        status_code=problem.http_status if problem else 200,
    )


@router.get("/forms/{form_id}")
def show_form(request: Request, session: DbSession, visitor: Viewer, form_id: int) -> Response:
    """A form of a subject's casebook."""
    return form_page(request, session, visitor, form_id)


@router.post("/forms/{form_id}")
async def save_form(request: Request, session: DbSession, visitor: Actor, form_id: int) -> Response:
    """Save the form: edit checks run and raise queries shown next to their fields.

    Only the fields whose input differs from what the page showed are sent, so that a value the
    input cannot show exactly (a time zone, seconds) is never rewritten by an unrelated save.
    """
    posted_form = await request.form()
    form = forms.get_or_raise(session, form_id=form_id, by=visitor.user)
    definition = form_definition(form.form_code)
    values: dict[str, Any] = {}
    for field in definition.fields:
        key = PREFIX + field.name
        if field.type == "multi_choice":
            values[field.name] = [str(item) for item in posted_form.getlist(key)]
        elif key in posted_form:
            values[field.name] = str(posted_form[key])
    changed = {
        name: value
        for name, value in values.items()
        if not _same(value, shown_value(definition.field(name), form.data.get(name)))
    }
    version_text = str(posted_form.get("expected_version", ""))
    reason = str(posted_form.get("reason", "")).strip() or None
    complete = posted_form.get("complete") == "yes"

    def act() -> None:
        if not version_text.isdigit():
            raise InvalidInput(
                "the page does not say which version it was loaded at; reload it", field="expected_version"
            )
        forms.save(
            session,
            form_id=form_id,
            values=changed,
            expected_version=int(version_text),
            reason=reason,
            complete=complete,
            by=visitor.user,
        )

    outcome = attempt(session, act)
    if isinstance(outcome, CelltrialError):
        return form_page(request, session, visitor, form_id, problem=outcome, posted=values)
    return back_to(f"/forms/{form_id}", "saved")


@router.post("/forms/{form_id}/verifications")
def verify_field(
    request: Request,
    session: DbSession,
    visitor: Actor,
    form_id: int,
    field: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Tick a field as verified against the source document."""
    outcome = attempt(
        session, lambda: forms.verify_field(session, form_id=form_id, field=field, by=visitor.user)
    )
    if isinstance(outcome, CelltrialError):
        return form_page(request, session, visitor, form_id, problem=outcome)
    return back_to(f"/forms/{form_id}", "verified")


@router.get("/forms/{form_id}/signature")
def signature_dialog(request: Request, session: DbSession, visitor: Viewer, form_id: int) -> Response:
    """The e-signature dialog: the signer's printed name, the meaning, the password again."""
    form = forms.get_or_raise(session, form_id=form_id, by=visitor.user)
    fragment = bool(request.headers.get("hx-request"))
    return render(
        request,
        "_signature_dialog.html" if fragment else "signature.html",
        {"form": form, "definition": form_definition(form.form_code)},
        visitor=visitor,
    )


@router.post("/forms/{form_id}/signatures")
def sign_form(
    request: Request,
    session: DbSession,
    visitor: Actor,
    form_id: int,
    password: Annotated[str, Form(max_length=500)] = "",
    meaning: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Sign the form (the password is checked again)."""
    outcome = attempt(
        session,
        lambda: forms.sign_form(
            session, form_id=form_id, password=password, meaning=meaning, by=visitor.user
        ),
    )
    if isinstance(outcome, CelltrialError):
        return form_page(request, session, visitor, form_id, problem=outcome)
    return back_to(f"/forms/{form_id}", "signed")


@router.post("/forms/{form_id}/queries")
def raise_query(
    request: Request,
    session: DbSession,
    visitor: Actor,
    form_id: int,
    field: Annotated[str, Form(max_length=64)] = "",
    text: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Raise a query on a field of the form."""
    outcome = attempt(
        session,
        lambda: queries.raise_query(
            session, form_id=form_id, field=field or None, text=text, by=visitor.user
        ),
    )
    if isinstance(outcome, CelltrialError):
        return form_page(request, session, visitor, form_id, problem=outcome)
    return back_to(f"/forms/{form_id}", "query")
