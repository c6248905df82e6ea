"""The screening form: its schema, and bad input named by field with evaluation going on."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from celltrial.eligibility import EligibilityResult, ScreeningForm, read_form
from celltrial.eligibility.facts import fact_catalogue
from celltrial.errors import InvalidInput

Screen = Callable[..., EligibilityResult]  # the `screen` fixture of conftest.py


def test_the_form_schema_lists_every_fact_of_the_catalogue() -> None:
    schema = ScreeningForm.model_json_schema()
    facts = schema["$defs"]["ScreeningFacts"]["properties"]
    assert set(facts) == set(fact_catalogue().facts)


def test_a_form_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidInput, match="must be a JSON object"):
        read_form(["hemoglobin"])


@pytest.mark.parametrize("text", ["[1, 2]", '"a form"', "not json {", b"\xff\xfe"])
def test_json_text_that_is_not_a_form_object_is_refused(text: str | bytes) -> None:
    with pytest.raises(InvalidInput) as raised:
        read_form(text)
    assert raised.value.field == "$"


def test_json_text_nested_too_deep_is_refused_not_a_crash() -> None:
    with pytest.raises(InvalidInput, match="levels deep") as raised:
        read_form("[" * 100_000 + "]" * 100_000)
    assert raised.value.field == "$"


def test_a_form_read_from_its_json_text_equals_the_form_read_parsed(eligible_form: dict[str, Any]) -> None:
    eligible_form["facts"]["hemoglobin"] = {"value": -5, "unit": "g/L", "date": "2025-06-28"}  # malformed
    eligible_form["facts"]["ecog"] = {"value": "two"}  # the wrong type
    parsed = read_form(eligible_form)
    assert read_form(json.dumps(eligible_form)) == parsed
    assert read_form(json.dumps(eligible_form).encode()) == parsed
    assert any("hemoglobin" in problem for problem in parsed.facts.problems)


def test_a_form_without_a_patient_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as raised:
        read_form({"facts": {}})
    assert raised.value.field == "patient"


def test_an_unknown_fact_name_is_refused_rather_than_ignored(eligible_form: dict[str, Any]) -> None:
    eligible_form["facts"]["hemoglobn"] = {"value": 90, "unit": "g/L", "date": "2025-06-28"}
    with pytest.raises(InvalidInput) as raised:
        read_form(eligible_form)
    assert raised.value.field == "facts.hemoglobn"
    assert "unknown fact 'hemoglobn'" in raised.value.message


def test_a_bad_birth_date_is_refused_naming_the_field(eligible_form: dict[str, Any]) -> None:
    eligible_form["patient"]["birth_date"] = "14/03/2001"
    with pytest.raises(InvalidInput) as raised:
        read_form(eligible_form)
    assert raised.value.field == "patient.birth_date"


def test_a_negative_lab_value_makes_only_its_criterion_unknown(screen: Screen) -> None:
    result = screen(hemoglobin={"value": -90, "unit": "g/L", "date": "2025-06-28"})
    criterion = result.criterion("I7")
    assert criterion.verdict == "unknown"
    assert (
        criterion.reason == "form: facts.hemoglobin.value: a negative value (-90.0) is not a valid hemoglobin"
    )
    assert result.criterion("I8a").verdict == "met"
    assert result.decision == "incomplete"


def test_a_value_of_the_wrong_type_is_a_problem_on_its_fact(screen: Screen) -> None:
    result = screen(ecog={"value": "one", "date": "2025-06-28"})
    assert result.criterion("I5").verdict == "unknown"
    assert "facts.ecog.value" in result.criterion("I5").reason
    assert result.criterion("I7").verdict == "met"


def test_a_lab_without_a_unit_is_a_problem_on_its_fact(screen: Screen) -> None:
    result = screen(hemoglobin={"value": 90, "date": "2025-06-28"})
    assert result.criterion("I7").verdict == "unknown"
    assert "facts.hemoglobin.unit: Field required" in result.criterion("I7").reason


def test_a_coded_answer_outside_its_values_is_a_problem(screen: Screen) -> None:
    result = screen(cd7_bone_marrow_flow={"value": "dim", "date": "2025-06-20"})
    assert result.criterion("I2").verdict == "unknown"
    assert "'dim' is not one of positive, negative" in result.criterion("I2").reason


def test_an_implausible_value_is_a_problem(screen: Screen) -> None:
    result = screen(oxygen_saturation={"value": 190, "unit": "%", "date": "2025-06-28"})
    assert result.criterion("I8c").verdict == "unknown"
    assert "above the plausible maximum 100" in result.criterion("I8c").reason


def test_problems_are_listed_on_the_facts_read(eligible_form: dict[str, Any]) -> None:
    eligible_form["facts"]["alt"] = {"value": -3, "unit": "U/L", "date": "2025-06-28"}
    problems = read_form(eligible_form).facts.problems
    assert problems == ("form: facts.alt.value: a negative value (-3.0) is not a valid alt",)


def test_a_missing_condition_answer_is_unknown_not_absent(screen: Screen) -> None:
    result = screen(gvhd=None)
    assert result.criterion("E2").verdict == "unknown"
    assert result.criterion("E2").reason == "Graft-versus-host disease: not recorded as present or absent"


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        pytest.param("active", "met", id="active GVHD excludes"),
        pytest.param("relapse", "met", id="relapsed GVHD excludes"),
        pytest.param("resolved", "not_met", id="resolved GVHD does not exclude"),
    ],
)
def test_active_gvhd_is_read_from_the_clinical_status(screen: Screen, status: str, verdict: str) -> None:
    assert screen(gvhd={"present": True, "status": status}).criterion("E2").verdict == verdict


def test_a_male_patient_is_not_excluded_by_pregnancy_criteria(screen: Screen) -> None:
    result = screen(patient={"sex": "male"}, pregnancy_test=None, pregnancy=None)
    assert result.criterion("E11").verdict == "not_met"


def test_a_woman_with_a_positive_pregnancy_test_is_excluded(screen: Screen) -> None:
    result = screen(pregnancy_test={"value": "positive", "date": "2025-06-30"})
    assert result.criterion("E11").verdict == "met"
    assert result.decision == "ineligible"


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_lab_value_that_is_not_a_finite_number_is_unknown_not_a_crash(screen: Screen, value: float) -> None:
    """Python's JSON reader accepts NaN and Infinity; neither is a measured value."""
    result = screen(hemoglobin={"value": value, "unit": "g/L", "date": "2025-06-28"})
    criterion = result.criterion("I7")
    assert criterion.verdict == "unknown"
    assert "hemoglobin" in criterion.reason.lower()
    assert result.to_json()["decision"] == "incomplete"
