"""Visits on SQLite and PostgreSQL: the schedule at enrolment, re-dated on infusion, flags, unscheduled."""

from __future__ import annotations

from datetime import timedelta

from edc_world import TODAY, Edc, days_ago, edc_fixture  # noqa: F401
from sqlalchemy import func, select

from celltrial.errors import Conflict, InvalidInput, NotFound
from celltrial.protocol.library import load_settings
from celltrial.study.audit import service as audit
from celltrial.study.forms.models import FormInstance
from celltrial.study.subjects import service as subjects
from celltrial.study.visits import service as visits
from celltrial.study.visits.models import VisitRead
from celltrial.study.visits.schedule import plan_schedule

SCHEDULE = load_settings("NCT07008872").schedule


def enrolled_long_ago(edc: Edc, *, enrolled: int = 60) -> int:
    subject_id = edc.new_subject()
    edc.consent(subject_id, day=days_ago(enrolled + 10))
    edc.screen(subject_id, screening_date=days_ago(enrolled + 5))
    edc.run(lambda s: subjects.enrol(s, subject_id=subject_id, by=edc["investigator"], on=days_ago(enrolled)))
    return subject_id


def infuse(edc: Edc, subject_id: int, days: int) -> None:
    coordinator = edc["coordinator"]
    move = subjects.change_status
    edc.run(lambda s: move(s, subject_id=subject_id, status="apheresed", reason="collected", by=coordinator))
    edc.run(
        lambda s: move(
            s, subject_id=subject_id, status="infused", on=days_ago(days), reason="given", by=coordinator
        )
    )


def shown(edc: Edc, subject_id: int, today: object = TODAY) -> dict[str, VisitRead]:
    listed = edc.run(
        lambda s: visits.list_visits(s, subject_id=subject_id, today=today, by=edc["coordinator"])
    )  # type: ignore[arg-type]
    return {visit.code: visit for visit in listed}


def test_enrolment_creates_the_whole_schedule_dated_from_the_enrolment(edc: Edc) -> None:
    subject_id = enrolled_long_ago(edc)
    enrolled = days_ago(60)
    listed = shown(edc, subject_id)
    assert set(listed) == {visit.code for visit in plan_schedule(SCHEDULE, enrolment=enrolled)}
    scr, aph, d7 = listed["SCR"], listed["APH"], listed["D7"]
    assert (scr.target_date, scr.window_start, scr.window_end, scr.actual_date) == (
        enrolled - timedelta(days=28),
        enrolled - timedelta(days=28),
        enrolled,
        days_ago(65),
    )
    assert (aph.target_date, aph.provisional) == (enrolled + timedelta(days=3), False)
    assert (d7.target_date, d7.provisional, d7.missed) == (enrolled + timedelta(days=7), True, False)
    with edc.sessions() as session:
        d0_forms = session.scalars(
            select(FormInstance.form_code)
            .where(FormInstance.visit_id == listed["D0"].id)
            .order_by(FormInstance.form_code)
        ).all()
    assert d0_forms == sorted(["infusion", "vital_signs", "crs_icans_daily", "kinetics_sample"])


def test_the_infusion_re_dates_its_visits_from_day_0_and_the_audit_trail_says_why(edc: Edc) -> None:
    subject_id = enrolled_long_ago(edc)
    infuse(edc, subject_id, 40)
    listed = shown(edc, subject_id)
    day0 = days_ago(40)
    assert (listed["D7"].target_date, listed["D7"].provisional) == (day0 + timedelta(days=7), False)
    assert listed["LD"].target_date == day0 - timedelta(days=5)
    assert listed["CRS3"].target_date == day0 + timedelta(days=3)
    with edc.sessions() as session:
        entries = audit.history(session, subject_id=subject_id)
    reasons = {entry.reason for entry in entries if entry.entity == "visit" and entry.action == "update"}
    assert reasons == {"subject enrolled", f"infusion on {day0}"}


