"""Subjects on SQLite and PostgreSQL: registration, screening, enrolment, status, who sees what."""

from __future__ import annotations

from datetime import date

import pytest
from edc_world import Edc, days_ago, edc_fixture, eligibility_result  # noqa: F401
from sqlalchemy import select

from celltrial.errors import Conflict, IllegalTransition, InvalidInput, NotAllowed, NotFound
from celltrial.protocol.status import StudyStatus
from celltrial.study.audit import service as audit
from celltrial.study.consent import service as consents
from celltrial.study.forms.models import FormInstance
from celltrial.study.screening import service as screenings
from celltrial.study.subjects import service as subjects
from celltrial.study.subjects.models import SubjectIdentified, SubjectRead
from celltrial.study.subjects.status import SubjectStatus
from celltrial.study.trial import service as trials
from celltrial.study.visits.models import Visit


def test_a_registered_subject_is_screening_with_a_site_prefixed_screening_number(edc: Edc) -> None:
    first, second = edc.new_subject(), edc.new_subject()
    other_site = edc.new_subject(site="S02")
    numbers = [edc.subject(i).screening_number for i in (first, second, other_site)]
    assert numbers == ["S01-S001", "S01-S002", "S02-S001"]
    assert edc.subject(first).status is SubjectStatus.SCREENING
    assert edc.subject(first).subject_number is None


def test_registration_creates_the_screening_visit_with_its_forms_and_an_audit_entry(edc: Edc) -> None:
    subject_id = edc.new_subject()
    with edc.sessions() as session:
        [visit] = session.scalars(select(Visit).where(Visit.subject_id == subject_id)).all()
        codes = sorted(
            session.scalars(select(FormInstance.form_code).where(FormInstance.visit_id == visit.id))
        )
        history = audit.history(session, subject_id=subject_id)
    assert visit.code == "SCR"
    assert visit.target_date is None
    assert codes == sorted(
        ["screening", "demographics", "medical_history", "prior_therapy", "vital_signs", "labs"]
    )
    assert history[0].entity == "subject"
    assert history[0].action == "create"
    assert history[0].actor == "investigator"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date_of_birth": date(2999, 1, 1)}, "date_of_birth"),
        ({"sex": "unknown"}, "sex"),
        ({"initials": "j"}, "initials"),
        ({"initials": "J0E"}, "initials"),
    ],
)
def test_registration_refuses_bad_input_naming_the_field_and_writes_nothing(
    edc: Edc, change: dict[str, object], field: str
) -> None:
    values: dict[str, object] = {"date_of_birth": date(1980, 1, 1), "sex": "male", "initials": "JD"} | change
    edc.refuses(
        InvalidInput,
        lambda s: subjects.register(
            s,
            study_id=edc.study_id,
            site_id=edc.world.s01.id,
            by=edc["coordinator"],
            **values,  # type: ignore[arg-type]
        ),
        field=field,
    )


def test_a_site_user_cannot_register_at_another_site_and_the_dsmb_cannot_register_at_all(edc: Edc) -> None:
    values = {"date_of_birth": date(1980, 1, 1), "sex": "male", "initials": "JD"}
    edc.refuses(
        NotFound,
        lambda s: subjects.register(
            s, study_id=edc.study_id, site_id=edc.world.s02.id, by=edc["coordinator"], **values
        ),  # type: ignore[arg-type]
        field="subject",
    )
    edc.refuses(
        NotAllowed,
        lambda s: subjects.register(
            s, study_id=edc.study_id, site_id=edc.world.s01.id, by=edc["dsmb"], **values
        ),  # type: ignore[arg-type]
        field="role",
    )


def test_a_site_user_does_not_see_another_sites_subjects(edc: Edc) -> None:
    mine, theirs = edc.new_subject(), edc.new_subject(site="S02")
    listed = edc.run(lambda s: [x.id for x in subjects.list_subjects(s, by=edc["coordinator"])])
    assert listed == [mine]
    with pytest.raises(NotFound):
        edc.run(lambda s: subjects.get(s, subject_id=theirs, by=edc["coordinator"]))
    everyone = edc.run(lambda s: [x.id for x in subjects.list_subjects(s, by=edc["sponsor"])])
    assert sorted(everyone) == sorted([mine, theirs])


@pytest.mark.parametrize(
    ("role", "identified"), [("coordinator", True), ("monitor", True), ("sponsor", False), ("dsmb", False)]
)
def test_identifying_data_are_shown_only_to_roles_that_need_them(
    edc: Edc, role: str, identified: bool
) -> None:
    subject_id = edc.new_subject(initials="MKL")
    shown = edc.run(
        lambda s: subjects.read(subjects.get(s, subject_id=subject_id, by=edc[role]), by=edc[role])
    )
    dumped = shown.model_dump()
    assert isinstance(shown, SubjectIdentified) is identified
    assert isinstance(shown, SubjectRead)
    assert ("initials" in dumped) is identified
    assert ("date_of_birth" in dumped) is identified


