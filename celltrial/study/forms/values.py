"""Turning what a user typed into a form field into the value celltrial stores.

A value that cannot be of the field's type (``"abc"`` for an integer, ``"2025-02-30"`` for a
date, a code that is not one of the choices, a text longer than allowed) is refused with an
:class:`~celltrial.errors.InvalidInput` naming ``<form>.<field>``; nothing is saved. Whether a
well-typed value is *plausible* is the edit checks' business (:mod:`.checks`), not this one's.

Stored values are JSON: integers, floats, booleans, strings (dates ``YYYY-MM-DD``, date-times
ISO 8601, UTC when a zone is given), lists of codes, or ``None`` for an empty field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from celltrial.errors import InvalidInput
from celltrial.study.forms.dictionary import FieldDefinition, FormDefinition

__all__ = ["StoredValue", "coerce_value", "coerce_values"]

StoredValue = int | float | bool | str | list[str] | None

_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def coerce_values(definition: FormDefinition, raw: Mapping[str, object]) -> dict[str, StoredValue]:
    """Every value of ``raw`` as stored; an unknown field or an ill-typed value is refused."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("values must be a mapping of field name to value", field="values")
    coerced: dict[str, StoredValue] = {}
    for name, value in raw.items():
        field = definition.field(str(name))
        coerced[field.name] = coerce_value(field, value, where=f"{definition.code}.{field.name}")
    return coerced


def coerce_value(field: FieldDefinition, value: object, *, where: str) -> StoredValue:
    """One value of ``field`` as stored (``None`` or ``""`` empties the field)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, list) and not value and field.type == "multi_choice":
        return None
    match field.type:
        case "integer":
            return _integer(value, where)
        case "decimal":
            return _decimal(value, where)
        case "text":
            return _text(field, value, where)
        case "date":
            return _date(value, where)
        case "datetime":
            return _datetime(value, where)
        case "boolean":
            return _boolean(value, where)
        case "choice":
            return _choice(field, value, where)
        case "multi_choice":
            return _multi_choice(field, value, where)
    raise InvalidInput(f"unsupported field type {field.type}", field=where)  # pragma: no cover


def _integer(value: object, where: str) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"expected a whole number, got {value!r}", field=where)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise InvalidInput(f"expected a whole number, got {value!r}", field=where)


def _decimal(value: object, where: str) -> float:
    if isinstance(value, bool):
        raise InvalidInput(f"expected a number, got {value!r}", field=where)
    number: float | None = None
    if isinstance(value, int | float | Decimal):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(Decimal(value.strip()))
        except InvalidOperation:
            number = None
    if number is None or not math.isfinite(number):
        raise InvalidInput(f"expected a number, got {value!r}", field=where)
    return number


def _text(field: FieldDefinition, value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"expected text, got {value!r}", field=where)
    text = value.strip()
    if field.max_length is not None and len(text) > field.max_length:
        raise InvalidInput(f"text of {len(text)} characters is longer than {field.max_length}", field=where)
    return text


def _date(value: object, where: str) -> str:
    if isinstance(value, datetime):
        raise InvalidInput(f"expected a date without a time, got {value.isoformat()!r}", field=where)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise InvalidInput(f"expected a date YYYY-MM-DD, got {value!r}", field=where)


def _datetime(value: object, where: str) -> str:
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
        if moment is not None and len(value.strip()) <= 10:
            moment = None
    if moment is None:
        raise InvalidInput(f"expected a date and time YYYY-MM-DDTHH:MM, got {value!r}", field=where)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="minutes" if moment.second == 0 else "seconds")


def _boolean(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise InvalidInput(f"expected yes or no, got {value!r}", field=where)


def _choice(field: FieldDefinition, value: object, where: str) -> str:
    codes = field.choice_codes()
    if isinstance(value, str) and value.strip() in codes:
        return value.strip()
    raise InvalidInput(f"{value!r} is not one of the choices ({', '.join(codes)})", field=where)


def _multi_choice(field: FieldDefinition, value: object, where: str) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise InvalidInput(f"expected a list of choices, got {value!r}", field=where)
    chosen: list[str] = []
    for item in items:
        code = _choice(field, item, where)
        if code not in chosen:
            chosen.append(code)
    return chosen
