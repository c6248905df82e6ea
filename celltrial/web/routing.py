"""Routes that commit their unit of work before their answer is serialised.

A synchronous route runs in a worker thread; FastAPI then serialises its answer in another
worker thread and closes the dependencies after that. A route that took the study write lock
would hold it across those hand-overs, and with every worker thread busy waiting for that very
lock, nobody could finish. :class:`UnitOfWorkRoute` commits the request's session as the last
step of the route's own call, so the lock and the connection are released before anything else
needs a thread; the dependency's exit then finds nothing left to commit.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

__all__ = ["UnitOfWorkRoute"]


def _commit(arguments: dict[str, Any]) -> None:
    for value in arguments.values():
        if isinstance(value, Session):
            value.commit()


def committing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint``, committing the session among its arguments when it returns."""
    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            result = await endpoint(*args, **kwargs)
            _commit(kwargs)
            return result

        return run_async

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        _commit(kwargs)
        return result

    return run


class UnitOfWorkRoute(APIRoute):
    """An API or page route whose session is committed inside the route's own call."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, committing(endpoint), **kwargs)
