"""From what a user sends (a screening form or a FHIR Bundle, as parsed JSON) to an eligibility result.

The web layer only tells the two kinds apart and picks the screening date; reading the facts
and evaluating the criteria are :mod:`celltrial.eligibility`'s.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from celltrial.eligibility import EligibilityResult, evaluate, load_rules, read_bundle
from celltrial.eligibility.form import ScreeningInput, is_screening_form, read_form
from celltrial.errors import InvalidInput
from celltrial.protocol.library import load_settings

__all__ = ["evaluate_document", "screening_input"]


def screening_input(document: Any) -> ScreeningInput:
    """The facts and judgments of a screening form or a FHIR R4 Bundle."""
    if isinstance(document, dict) and "resourceType" in document:
        return ScreeningInput(read_bundle(document))
    if is_screening_form(document):
        return read_form(document)
    raise InvalidInput(
        "neither a FHIR Bundle (resourceType 'Bundle') nor a screening form ('patient' and 'facts')",
        field="body",
    )


def evaluate_document(document: Any, *, nct_id: str, on: date | None, today: date) -> EligibilityResult:
    """Evaluate every criterion of ``nct_id`` on ``on`` (else the form's screening date, else ``today``)."""
    given = screening_input(document)
    screening_date = on or given.screening_date or today
    if screening_date > today:
        raise InvalidInput(f"the screening date {screening_date} is in the future", field="screening_date")
    return evaluate(given.facts, load_rules(nct_id), load_settings(nct_id), screening_date, given.judgments)
