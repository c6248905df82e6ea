"""DLT evaluation: the protocol's definitions (settings safety.dlt_definitions) applied to hand-built courses.

Window days 0-28 after the infusion on 2025-03-01 (day 0), so 2025-03-01..2025-03-29. Each
expected verdict is read off the definition it names.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.analysis.dlt import (
    DltEvaluation,
    DltStatus,
    DltWindow,
    SubjectSafetyData,
    evaluate_dlt,
    parse_criteria,
    parse_criterion,
    parse_event,
)
from celltrial.analysis.episodes import DailyGrades
from celltrial.analysis.safety_events import AdverseEventFacts, Aesi, Outcome, Relatedness
from celltrial.errors import InvalidInput
from celltrial.protocol.library import load_settings

SAFETY = load_settings("NCT07008872").safety
CRITERIA = parse_criteria(SAFETY.dlt_definitions.value)
WINDOW = DltWindow.of(SAFETY.dlt_window_days.value)
INFUSION = date(2025, 3, 1)
AFTER_WINDOW = INFUSION + timedelta(days=40)


def day(n: int) -> date:
    return INFUSION + timedelta(days=n)


def grades(crs: dict[int, int] | None = None, icans: dict[int, int] | None = None) -> tuple[DailyGrades, ...]:
    crs, icans = crs or {}, icans or {}
    return tuple(
        DailyGrades(day=day(n), crs_grade=crs.get(n, 0), icans_grade=icans.get(n, 0))
        for n in sorted(set(crs) | set(icans))
    )


def event(term: str, grade: int, onset: int, resolved: int | None, **changes: object) -> AdverseEventFacts:
    values: dict[str, object] = {
        "subject_id": 1,
        "term": term,
        "soc": "Renal and urinary disorders",
        "grade": grade,
        "onset": day(onset),
        "resolved_on": day(resolved) if resolved is not None else None,
        "related_to_cart": Relatedness.POSSIBLE,
    }
    values.update(changes)
    return AdverseEventFacts.model_validate(values)


def evaluate(
    assessments: tuple[DailyGrades, ...] = (),
    events: tuple[AdverseEventFacts, ...] = (),
    as_of: date = AFTER_WINDOW,
    ended: date | None = None,
) -> DltEvaluation:
    data = SubjectSafetyData(
        subject_id=1,
        infusion_date=INFUSION,
        assessments=assessments,
        adverse_events=events,
        follow_up_ended_on=ended,
    )
    return evaluate_dlt(data, CRITERIA, window=WINDOW, as_of=as_of)


# -- the protocol's sentences ----------------------------------------------------------------


def test_the_protocol_definitions_are_read_with_their_grades_and_time_limits() -> None:
    assert [(c.kind, c.min_grade, c.resolve_to, c.within_days, c.cart_only) for c in CRITERIA] == [
        ("crs", 4, None, None, False),
        ("icans", 3, 2, 3, False),  # 72 hours = 3 days
        ("treatment_related_death", 5, None, None, False),
        ("non_haematological", 3, 2, 7, True),
    ]


def test_the_stopping_rule_event_is_three_definitions_joined_by_or() -> None:
    criteria = parse_event(SAFETY.stopping_rule.event.value)
    assert [(c.kind, c.min_grade, c.within_days) for c in criteria] == [
        ("crs", 3, None),
        ("icans", 3, None),
        ("treatment_related_death", 5, None),
    ]


def test_a_definition_celltrial_cannot_compute_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="'grade 3 hepatotoxicity' is not one celltrial can compute"):
        parse_criterion("grade 3 hepatotoxicity")


def test_a_time_limit_in_hours_is_rounded_up_to_whole_days() -> None:
    assert parse_criterion("grade >= 3 ICANS not resolving to grade <= 1 within 49 hours").within_days == 3


def test_the_window_comes_from_the_settings_as_first_and_last_day() -> None:
    assert (WINDOW.first_day, WINDOW.last_day) == (0, 28)
    with pytest.raises(InvalidInput, match="DLT window"):
        DltWindow.of([28, 0])


# -- grade 4 CRS ------------------------------------------------------------------------------


def test_grade_4_crs_on_day_3_is_a_dlt() -> None:
    result = evaluate(grades(crs={1: 2, 3: 4, 5: 0}))
    assert result.status is DltStatus.DLT
    assert [(f.criterion, f.on) for f in result.findings] == [("grade 4 CRS (ASTCT)", day(3))]


def test_grade_3_crs_alone_is_not_a_dlt() -> None:
    assert evaluate(grades(crs={1: 3, 2: 0})).status is DltStatus.NO_DLT


def test_grade_4_crs_after_day_28_is_outside_the_window() -> None:
    assert evaluate(grades(crs={29: 4, 31: 0})).status is DltStatus.NO_DLT


# -- grade >= 3 ICANS not resolving to grade <= 2 within 72 hours --------------------------


def test_grade_3_icans_back_to_grade_2_on_the_third_day_resolved_in_time() -> None:
    assert evaluate(grades(icans={5: 3, 6: 3, 7: 3, 8: 2, 9: 0})).status is DltStatus.NO_DLT


def test_grade_3_icans_still_grade_3_until_the_fourth_day_is_a_dlt_from_the_fourth_day() -> None:
    result = evaluate(grades(icans={5: 3, 6: 3, 7: 3, 8: 3, 9: 2}))
    assert result.status is DltStatus.DLT
    assert [f.on for f in result.findings] == [day(9)]


def test_grade_3_icans_two_days_old_is_pending() -> None:
    result = evaluate(grades(icans={5: 3, 6: 3}), as_of=day(7))
    assert result.status is DltStatus.PENDING
    assert [f.on for f in result.pending] == [day(8)]


def test_grade_3_icans_with_no_later_assessment_past_the_limit_is_a_dlt() -> None:
    result = evaluate(grades(icans={5: 3}))
    assert result.status is DltStatus.DLT
    assert "not resolved" in result.findings[0].evidence


def test_death_due_to_icans_is_a_dlt_on_the_day_of_death() -> None:
    result = evaluate(grades(icans={5: 4, 6: 5}))
    assert {(f.criterion, f.on) for f in result.findings} >= {
        ("grade >= 3 ICANS (ASTCT) not resolving to grade <= 2 within 72 hours", day(6))
    }


def test_a_second_icans_episode_is_judged_on_its_own() -> None:
    result = evaluate(grades(icans={3: 3, 4: 1, 10: 3, 11: 3, 12: 3, 13: 3, 14: 3}))
    assert [f.on for f in result.findings] == [day(14)]


# -- treatment-related death -----------------------------------------------------------------


def test_a_fatal_event_possibly_related_to_car_t_on_day_20_is_a_dlt() -> None:
    fatal = event("Sepsis", 5, 18, 20, soc="Infections and infestations", outcome=Outcome.FATAL)
    result = evaluate(events=(fatal,), ended=day(20))
    assert result.status is DltStatus.DLT
    assert ("treatment-related death", day(20)) in {(f.criterion, f.on) for f in result.findings}


def test_a_fatal_event_related_only_to_lymphodepletion_is_a_treatment_related_death() -> None:
    fatal = event(
        "Sepsis",
        5,
        18,
        20,
        related_to_cart=Relatedness.UNLIKELY,
        related_to_lymphodepletion=Relatedness.PROBABLE,
        outcome=Outcome.FATAL,
    )
    assert [f.criterion for f in evaluate(events=(fatal,)).findings] == ["treatment-related death"]


def test_an_unrelated_death_before_the_window_ends_leaves_the_subject_not_evaluable() -> None:
    fatal = event(
        "Disease progression", 5, 15, 15, related_to_cart=Relatedness.NOT_RELATED, outcome=Outcome.FATAL
    )
    assert evaluate(events=(fatal,), ended=day(15)).status is DltStatus.NOT_EVALUABLE


# -- grade >= 3 non-haematological toxicity related to CAR-T not resolving within 7 days ----


def test_grade_3_kidney_injury_resolved_after_5_days_is_not_a_dlt() -> None:
    assert evaluate(events=(event("Acute kidney injury", 3, 10, 15),)).status is DltStatus.NO_DLT


def test_grade_3_kidney_injury_resolved_after_8_days_is_a_dlt_from_the_eighth_day() -> None:
    result = evaluate(events=(event("Acute kidney injury", 3, 10, 18, event_id=7),))
    assert [(f.on, f.event_id) for f in result.findings] == [(day(18), 7)]


def test_a_grade_4_record_continued_at_grade_3_is_one_toxicity() -> None:
    records = (event("Acute kidney injury", 4, 10, 12), event("Acute kidney injury", 3, 13, 20))
    assert [f.on for f in evaluate(events=records).findings] == [day(18)]


def test_an_ongoing_toxicity_inside_its_7_days_is_pending() -> None:
    result = evaluate(events=(event("Acute kidney injury", 3, 10, None),), as_of=day(14))
    assert result.status is DltStatus.PENDING
    assert [f.on for f in result.pending] == [day(17)]


def test_a_haematological_toxicity_is_not_a_non_haematological_dlt() -> None:
    count = event("Platelet count decreased", 4, 5, 30, soc="Investigations")
    neutropenia = event("Febrile neutropenia", 3, 5, 30, soc="Blood and lymphatic system disorders")
    assert evaluate(events=(count, neutropenia)).status is DltStatus.NO_DLT


def test_crs_recorded_as_an_adverse_event_is_judged_by_the_crs_definition_only() -> None:
    crs_event = event("Cytokine release syndrome", 3, 1, 12, soc="Immune system disorders", aesi=[Aesi.CRS])
    assert evaluate(events=(crs_event,)).status is DltStatus.NO_DLT


def test_a_toxicity_related_only_to_lymphodepletion_is_not_a_car_t_dlt() -> None:
    toxicity = event(
        "Acute kidney injury",
        3,
        2,
        20,
        related_to_cart=Relatedness.UNLIKELY,
        related_to_lymphodepletion=Relatedness.DEFINITE,
    )
    assert evaluate(events=(toxicity,)).status is DltStatus.NO_DLT


# -- the window -------------------------------------------------------------------------------


def test_without_findings_the_subject_is_pending_until_day_28_has_passed() -> None:
    assert evaluate(grades(crs={1: 1, 2: 0}), as_of=day(28)).status is DltStatus.PENDING
    assert evaluate(grades(crs={1: 1, 2: 0}), as_of=day(29)).status is DltStatus.NO_DLT


@given(
    crs=st.dictionaries(st.integers(0, 28), st.integers(0, 4), max_size=10),
    worse_day=st.integers(0, 28),
)
def test_raising_a_crs_grade_never_removes_a_dlt(crs: dict[int, int], worse_day: int) -> None:
    before = evaluate(grades(crs=crs))
    worse = dict(crs)
    worse[worse_day] = max(worse.get(worse_day, 0), 4)
    after = evaluate(grades(crs=worse))
    assert after.status is DltStatus.DLT
    assert len(after.findings) >= len(before.findings)
