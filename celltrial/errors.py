"""Every error celltrial raises on purpose.

One tree, so that the CLI and the API can each map it in one place::

    CelltrialError                 base; .message, .field (where), .exit_code, .http_status
     ├── InvalidInput              bad input: a file, a form field, a JSON path, a CLI option (400/422)
     │    └── UnsupportedUnit      a unit celltrial cannot convert (eligibility, grading)
     ├── NotFound                  a protocol, subject, form... that does not exist (404)
     ├── NotAllowed                the user's role or site does not permit the action (403)
     │    └── NotAuthenticated     the request carries no valid credentials (401)
     ├── Conflict                  the action clashes with the current state (409):
     │    ├── IllegalTransition    a state machine refused a transition (study status, subject, custody)
     │    ├── StaleVersion         somebody saved the record first (optimistic locking)
     │    └── Locked               the data are locked
     └── ServiceUnavailable        the database or another service cannot be reached (503)

Every error says what was wrong and where: ``field`` names the JSON path, form field, CSV
row/column or resource id; ``message`` is a sentence a coordinator can read.
"""

from __future__ import annotations

__all__ = [
    "CelltrialError",
    "Conflict",
    "IllegalTransition",
    "InvalidInput",
    "Locked",
    "NotAllowed",
    "NotAuthenticated",
    "NotFound",
    "ServiceUnavailable",
    "StaleVersion",
    "UnsupportedUnit",
]


class CelltrialError(Exception):
    """Base of every error celltrial raises on purpose."""

    exit_code = 2
    http_status = 400
    title = "Invalid request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidInput(CelltrialError):
    """The input (file, form, option, JSON path) is malformed or out of range."""

    http_status = 422
    title = "Invalid input"


class UnsupportedUnit(InvalidInput):
    """A unit that celltrial cannot convert to the one a rule or grade needs."""

    title = "Unsupported unit"


class NotFound(CelltrialError):
    """The thing asked for does not exist (or is not visible to the user)."""

    http_status = 404
    title = "Not found"


class NotAllowed(CelltrialError):
    """The user's role or site does not permit this action."""

    http_status = 403
    title = "Not allowed"


class NotAuthenticated(NotAllowed):
    """The request carries no valid credentials (401)."""

    http_status = 401
    title = "Not authenticated"


class Conflict(CelltrialError):
    """The action clashes with the current state of the data."""

    http_status = 409
    title = "Conflict"


class IllegalTransition(Conflict):
    """A state machine (study status, subject status, custody) refused a transition."""

    title = "Illegal transition"


class StaleVersion(Conflict):
    """The record changed since the caller read it; nothing was overwritten."""

    title = "Stale version"


class Locked(Conflict):
    """The data are locked and cannot change."""

    title = "Locked"


class ServiceUnavailable(CelltrialError):
    """The database or another service cannot be reached right now."""

    exit_code = 3
    http_status = 503
    title = "Service unavailable"
