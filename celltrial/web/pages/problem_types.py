"""The pages behind the ``type`` of every problem the API answers with (``/problems/<kind>``)."""

from __future__ import annotations

import inspect
import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from celltrial import errors
from celltrial.errors import NotFound
from celltrial.web.routing import UnitOfWorkRoute
from celltrial.web.templating import render

router = APIRouter(route_class=UnitOfWorkRoute)

_EXTRA = {
    "invalid-input": (
        "Invalid input",
        422,
        "The request does not fit the API's schema; `field` names the input at fault.",
    ),
    "not-found": ("Not found", 404, "Nothing at this address, or a record of another site."),
    "method-not-allowed": ("Method not allowed", 405, "The address exists but not with this method."),
    "bad-request": ("Bad request", 400, "The request could not be read."),
    "internal-error": (
        "Internal error",
        500,
        "celltrial failed; the reference in the detail finds it in the server's log.",
    ),
}


def _kinds() -> dict[str, tuple[str, int, str]]:
    found = dict(_EXTRA)
    for _, kind in inspect.getmembers(errors, inspect.isclass):
        if not issubclass(kind, errors.CelltrialError):
            continue
        slug = re.sub(r"(?<!^)(?=[A-Z])", "-", kind.__name__).lower()
        found[slug] = (kind.title, kind.http_status, inspect.getdoc(kind) or "")
    return found


KINDS = _kinds()


@router.get("/problems/{kind}")
def problem_type(request: Request, kind: str) -> Response:
    """What a kind of problem means."""
    if kind not in KINDS:
        raise NotFound(f"no problem type {kind!r}", field="kind")
    title, status, meaning = KINDS[kind]
    return render(
        request, "problem_type.html", {"kind": kind, "title": title, "status": status, "meaning": meaning}
    )
