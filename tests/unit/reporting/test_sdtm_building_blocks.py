"""SDTM building blocks: identifiers, ISO 8601 dates, study days (no day 0), --SEQ, design datasets."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.eligibility.rules import load_rules
from celltrial.protocol.library import load_settings, load_study
from celltrial.reporting.ctgov_results import current_record
from celltrial.reporting.sdtm import build_datasets
from celltrial.reporting.sdtm.common import Dataset, iso, study_day, usubjid
from celltrial.reporting.sdtm.design import ietest
from celltrial.reporting.sdtm.events import grading_scale
from celltrial.reporting.sdtm.metadata import standard
from celltrial.reporting.trialdata import AdverseEventRecord, SiteRecord, SubjectRecord, TrialData

INFUSION = date(2026, 3, 10)


def subject(number: str | None = "S01-001") -> SubjectRecord:
    return SubjectRecord(
        1,
        "S01",
        "S01-S001",
        number,
        "infused",
        "female",
        1980,
        45,
        date(2026, 3, 1),
        INFUSION,
        None,
        datetime(2026, 3, 10, tzinfo=UTC),
    )


def empty_trial() -> TrialData:
    return TrialData(
        nct_id="NCT07008872",
        title="CD7 CAR-T",
        status="RECRUITING",
        enrolled_count=0,
        record=load_study("NCT07008872"),
        settings=load_settings("NCT07008872"),
        rules=load_rules("NCT07008872"),
        extracted_at=datetime(2026, 11, 1, tzinfo=UTC),
        draft=False,
        sites=(SiteRecord(1, "S01", "First Hospital", "China"),),
        subjects=(),
    )


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (INFUSION, 1),
        (date(2026, 3, 11), 2),
        (date(2026, 3, 9), -1),
        (date(2026, 3, 5), -5),
        (date(2026, 4, 7), 29),
    ],
    ids=[
        "infusion is day 1",
        "next day is 2",
        "day before is -1",
        "lymphodepletion day -5",
        "day 28 visit is 29",
    ],
)
def test_study_days_count_from_the_infusion_without_a_day_zero(day: date, expected: int) -> None:
    assert study_day(day, INFUSION) == expected


def test_no_study_day_is_given_before_the_infusion_is_known() -> None:
    assert study_day(date(2026, 3, 1), None) is None


def test_dates_and_times_are_written_in_iso_8601_to_the_minute() -> None:
    assert iso(date(2026, 3, 10)) == "2026-03-10"
    assert iso("2026-03-10T10:30:00+00:00") == "2026-03-10T10:30"
    assert iso(datetime(2026, 3, 10, 8, 5, 59, tzinfo=UTC)) == "2026-03-10T08:05"
    assert iso(None) is None


def test_the_unique_subject_id_is_study_site_and_subject_number_or_screening_number() -> None:
    assert usubjid("NCT07008872", subject()) == "NCT07008872-S01-S01-001"
    assert usubjid("NCT07008872", subject(None)) == "NCT07008872-S01-S01-S001"


def test_sequence_numbers_restart_for_each_subject_after_sorting_by_the_domain_keys() -> None:
    ae = Dataset("AE")
    for key, term, start in (
        ("B", "Nausea", "2026-03-12"),
        ("A", "Fever", "2026-03-11"),
        ("A", "Cough", "2026-03-12"),
    ):
        ae.add(STUDYID="X", USUBJID=key, AEDECOD=term, AESTDTC=start)
    ae.number()
    assert [(r["USUBJID"], r["AEDECOD"], r["AESEQ"]) for r in ae.rows] == [
        ("A", "Cough", 1),
        ("A", "Fever", 2),
        ("B", "Nausea", 1),
    ]


def test_a_variable_the_domain_does_not_have_is_refused() -> None:
    with pytest.raises(KeyError, match="AE has no variables"):
        Dataset("AE").add(LBTESTCD="HGB")


def test_long_criterion_text_is_cut_at_a_word_within_the_200_characters_of_ietest() -> None:
    text = "word " * 100
    cut = ietest(text)
    assert len(cut) <= 200
    assert cut.endswith(" ...")
    assert ietest("Active GVHD") == "Active GVHD"


@pytest.mark.parametrize(
    ("term", "aesi", "scale"),
    [
        ("Cytokine release syndrome", (), "ASTCT 2019"),
        ("Encephalopathy", ("icans",), "ASTCT 2019"),
        ("Nausea", (), "CTCAE v5.0"),
    ],
    ids=["CRS by ASTCT", "ICANS marked as AESI by ASTCT", "other events by CTCAE"],
)
def test_crs_and_icans_are_graded_by_astct_and_everything_else_by_ctcae(
    term: str, aesi: tuple[str, ...], scale: str
) -> None:
    event = AdverseEventRecord(
        1,
        1,
        term,
        None,
        "Nervous system disorders",
        2,
        "5.0",
        INFUSION,
        None,
        False,
        (),
        "possible",
        "unlikely",
        (),
        "recovered",
        aesi,
    )
    assert grading_scale(event) == scale


def test_every_sdtmig_variable_name_and_label_fits_xpt_version_5() -> None:
    for domain in standard().domains.values():
        assert len(domain.name) <= 8
        assert domain.variables[0].name == "STUDYID"
        for variable in domain.variables:
            assert len(variable.name) <= 8
            assert len(variable.label) <= 40


def test_the_design_datasets_hold_every_top_level_criterion_and_the_planned_visits() -> None:
    datasets = {dataset.domain: dataset for dataset in build_datasets(empty_trial())}
    ti = datasets["TI"].rows
    assert [r["IETESTCD"] for r in ti] == [f"I{n}" for n in range(1, 10)] + [f"E{n}" for n in range(1, 13)]
    ts = {r["TSPARMCD"]: r["TSVAL"] for r in datasets["TS"].rows}
    assert (ts["REGID"], ts["PLANSUB"], ts["AGEMIN"], ts["AGEMAX"]) == ("NCT07008872", "40", "P14Y", "P75Y")
    visit_days = {r["VISIT"]: r["VISITDY"] for r in datasets["TV"].rows}
    assert (visit_days["INFUSION"], visit_days["LYMPHODEPLETION"], visit_days["DAY 28"]) == (1, -5, 29)
    assert visit_days["SCREENING"] is None
    assert datasets["DM"].rows == []


@given(st.dates(date(2000, 1, 1), date(2040, 12, 31)), st.dates(date(2000, 1, 1), date(2040, 12, 31)))
def test_a_study_day_is_never_zero_and_keeps_the_order_of_the_calendar(day: date, reference: date) -> None:
    value = study_day(day, reference)
    assert value is not None
    assert value != 0
    assert (value > 0) == (day >= reference)
    later = study_day(day + timedelta(days=1), reference)
    assert later is not None
    assert later > value


def test_the_registry_record_reports_actual_enrolment_once_recruitment_has_ended() -> None:
    ended = replace(empty_trial(), status="COMPLETED", enrolled_count=37)
    record = current_record(ended)["protocolSection"]
    assert record["statusModule"]["overallStatus"] == "COMPLETED"
    assert record["designModule"]["enrollmentInfo"] == {"count": 37, "type": "ACTUAL"}
    assert record["statusModule"]["statusVerifiedDate"] == "2026-11"
