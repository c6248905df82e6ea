"""How the web app runs: idle timeout, token lifetime, cookies, the study it serves."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from celltrial.errors import InvalidInput

__all__ = ["DEFAULT_NCT_ID", "WebSettings"]

DEFAULT_NCT_ID = "NCT07008872"
"""The trial whose registry page the portal shows when the database runs no study yet."""


def _minutes(variable: str, default: float) -> float:
    raw = os.environ.get(variable)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise InvalidInput(f"{variable}={raw!r} must be a positive number", field=variable)
    return value


@dataclass(frozen=True)
class WebSettings:
    """Settings of one app instance; :meth:`from_environment` reads ``CELLTRIAL_*`` variables."""

    idle_timeout: timedelta = timedelta(minutes=15)
    """A web session ends after this long without a request (``CELLTRIAL_IDLE_TIMEOUT_MINUTES``)."""
    token_lifetime: timedelta = timedelta(hours=8)
    """A bearer token expires after this long (``CELLTRIAL_TOKEN_LIFETIME_HOURS``)."""
    secure_cookies: bool | None = None
    """Mark cookies Secure: always (True), never (False), or when the request came over HTTPS (None)."""
    nct_id: str | None = None
    """The study served; None means the only study registered in the database."""

    @classmethod
    def from_environment(cls) -> WebSettings:
        """Defaults overridden by ``CELLTRIAL_IDLE_TIMEOUT_MINUTES``, ``..._TOKEN_LIFETIME_HOURS``,
        ``CELLTRIAL_SECURE_COOKIES`` (``always``/``never``/``auto``) and ``CELLTRIAL_STUDY``."""
        secure = os.environ.get("CELLTRIAL_SECURE_COOKIES", "auto").strip().lower()
        if secure not in {"always", "never", "auto"}:
            raise InvalidInput(
                f"CELLTRIAL_SECURE_COOKIES={secure!r} must be always, never or auto",
                field="CELLTRIAL_SECURE_COOKIES",
            )
        return cls(
            idle_timeout=timedelta(minutes=_minutes("CELLTRIAL_IDLE_TIMEOUT_MINUTES", 15)),
            token_lifetime=timedelta(hours=_minutes("CELLTRIAL_TOKEN_LIFETIME_HOURS", 8)),
            secure_cookies={"always": True, "never": False}.get(secure),
            nct_id=os.environ.get("CELLTRIAL_STUDY") or None,
        )
