"""Safety records on a real database (SQLite and PostgreSQL): audited, computed, refused cleanly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from safety_world import Safety, adverse_event, assessment, at, days_ago

from celltrial.analysis.dlt import DltStatus
from celltrial.analysis.sae_clocks import ClockKind, ClockStatus
from celltrial.errors import Conflict, InvalidInput, NotAllowed, NotFound, StaleVersion
from celltrial.study.audit import service as audit
from celltrial.study.safety import monitoring, reports
from celltrial.study.safety import service as safety_service
from celltrial.study.types import utcnow


def test_an_adverse_event_is_saved_with_the_protocol_ctcae_version_and_audited(safety: Safety) -> None:
    subject_id = safety.infused_subject()
    event_id = safety.run(
        lambda s: (
            safety_service.record_adverse_event(
                s, by=safety["coordinator"], subject_id=subject_id, event=adverse_event(days_ago(30))
            ).id
        )
    )
    with safety.sessions() as session:
        event = safety_service.get_adverse_event_or_raise(session, event_id=event_id)
        entries = audit.history(session, entity="adverse_event", entity_id=str(event_id))
    assert (event.term, event.grade, event.ctcae_version, event.soc) == (
        "Nausea",
        2,
        "5.0",
        "Gastrointestinal disorders",
    )
    assert [(e.action, e.actor, e.subject_id) for e in entries] == [("create", "coordinator", subject_id)]
    assert '"grade":2' in (entries[0].new_value or "")


def test_a_correction_is_audited_field_by_field_with_its_reason_and_bumps_the_version(safety: Safety) -> None:
    subject_id = safety.infused_subject()
    by = safety["investigator"]
    event_id = safety.run(
        lambda s: (
            safety_service.record_adverse_event(
                s, by=by, subject_id=subject_id, event=adverse_event(days_ago(30))
            ).id
        )
    )
    safety.run(
        lambda s: safety_service.update_adverse_event(
            s, by=by, event_id=event_id, changes={"grade": 3}, version=1, reason="worse than first noted"
        )
    )
    with safety.sessions() as session:
        entries = audit.history(session, entity="adverse_event", entity_id=str(event_id))
        event = safety_service.get_adverse_event_or_raise(session, event_id=event_id)
    assert [(e.action, e.field, e.old_value, e.new_value, e.reason) for e in entries[1:]] == [
        ("update", "grade", "2", "3", "worse than first noted")
    ]
    assert event.version == 2
    with pytest.raises(StaleVersion):
        safety.run(
            lambda s: safety_service.update_adverse_event(
                s, by=by, event_id=event_id, changes={"grade": 2}, version=1, reason="stale"
            )
        )


def test_the_daily_assessment_computes_the_astct_grades(safety: Safety) -> None:
    subject_id = safety.infused_subject()
    row = safety.run(
        lambda s: safety_service.record_assessment(
            s,
            by=safety["coordinator"],
            subject_id=subject_id,
            assessment=assessment(
                days_ago(38),
                temperature_c=39.1,
                hypotension="no_vasopressor",
                hypoxia="high_flow",
                ice_score=5,
            ),
        )
    )
    assert (row.crs_grade, row.icans_grade) == (3, 2)
    assert row.crs_drivers == ["hypoxia requiring high-flow oxygen (> 6 L/min) or a mask"]
    assert row.icans_drivers == ["ICE score 5 (3-6)"]
    with safety.sessions() as session:
        entry = audit.history(session, entity="crs_icans_assessment", entity_id=str(row.id))[0]
    assert '"crs_grade":3' in (entry.new_value or "")


def test_a_corrected_assessment_is_graded_again(safety: Safety) -> None:
    subject_id = safety.infused_subject()
    by = safety["coordinator"]
    row = safety.run(
        lambda s: safety_service.record_assessment(
            s, by=by, subject_id=subject_id, assessment=assessment(days_ago(38), temperature_c=38.5)
        )
    )
    assert row.crs_grade == 1
    corrected = safety.run(
        lambda s: safety_service.correct_assessment(
            s,
            by=by,
            assessment_id=row.id,
            changes={"hypotension": "one_vasopressor"},
            version=1,
            reason="chart",
        )
    )
    assert corrected.crs_grade == 3
    with safety.sessions() as session:
        fields = [
            e.field for e in audit.history(session, entity="crs_icans_assessment", entity_id=str(row.id))
        ]
    assert fields == [None, "hypotension", "crs_grade", "crs_drivers"]


def test_a_typed_grade_is_refused_and_nothing_is_written(safety: Safety) -> None:
    subject_id = safety.infused_subject()
    before = safety.footprint()
    with pytest.raises(InvalidInput, match="computed") as error:
        safety.run(
            lambda s: safety_service.record_assessment(
                s,
                by=safety["coordinator"],
                subject_id=subject_id,
                assessment={**assessment(days_ago(38)), "crs_grade": 2},
            )
        )
    assert error.value.field == "crs_grade"
    assert safety.footprint() == before


INCONSISTENT = [
    ({"grade": 5}, "outcome"),  # grade 5 without outcome fatal
    ({"soc": "Liver problems"}, "soc"),  # not a CTCAE system organ class
    ({"serious": True, "seriousness": ["hospitalisation"]}, "site_awareness_at"),  # no clock start
    ({"resolution_date": None}, "resolution_date"),  # recovered without an end date
    ({"meddra_code": "12ab"}, "meddra_code"),  # MedDRA codes are 8 digits
    ({"aesi": ["prolonged_cytopenia"]}, "aesi"),  # ended before day 28
    ({"onset_date": days_ago(-2)}, "onset_date"),  # in the future
    ({"term": "Nausea", "crs_grade": 1}, "crs_grade"),  # not a field an adverse event has
]


def test_an_inconsistent_adverse_event_changes_nothing_and_names_its_field(safety: Safety) -> None:
    subject_id = safety.infused_subject()
    before = safety.footprint()
    for changes, field in INCONSISTENT:
        with pytest.raises(InvalidInput) as error:
            safety.run(
                lambda s, c=changes: safety_service.record_adverse_event(
                    s, by=safety["coordinator"], subject_id=subject_id, event=adverse_event(days_ago(30), **c)
                )
            )
        assert error.value.field == field, (changes, str(error.value))
        assert safety.footprint() == before


def test_safety_data_need_an_enrolled_subject(safety: Safety) -> None:
    subject_id = safety.edc.eligible_subject()
    before = safety.footprint()
    with pytest.raises(Conflict, match="enrolled subjects"):
        safety.run(
            lambda s: safety_service.record_adverse_event(
                s, by=safety["coordinator"], subject_id=subject_id, event=adverse_event(days_ago(1))
            )
        )
    assert safety.footprint() == before


def test_roles_and_sites_are_enforced(safety: Safety) -> None:
    subject_id = safety.infused_subject()
    with pytest.raises(NotAllowed):
        safety.run(
            lambda s: safety_service.record_adverse_event(
                s, by=safety["monitor"], subject_id=subject_id, event=adverse_event(days_ago(30))
            )
        )
    with pytest.raises(NotFound):
        safety.run(
            lambda s: safety_service.record_adverse_event(
                s, by=safety["investigator_s02"], subject_id=subject_id, event=adverse_event(days_ago(30))
            )
        )


def test_an_sae_unreported_after_24_hours_is_overdue_for_the_sponsor_and_the_site(safety: Safety) -> None:
    subject_id = safety.infused_subject()
    aware = utcnow() - timedelta(hours=30)
    event = adverse_event(
        days_ago(3),
        term="Febrile neutropenia",
        soc="Blood and lymphatic system disorders",
        grade=3,
        serious=True,
        seriousness=["hospitalisation"],
        resolution_date=None,
        outcome="recovering",
        site_awareness_at=aware,
    )
    safety.run(
        lambda s: safety_service.record_adverse_event(
            s, by=safety["investigator"], subject_id=subject_id, event=event
        )
    )
    for viewer in ("sponsor", "investigator"):
        board = safety.run(lambda s, viewer=viewer: reports.clock_board(s, by=safety[viewer], now=utcnow()))
        assert len(board) == 1
        clock = board[0].clocks[0]
        assert (clock.kind, clock.status) == (ClockKind.INITIAL_REPORT, ClockStatus.OVERDUE)
        assert clock.hours_overdue is not None
        assert 5.9 < clock.hours_overdue < 6.1
    other_site = safety.run(lambda s: reports.clock_board(s, by=safety["investigator_s02"], now=utcnow()))
    assert other_site == []


def test_a_reported_suspected_unexpected_fatal_sae_runs_a_7_day_susar_clock(safety: Safety) -> None:
    subject_id = safety.infused_subject()
    aware = utcnow() - timedelta(hours=10)
    event = adverse_event(
        days_ago(2),
        term="Cytokine release syndrome",
        soc="Immune system disorders",
        grade=5,
        serious=True,
        seriousness=["death"],
        resolution_date=days_ago(1),
        outcome="fatal",
        related_to_cart="probable",
        aesi=["crs"],
        site_awareness_at=aware,
    )
    safety.run(
        lambda s: safety_service.record_adverse_event(
            s, by=safety["investigator"], subject_id=subject_id, event=event
        )
    )
    sae_id = safety.run(lambda s: reports.clock_board(s, by=safety["sponsor"], now=utcnow())[0].sae_id)
    safety.run(
        lambda s: reports.record_sponsor_report(
            s, by=safety["investigator"], sae_id=sae_id, reported_at=aware + timedelta(hours=2)
        )
    )
    for role in ("investigator", "coordinator", "monitor", "dsmb"):  # a central (sponsor) assessment
        with pytest.raises(NotAllowed) as refused:
            safety.run(
                lambda s, r=role: reports.assess_expectedness(s, by=safety[r], sae_id=sae_id, expected=False)
            )
        assert refused.value.field == "role"
    safety.run(lambda s: reports.assess_expectedness(s, by=safety["sponsor"], sae_id=sae_id, expected=False))
    board = safety.run(lambda s: reports.clock_board(s, by=safety["sponsor"], now=utcnow()))
    kinds = {clock.kind: clock for clock in board[0].clocks}
    assert kinds[ClockKind.INITIAL_REPORT].status is ClockStatus.MET
    susar = kinds[ClockKind.SUSAR_REPORT]
    assert susar.due_at - susar.started_at == timedelta(days=7)
    assert susar.status is ClockStatus.PENDING
    submitted = aware + timedelta(hours=5)
    with pytest.raises(NotAllowed):
        safety.run(
            lambda s: reports.record_susar_submission(
                s, by=safety["investigator"], sae_id=sae_id, submitted_at=submitted
            )
        )
    sae = safety.run(
        lambda s: reports.record_susar_submission(
            s, by=safety["sponsor"], sae_id=sae_id, submitted_at=submitted
        )
    )
    assert sae.susar_reported_at == submitted


def test_grade_4_crs_in_the_window_is_detected_as_a_dlt_and_confirmed_by_the_investigator(
    safety: Safety,
) -> None:
    subject_id = safety.infused_subject(infused_days_ago=40)
    by = safety["coordinator"]
    for day, changes in (
        (days_ago(39), {"temperature_c": 39.0}),
        (days_ago(38), {"temperature_c": 39.5, "hypotension": "multiple_vasopressors"}),
        (days_ago(37), {}),
    ):
        safety.run(
            lambda s, d=day, c=changes: safety_service.record_assessment(
                s, by=by, subject_id=subject_id, assessment=assessment(d, **c)
            )
        )
    evaluation = safety.run(
        lambda s: monitoring.dlt_evaluation(s, by=safety["investigator"], subject_id=subject_id)
    )
    assert evaluation.status is DltStatus.DLT
    assert [f.criterion for f in evaluation.findings] == ["grade 4 CRS (ASTCT)"]
    with pytest.raises(NotAllowed):
        safety.run(lambda s: monitoring.confirm_dlt(s, by=by, subject_id=subject_id, is_dlt=True))
    row = safety.run(
        lambda s: monitoring.confirm_dlt(s, by=safety["investigator"], subject_id=subject_id, is_dlt=True)
    )
    assert (row.status, row.investigator_dlt) == ("dlt", True)
    status = safety.run(
        lambda s: monitoring.stopping_rule_status(s, by=safety["dsmb"], study_id=safety.study_id)
    )
    assert (status.infused, status.evaluable, status.events) == (1, 1, 1)
    assert status.decision.rule_applies is False


def test_overruling_the_automatic_evaluation_needs_a_comment(safety: Safety) -> None:
    subject_id = safety.infused_subject(infused_days_ago=40)
    before = safety.footprint()
    with pytest.raises(InvalidInput) as error:
        safety.run(
            lambda s: monitoring.confirm_dlt(s, by=safety["investigator"], subject_id=subject_id, is_dlt=True)
        )
    assert error.value.field == "comment"
    assert safety.footprint() == before


def test_dsmb_tables_come_from_the_database(safety: Safety) -> None:
    subject_id = safety.infused_subject(infused_days_ago=40)
    by = safety["coordinator"]
    safety.run(
        lambda s: safety_service.record_assessment(
            s, by=by, subject_id=subject_id, assessment=assessment(days_ago(39), temperature_c=38.4)
        )
    )
    safety.run(
        lambda s: safety_service.record_assessment(
            s, by=by, subject_id=subject_id, assessment=assessment(days_ago(38))
        )
    )
    safety.run(
        lambda s: safety_service.record_adverse_event(
            s, by=by, subject_id=subject_id, event=adverse_event(days_ago(30))
        )
    )
    tables = safety.run(lambda s: monitoring.dsmb_tables(s, by=safety["dsmb"], study_id=safety.study_id))
    assert tables.subjects == 1
    assert tables.crs.by_max_grade[1] == 1
    assert tables.crs.time_to_onset_days.median == 1.0
    assert [(row.soc, row.any_grade) for row in tables.adverse_events] == [("Gastrointestinal disorders", 1)]


def test_a_naive_awareness_time_is_refused(safety: Safety) -> None:
    subject_id = safety.infused_subject()
    event = adverse_event(
        days_ago(3),
        serious=True,
        seriousness=["hospitalisation"],
        site_awareness_at=at(days_ago(2)).replace(tzinfo=None),
    )
    before = safety.footprint()
    with pytest.raises(InvalidInput) as error:
        safety.run(
            lambda s: safety_service.record_adverse_event(
                s, by=safety["investigator"], subject_id=subject_id, event=event
            )
        )
    assert error.value.field == "site_awareness_at"
    assert safety.footprint() == before
