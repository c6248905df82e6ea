"""Server-rendered pages (Jinja2 + htmx): one router per area, mounted here."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from celltrial.web.deps import LoginRequired
from celltrial.web.pages import (
    account,
    admin,
    analyses,
    dashboard,
    forms,
    problem_types,
    product,
    queries,
    registry,
    safety,
    screening,
    subjects,
)

__all__ = ["install_login_redirect", "routers"]

routers = tuple(
    module.router
    for module in (
        account,
        dashboard,
        subjects,
        screening,
        forms,
        queries,
        admin,
        registry,
        problem_types,
        analyses,
        product,
        safety,
    )
)
"""The pages' routers, in the order requests are matched against them (the app includes each
itself, one level of nesting fewer: see :mod:`celltrial.web.api`)."""


def install_login_redirect(app: FastAPI) -> None:
    """Send a browser without a live session to the login page (htmx: via ``HX-Redirect``)."""

    async def to_login(request: Request, error: Exception) -> Response:
        assert isinstance(error, LoginRequired)
        query = {"next": error.next_path}
        if error.expired:
            query["expired"] = "1"
        target = f"/login?{urlencode(query)}"
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    app.add_exception_handler(LoginRequired, to_login)
