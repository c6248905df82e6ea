"""The REST API under ``/api/v1``: one router per domain, in matching order.

The app includes each of :data:`routers` itself (see :func:`celltrial.web.app.create_app`):
FastAPI matches a request against every route of a nested router again at each level, so one
level fewer halves the matching.
"""

from __future__ import annotations

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

__all__ = ["routers"]

routers = tuple(
    module.router
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
    )
)
"""The API's routers, in the order requests are matched against them."""
