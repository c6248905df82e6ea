"""The screening decision recomputed from a frozen eligibility result and investigators' judgments."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celltrial.errors import InvalidInput
from celltrial.study.screening.decision import (
    CriterionResult,
    decide,
    outstanding,
    parse_result,
    screen_fail_reasons,
)

VERDICTS = ["met", "not_met", "unknown", "needs_review"]
IDS = [(f"I{n}", "inclusion") for n in range(1, 10)] + [(f"E{n}", "exclusion") for n in range(1, 13)]


def criteria(verdicts: dict[str, str]) -> list[CriterionResult]:
    return [
        CriterionResult(
            id=identifier,
            kind=kind,
            verdict=verdicts.get(identifier, "met" if kind == "inclusion" else "not_met"),
        )
        for identifier, kind in IDS
    ]  # type: ignore[arg-type]


def result(decision: str, verdicts: dict[str, str]) -> dict[str, object]:
    return {
        "decision": decision,
        "screening_date": "2026-01-05",
        "rules_version": "2025-06-06.1",
        "criteria": [c.model_dump() for c in criteria(verdicts)],
    }


def test_every_inclusion_met_and_every_exclusion_not_met_is_eligible() -> None:
    assert decide(criteria({}), {}) == "eligible"


def test_an_inclusion_not_met_or_an_exclusion_met_is_ineligible_with_reasons_in_protocol_order() -> None:
    failing = criteria({"E4": "met", "I2": "not_met", "I4": "needs_review"})
    assert decide(failing, {}) == "ineligible"
    assert screen_fail_reasons(failing, {}) == ["I2", "E4"]


def test_a_criterion_left_to_the_investigator_keeps_the_screening_incomplete_until_judged() -> None:
    pending = criteria({"I4": "needs_review", "E12": "needs_review"})
    assert decide(pending, {}) == "incomplete"
    assert outstanding(pending, {}) == ["I4", "E12"]
    assert decide(pending, {"I4": "met", "E12": "not_met"}) == "eligible"
    assert decide(pending, {"I4": "not_met"}) == "ineligible"


def test_a_judgment_does_not_override_a_verdict_the_rules_reached() -> None:
    assert decide(criteria({"I7": "not_met"}), {"I7": "met"}) == "ineligible"


def test_sub_criteria_feed_their_parent_and_do_not_decide_themselves() -> None:
    with_parts = [*criteria({}), CriterionResult(id="I1a", kind="inclusion", verdict="not_met")]
    assert decide(with_parts, {}) == "eligible"


@settings(deadline=None)  # timing on a loaded machine is not what these check
@given(st.dictionaries(st.sampled_from([i for i, _ in IDS]), st.sampled_from(VERDICTS)))
def test_the_decision_follows_the_design_rule_for_any_verdicts(verdicts: dict[str, str]) -> None:
    listed = criteria(verdicts)
    fails = any(
        (c.kind == "inclusion" and c.verdict == "not_met") or (c.kind == "exclusion" and c.verdict == "met")
        for c in listed
    )
    settled = all(c.verdict == ("met" if c.kind == "inclusion" else "not_met") for c in listed)
    expected = "ineligible" if fails else "eligible" if settled else "incomplete"
    assert decide(listed, {}) == expected
    assert parse_result(result(expected, verdicts)).decision == expected


def test_a_result_is_refused_when_its_decision_contradicts_its_verdicts() -> None:
    with pytest.raises(InvalidInput, match="does not follow") as refused:
        parse_result(result("eligible", {"E2": "met"}))
    assert refused.value.field == "result.decision"


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        ({"decision": "maybe"}, "result.decision"),
        ({"screening_date": "yesterday"}, "result.screening_date"),
        ({"criteria": []}, "result.criteria"),
    ],
)
def test_a_malformed_result_names_its_json_path(broken: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_result(result("eligible", {}) | broken)
    assert refused.value.field == field


def test_a_repeated_criterion_is_refused() -> None:
    doubled = result("eligible", {})
    doubled["criteria"] = [*doubled["criteria"], doubled["criteria"][0]]  # type: ignore[misc]
    with pytest.raises(InvalidInput, match="repeated: I1"):
        parse_result(doubled)
