"""What the page routes share: messages after an action, re-rendering a page with the problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from celltrial.errors import CelltrialError

__all__ = ["DONE", "attempt", "back_to"]

T = TypeVar("T")

DONE: dict[str, str] = {
    "registered": "The patient is registered for screening.",
    "consented": "The consent is recorded.",
    "withdrawn": "The withdrawal of consent is recorded; nothing new will be collected.",
    "screened": "The screening is recorded.",
    "judged": "The judgment is recorded.",
    "enrolled": "The subject is enrolled.",
    "status": "The subject's status is changed.",
    "saved": "The form is saved.",
    "verified": "The field is ticked as verified against source.",
    "signed": "The form is signed.",
    "query": "The query is recorded.",
    "visit": "The visit date is recorded.",
    "form": "The form is added.",
    "user": "The user is added.",
    "disabled": "The account is disabled.",
    "role": "The role is changed; it applies from the user's next request.",
    "password": "The password is reset; any lockout is lifted.",
    "locked": "The data are locked.",
    "unlocked": "The data are unlocked.",
}
"""What the page says after a successful action (``?done=<key>``)."""


def back_to(path: str, done: str) -> RedirectResponse:
    """Go back to ``path`` saying that ``done`` happened (post/redirect/get)."""
    separator = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{separator}done={done}", status_code=303)


def attempt(session: Session, action: Callable[[], T]) -> T | CelltrialError:
    """Run ``action``; on a celltrial error undo what it wrote and hand the error back to show it."""
    try:
        return action()
    except CelltrialError as error:
        session.rollback()
        return error
