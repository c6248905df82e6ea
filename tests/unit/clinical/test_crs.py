"""ASTCT CRS grade: each row and footnote of the consensus table (Lee et al. 2019) is a case.

The table: fever >= 38 °C with hypotension (none / no vasopressor / one vasopressor with or
without vasopressin / multiple vasopressors excluding vasopressin) and/or hypoxia (none /
low-flow nasal cannula <= 6 L/min or blow-by / high-flow > 6 L/min, facemask, non-rebreather,
Venturi / positive pressure: CPAP, BiPAP, intubation); grade 5 death due to CRS.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.clinical.crs import CrsAssessment, Hypotension, Hypoxia, grade_crs, parse_crs_assessment
from celltrial.errors import InvalidInput


def assessment(**changes: Any) -> CrsAssessment:
    data: dict[str, Any] = {
        "temperature_c": 38.6,
        "fever_masked": False,
        "hypotension": "none",
        "hypoxia": "none",
        "death_due_to_crs": False,
    }
    data.update(changes)
    return parse_crs_assessment(data)


TABLE_ROWS = [
    pytest.param({}, 1, id="grade 1: fever alone"),
    pytest.param(
        {"hypotension": "no_vasopressor"}, 2, id="grade 2: fever and hypotension not needing vasopressors"
    ),
    pytest.param({"hypoxia": "low_flow"}, 2, id="grade 2: fever and low-flow nasal cannula or blow-by"),
    pytest.param(
        {"hypotension": "no_vasopressor", "hypoxia": "low_flow"}, 2, id="grade 2: both grade-2 findings"
    ),
    pytest.param(
        {"hypotension": "one_vasopressor"}, 3, id="grade 3: one vasopressor with or without vasopressin"
    ),
    pytest.param(
        {"hypoxia": "high_flow"}, 3, id="grade 3: high-flow nasal cannula, facemask, non-rebreather, Venturi"
    ),
    pytest.param(
        {"hypotension": "multiple_vasopressors"}, 4, id="grade 4: multiple vasopressors excluding vasopressin"
    ),
    pytest.param(
        {"hypoxia": "positive_pressure"}, 4, id="grade 4: positive pressure (CPAP, BiPAP, intubation)"
    ),
    pytest.param({"death_due_to_crs": True}, 5, id="grade 5: death due to CRS"),
]


@pytest.mark.parametrize(("changes", "expected"), TABLE_ROWS)
def test_each_row_of_the_astct_crs_table_gives_its_grade(changes: dict[str, Any], expected: int) -> None:
    assert grade_crs(assessment(**changes)).grade == expected


def test_fever_is_exactly_38_0_degrees_or_more() -> None:
    assert grade_crs(assessment(temperature_c=38.0)).grade == 1
    assert grade_crs(assessment(temperature_c=37.9)).grade == 0


def test_hypotension_or_hypoxia_without_fever_is_not_crs() -> None:
    result = grade_crs(assessment(temperature_c=37.2, hypotension="one_vasopressor", hypoxia="high_flow"))
    assert result.grade == 0
    assert "not CRS" in result.drivers[0]


def test_once_fever_is_masked_by_tocilizumab_or_steroids_hypotension_and_hypoxia_drive_the_grade() -> None:
    result = grade_crs(assessment(temperature_c=36.8, fever_masked=True, hypoxia="high_flow"))
    assert result.grade == 3
    assert any("masked" in driver for driver in result.drivers)


def test_masked_fever_without_hypotension_or_hypoxia_is_grade_0() -> None:
    assert grade_crs(assessment(temperature_c=36.8, fever_masked=True)).grade == 0


def test_a_febrile_patient_on_one_vasopressor_and_low_flow_oxygen_is_grade_3_by_the_more_severe_event() -> (
    None
):
    result = grade_crs(assessment(hypotension="one_vasopressor", hypoxia="low_flow"))
    assert result.grade == 3
    assert result.drivers == ("hypotension requiring one vasopressor",)


def test_low_flow_hypotension_with_positive_pressure_is_grade_4() -> None:
    assert grade_crs(assessment(hypotension="no_vasopressor", hypoxia="positive_pressure")).grade == 4


def test_positive_pressure_alone_with_fever_is_a_valid_input() -> None:
    assert grade_crs(assessment(hypoxia="positive_pressure")).drivers == (
        "hypoxia requiring positive pressure ventilation",
    )


def test_the_result_names_the_astct_consensus_as_its_source() -> None:
    assert "Lee" in grade_crs(assessment()).source
    assert "2019" in grade_crs(assessment()).source


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"temperature_c": 51.0}, "temperature_c", id="implausible temperature"),
        pytest.param({"temperature_c": "38.6"}, "temperature_c", id="temperature as text"),
        pytest.param({"temperature_c": None}, "temperature_c", id="temperature missing (null)"),
        pytest.param({"hypotension": "pressors"}, "hypotension", id="unknown hypotension level"),
        pytest.param({"hypoxia": "nasal"}, "hypoxia", id="unknown hypoxia level"),
        pytest.param({"fever_masked": "yes"}, "fever_masked", id="fever_masked not a boolean"),
        pytest.param({"organ_toxicity": 3}, "organ_toxicity", id="unknown field"),
    ],
)
def test_bad_input_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        assessment(**changes)
    assert raised.value.field == field


_HYPOTENSION_ORDER = list(Hypotension)
_HYPOXIA_ORDER = list(Hypoxia)


@given(
    temperature=st.floats(min_value=35.0, max_value=41.0),
    masked=st.booleans(),
    hypotension=st.integers(0, 3),
    hypoxia=st.integers(0, 3),
    worse_hypotension=st.integers(0, 3),
    worse_hypoxia=st.integers(0, 3),
    warmer=st.floats(min_value=0.0, max_value=3.0),
)
def test_a_more_severe_input_never_lowers_the_grade(
    temperature: float,
    masked: bool,
    hypotension: int,
    hypoxia: int,
    worse_hypotension: int,
    worse_hypoxia: int,
    warmer: float,
) -> None:
    milder = CrsAssessment(
        temperature_c=temperature,
        fever_masked=masked,
        hypotension=_HYPOTENSION_ORDER[hypotension],
        hypoxia=_HYPOXIA_ORDER[hypoxia],
        death_due_to_crs=False,
    )
    worse = CrsAssessment(
        temperature_c=min(temperature + warmer, 45.0),
        fever_masked=masked,
        hypotension=_HYPOTENSION_ORDER[max(hypotension, worse_hypotension)],
        hypoxia=_HYPOXIA_ORDER[max(hypoxia, worse_hypoxia)],
        death_due_to_crs=False,
    )
    assert grade_crs(worse).grade >= grade_crs(milder).grade
    assert grade_crs(worse.model_copy(update={"death_due_to_crs": True})).grade == 5


def test_one_finding_alone_is_graded_the_rest_taken_as_absent() -> None:
    """Grade 4 row: positive pressure with fever; no hypotension data means none (the issue's example)."""
    found = grade_crs(parse_crs_assessment({"temperature_c": 38.4, "hypoxia": "positive_pressure"}))
    assert (found.grade, found.drivers) == (4, ("hypoxia requiring positive pressure ventilation",))


def test_an_assessment_without_its_temperature_is_refused_naming_it() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_crs_assessment({"hypoxia": "positive_pressure"})
    assert (raised.value.field, raised.value.message) == ("temperature_c", "is required")
