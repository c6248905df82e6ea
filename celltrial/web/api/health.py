"""``GET /api/v1/health``: whether the app can reach its database and the schema is current."""

from __future__ import annotations

import time
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from celltrial import __version__
from celltrial.database import pending_migrations
from celltrial.errors import ServiceUnavailable
from celltrial.web.problems import problem_responses
from celltrial.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["health"])
MIGRATIONS_CHECKED_EVERY = 30.0
"""Seconds between two checks of the migrations (a probe may call health every second)."""


def _behind(request: Request, engine: Engine) -> bool:
    checked: tuple[float, bool] | None = getattr(request.app.state, "migrations_checked", None)
    now = time.monotonic()
    if checked is None or now - checked[0] > MIGRATIONS_CHECKED_EVERY:
        checked = (now, bool(pending_migrations(engine)))
        request.app.state.migrations_checked = checked
    return checked[1]


class Health(BaseModel):
    """The app is up and its database answers."""

    status: Literal["ok"]
    database: Literal["ok"]
    dialect: str
    migrations: Literal["current", "behind"]
    version: str


@router.get("/health", response_model=Health, responses=problem_responses(503))
def health(request: Request) -> Health:
    """Report the database connection (503 when it cannot be reached) and whether migrations are current."""
    engine: Engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        behind = _behind(request, engine)
    except SQLAlchemyError as error:
        raise ServiceUnavailable(f"the database cannot be reached: {type(error).__name__}") from None
    return Health(
        status="ok",
        database="ok",
        dialect=engine.dialect.name,
        migrations="behind" if behind else "current",
        version=__version__,
    )
