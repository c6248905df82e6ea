"""The one place where errors become responses: RFC 9457 problem+json for the API, a page for people.

Every :class:`~celltrial.errors.CelltrialError` keeps its status (``http_status``), title and
``field``; request validation errors become 422 naming the field; an unreachable database is
503 (SQLAlchemy's connection errors, or the driver's own); anything unexpected is 500 with a
reference and no stack trace. Requests under ``/api/`` (or asking for JSON) get
``application/problem+json``; browsers get the error page.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from celltrial import errors

__all__ = [
    "PROBLEM",
    "Problem",
    "ProblemField",
    "install",
    "problem_responses",
    "problem_type",
]

PROBLEM = "application/problem+json"
RETRY_AFTER = "5"
"""Seconds a client should wait before retrying when the database is unavailable (503)."""
log = logging.getLogger("celltrial.web")


class ProblemField(BaseModel):
    """One invalid input: where, and what is wrong with it."""

    field: str
    message: str


class Problem(BaseModel):
    """An error as RFC 9457 problem details, with the field at fault."""

    type: str = Field(description="URI reference naming the kind of problem")
    title: str
    status: int
    detail: str
    field: str | None = Field(default=None, description="The input at fault (JSON path, form field, id)")
    errors: list[ProblemField] | None = Field(default=None, description="Every invalid input, for 422")
    instance: str | None = None


_DESCRIPTIONS = {
    401: "Not authenticated: the bearer token is missing, unknown or expired",
    403: "Not allowed for this user's role",
    404: "Not found (or belongs to another site)",
    409: "Conflicts with the current state (stale version, locked data, illegal transition)",
    422: "Invalid input; `field` names it",
    503: "The database cannot be reached",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries declaring problem+json bodies for ``statuses``."""
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, "Problem"),
            "model": Problem,
            "content": {PROBLEM: {}},
        }
        for status in statuses
    }


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def problem_type(kind: str) -> str:
    """The ``type`` URI of a kind of problem (``not-found``, ``stale-version``...)."""
    return f"/problems/{kind}"


HtmlRenderer = Callable[[Request, Problem], Response]


def _wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
        return True
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def _respond(
    request: Request, problem: Problem, html: HtmlRenderer, headers: dict[str, str] | None
) -> Response:
    if _wants_json(request):
        response: Response = JSONResponse(
            problem.model_dump(exclude_none=True), status_code=problem.status, media_type=PROBLEM
        )
    else:
        response = html(request, problem)
    if headers:
        response.headers.update(headers)
    return response


def _field_of(location: Sequence[Any]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_problem(error: RequestValidationError, path: str) -> Problem:
    fields = [
        ProblemField(field=_field_of(item.get("loc", ())), message=str(item.get("msg", "invalid")))
        for item in error.errors()
    ]
    first = fields[0] if fields else ProblemField(field="body", message="invalid request")
    more = f" (and {len(fields) - 1} more)" if len(fields) > 1 else ""
    return Problem(
        type=problem_type("invalid-input"),
        title="Invalid input",
        status=422,
        detail=f"{first.field}: {first.message}{more}",
        field=first.field,
        errors=fields,
        instance=path,
    )


def install(app: FastAPI, *, html: HtmlRenderer) -> None:
    """Register the error handlers on ``app``; ``html`` renders a problem as a page."""

    async def celltrial_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, errors.CelltrialError)
        problem = Problem(
            type=problem_type(_slug(type(error).__name__)),
            title=error.title,
            status=error.http_status,
            detail=error.message,
            field=error.field,
            instance=request.url.path,
        )
        headers = {401: {"WWW-Authenticate": "Bearer"}, 503: {"Retry-After": RETRY_AFTER}}.get(
            error.http_status
        )
        return _respond(request, problem, html, headers)

    async def validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        return _respond(request, _validation_problem(error, request.url.path), html, None)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        title = {404: "Not found", 405: "Method not allowed", 400: "Bad request"}.get(
            error.status_code, "Error"
        )
        detail = error.detail if isinstance(error.detail, str) else title
        if error.status_code == 404 and detail == "Not Found":
            detail = f"nothing at {request.url.path}"
        problem = Problem(
            type=problem_type(_slug(title.title().replace(" ", ""))),
            title=title,
            status=error.status_code,
            detail=detail,
            instance=request.url.path,
        )
        return _respond(request, problem, html, dict(error.headers) if error.headers else None)

    async def database_down(request: Request, error: Exception) -> Response:
        log.warning("database unreachable: %s", error)
        problem = Problem(
            type=problem_type("service-unavailable"),
            title="Service unavailable",
            status=503,
            detail="the database cannot be reached; try again shortly",
            instance=request.url.path,
        )
        return _respond(request, problem, html, {"Retry-After": RETRY_AFTER})

    async def unexpected(request: Request, error: Exception) -> Response:
        reference = uuid.uuid4().hex[:12]
        log.exception("internal error %s on %s %s", reference, request.method, request.url.path)
        problem = Problem(
            type=problem_type("internal-error"),
            title="Internal error",
            status=500,
            detail=f"celltrial failed on this request; the administrator finds it as {reference}",
            instance=request.url.path,
        )
        return _respond(request, problem, html, None)

    app.add_exception_handler(errors.CelltrialError, celltrial_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    driver_errors = (
        sqlite3.OperationalError,
        sqlite3.InterfaceError,
        psycopg.OperationalError,
        psycopg.InterfaceError,
    )
    for database_error in (OperationalError, InterfaceError, PoolTimeout, *driver_errors):
        app.add_exception_handler(database_error, database_down)
    app.add_exception_handler(Exception, unexpected)