def test_an_ineligible_screening_makes_the_subject_screen_failed_with_the_failing_criteria(edc: Edc) -> None:
    subject_id = edc.new_subject()
    edc.screen(subject_id, verdicts={"I7": "not_met", "E3": "met", "I4": "needs_review"})
    assert edc.subject(subject_id).status is SubjectStatus.SCREEN_FAILED
    log = edc.run(lambda s: screenings.screening_log(s, study_id=edc.study_id, by=edc["data_manager"]))
    assert [(row.screening_number, row.decision, row.screen_fail_reasons) for row in log] == [
        ("S01-S001", "ineligible", ("I7", "E3"))
    ]


def test_a_screen_failed_patient_may_be_screened_again_as_a_new_attempt(edc: Edc) -> None:
    subject_id = edc.new_subject()
    edc.screen(subject_id, verdicts={"I7": "not_met"})
    second = edc.screen(subject_id)
    attempt = edc.run(lambda s: screenings.latest(s, subject_id=subject_id))
    assert attempt is not None
    assert (attempt.id, attempt.attempt, attempt.decision) == (second, 2, "eligible")
    assert edc.subject(subject_id).status is SubjectStatus.SCREENING


def test_the_screening_keeps_the_engine_result_frozen_with_its_rule_set_version_and_hash(edc: Edc) -> None:
    subject_id = edc.new_subject()
    result = eligibility_result(rule_set_version="rules 2026-11")
    attempt_id = edc.run(
        lambda s: screenings.record(s, subject_id=subject_id, result=result, by=edc["coordinator"]).id
    )
    shown = edc.run(lambda s: screenings.read(s, attempt=s.get_one(screenings.ScreeningAttempt, attempt_id)))
    assert shown.rule_set_version == "rules 2026-11"
    assert shown.snapshot["criteria"] == result["criteria"]
    assert shown.decision == shown.engine_decision == "eligible"
    attempt = lambda s: s.get_one(screenings.ScreeningAttempt, attempt_id)  # noqa: E731
    for_sponsor = edc.run(lambda s: screenings.read(s, attempt=attempt(s), by=edc["sponsor"]))
    assert [c["verdict"] for c in for_sponsor.snapshot["criteria"]] == [
        c["verdict"] for c in result["criteria"]
    ]
    assert all("evidence" not in c for c in for_sponsor.snapshot["criteria"])
    for_monitor = edc.run(lambda s: screenings.read(s, attempt=attempt(s), by=edc["monitor"]))
    assert for_monitor.snapshot["criteria"] == result["criteria"]


def test_an_investigator_judgment_settles_a_needs_review_criterion(edc: Edc) -> None:
    subject_id = edc.new_subject()
    attempt_id = edc.screen(subject_id, verdicts={"I4": "needs_review"})
    investigator = edc["investigator"]
    decided = edc.run(
        lambda s: (
            screenings.judge(
                s,
                screening_id=attempt_id,
                criterion_id="I4",
                answer="met",
                comment="survival > 3 months",
                by=investigator,
            ).decision
        )
    )
    assert decided == "eligible"
    shown = edc.run(lambda s: screenings.read(s, attempt=s.get_one(screenings.ScreeningAttempt, attempt_id)))
    [judgment] = shown.judgments
    assert (judgment.criterion_id, judgment.answer, judgment.judged_by_name) == (
        "I4",
        "met",
        investigator.full_name,
    )


def test_a_negative_judgment_screen_fails_the_subject(edc: Edc) -> None:
    subject_id = edc.new_subject()
    attempt_id = edc.screen(subject_id, verdicts={"E12": "needs_review"})
    edc.run(
        lambda s: screenings.judge(
            s,
            screening_id=attempt_id,
            criterion_id="E12",
            answer="met",
            comment="unsuitable",
            by=edc["investigator"],
        )
    )
    assert edc.subject(subject_id).status is SubjectStatus.SCREEN_FAILED


def test_judgments_are_refused_on_rule_decided_criteria_by_coordinators_and_without_grounds(edc: Edc) -> None:
    subject_id = edc.new_subject()
    attempt_id = edc.screen(subject_id, verdicts={"I4": "needs_review"})
    judge = screenings.judge
    inv = edc["investigator"]
    edc.refuses(
        InvalidInput,
        lambda s: judge(s, screening_id=attempt_id, criterion_id="I7", answer="met", comment="x", by=inv),
        field="criterion_id",
    )
    edc.refuses(
        InvalidInput,
        lambda s: judge(s, screening_id=attempt_id, criterion_id="I4", answer="yes", comment="x", by=inv),
        field="answer",
    )
    edc.refuses(
        InvalidInput,
        lambda s: judge(s, screening_id=attempt_id, criterion_id="I4", answer="met", comment=" ", by=inv),
        field="comment",
    )
    edc.refuses(
        NotAllowed,
        lambda s: judge(
            s, screening_id=attempt_id, criterion_id="I4", answer="met", comment="x", by=edc["coordinator"]
        ),
        field="role",
    )


