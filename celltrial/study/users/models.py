"""A study user: who they are, their role, their site, their password and login state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from celltrial.database import Base
from celltrial.errors import InvalidInput
from celltrial.study.types import UtcDateTime, utcnow

__all__ = ["CENTRAL_ROLES", "SITE_ROLES", "Role", "User", "UserRead"]


class Role(StrEnum):
    """What a user does in the trial (ICH E6(R3) roles)."""

    INVESTIGATOR = "investigator"
    """Principal or sub-investigator at a site: screens, judges eligibility, enrols, signs."""
    COORDINATOR = "coordinator"
    """Research coordinator at a site: consents, schedules, enters CRFs."""
    CELL_LAB = "cell_lab"
    """Cell-therapy laboratory / pharmacy at a site: product custody and release."""
    DATA_MANAGER = "data_manager"
    """Central data management: queries, data lock, exports."""
    MONITOR = "monitor"
    """Clinical monitor: source-data verification, queries."""
    SPONSOR = "sponsor"
    """Sponsor or statistician: pseudonymised data, safety and efficacy, exports."""
    DSMB = "dsmb"
    """Data and safety monitoring board member: pseudonymised safety and efficacy review."""
    ADMIN = "admin"
    """System administrator: users and sites, never study data."""

    @classmethod
    def parse(cls, value: str) -> Role:
        """The role named ``value`` (``cell-lab`` and ``cell_lab`` both work)."""
        key = value.strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls(key)
        except ValueError:
            known = ", ".join(role.value for role in cls)
            raise InvalidInput(f"unknown role {value!r} (known: {known})", field="role") from None


SITE_ROLES = frozenset({Role.INVESTIGATOR, Role.COORDINATOR, Role.CELL_LAB})
"""Roles that belong to one site and see only that site's subjects."""

CENTRAL_ROLES = frozenset(Role) - SITE_ROLES
"""Roles that work across sites (they have no site)."""


class User(Base):
    """A person who signs in to celltrial. Site roles have a site; central roles have none."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=32, values_callable=lambda roles: [r.value for r in roles])
    )
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    @property
    def active(self) -> bool:
        """Whether the user may sign in and act (neither disabled nor locked)."""
        return not (self.disabled or self.locked)

    def __repr__(self) -> str:
        return f"User({self.username!r}, {self.role!s})"


class UserRead(BaseModel):
    """A user as the API and the CLI show it (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    role: Role
    site_id: int | None
    locked: bool
    disabled: bool
    failed_logins: int
    last_login_at: datetime | None
