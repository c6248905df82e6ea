"""The eligibility definition of NCT07008872 as data, and what a malformed definition is told."""

from __future__ import annotations

import pytest

from celltrial.eligibility import EligibilityRules, load_rules, parse_rules
from celltrial.eligibility.compiled import compile_rules
from celltrial.errors import InvalidInput, NotFound
from celltrial.protocol.settings import ProtocolSettings

INCLUSIONS = ["I1", "I1a", "I1b", "I1b.i", "I1b.ii", "I2", "I3", "I4", "I5", "I6", "I7", "I8"]
PROTOCOL_ORDER = [*INCLUSIONS, "I8a", "I8b", "I8c", "I8d", "I9", *(f"E{n}" for n in range(1, 13))]


def test_every_criterion_and_sub_criterion_is_defined_in_protocol_order(rules: EligibilityRules) -> None:
    assert [criterion.id for criterion in rules.criteria] == PROTOCOL_ORDER


def test_the_decision_reads_the_top_level_criteria(rules: EligibilityRules) -> None:
    top = [criterion.id for criterion in rules.top_level()]
    assert top == ["I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "I9"] + [f"E{n}" for n in range(1, 13)]


def test_composites_are_made_of_the_criteria_the_registry_nests(rules: EligibilityRules) -> None:
    assert rules.references("I1") == ("I1a", "I1b")
    assert rules.references("I1b") == ("I1b.i", "I1b.ii")
    assert rules.references("I8") == ("I8a", "I8b", "I8c", "I8d")


def test_the_criteria_that_need_the_investigator_are_i4_the_qt_part_of_e1_and_e12(
    rules: EligibilityRules, settings: ProtocolSettings
) -> None:
    assert compile_rules(rules, settings).judgment_ids == {"I4", "E1.qt", "E12"}


def test_windows_are_read_from_the_settings(rules: EligibilityRules, settings: ProtocolSettings) -> None:
    changed = settings.model_copy(
        update={
            "eligibility": settings.eligibility.model_copy(
                update={
                    "lab_window_days": settings.eligibility.lab_window_days.model_copy(update={"value": 3})
                }
            )
        }
    )
    compiled = compile_rules(rules, changed)
    hemoglobin = next(c for c in compiled.criteria if c.id == "I7").rule
    assert getattr(hemoglobin, "window_days", None) == 3


def test_an_unknown_protocol_has_no_eligibility_definition() -> None:
    with pytest.raises(NotFound):
        load_rules("NCT00000000")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("criteria: [", "not valid YAML", id="not YAML"),
        pytest.param("- a\n- b\n", "must be a mapping", id="not a mapping"),
        pytest.param(
            "protocol: X\nversion: '1'\nsource: s\ncriteria:\n"
            "  - {id: I1, kind: inclusion, text: t, rule: {kind: compare, fact: hemoglobn, operator: '>=',"
            " threshold: {value: 70, unit: g/L}}}\n",
            "unknown fact 'hemoglobn'",
            id="an unknown fact",
        ),
        pytest.param(
            "protocol: X\nversion: '1'\nsource: s\ncriteria:\n"
            "  - {id: I1, kind: inclusion, text: t, rule: {criterion: I2}}\n",
            "refers to 'I2', which is not a criterion",
            id="a reference to a missing criterion",
        ),
        pytest.param(
            "protocol: X\nversion: '1'\nsource: s\ncriteria:\n"
            "  - {id: I1, kind: inclusion, text: t, rule: {criterion: I2}}\n"
            "  - {id: I2, kind: inclusion, text: t, rule: {criterion: I1}}\n",
            "cycle",
            id="criteria in a cycle",
        ),
        pytest.param(
            "protocol: X\nversion: '1'\nsource: s\ncriteria:\n"
            "  - {id: I1, kind: inclusion, text: t, rule: {kind: compare, fact: hemoglobin, operator: '>=',"
            " threshold: {value: 70, times_uln: 2}}}\n",
            "exactly one of",
            id="a threshold with two limits",
        ),
    ],
)
def test_a_malformed_definition_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_rules(text, origin="test.yaml")


def test_a_window_naming_no_setting_is_refused_when_compiled(settings: ProtocolSettings) -> None:
    rules = parse_rules(
        "protocol: X\nversion: '1'\nsource: s\ncriteria:\n"
        "  - {id: I7, kind: inclusion, text: t, rule: {kind: compare, fact: hemoglobin, operator: '>=',"
        " threshold: {value: 70, unit: g/L}, window: lab_window_weeks}}\n"
    )
    with pytest.raises(InvalidInput, match="no eligibility setting 'lab_window_weeks'"):
        compile_rules(rules, settings)
