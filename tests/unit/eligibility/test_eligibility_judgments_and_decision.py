"""Investigator judgments (I4, the QT part of E1, E12) and the decision over the criteria.

Decision (issue 4, DESIGN.md): eligible only if all inclusions are met and all exclusions not met;
ineligible if any inclusion is not met or any exclusion met; otherwise incomplete.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.eligibility import EligibilityRules, Judgment, decide, evaluate, read_form
from celltrial.eligibility.result import combine_all, combine_any
from celltrial.errors import InvalidInput
from celltrial.protocol.settings import ProtocolSettings

VERDICTS = ("met", "not_met", "unknown", "needs_review")


def screen_with(
    form: dict[str, Any], rules: EligibilityRules, settings: ProtocolSettings, judgments: list[dict[str, Any]]
) -> Any:
    form["judgments"] = judgments
    screening = read_form(form)
    return evaluate(screening.facts, rules, settings, date(2025, 7, 1), screening.judgments)


def test_without_judgments_the_investigators_criteria_need_review(
    eligible_form: dict[str, Any], rules: EligibilityRules, settings: ProtocolSettings
) -> None:
    result = screen_with(eligible_form, rules, settings, [])
    verdicts = result.verdicts()
    assert (verdicts["I4"], verdicts["E1"], verdicts["E12"]) == ("needs_review",) * 3
    assert result.decision == "incomplete"
    assert result.missing == ("I4", "E1", "E12")


def test_a_judgment_turns_needs_review_into_met_and_is_cited_as_evidence(
    eligible_form: dict[str, Any], rules: EligibilityRules, settings: ProtocolSettings
) -> None:
    judgment = {"criterion": "I4", "answer": "met", "by": "Dr. Wang", "at": "2025-07-01", "comment": "good"}
    criterion = screen_with(eligible_form, rules, settings, [judgment]).criterion("I4")
    assert criterion.verdict == "met"
    assert criterion.reason == "Judged met by Dr. Wang on 2025-07-01: good"
    [evidence] = criterion.evidence
    assert (evidence.fact, evidence.value, evidence.date) == (
        "investigator_judgment",
        "met",
        date(2025, 7, 1),
    )


def test_a_judgment_that_the_qt_is_prolonged_makes_e1_met(
    eligible_form: dict[str, Any], rules: EligibilityRules, settings: ProtocolSettings
) -> None:
    judgments = [{"criterion": "E1.qt", "answer": "met", "by": "Dr. Wang", "at": "2025-07-01"}]
    result = screen_with(eligible_form, rules, settings, judgments)
    assert result.criterion("E1").verdict == "met"
    assert result.decision == "ineligible"


def test_the_latest_judgment_of_a_criterion_applies(
    eligible_form: dict[str, Any], rules: EligibilityRules, settings: ProtocolSettings
) -> None:
    judgments = [
        {"criterion": "E12", "answer": "not_met", "by": "Dr. Wang", "at": "2025-07-01T09:00:00"},
        {"criterion": "E12", "answer": "met", "by": "Dr. Li", "at": "2025-07-01T11:00:00"},
    ]
    assert screen_with(eligible_form, rules, settings, judgments).criterion("E12").verdict == "met"


def test_a_judgment_of_a_criterion_decided_by_data_is_refused(
    eligible_form: dict[str, Any], rules: EligibilityRules, settings: ProtocolSettings
) -> None:
    judgments = [{"criterion": "I7", "answer": "met", "by": "Dr. Wang", "at": "2025-07-01"}]
    with pytest.raises(InvalidInput) as raised:
        screen_with(eligible_form, rules, settings, judgments)
    assert raised.value.field == "judgments[0].criterion"
    assert "'I7' is not decided by the investigator" in raised.value.message


def test_a_judgment_without_who_is_refused_naming_the_field(eligible_form: dict[str, Any]) -> None:
    eligible_form["judgments"] = [{"criterion": "I4", "answer": "met", "by": "", "at": "2025-07-01"}]
    with pytest.raises(InvalidInput) as raised:
        read_form(eligible_form)
    assert raised.value.field == "judgments[0].by"


kinds_and_verdicts = st.lists(
    st.tuples(st.sampled_from(("inclusion", "exclusion")), st.sampled_from(VERDICTS)), min_size=1, max_size=25
)


@given(kinds_and_verdicts)
def test_eligible_exactly_when_every_inclusion_is_met_and_every_exclusion_not_met(
    criteria: list[tuple[Any, Any]],
) -> None:
    wanted = all(verdict == ("met" if kind == "inclusion" else "not_met") for kind, verdict in criteria)
    assert (decide(criteria) == "eligible") == wanted


@given(kinds_and_verdicts)
def test_ineligible_exactly_when_an_inclusion_fails_or_an_exclusion_applies(
    criteria: list[tuple[Any, Any]],
) -> None:
    failing = any(
        (kind, verdict) in {("inclusion", "not_met"), ("exclusion", "met")} for kind, verdict in criteria
    )
    assert (decide(criteria) == "ineligible") == failing


@given(kinds_and_verdicts)
def test_never_eligible_while_something_is_unknown_or_needs_review(criteria: list[tuple[Any, Any]]) -> None:
    if any(verdict in ("unknown", "needs_review") for _, verdict in criteria):
        assert decide(criteria) != "eligible"


@given(st.lists(st.sampled_from(VERDICTS), min_size=1, max_size=8))
def test_all_of_and_any_of_are_duals_under_swapping_met_and_not_met(verdicts: list[Any]) -> None:
    swap = {"met": "not_met", "not_met": "met", "unknown": "unknown", "needs_review": "needs_review"}
    assert combine_all(verdicts) == swap[combine_any([swap[v] for v in verdicts])]
    assert (combine_all(verdicts) == "met") == (set(verdicts) == {"met"})
    if "not_met" in verdicts:
        assert combine_all(verdicts) == "not_met"
    if "met" in verdicts:
        assert combine_any(verdicts) == "met"


def test_judgment_model_reports_its_day() -> None:
    judgment = Judgment(criterion="I4", answer="met", by="Dr. Wang", at="2025-07-01T23:00:00+08:00")  # type: ignore[arg-type]
    assert judgment.day == date(2025, 7, 1)
