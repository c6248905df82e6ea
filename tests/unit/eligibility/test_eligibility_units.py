"""Units in rules: conversions through pint, a value and its ULN in different units, unknown units."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from celltrial.eligibility import EligibilityResult, EligibilityRules, evaluate, read_form
from celltrial.protocol.settings import ProtocolSettings

Screen = Callable[..., EligibilityResult]  # the `screen` fixture of conftest.py


def lab(value: float, unit: str, day: str = "2025-06-28", **extra: Any) -> dict[str, Any]:
    return {"value": value, "unit": unit, "date": day, **extra}


@pytest.mark.parametrize(
    ("entry", "verdict"),
    [
        pytest.param(
            lab(145, "umol/L"), "met", id="creatinine 145 umol/L against 1.5 x 1.1 mg/dL (145.9 umol/L)"
        ),
        pytest.param(lab(147, "umol/L"), "not_met", id="creatinine 147 umol/L is above 145.9 umol/L"),
        pytest.param(
            lab(1.6, "mg/dL", uln=97, uln_unit="umol/L"),
            "met",
            id="creatinine 1.6 mg/dL against its own ULN 97 umol/L (1.5x = 1.646 mg/dL)",
        ),
        pytest.param(
            lab(1.7, "mg/dL", uln=97, uln_unit="umol/L"),
            "not_met",
            id="creatinine 1.7 mg/dL against its own ULN 97 umol/L",
        ),
    ],
)
def test_creatinine_compares_across_units(screen: Screen, entry: dict[str, Any], verdict: str) -> None:
    assert screen(creatinine=entry).criterion("I8a").verdict == verdict


@pytest.mark.parametrize(
    ("entry", "verdict"),
    [
        pytest.param(
            lab(30.7, "umol/L"), "met", id="bilirubin 30.7 umol/L against 1.5 x 1.2 mg/dL (30.79 umol/L)"
        ),
        pytest.param(lab(31, "umol/L"), "not_met", id="bilirubin 31 umol/L is above 30.79 umol/L"),
    ],
)
def test_bilirubin_compares_across_units(screen: Screen, entry: dict[str, Any], verdict: str) -> None:
    assert screen(total_bilirubin=entry).criterion("I8d").verdict == verdict


def test_an_unknown_unit_gives_unknown_with_the_reason_not_a_guess(screen: Screen) -> None:
    criterion = screen(hemoglobin=lab(4.3, "mmol/L")).criterion("I7")
    assert criterion.verdict == "unknown"
    assert "'mmol/L'" in criterion.reason
    assert "cannot be compared" in criterion.reason


def test_a_unit_that_does_not_exist_gives_unknown(screen: Screen) -> None:
    criterion = screen(hemoglobin=lab(90, "grams per litre")).criterion("I7")
    assert criterion.verdict == "unknown"
    assert "unknown unit" in criterion.reason


def test_a_lab_without_its_own_uln_and_no_site_range_gives_unknown(
    eligible_form: dict[str, Any], rules: EligibilityRules, settings: ProtocolSettings
) -> None:
    screening = read_form(eligible_form)
    without_ranges = settings.model_copy(update={"reference_ranges": {}})
    result = evaluate(screening.facts, rules, without_ranges, date(2025, 7, 1), screening.judgments)
    assert result.criterion("I8d").verdict == "unknown"
    assert "No upper limit of normal known for Total bilirubin" in result.criterion("I8d").reason
    assert result.criterion("I8a").verdict == "met"  # creatinine carries its own ULN in the form
