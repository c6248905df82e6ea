"""``/docs``: the API documentation (Swagger UI), served entirely from this server.

Swagger UI's script and style sheet are vendored in ``static/`` (see ``static/VENDORED.txt``)
and started by ``static/swagger-docs.js``, so the page has no inline script and loads nothing
from another origin; its Content-Security-Policy allows this server only, as the other pages'
does (plus ``data:`` images, which Swagger UI draws its icons with). Checked in Chromium: the
page, "Try it out" and the schemas run under it without a violation.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

__all__ = ["DOCS_POLICY", "router"]

DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)
"""The page's Content-Security-Policy: same origin only, no inline script or style."""

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI on ``/openapi.json``, with its files from ``/static``."""
    root = request.scope.get("root_path", "")
    openapi = root + (request.app.openapi_url or "/openapi.json")
    static = f"{root}/static"
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(request.app.title)} API</title>
<link rel="stylesheet" href="{static}/swagger-ui.css">
<link rel="icon" href="data:,">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi)}"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script src="{static}/swagger-docs.js"></script>
</body>
</html>
"""
    return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_POLICY})
