"""A signed-in browser (web session) and a bearer token of the REST API.

Neither stores its secret: the cookie value and the bearer token are random strings given
to the user once; the database keeps their SHA-256 (``secret_hash``), so a copy of the
database cannot be used to sign in.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from celltrial.database import Base
from celltrial.study.types import UtcDateTime, utcnow

__all__ = ["ApiToken", "ApiTokenRead", "WebSession"]


class WebSession(Base):
    """A browser signed in as a user; it ends at logout, after idle time, or on a password change."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))

    def __repr__(self) -> str:
        return f"WebSession({self.id}, user {self.user_id})"


class ApiToken(Base):
    """A bearer token of the REST API, valid until ``expires_at`` unless revoked."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    def __repr__(self) -> str:
        return f"ApiToken({self.id}, user {self.user_id}, {self.label!r})"


class ApiTokenRead(BaseModel):
    """A token as its owner sees it later (never the secret)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    label: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
