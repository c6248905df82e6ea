"""Checks of what people type or scan into the product services; every error names its field."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

from celltrial.clinical.isbt128 import DonationIdentificationNumber, parse_din
from celltrial.errors import InvalidInput
from celltrial.study.types import utcnow

__all__ = ["CLOCK_SKEW", "din", "instant", "lot_number", "positive", "text"]

CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a recorded time may be (clocks of scanners and servers differ a little)."""

_LOT_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,39}")


def text(value: object, field: str, *, limit: int, required: bool = True) -> str | None:
    """Stripped text of at most ``limit`` characters (None when optional and blank)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput("is required", field=field)
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"must be text, got {type(value).__name__}", field=field)
    stripped = value.strip()
    if len(stripped) > limit:
        raise InvalidInput(f"has {len(stripped)} characters; at most {limit} are allowed", field=field)
    return stripped


def instant(value: object, field: str) -> datetime:
    """An aware date-time that is not in the future."""
    if not isinstance(value, datetime):
        raise InvalidInput(f"must be a date and time, got {value!r}", field=field)
    if value.tzinfo is None:
        raise InvalidInput(f"{value.isoformat()} has no time zone", field=field)
    if value > utcnow() + CLOCK_SKEW:
        raise InvalidInput(f"{value.isoformat()} is in the future", field=field)
    return value


def positive(value: object, field: str, unit: str) -> float:
    """A finite number above zero."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidInput(f"must be a positive number of {unit}, got {value!r}", field=field)
    return float(value)


def din(value: object, field: str) -> DonationIdentificationNumber:
    """A DIN as typed (13 or 14 characters) or scanned (``=`` + 13 + flags)."""
    if not isinstance(value, str):
        raise InvalidInput(f"must be text, got {type(value).__name__}", field=field)
    return parse_din(value, field=field)


def lot_number(value: object) -> str:
    """A manufacturing lot number: 1-40 letters, digits, '.', '_', '/', '-'."""
    number = text(value, "lot_number", limit=40)
    assert number is not None
    if not _LOT_NUMBER.fullmatch(number):
        raise InvalidInput(
            f"{number!r} must start with a letter or digit and hold only letters, digits, '.', '_', '/', '-'",
            field="lot_number",
        )
    return number
