"""The CRF data dictionaries and the pure edit-check engine."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celltrial.errors import InvalidInput, NotFound
from celltrial.protocol.library import load_settings
from celltrial.study.forms.checks import CheckFailure, run_edit_checks, visible_fields
from celltrial.study.forms.dictionary import form_definition, form_definitions, parse_form_definition
from celltrial.study.forms.values import coerce_values

TODAY = date(2026, 3, 1)
ISSUE_FORMS = {
    "screening",
    "demographics",
    "medical_history",
    "prior_therapy",
    "apheresis",
    "lymphodepletion",
    "infusion",
    "vital_signs",
    "labs",
    "crs_icans_daily",
    "adverse_events",
    "conmeds",
    "response",
    "lesions",
    "kinetics_sample",
    "disposition",
    "death",
}


def checks(form: str, values: dict[str, object], **options: object) -> list[CheckFailure]:
    definition = form_definition(form)
    return run_edit_checks(definition, coerce_values(definition, values), today=TODAY, **options)  # type: ignore[arg-type]


def test_every_form_the_trial_needs_is_defined_as_data() -> None:
    assert set(form_definitions()) == ISSUE_FORMS


def test_every_form_of_the_schedule_of_assessments_has_a_definition() -> None:
    schedule = load_settings("NCT07008872").schedule
    named = {form for visit in schedule.visits for form in visit.forms} | set(
        schedule.long_term_follow_up.forms
    )
    assert named <= set(form_definitions())


def test_an_unknown_form_is_not_found_with_the_known_codes() -> None:
    with pytest.raises(NotFound, match=r"no form 'ecg'.*vital_signs"):
        form_definition("ecg")


def test_a_value_inside_the_expected_range_passes() -> None:
    assert checks("vital_signs", {"heart_rate": 180, "temperature": "36.8"}) == []


def test_a_value_above_the_expected_range_fails_on_its_field_with_the_range_in_the_message() -> None:
    [failure] = checks("vital_signs", {"heart_rate": 250})
    assert failure.field == "heart_rate"
    assert failure.check == "range"
    assert failure.message == "Heart rate 250 /min is above the expected range 40–180 /min"


def test_a_value_below_the_expected_range_fails() -> None:
    [failure] = checks("labs", {"hemoglobin": 12})
    assert (failure.field, failure.check) == ("hemoglobin", "range")
    assert "below the expected range 40–200 g/L" in failure.message


def test_required_fields_are_checked_only_when_the_form_is_complete() -> None:
    assert checks("vital_signs", {"heart_rate": 80}) == []
    missing = {failure.field for failure in checks("vital_signs", {"heart_rate": 80}, require_complete=True)}
    assert missing == {"assessment_date", "temperature", "systolic_bp", "diastolic_bp"}


def test_a_hidden_required_field_is_not_required() -> None:
    values = {
        "assessment_date": "2026-02-01",
        "temperature": 37,
        "heart_rate": 80,
        "systolic_bp": 120,
        "diastolic_bp": 80,
        "on_oxygen": False,
    }
    assert checks("vital_signs", values, require_complete=True) == []
    shown = {
        failure.field
        for failure in checks("vital_signs", values | {"on_oxygen": True}, require_complete=True)
    }
    assert shown == {"oxygen_flow"}


def test_a_value_in_a_field_branching_hides_raises_a_query_on_that_field() -> None:
    [failure] = checks("vital_signs", {"on_oxygen": False, "oxygen_flow": 4})
    assert (failure.field, failure.check) == ("oxygen_flow", "hidden_value")
    assert failure.message == "Oxygen flow should be empty unless On supplemental oxygen is true"


def test_a_field_hidden_by_a_hidden_field_is_hidden_too() -> None:
    definition = form_definition("response")
    shown = visible_fields(definition, {"disease_type": "lymphoma", "mrd_status": "positive"})
    assert "mrd_status" not in shown
    assert "mrd_percent" not in shown
    assert "mrd_percent" in visible_fields(definition, {"disease_type": "leukemia", "mrd_status": "positive"})


def test_diastolic_pressure_at_or_above_systolic_fails_the_cross_field_check() -> None:
    [failure] = checks("vital_signs", {"systolic_bp": 100, "diastolic_bp": 100})
    assert (failure.field, failure.check) == ("diastolic_bp", "diastolic_below_systolic")
    assert "Diastolic blood pressure 100, Systolic blood pressure 100" in failure.message


def test_an_adverse_event_ending_before_it_starts_fails_the_date_order_check_on_the_end_date() -> None:
    values = {"onset_date": "2026-02-10", "ongoing": False, "end_date": "2026-02-09"}
    [failure] = checks("adverse_events", values)
    assert (failure.field, failure.check) == ("end_date", "end_after_onset")
    assert checks("adverse_events", values | {"end_date": "2026-02-10"}) == []


def test_an_infusion_on_or_before_the_apheresis_fails_against_the_apheresis_form() -> None:
    context = {"apheresis": {"collection_date": "2026-01-20"}}
    [failure] = checks("infusion", {"infusion_datetime": "2026-01-20T10:00"}, context=context)
    assert (failure.field, failure.check) == ("infusion_datetime", "after_apheresis")
    assert "apheresis.collection_date 2026-01-20" in failure.message
    assert checks("infusion", {"infusion_datetime": "2026-02-01T10:00"}, context=context) == []


def test_a_cross_form_check_waits_until_the_other_form_has_its_value() -> None:
    assert checks("infusion", {"infusion_datetime": "2026-01-20T10:00"}) == []


def test_lymphodepletion_must_end_before_the_infusion_day() -> None:
    context = {"lymphodepletion": {"end_date": "2026-02-01"}, "apheresis": {"collection_date": "2026-01-05"}}
    failures = checks("infusion", {"infusion_datetime": "2026-02-01T09:30"}, context=context)
    assert [failure.check for failure in failures] == ["after_lymphodepletion"]


def test_a_date_after_today_is_flagged_unless_the_field_allows_it() -> None:
    [failure] = checks("labs", {"collection_date": "2026-03-02"})
    assert (failure.field, failure.check) == ("collection_date", "future_date")


def test_values_of_the_wrong_type_are_refused_naming_the_form_and_field() -> None:
    definition = form_definition("vital_signs")
    for values, field, message in [
        ({"heart_rate": "fast"}, "vital_signs.heart_rate", "expected a whole number"),
        ({"heart_rate": True}, "vital_signs.heart_rate", "expected a whole number"),
        ({"temperature": "NaN"}, "vital_signs.temperature", "expected a number"),
        ({"assessment_date": "2026-02-30"}, "vital_signs.assessment_date", "expected a date"),
        ({"on_oxygen": "perhaps"}, "vital_signs.on_oxygen", "expected yes or no"),
        ({"pulse": 80}, "vital_signs.pulse", "has no field 'pulse'"),
    ]:
        with pytest.raises(InvalidInput, match=message) as refused:
            coerce_values(definition, values)
        assert refused.value.field == field


def test_a_code_outside_the_choices_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidInput, match="'grade 6' is not one of the choices") as refused:
        coerce_values(form_definition("adverse_events"), {"outcome": "grade 6"})
    assert refused.value.field == "adverse_events.outcome"


def test_a_text_longer_than_allowed_is_refused() -> None:
    with pytest.raises(InvalidInput, match="201 characters is longer than 200"):
        coerce_values(form_definition("adverse_events"), {"term": "x" * 201})


def test_values_are_stored_in_one_canonical_form() -> None:
    stored = coerce_values(
        form_definition("infusion"),
        {
            "infusion_datetime": "2026-02-01T10:30:00+02:00",
            "dose_per_kg": "1.0e6",
            "bedside_identity_check": "yes",
            "product_lot": "  LOT-7 ",
            "premedication_given": None,
        },
    )
    assert stored == {
        "infusion_datetime": "2026-02-01T08:30+00:00",
        "dose_per_kg": 1_000_000.0,
        "bedside_identity_check": True,
        "product_lot": "LOT-7",
        "premedication_given": None,
    }


def test_a_definition_whose_branching_names_a_later_field_is_refused_with_its_path() -> None:
    text = """