def test_a_result_whose_decision_contradicts_its_verdicts_is_refused(edc: Edc) -> None:
    subject_id = edc.new_subject()
    result = eligibility_result(verdicts={"I7": "not_met"}) | {"decision": "eligible"}
    error = edc.refuses(
        InvalidInput,
        lambda s: screenings.record(s, subject_id=subject_id, result=result, by=edc["coordinator"]),
        field="result.decision",
    )
    assert "gives 'ineligible'" in str(error) or "give 'ineligible'" in str(error)


def test_a_malformed_result_is_refused_naming_its_json_path(edc: Edc) -> None:
    subject_id = edc.new_subject()
    result = eligibility_result()
    result["criteria"][2]["verdict"] = "maybe"
    edc.refuses(
        InvalidInput,
        lambda s: screenings.record(s, subject_id=subject_id, result=result, by=edc["coordinator"]),
        field="result.criteria[2].verdict",
    )
    edc.refuses(
        InvalidInput,
        lambda s: screenings.record(
            s, subject_id=subject_id, result=eligibility_result(rule_set_version=None), by=edc["coordinator"]
        ),
        field="rule_set_version",
    )


def test_an_eligible_consented_subject_is_enrolled_with_the_next_subject_number(edc: Edc) -> None:
    first = edc.enrolled_subject()
    second = edc.enrolled_subject()
    other = edc.enrolled_subject(site="S02")
    assert [edc.subject(i).subject_number for i in (first, second, other)] == [
        "S01-001",
        "S01-002",
        "S02-001",
    ]
    assert edc.subject(first).status is SubjectStatus.ENROLLED
    assert edc.run(lambda s: trials.get_or_raise(s, study_id=edc.study_id).enrolled_count) == 3


def test_enrolment_needs_an_eligible_latest_screening(edc: Edc) -> None:
    subject_id = edc.new_subject()
    edc.consent(subject_id)
    enrol = subjects.enrol
    edc.refuses(
        Conflict, lambda s: enrol(s, subject_id=subject_id, by=edc["investigator"]), field="screening"
    )
    edc.screen(subject_id, verdicts={"I4": "needs_review"})
    error = edc.refuses(
        Conflict,
        lambda s: enrol(s, subject_id=subject_id, by=edc["investigator"]),
        field="screening.decision",
    )
    assert "incomplete" in str(error)


def test_enrolment_needs_consent_on_the_current_icf_version(edc: Edc) -> None:
    subject_id = edc.new_subject()
    edc.screen(subject_id)
    enrol = subjects.enrol
    edc.refuses(Conflict, lambda s: enrol(s, subject_id=subject_id, by=edc["investigator"]), field="consent")
    edc.consent(subject_id, day=days_ago(10))
    edc.run(
        lambda s: consents.approve_icf_version(
            s, study_id=edc.study_id, version="2.0", approved_on=days_ago(8), by=edc["sponsor"]
        )
    )
    error = edc.refuses(
        Conflict, lambda s: enrol(s, subject_id=subject_id, by=edc["investigator"]), field="consent"
    )
    assert "re-consent" in str(error)
    edc.consent(subject_id, day=days_ago(2), version="2.0")
    edc.run(lambda s: enrol(s, subject_id=subject_id, by=edc["investigator"]))
    assert edc.subject(subject_id).status is SubjectStatus.ENROLLED


def test_enrolment_needs_a_recruiting_study(edc: Edc) -> None:
    subject_id = edc.eligible_subject()
    edc.run(
        lambda s: trials.change_status(
            s, study_id=edc.study_id, status="SUSPENDED", reason="safety review", by=edc["sponsor"]
        )
    )
    error = edc.refuses(
        Conflict,
        lambda s: subjects.enrol(s, subject_id=subject_id, by=edc["investigator"]),
        field="study.status",
    )
    assert "SUSPENDED" in str(error)


def test_enrolment_needs_a_recent_screening(edc: Edc) -> None:
    subject_id = edc.new_subject()
    edc.consent(subject_id, day=days_ago(40))
    edc.screen(subject_id, screening_date=days_ago(29))
    edc.refuses(
        Conflict,
        lambda s: subjects.enrol(s, subject_id=subject_id, by=edc["investigator"]),
        field="screening.screening_date",
    )


