"""Where a subject belongs: its site, looked up without importing the subjects domain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.database import Base
from celltrial.errors import NotFound

__all__ = ["subject_site"]


def subject_site(session: Session, subject_id: int) -> int | None:
    """The site id of subject ``subject_id``; NotFound when there is no such subject.

    None when this database has no subjects table (the study core used on its own).
    """
    table = Base.metadata.tables.get("subject")
    if table is None:
        return None
    site = session.execute(select(table.c.site_id).where(table.c.id == subject_id)).first()
    if site is None:
        raise NotFound(f"no subject with id {subject_id}", field="subject")
    return int(site[0])
