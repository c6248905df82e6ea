"""A trial site: code (``S01``), name and country."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from celltrial.database import Base

__all__ = ["Site", "SiteRead"]


class Site(Base):
    """A hospital taking part in the trial; its code prefixes its subjects' numbers."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(100))

    def __repr__(self) -> str:
        return f"Site({self.code!r}, {self.name!r})"


class SiteRead(BaseModel):
    """A site as the API and the CLI show it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    country: str