code: broken
name: Broken
version: 1
fields:
  - {name: a, label: A, type: integer, show_if: {field: b, equals: 1}}
  - {name: b, label: B, type: integer}
"""
    with pytest.raises(InvalidInput, match="not a field above it") as refused:
        parse_form_definition(text, origin="broken.yaml")
    assert refused.value.field == "broken.yaml: $"


def test_a_definition_with_choices_on_a_number_is_refused_naming_the_field() -> None:
    text = """
code: broken
name: Broken
version: 1
fields:
  - {name: a, label: A, type: integer, choices: [{code: x, label: X}]}
"""
    with pytest.raises(InvalidInput, match="field 'a' of type integer cannot have choices") as refused:
        parse_form_definition(text, origin="broken.yaml")
    assert refused.value.field == "broken.yaml: fields.0"


@settings(deadline=None)  # timing on a loaded machine is not what these check
@given(st.integers(min_value=-1000, max_value=1000))
def test_a_range_query_is_raised_exactly_when_the_value_is_outside_the_range(heart_rate: int) -> None:
    failures = checks("vital_signs", {"heart_rate": heart_rate})
    assert bool(failures) is not (40 <= heart_rate <= 180)


@settings(deadline=None)  # timing on a loaded machine is not what these check
@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 3, 1)), st.integers(-30, 30))
def test_the_date_order_check_fails_exactly_when_the_end_precedes_the_start(start: date, shift: int) -> None:
    end = date.fromordinal(start.toordinal() + shift)
    values = {"start_date": start.isoformat(), "ongoing": False, "end_date": end.isoformat()}
    failed = [failure.check for failure in checks("conmeds", values) if failure.check != "future_date"]
    assert (failed == ["end_after_start"]) is (shift < 0)
