"""ASTCT ICANS grade for children aged 12 or younger: each row of the consensus table for children.

Table (Lee et al. 2019, ICANS consensus grading for children; restated by MDedge's report of the
consensus and NCI Thesaurus C188936): encephalopathy by CAPD (Traube et al. 2014: 8 items scored
0-4, total 0-32, >= 9 delirium) — grade 1 CAPD 1-8, grade 2 CAPD 1-8, grade 3 CAPD >= 9, grade 4
unable to perform CAPD; depressed level of consciousness awakens spontaneously / to voice / only to
tactile stimulus / unarousable, stupor, coma; seizures, motor findings and raised intracranial
pressure / cerebral oedema as for adults; grade 5 death due to ICANS. The age limit is a setting.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.clinical.icans import (
    ICANS_CHILD_SOURCE,
    ICANS_SOURCE,
    IcansAssessment,
    grade_icans,
    parse_icans_assessment,
)
from celltrial.errors import InvalidInput


def child(**changes: Any) -> IcansAssessment:
    data: dict[str, Any] = {
        "age_years": 8,
        "capd_score": 0,
        "consciousness": "normal",
        "seizure": "none",
        "motor_weakness": False,
        "cerebral_edema": "none",
        "death_due_to_icans": False,
    }
    data.update(changes)
    return parse_icans_assessment(data)


CHILD_ROWS = [
    pytest.param({}, 0, "CAPD score 0 and no neurological finding", id="no ICANS: CAPD 0, awake"),
    pytest.param({"capd_score": 1}, 1, "CAPD score 1 (1-8)", id="CAPD row: 1 is grade 1"),
    pytest.param({"capd_score": 8}, 1, "CAPD score 8 (1-8)", id="CAPD row: 8 is grade 1"),
    pytest.param(
        {"capd_score": 8, "consciousness": "awakens_to_voice"},
        2,
        "depressed consciousness: awakens to voice",
        id="grade 2 row: CAPD 1-8 and awakens to voice",
    ),
    pytest.param({"capd_score": 9}, 3, "CAPD score 9 (>= 9)", id="CAPD row: 9 (delirium) is grade 3"),
    pytest.param({"capd_score": 32}, 3, "CAPD score 32 (>= 9)", id="CAPD row: 32 (maximum) is grade 3"),
    pytest.param(
        {"capd_score": None, "consciousness": "unarousable"},
        4,
        "unable to perform CAPD",
        id="CAPD row: unable to perform CAPD is grade 4",
    ),
    pytest.param(
        {"capd_score": None, "consciousness": "awakens_to_tactile"},
        4,
        "unable to perform CAPD",
        id="CAPD row: unable to perform (wakes only to touch) is grade 4",
    ),
    pytest.param(
        {"consciousness": "awakens_spontaneously"},
        1,
        "depressed consciousness: awakens spontaneously",
        id="consciousness row: awakens spontaneously",
    ),
    pytest.param(
        {"capd_score": 3, "consciousness": "awakens_to_tactile"},
        3,
        "depressed consciousness: awakens only to tactile stimulus",
        id="consciousness row: only to tactile",
    ),
    pytest.param(
        {"seizure": "resolved_rapidly"},
        3,
        "clinical seizure that resolved rapidly",
        id="seizure row: grade 3",
    ),
    pytest.param(
        {"seizure": "prolonged_or_repetitive"},
        4,
        "prolonged (> 5 min) or repetitive seizures without return to baseline",
        id="seizure row: grade 4",
    ),
    pytest.param({"motor_weakness": True}, 4, "deep focal motor weakness", id="motor row: grade 4"),
    pytest.param(
        {"cerebral_edema": "focal"}, 3, "focal/local edema on neuroimaging", id="oedema row: focal, grade 3"
    ),
    pytest.param(
        {"cerebral_edema": "diffuse_or_signs"},
        4,
        "diffuse cerebral edema or signs of raised intracranial pressure",
        id="oedema row: diffuse, grade 4",
    ),
    pytest.param({"death_due_to_icans": True}, 5, "death due to ICANS", id="grade 5: death due to ICANS"),
]


@pytest.mark.parametrize(("changes", "grade", "driver"), CHILD_ROWS)
def test_each_row_of_the_childrens_table(changes: dict[str, Any], grade: int, driver: str) -> None:
    result = grade_icans(child(**changes))
    assert result.grade == grade
    assert driver in result.drivers
    assert result.source == ICANS_CHILD_SOURCE


def test_the_most_severe_domain_sets_the_grade_for_children_too() -> None:
    result = grade_icans(child(capd_score=5, seizure="resolved_rapidly"))
    assert (result.grade, result.drivers) == (3, ("clinical seizure that resolved rapidly",))


def test_twelve_is_a_child_and_thirteen_an_adult_unless_the_protocol_says_otherwise() -> None:
    assert grade_icans(child(age_years=12, capd_score=9)).grade == 3
    adult = parse_icans_assessment(
        {**child().model_dump(exclude={"capd_score"}), "age_years": 13, "ice_score": 8}
    )
    assert grade_icans(adult).source == ICANS_SOURCE
    assert grade_icans(child(age_years=13, capd_score=9), capd_max_age_years=13).grade == 3
    with pytest.raises(InvalidInput) as raised:
        grade_icans(child(age_years=5, capd_score=9), capd_max_age_years=4)
    assert raised.value.field == "capd_score"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"capd_score": 33}, "capd_score", id="CAPD above its maximum of 32"),
        pytest.param({"capd_score": -1}, "capd_score", id="negative CAPD"),
        pytest.param({"capd_score": 4.5}, "capd_score", id="CAPD not a whole number"),
        pytest.param({"ice_score": 8}, "ice_score", id="ICE given for a child"),
        pytest.param({"capd_score": None}, "capd_score", id="unable to perform CAPD while awake"),
        pytest.param(
            {"capd_score": None, "consciousness": "awakens_to_voice"},
            "capd_score",
            id="unable to perform CAPD while waking to voice",
        ),
    ],
)
def test_bad_or_contradictory_input_for_a_child_is_refused(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        grade_icans(child(**changes))
    assert raised.value.field == field


def test_a_child_without_a_capd_score_is_told_to_give_one() -> None:
    data = child().model_dump(exclude={"capd_score", "ice_score"})
    with pytest.raises(InvalidInput, match="CAPD total 0-32") as raised:
        grade_icans(parse_icans_assessment(data))
    assert raised.value.field == "capd_score"


@given(
    capd=st.integers(0, 32), worse=st.integers(0, 32), level=st.sampled_from(["normal", "awakens_to_voice"])
)
def test_a_higher_capd_score_never_lowers_a_childs_grade(capd: int, worse: int, level: str) -> None:
    milder = grade_icans(child(capd_score=capd, consciousness=level))
    severe = grade_icans(child(capd_score=max(capd, worse), consciousness=level))
    assert severe.grade >= milder.grade
    assert grade_icans(child(capd_score=None, consciousness="unarousable")).grade >= severe.grade
