"""Sites: create, list, find. Every change is audited."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.errors import Conflict, InvalidInput, NotFound
from celltrial.study.audit import service as audit
from celltrial.study.permissions import Action, require
from celltrial.study.sites.models import Site
from celltrial.study.users.models import User

__all__ = ["create", "get", "get_all", "get_by_code", "get_by_code_or_raise", "get_or_raise"]

_CODE = re.compile(r"[A-Z][A-Z0-9]{1,15}")


def _text(value: str, field: str, limit: int) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise InvalidInput(f"the site {field} is empty", field=field)
    if len(cleaned) > limit:
        raise InvalidInput(f"the site {field} is longer than {limit} characters", field=field)
    return cleaned


def create(session: Session, *, code: str, name: str, country: str, by: User) -> Site:
    """Add a site; ``code`` (e.g. ``S01``) is upper-case letters and digits, unique."""
    require(by, Action.SITE_MANAGE)
    code = code.strip().upper()
    if not _CODE.fullmatch(code):
        raise InvalidInput(
            f"the site code {code!r} must be 2-16 letters and digits starting with a letter (e.g. S01)",
            field="code",
        )
    if get_by_code(session, code=code) is not None:
        raise Conflict(f"a site with code {code} already exists", field="code")
    site = Site(code=code, name=_text(name, "name", 200), country=_text(country, "country", 100))
    session.add(site)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="site",
        entity_id=site.id,
        new={"code": site.code, "name": site.name, "country": site.country},
        site_id=site.id,
    )
    return site


def get(session: Session, *, site_id: int) -> Site | None:
    """The site with this id, or None."""
    return session.get(Site, site_id)


def get_or_raise(session: Session, *, site_id: int) -> Site:
    """The site with this id; NotFound otherwise."""
    site = get(session, site_id=site_id)
    if site is None:
        raise NotFound(f"no site with id {site_id}", field="site")
    return site


def get_by_code(session: Session, *, code: str) -> Site | None:
    """The site with this code (case-insensitive), or None."""
    return session.scalar(select(Site).where(Site.code == code.strip().upper()))


def get_by_code_or_raise(session: Session, *, code: str) -> Site:
    """The site with this code; NotFound otherwise."""
    site = get_by_code(session, code=code)
    if site is None:
        raise NotFound(f"no site with code {code!r}", field="site")
    return site


def get_all(session: Session) -> list[Site]:
    """Every site, by code."""
    return list(session.scalars(select(Site).order_by(Site.code)))
