"""The app factory: REST API under ``/api/v1``, server-rendered pages, static files, error mapping.

``create_app(database_url)`` builds one app bound to one database engine; ``celltrial serve``
and the tests call it, uvicorn serves it. The OpenAPI 3.1 description is at ``/openapi.json``
and its documentation at ``/docs`` (Swagger UI served from ``/static``, see :mod:`.docs`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from celltrial import __version__
from celltrial.database import make_engine, session_factory
from celltrial.web import api, docs, pages, problems
from celltrial.web.headers import SecurityHeaders
from celltrial.web.limits import RequestLimits
from celltrial.web.pages import install_login_redirect
from celltrial.web.routing import filter_by_path
from celltrial.web.settings import WebSettings
from celltrial.web.templating import render_problem

__all__ = ["create_app", "worker_threads"]

DESCRIPTION = """\
celltrial runs a CAR-T cell-therapy trial: screening, consent, enrolment, visits, CRFs with edit
checks, queries, audit trail and electronic signatures.

Authenticate with `POST /api/v1/auth/token` (form fields `username`, `password`) and send the
token as `Authorization: Bearer <token>`. Errors are RFC 9457 problem details
(`application/problem+json`) whose `field` names the input at fault.
"""


def worker_threads(engine: Engine) -> int | None:
    """How many worker threads run routes at once: as many as the pool has connections.

    A request then never waits in a thread for a connection (nor fails when the pool's timeout
    runs out under load): it waits on the event loop for a thread, holding nothing, and fewer
    threads contend for the interpreter. None when the pool sets no limit (SQLite in memory).
    """
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return None
    overflow = int(getattr(pool, "_max_overflow", 0))
    return None if overflow < 0 else pool.size() + overflow


def create_app(
    database_url: str | None = None,
    settings: WebSettings | None = None,
    *,
    engine: Engine | None = None,
) -> FastAPI:
    """An app serving the database at ``database_url`` (or ``engine``), with ``settings``."""
    settings = settings or WebSettings.from_environment()
    engine = engine or make_engine(database_url)
    bound_engine = engine

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        threads = worker_threads(bound_engine)
        if threads is not None:
            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield
        bound_engine.dispose()

    app = FastAPI(
        title="celltrial",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.settings = settings
    problems.install(app, html=render_problem)
    install_login_redirect(app)
    app.add_middleware(RequestLimits)
    app.add_middleware(SecurityHeaders)
    for router in api.routers:
        app.include_router(router, prefix="/api/v1")
    for router in pages.routers:
        app.include_router(router, include_in_schema=False)
    app.include_router(docs.router)
    app.mount(
        "/static", StaticFiles(directory=str(resources.files("celltrial.web") / "static")), name="static"
    )
    filter_by_path(app.router)
    return app
