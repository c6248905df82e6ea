"""Screening documents for the tests: the shipped example forms moved to recent dates."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any

from celltrial.eligibility.fhir_bundle import facts_to_bundle
from celltrial.eligibility.form import read_form
from celltrial.study.types import utcnow

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _shift(node: Any, by: timedelta) -> Any:
    if isinstance(node, dict):
        return {key: _shift(value, by) for key, value in node.items()}
    if isinstance(node, list):
        return [_shift(value, by) for value in node]
    if isinstance(node, str) and _DATE.match(node):
        if len(node) == 10:
            return (date.fromisoformat(node) + by).isoformat()
        return (datetime.fromisoformat(node) + by).isoformat()
    return node


def example_form(name: str = "eligible", *, screened_days_ago: int = 1) -> dict[str, Any]:
    """The shipped example screening form ``name`` with every date moved so it was screened lately."""
    raw = json.loads((resources.files("celltrial.eligibility") / "examples" / f"{name}.json").read_text())
    screened = date.fromisoformat(raw["screening_date"])
    target = utcnow().date() - timedelta(days=screened_days_ago)
    shifted: dict[str, Any] = _shift(raw, target - screened)
    return shifted


def example_bundle(name: str = "eligible", *, screened_days_ago: int = 1) -> dict[str, Any]:
    """The same patient's facts as a FHIR R4 Bundle."""
    return facts_to_bundle(read_form(example_form(name, screened_days_ago=screened_days_ago)).facts)
