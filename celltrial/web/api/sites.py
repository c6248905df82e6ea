"""Sites: list them, add one (administrator)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from celltrial.study.permissions import visible_site_id
from celltrial.study.sites import service as sites
from celltrial.study.sites.models import SiteRead
from celltrial.web.api.common import AUTHENTICATED, Page, Paging, page_of, paging
from celltrial.web.deps import ApiUser, DbSession
from celltrial.web.problems import problem_responses
from celltrial.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/sites", tags=["sites"])


class SiteCreate(BaseModel):
    """A new site."""

    code: str = Field(min_length=1, max_length=16, examples=["S01"])
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(min_length=1, max_length=100)


@router.get("", response_model=Page[SiteRead], responses=AUTHENTICATED)
def list_sites(
    session: DbSession, user: ApiUser, chosen: Annotated[Paging, Depends(paging)]
) -> Page[SiteRead]:
    """The sites (a site role sees its own only)."""
    own = visible_site_id(user)
    found = [site for site in sites.get_all(session) if own is None or site.id == own]
    return page_of([SiteRead.model_validate(site) for site in found], chosen)


@router.post("", response_model=SiteRead, status_code=201, responses=AUTHENTICATED | problem_responses(409))
def create_site(session: DbSession, user: ApiUser, site: SiteCreate) -> SiteRead:
    """Add a site (administrator)."""
    created = sites.create(session, code=site.code, name=site.name, country=site.country, by=user)
    return SiteRead.model_validate(created)
