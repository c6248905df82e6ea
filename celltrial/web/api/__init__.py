"""The REST API under ``/api/v1``: one router per domain, mounted here."""

from __future__ import annotations

from fastapi import APIRouter

from celltrial.web.api import auth, health, sites, study, users

__all__ = ["api_router"]

api_router = APIRouter()
for module in (health, auth, study, sites, users):
    api_router.include_router(module.router)
