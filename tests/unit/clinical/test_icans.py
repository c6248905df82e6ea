"""ASTCT ICANS grade for adults: each row and footnote of the consensus table is a case.

Table (Lee et al. 2019): ICE 7-9 / 3-6 / 0-2 / 0 because unarousable; consciousness awakens
spontaneously / to voice / only to tactile stimulus / unarousable, stupor, coma; seizure N/A /
N/A / resolves rapidly or non-convulsive on EEG resolving with intervention / prolonged > 5 min or
repetitive; motor N/A x3 / deep focal weakness; oedema N/A / N/A / focal / diffuse or signs.
Footnotes: the most severe domain sets the grade (ICE 3 with a generalised seizure is grade 3);
ICE 0 awake (global aphasia) is grade 3, ICE 0 unarousable is grade 4.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.clinical.icans import (
    CerebralEdema,
    Consciousness,
    IcansAssessment,
    Seizure,
    grade_icans,
    parse_icans_assessment,
)
from celltrial.errors import InvalidInput


def assessment(**changes: Any) -> IcansAssessment:
    data: dict[str, Any] = {
        "age_years": 30,
        "ice_score": 10,
        "consciousness": "normal",
        "seizure": "none",
        "motor_weakness": False,
        "cerebral_edema": "none",
        "death_due_to_icans": False,
    }
    data.update(changes)
    return parse_icans_assessment(data)


TABLE_ROWS = [
    pytest.param({}, 0, id="no ICANS: ICE 10, awake, no finding"),
    pytest.param({"ice_score": 9}, 1, id="ICE row: 9 is grade 1"),
    pytest.param({"ice_score": 7}, 1, id="ICE row: 7 is grade 1"),
    pytest.param({"ice_score": 6}, 2, id="ICE row: 6 is grade 2"),
    pytest.param({"ice_score": 3}, 2, id="ICE row: 3 is grade 2"),
    pytest.param({"ice_score": 2}, 3, id="ICE row: 2 is grade 3"),
    pytest.param({"ice_score": 1}, 3, id="ICE row: 1 is grade 3"),
    pytest.param(
        {"ice_score": 0, "consciousness": "unarousable"}, 4, id="ICE row: 0 because unarousable is grade 4"
    ),
    pytest.param(
        {"consciousness": "awakens_spontaneously"}, 1, id="consciousness row: awakens spontaneously"
    ),
    pytest.param({"consciousness": "awakens_to_voice"}, 2, id="consciousness row: awakens to voice"),
    pytest.param(
        {"consciousness": "awakens_to_tactile", "ice_score": None}, 3, id="consciousness row: only to tactile"
    ),
    pytest.param(
        {"consciousness": "unarousable", "ice_score": None},
        4,
        id="consciousness row: unarousable, stupor, coma",
    ),
    pytest.param({"seizure": "resolved_rapidly"}, 3, id="seizure row: clinical seizure resolving rapidly"),
    pytest.param(
        {"seizure": "nonconvulsive_on_eeg_resolved"}, 3, id="seizure row: non-convulsive on EEG, resolved"
    ),
    pytest.param({"seizure": "prolonged_or_repetitive"}, 4, id="seizure row: prolonged or repetitive"),
    pytest.param({"motor_weakness": True}, 4, id="motor row: deep focal motor weakness"),
    pytest.param({"cerebral_edema": "focal"}, 3, id="oedema row: focal/local oedema on neuroimaging"),
    pytest.param(
        {"cerebral_edema": "diffuse_or_signs"}, 4, id="oedema row: diffuse oedema, posturing, CN VI"
    ),
    pytest.param({"death_due_to_icans": True}, 5, id="grade 5: death due to ICANS"),
]


@pytest.mark.parametrize(("changes", "expected"), TABLE_ROWS)
def test_each_row_of_the_astct_icans_table_gives_its_grade(changes: dict[str, Any], expected: int) -> None:
    assert grade_icans(assessment(**changes)).grade == expected


def test_an_ice_score_of_3_with_a_generalised_seizure_is_grade_3_by_the_most_severe_domain() -> None:
    result = grade_icans(assessment(ice_score=3, seizure="resolved_rapidly"))
    assert result.grade == 3
    assert result.drivers == ("clinical seizure that resolved rapidly",)


def test_an_awake_patient_with_ice_0_from_global_aphasia_is_grade_3() -> None:
    result = grade_icans(assessment(ice_score=0, consciousness="normal"))
    assert result.grade == 3
    assert "awake" in result.drivers[0]


def test_an_unarousable_patient_with_ice_0_is_grade_4() -> None:
    result = grade_icans(assessment(ice_score=0, consciousness="unarousable"))
    assert result.grade == 4
    assert len(result.drivers) == 2  # ICE 0 unarousable and the consciousness domain


def test_every_domain_at_the_top_grade_is_named_as_a_driver() -> None:
    result = grade_icans(assessment(ice_score=1, cerebral_edema="focal"))
    assert result.grade == 3
    assert result.drivers == ("ICE score 1 (0-2)", "focal/local edema on neuroimaging")


def test_the_result_names_the_astct_consensus_as_its_source() -> None:
    assert "Lee" in grade_icans(assessment()).source


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"ice_score": 11}, "ice_score", id="ICE above 10"),
        pytest.param({"ice_score": -1}, "ice_score", id="ICE below 0"),
        pytest.param({"ice_score": 7.5}, "ice_score", id="ICE not an integer"),
        pytest.param({"ice_score": None}, "ice_score", id="no ICE from an awake patient"),
        pytest.param(
            {"ice_score": None, "consciousness": "awakens_to_voice"}, "ice_score", id="no ICE, wakes to voice"
        ),
        pytest.param(
            {"ice_score": 5, "consciousness": "unarousable"}, "ice_score", id="ICE 5 while unarousable"
        ),
        pytest.param({"consciousness": "drowsy"}, "consciousness", id="unknown consciousness level"),
        pytest.param({"seizure": "yes"}, "seizure", id="unknown seizure level"),
        pytest.param({"cerebral_edema": "some"}, "cerebral_edema", id="unknown oedema level"),
        pytest.param({"age_years": 12}, "ice_score", id="child of 12: graded with CAPD, not ICE"),
        pytest.param({"capd_score": 4}, "capd_score", id="CAPD for an adult"),
        pytest.param({"age_years": 200}, "age_years", id="implausible age"),
        pytest.param({"tremor": True}, "tremor", id="unknown field (tremor is CTCAE-graded)"),
    ],
)
def test_bad_or_contradictory_input_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        grade_icans(assessment(**changes))
    assert raised.value.field == field


def test_the_capd_age_limit_is_configurable() -> None:
    thirteen = assessment(age_years=13)
    assert grade_icans(thirteen).grade == 0
    with pytest.raises(InvalidInput, match="CAPD"):
        grade_icans(thirteen, capd_max_age_years=13)


def test_the_trial_minimum_age_of_14_is_graded_with_ice() -> None:
    assert grade_icans(assessment(age_years=14, ice_score=8)).grade == 1


_CONSCIOUSNESS = list(Consciousness)
_SEIZURE_SEVERITY = [Seizure.NONE, Seizure.RESOLVED_RAPIDLY, Seizure.PROLONGED_OR_REPETITIVE]
_EDEMA = list(CerebralEdema)


def _valid(ice: int | None, consciousness: int, seizure: int, motor: bool, edema: int) -> IcansAssessment:
    level = _CONSCIOUSNESS[consciousness]
    if level is Consciousness.UNAROUSABLE:
        ice = 0 if ice is not None else None
    elif ice is None and level is not Consciousness.AWAKENS_TO_TACTILE:
        ice = 0
    return IcansAssessment(
        age_years=40,
        ice_score=ice,
        consciousness=level,
        seizure=_SEIZURE_SEVERITY[seizure],
        motor_weakness=motor,
        cerebral_edema=_EDEMA[edema],
        death_due_to_icans=False,
    )


@given(
    ice=st.integers(0, 10),
    lower_ice=st.integers(0, 10),
    consciousness=st.integers(0, 4),
    worse_consciousness=st.integers(0, 4),
    seizure=st.integers(0, 2),
    worse_seizure=st.integers(0, 2),
    motor=st.booleans(),
    edema=st.integers(0, 2),
    worse_edema=st.integers(0, 2),
)
def test_a_more_severe_input_never_lowers_the_grade(
    ice: int,
    lower_ice: int,
    consciousness: int,
    worse_consciousness: int,
    seizure: int,
    worse_seizure: int,
    motor: bool,
    edema: int,
    worse_edema: int,
) -> None:
    milder = _valid(ice, consciousness, seizure, motor, edema)
    worse = _valid(
        min(ice, lower_ice),
        max(consciousness, worse_consciousness),
        max(seizure, worse_seizure),
        motor,
        max(edema, worse_edema),
    )
    assert grade_icans(worse).grade >= grade_icans(milder).grade
