"""The screening form as an HTML form: one row per fact of the eligibility fact catalogue.

:func:`fields` lists what to show (from the catalogue, with the site's ULN for the facts that
have one); :func:`document` turns the posted values into the screening-form JSON that
:func:`celltrial.eligibility.read_form` reads. An empty row is simply not given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from celltrial.eligibility.facts import fact_catalogue
from celltrial.errors import InvalidInput
from celltrial.protocol.settings import ProtocolSettings

__all__ = ["FactField", "document", "fields"]


@dataclass(frozen=True)
class FactField:
    """A fact to ask for: its name, label, type, canonical unit, allowed values, the site's ULN."""

    name: str
    label: str
    type: str
    unit: str | None
    values: tuple[str, ...]
    uln: float | None
    uln_unit: str | None


def fields(settings: ProtocolSettings) -> list[FactField]:
    """Every fact of the catalogue, in its order."""
    ranges = settings.reference_ranges
    return [
        FactField(
            name=name,
            label=definition.text,
            type=definition.type,
            unit=definition.unit,
            values=definition.values,
            uln=ranges[name].uln if name in ranges else None,
            uln_unit=ranges[name].unit if name in ranges else None,
        )
        for name, definition in fact_catalogue().facts.items()
    ]


def _number(raw: str, where: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(f"{raw!r} is not a number", field=where) from None


def _day(raw: str, where: str) -> str:
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        raise InvalidInput(f"{raw!r} is not a date (YYYY-MM-DD)", field=where) from None


def _entry(field: FactField, get: Any) -> dict[str, Any] | None:
    name = field.name
    if field.type == "condition":
        present = get("present")
        if not present:
            return None
        entry: dict[str, Any] = {"present": present == "yes"}
        if onset := get("onset"):
            entry["onset"] = _day(onset, f"{name}.onset")
        return entry
    value = get("value")
    if not value:
        return None
    entry = {}
    if field.type == "quantity":
        entry = {"value": _number(value, f"{name}.value"), "unit": get("unit") or field.unit}
        if uln := get("uln"):
            entry |= {"uln": _number(uln, f"{name}.uln"), "uln_unit": field.uln_unit or entry["unit"]}
    elif field.type == "count":
        number = _number(value, f"{name}.value")
        if not number.is_integer():
            raise InvalidInput(f"{value!r} is not a whole number", field=f"{name}.value")
        entry = {"value": int(number)}
    elif field.type == "boolean":
        entry = {"value": value == "yes"}
    else:
        entry = {"value": value}
    when = get("date")
    if when:
        entry["date"] = _day(when, f"{name}.date")
    elif field.type == "quantity":
        raise InvalidInput(f"{field.label}: give the date of the measurement", field=f"{name}.date")
    return entry


def document(
    posted: Mapping[str, str], *, settings: ProtocolSettings, patient: dict[str, Any], screening_date: date
) -> dict[str, Any]:
    """The screening-form JSON of the posted rows (``<fact>__value``, ``__unit``, ``__date``...)."""
    facts: dict[str, Any] = {}
    for field in fields(settings):

        def get(part: str, name: str = field.name) -> str:
            return str(posted.get(f"{name}__{part}", "")).strip()

        entry = _entry(field, get)
        if entry is not None:
            facts[field.name] = entry
    return {
        "form": "celltrial-screening-form",
        "version": 1,
        "patient": patient,
        "screening_date": screening_date.isoformat(),
        "facts": facts,
    }
