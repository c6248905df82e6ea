"""Protocol settings: every value sourced, the schedule as the protocol describes it."""

from __future__ import annotations

import pytest

from celltrial.errors import InvalidInput
from celltrial.protocol.library import load_settings
from celltrial.protocol.settings import parse_settings


@pytest.fixture(scope="module")
def settings():
    return load_settings("NCT07008872")


def test_the_enrolment_cap_comes_from_the_registry(settings):
    assert settings.enrolment.cap.value == 40
    assert settings.enrolment.cap.source == "protocol"


def test_the_schedule_has_the_visits_the_protocol_names(settings):
    days = {visit.code: (visit.anchor, visit.day) for visit in settings.schedule.visits}
    assert days["D0"] == ("infusion", 0)
    assert days["LD"] == ("infusion", -5)
    assert [days[code][1] for code in ("D7", "D14", "D21", "D28")] == [7, 14, 21, 28]
    assert [code for code in days if code.startswith("M")] == ["M2", "M3", "M6", "M9", "M12", "M18", "M24"]
    assert settings.schedule.daily_crs_icans_days.value == [1, 14]
    assert settings.schedule.long_term_follow_up.until_years == 15


def test_windows_are_two_days_to_day_28_and_seven_after(settings):
    for visit in settings.schedule.visits:
        if visit.anchor == "infusion" and 7 <= visit.day <= 28:
            assert (visit.before, visit.after) == (2, 2), visit.code
        if visit.anchor == "infusion" and visit.day > 28:
            assert (visit.before, visit.after) == (7, 7), visit.code


def test_values_the_registry_states_are_marked_protocol_and_the_rest_assumption(settings):
    assumptions = settings.assumptions()
    assert "eligibility.mi_lookback_months" not in assumptions
    assert "eligibility.lab_window_days" in assumptions
    assert "release_specifications.viability_percent_min" in assumptions


def test_a_setting_without_its_source_is_refused():
    with pytest.raises(InvalidInput) as caught:
        parse_settings("study: X\nsettings_version: '1'\nenrolment:\n  cap: {value: 40}\n")
    assert "enrolment.cap.source" in caught.value.field


def test_a_settings_file_that_is_not_yaml_is_refused():
    with pytest.raises(InvalidInput) as caught:
        parse_settings("a: [unclosed", origin="x.yaml")
    assert caught.value.field == "x.yaml"
