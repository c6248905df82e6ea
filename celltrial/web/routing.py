"""Routes that do their whole database work in one call: sign-in check, route, commit.

A synchronous route runs in a worker thread; FastAPI then serialises its answer in another
worker thread and closes the dependencies after that. A route that took the study write lock
would hold it across those hand-overs, and with every worker thread busy waiting for that very
lock, nobody could finish. :class:`UnitOfWorkRoute` commits the request's session as the last
step of the route's own call, so the lock and the connection are released before anything else
needs a thread; the dependency's exit then finds nothing left to commit.

A dependency that needs the database (the bearer-token check) answers an :class:`InRouteCall`,
which the route's call works out first, in the same worker thread and on the same connection.
A synchronous dependency would run in a worker thread of its own and hold a connection while
the request waits for the next thread, so that, with every thread waiting for a connection and
every connection waiting for a thread, nobody could finish either; releasing the connection in
between costs a second checkout (a ping) and a second transaction. One thread hand-over, one
checkout and one transaction per request is what keeps a request short under load.

The app matches a request against its included routers in turn, and FastAPI asks each router
about every one of its routes; :func:`filter_by_path` lets an included router of API routes
answer "no match" with one regular expression over all their paths instead.
"""

from __future__ import annotations

import functools
import inspect
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute, APIRouter, _EffectiveRouteContext, _IncludedRouter
from sqlalchemy.orm import Session
from starlette._utils import get_route_path
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match
from starlette.types import Scope

__all__ = ["InRouteCall", "UnitOfWorkRoute", "filter_by_path"]


class InRouteCall(ABC):
    """A dependency's answer that the route's own call works out, on the request's ``session``."""

    session: Session

    @abstractmethod
    def resolve(self) -> Any:
        """The value the route is given in place of this one."""


def _sessions(arguments: dict[str, Any]) -> list[Session]:
    found: list[Session] = []
    for value in arguments.values():
        session = value.session if isinstance(value, InRouteCall) else value
        if isinstance(session, Session) and all(session is not other for other in found):
            found.append(session)
    return found


def _resolved(arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value.resolve() if isinstance(value, InRouteCall) else value
        for name, value in arguments.items()
    }


def committing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint``, given its :class:`InRouteCall` arguments worked out, and committing the
    request's session when it returns."""
    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            sessions = _sessions(kwargs)
            if any(isinstance(value, InRouteCall) for value in kwargs.values()):
                kwargs = await run_in_threadpool(_resolved, kwargs)
            result = await endpoint(*args, **kwargs)
            for session in sessions:
                session.commit()
            return result

        return run_async

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        sessions = _sessions(kwargs)
        result = endpoint(*args, **_resolved(kwargs))
        for session in sessions:
            session.commit()
        return result

    return run


class UnitOfWorkRoute(APIRoute):
    """An API or page route whose session is committed inside the route's own call."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, committing(endpoint), **kwargs)


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


class _PathFilteredRouter(_IncludedRouter):
    """An included router that refuses a request whose path none of its API routes has, in one
    regular expression, before FastAPI matches the request against each route."""

    _known: tuple[int, re.Pattern[str] | None] | None = None

    def _paths(self) -> re.Pattern[str] | None:
        """Every route's path in one expression (None when a route is not an API route), worked
        out again when the router's routes change (as FastAPI tells its own list of them apart)."""
        version: int = self.original_router._routes_version
        if self._known is None or self._known[0] != version:
            candidates = self.effective_candidates()
            contexts = [
                candidate
                for candidate in candidates
                if isinstance(candidate, _EffectiveRouteContext)
                and isinstance(candidate.original_route, APIRoute)
                and candidate.path_regex is not None
            ]
            paths = None
            if len(contexts) == len(candidates):
                paths = re.compile(
                    "|".join(
                        f"(?:{_NAMED_GROUP.sub('(?:', context.path_regex.pattern)})" for context in contexts
                    )
                )
            self._known = (version, paths)
        return self._known[1]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            paths = self._paths()
            if paths is not None and paths.match(get_route_path(scope)) is None:
                return Match.NONE, {}
        return super().matches(scope)


def filter_by_path(router: APIRouter) -> None:
    """Let each router included in ``router`` refuse at once a path none of its routes has."""
    router.routes[:] = [
        _PathFilteredRouter(original_router=route.original_router, include_context=route.include_context)
        if type(route) is _IncludedRouter
        else route
        for route in router.routes
    ]
