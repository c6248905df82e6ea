"""The REST API under ``/api/v1``: one router per domain, mounted here."""

from __future__ import annotations

from fastapi import APIRouter

from celltrial.web.api import (
    audit,
    auth,
    eligibility,
    exports,
    forms,
    health,
    locks,
    product,
    queries,
    registry,
    safety,
    screenings,
    sites,
    study,
    subjects,
    users,
    visits,
)

__all__ = ["api_router"]

api_router = APIRouter()
for module in (
    health,
    auth,
    study,
    sites,
    users,
    eligibility,
    subjects,
    screenings,
    visits,
    forms,
    queries,
    registry,
    audit,
    locks,
    exports,
    product,
    safety,
):
    api_router.include_router(module.router)