def test_a_visit_outside_its_window_is_flagged_and_a_passed_window_is_missed(edc: Edc) -> None:
    subject_id = enrolled_long_ago(edc)
    infuse(edc, subject_id, 40)
    listed = shown(edc, subject_id)
    by = edc["coordinator"]
    edc.run(lambda s: visits.record_visit_date(s, visit_id=listed["D14"].id, on=days_ago(40 - 20), by=by))
    edc.run(lambda s: visits.record_visit_date(s, visit_id=listed["D21"].id, on=days_ago(40 - 21), by=by))
    listed = shown(edc, subject_id)
    assert (listed["D14"].out_of_window, listed["D14"].missed) == (True, False)
    assert (listed["D21"].out_of_window, listed["D21"].missed) == (False, False)
    assert listed["D7"].missed
    assert listed["D7"].overdue_days == 40 - 9
    assert not listed["M2"].missed
    early = shown(edc, subject_id, today=days_ago(40 - 8))
    assert not early["D7"].missed
    missed = edc.run(lambda s: visits.missed_visits(s, study_id=edc.study_id, today=TODAY, by=edc["monitor"]))
    assert "D7" in {visit.code for _, visit in missed}
    assert "D14" not in {visit.code for _, visit in missed}


def test_only_visits_due_before_a_withdrawal_can_be_missed(edc: Edc) -> None:
    subject_id = enrolled_long_ago(edc)
    edc.run(
        lambda s: subjects.change_status(
            s,
            subject_id=subject_id,
            status="withdrawn",
            reason="investigator decision",
            by=edc["investigator"],
        )
    )
    far_future = TODAY + timedelta(days=900)
    listed = shown(edc, subject_id, today=far_future)
    assert {code for code, visit in listed.items() if visit.missed} == {"APH"}


def test_changing_a_recorded_visit_date_needs_a_reason_and_the_future_is_refused(edc: Edc) -> None:
    subject_id = enrolled_long_ago(edc)
    aph = shown(edc, subject_id)["APH"].id
    by = edc["coordinator"]
    edc.run(lambda s: visits.record_visit_date(s, visit_id=aph, on=days_ago(57), by=by))
    edc.refuses(
        InvalidInput,
        lambda s: visits.record_visit_date(s, visit_id=aph, on=days_ago(56), by=by),
        field="reason",
    )
    edc.refuses(
        InvalidInput,
        lambda s: visits.record_visit_date(s, visit_id=aph, on=TODAY + timedelta(days=1), reason="x", by=by),
        field="on",
    )
    edc.run(lambda s: visits.record_visit_date(s, visit_id=aph, on=days_ago(56), reason="wrong day", by=by))
    assert shown(edc, subject_id)["APH"].actual_date == days_ago(56)


def test_an_unscheduled_visit_gets_its_forms_and_needs_a_reason(edc: Edc) -> None:
    subject_id = enrolled_long_ago(edc)
    by = edc["coordinator"]
    add = visits.add_unscheduled
    visit = edc.run(
        lambda s: add(
            s,
            subject_id=subject_id,
            on=days_ago(2),
            reason="fever",
            form_codes=["vital_signs", "labs"],
            by=by,
        )
    )
    assert (visit.code, visit.unscheduled, visit.forms) == ("UNS1", True, ["vital_signs", "labs"])
    with edc.sessions() as session:
        count = session.scalar(select(func.count()).where(FormInstance.visit_id == visit.id))
    assert count == 2
    edc.refuses(
        InvalidInput,
        lambda s: add(s, subject_id=subject_id, on=days_ago(1), reason="", form_codes=["labs"], by=by),
        field="reason",
    )
    edc.refuses(
        NotFound,
        lambda s: add(s, subject_id=subject_id, on=days_ago(1), reason="x", form_codes=["ecg"], by=by),
        field="form_code",
    )
    second = edc.run(
        lambda s: add(s, subject_id=subject_id, on=days_ago(1), reason="rash", form_codes=[], by=by)
    )
    assert second.code == "UNS2"


def test_no_unscheduled_visit_before_consent(edc: Edc) -> None:
    subject_id = edc.new_subject()
    edc.refuses(
        Conflict,
        lambda s: visits.add_unscheduled(
            s, subject_id=subject_id, on=days_ago(1), reason="x", form_codes=[], by=edc["coordinator"]
        ),
        field="consent",
    )