def test_an_enrolled_subject_cannot_be_enrolled_again_and_the_error_names_both_states(edc: Edc) -> None:
    subject_id = edc.enrolled_subject()
    error = edc.refuses(
        IllegalTransition,
        lambda s: subjects.enrol(s, subject_id=subject_id, by=edc["investigator"]),
        field="status",
    )
    assert "from enrolled to enrolled" in str(error)


def test_enrolment_stops_at_the_cap_of_the_protocol(edc: Edc, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = trials.settings_of(edc.run(lambda s: trials.get_or_raise(s, study_id=edc.study_id)))
    capped = settings.model_copy(
        update={
            "enrolment": settings.enrolment.model_copy(
                update={"cap": settings.enrolment.cap.model_copy(update={"value": 2})}
            )
        }
    )
    monkeypatch.setattr(trials, "settings_of", lambda trial: capped)
    edc.enrolled_subject()
    edc.enrolled_subject()
    third = edc.eligible_subject()
    error = edc.refuses(
        Conflict, lambda s: subjects.enrol(s, subject_id=third, by=edc["investigator"]), field="enrolment"
    )
    assert "cap of 2" in str(error)


def test_the_subject_moves_along_the_trial_path_and_an_illegal_step_names_both_states(edc: Edc) -> None:
    subject_id = edc.enrolled_subject()
    coordinator = edc["coordinator"]
    move = subjects.change_status
    edc.run(lambda s: move(s, subject_id=subject_id, status="apheresed", reason="collected", by=coordinator))
    error = edc.refuses(
        IllegalTransition,
        lambda s: move(s, subject_id=subject_id, status="completed", reason="done", by=coordinator),
        field="status",
    )
    assert "from apheresed to completed" in str(error)
    edc.refuses(
        InvalidInput,
        lambda s: move(s, subject_id=subject_id, status="infused", reason="given", by=coordinator),
        field="on",
    )
    edc.run(
        lambda s: move(
            s, subject_id=subject_id, status="infused", reason="given", on=days_ago(0), by=coordinator
        )
    )
    assert edc.subject(subject_id).status is SubjectStatus.INFUSED
    assert edc.subject(subject_id).infusion_date == days_ago(0)


def test_status_changes_need_a_reason_and_enrolment_is_not_set_by_hand(edc: Edc) -> None:
    subject_id = edc.eligible_subject()
    move = subjects.change_status
    edc.refuses(
        InvalidInput,
        lambda s: move(s, subject_id=subject_id, status="withdrawn", reason="", by=edc["coordinator"]),
        field="reason",
    )
    edc.refuses(
        InvalidInput,
        lambda s: move(s, subject_id=subject_id, status="enrolled", reason="x", by=edc["coordinator"]),
        field="status",
    )


def test_the_study_status_follows_its_state_machine_and_is_audited(edc: Edc) -> None:
    sponsor = edc["sponsor"]
    change = trials.change_status
    edc.refuses(
        IllegalTransition,
        lambda s: change(s, study_id=edc.study_id, status="NOT_YET_RECRUITING", reason="x", by=sponsor),
        field="status",
    )
    edc.refuses(
        NotAllowed,
        lambda s: change(s, study_id=edc.study_id, status="SUSPENDED", reason="x", by=edc["investigator"]),
        field="role",
    )
    trial = edc.run(
        lambda s: change(s, study_id=edc.study_id, status="ACTIVE_NOT_RECRUITING", reason="full", by=sponsor)
    )
    assert trial.status is StudyStatus.ACTIVE_NOT_RECRUITING
    with edc.sessions() as session:
        [entry] = [
            e for e in audit.history(session, entity="study") if e.new_value == '"ACTIVE_NOT_RECRUITING"'
        ]
    assert (entry.old_value, entry.reason) == ('"RECRUITING"', "full")


def test_the_screening_log_feeds_the_consort_diagram(edc: Edc) -> None:
    edc.enrolled_subject()
    failed = edc.new_subject()
    edc.screen(failed, verdicts={"I2": "not_met", "E5": "met"})
    failed_too = edc.new_subject()
    edc.screen(failed_too, verdicts={"I2": "not_met"})
    pending = edc.new_subject()
    edc.screen(pending, verdicts={"I4": "needs_review"})
    edc.new_subject()  # registered, never screened: not in the log
    log = edc.run(lambda s: screenings.screening_log(s, study_id=edc.study_id, by=edc["sponsor"]))
    assert screenings.consort_counts(log) == {
        "assessed": 4,
        "excluded": 2,
        "excluded_by_criterion": {"E5": 1, "I2": 2},
        "pending": 1,
        "withdrawn_before_enrolment": 0,
        "enrolled": 1,
    }
    assert [row.outstanding for row in log if row.subject_id == pending] == [("I4",)]
