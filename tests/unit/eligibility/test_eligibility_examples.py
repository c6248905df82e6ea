"""The shipped sample screening forms: one eligible patient, one ineligible."""

from __future__ import annotations

import json

import pytest

from celltrial.eligibility import evaluate, load_rules, read_form
from celltrial.eligibility.examples import example_path
from celltrial.protocol.library import load_settings


def screen(name: str) -> tuple[str, dict[str, str]]:
    screening = read_form(json.loads(example_path(name).read_text(encoding="utf-8")))
    assert screening.screening_date is not None
    result = evaluate(
        screening.facts,
        load_rules("NCT07008872"),
        load_settings("NCT07008872"),
        screening.screening_date,
        screening.judgments,
    )
    return result.decision, result.verdicts()


def test_the_eligible_example_meets_every_inclusion_and_no_exclusion() -> None:
    decision, verdicts = screen("eligible")
    assert decision == "eligible"
    assert verdicts["I7"] == "met"
    assert verdicts["E11"] == "not_met"


def test_the_ineligible_example_fails_on_ecog_hemoglobin_and_a_recent_myocardial_infarction() -> None:
    decision, verdicts = screen("ineligible")
    assert decision == "ineligible"
    assert (verdicts["I5"], verdicts["I7"], verdicts["E1"]) == ("not_met", "not_met", "met")


def test_an_unknown_example_name_is_refused() -> None:
    with pytest.raises(ValueError, match="no example"):
        example_path("maybe")  # type: ignore[arg-type]
