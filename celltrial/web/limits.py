"""Refuse requests too big or too deeply nested before any route reads them (OWASP API4:2023).

A request body larger than ``max_body_bytes`` (10 MB, or ``CELLTRIAL_MAX_REQUEST_BYTES``) is
answered 413 without passing it on, whether its ``Content-Length`` says so or it streams more
than it announced. A JSON body nested deeper than ``max_json_depth`` (64) arrays/objects is
answered 400: recursive parsers and validators would otherwise spend their stack on it. Bodies
are read here in full (bounded by the limit) and handed on unchanged.

API requests get RFC 9457 problem+json; a browser gets the error page.
"""

from __future__ import annotations

import os

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from celltrial.errors import InvalidInput
from celltrial.jsoninput import MAX_JSON_DEPTH, json_depth_exceeds
from celltrial.web.problems import PROBLEM, Problem, problem_type
from celltrial.web.templating import render_problem

__all__ = ["MAX_BODY_BYTES", "MAX_JSON_DEPTH", "RequestLimits", "json_depth_exceeds"]

MAX_BODY_BYTES = 10_000_000
"""The largest request body accepted (a 5 MB FHIR Bundle upload fits with room to spare)."""

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _configured_limit() -> int:
    raw = os.environ.get("CELLTRIAL_MAX_REQUEST_BYTES")
    if raw is None:
        return MAX_BODY_BYTES
    if not raw.strip().isdigit() or int(raw) < 1:
        raise InvalidInput(
            f"CELLTRIAL_MAX_REQUEST_BYTES={raw!r} must be a whole number of bytes",
            field="CELLTRIAL_MAX_REQUEST_BYTES",
        )
    return int(raw)


def _is_json(headers: Headers) -> bool:
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class _TooLarge(Exception):
    pass


class RequestLimits:
    """ASGI middleware: 413 for a body over ``max_body_bytes``, 400 for JSON nested too deep."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int | None = None, max_json_depth: int = MAX_JSON_DEPTH
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes or _configured_limit()
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method", "GET") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        announced = headers.get("content-length", "")
        if announced.isdigit() and int(announced) > self.max_body_bytes:
            await self._refuse(scope, receive, send, self._too_large(scope))
            return
        try:
            body, pending = await self._read(receive)
        except _TooLarge:
            await self._refuse(scope, receive, send, self._too_large(scope))
            return
        if _is_json(headers) and json_depth_exceeds(body, self.max_json_depth):
            await self._refuse(scope, receive, send, self._too_deep(scope))
            return
        await self.app(scope, _replay(body, pending, receive), send)

    async def _read(self, receive: Receive) -> tuple[bytes, Message | None]:
        """The whole body, and the message that ended it early (a disconnect), if any."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), message
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None

    def _too_large(self, scope: Scope) -> Problem:
        return Problem(
            type=problem_type("content-too-large"),
            title="Content too large",
            status=413,
            detail=f"the request body is larger than {self.max_body_bytes:,} bytes",
            field="body",
            instance=scope.get("path"),
        )

    def _too_deep(self, scope: Scope) -> Problem:
        return Problem(
            type=problem_type("json-too-deep"),
            title="JSON nested too deeply",
            status=400,
            detail=f"the JSON body nests arrays or objects more than {self.max_json_depth} levels deep",
            field="body",
            instance=scope.get("path"),
        )

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, problem: Problem) -> None:
        request = Request(scope, receive)
        path = scope.get("path", "")
        accept = request.headers.get("accept", "")
        wants_json = path.startswith("/api/") or ("json" in accept and "text/html" not in accept)
        response: Response
        if wants_json:
            response = JSONResponse(
                problem.model_dump(exclude_none=True), status_code=problem.status, media_type=PROBLEM
            )
        else:
            response = render_problem(request, problem)
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _replay(body: bytes, pending: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that hands on the body read already, then what came after it."""
    queue: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    if pending is not None:
        queue.append(pending)

    async def replay() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replay
