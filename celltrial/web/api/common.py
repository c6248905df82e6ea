"""What many API routes share: pagination and the problem responses they declare."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel

from celltrial.web.problems import problem_responses

__all__ = ["AUTHENTICATED", "MAX_ID", "Id", "Page", "Paging", "page_of", "paging"]

T = TypeVar("T")

AUTHENTICATED = problem_responses(401, 403, 422, 503)
"""Problems any authenticated route can answer with."""


MAX_ID = 2_147_483_647
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="A record id")]
"""A record id in a path."""


class Paging(BaseModel):
    """Which slice of a list: ``limit`` items after skipping ``offset``."""

    limit: int = 50
    offset: int = 0


def paging(
    limit: Annotated[int, Query(ge=1, le=500, description="How many items (1-500)")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="How many items to skip")] = 0,
) -> Paging:
    """The ``limit`` and ``offset`` query parameters."""
    return Paging(limit=limit, offset=offset)


class Page(BaseModel, Generic[T]):
    """One page of a list, with the total count of items matching."""

    items: list[T]
    total: int
    limit: int
    offset: int


def page_of(items: Sequence[T], paging: Paging) -> Page[T]:
    """The slice of ``items`` that ``paging`` asks for."""
    chosen = list(items[paging.offset : paging.offset + paging.limit])
    return Page[T](items=chosen, total=len(items), limit=paging.limit, offset=paging.offset)
