"""Consent on SQLite and PostgreSQL: adults, minors with guardian and assent, re-consent, withdrawal."""

from __future__ import annotations

from datetime import date

from edc_world import ICF_APPROVED, TODAY, Edc, at, days_ago, edc_fixture  # noqa: F401
from sqlalchemy import select

from celltrial.errors import Conflict, InvalidInput, NotFound
from celltrial.study.consent import service as consents
from celltrial.study.forms import service as forms
from celltrial.study.forms.models import FormInstance
from celltrial.study.subjects.status import SubjectStatus

MINOR_BIRTH = date(TODAY.year - 16, 1, 1)


def scr_form(edc: Edc, subject_id: int, code: str) -> int:
    with edc.sessions() as session:
        query = select(FormInstance.id).where(
            FormInstance.subject_id == subject_id, FormInstance.form_code == code
        )
        return session.scalars(query).first() or 0


def test_an_adult_consents_themself(edc: Edc) -> None:
    subject_id = edc.new_subject()
    edc.consent(subject_id)
    [shown] = edc.run(lambda s: consents.history(s, subject_id=subject_id, by=edc["monitor"]))
    assert (shown.signer, shown.icf_version, shown.current, shown.assent_at) == ("subject", "1.0", True, None)


def test_an_adult_consent_refuses_a_guardian_or_an_assent(edc: Edc) -> None:
    subject_id = edc.new_subject()
    record = consents.record_consent
    by = edc["coordinator"]
    edc.refuses(
        InvalidInput,
        lambda s: record(
            s,
            subject_id=subject_id,
            icf_version="1.0",
            signed_at=at(days_ago(1)),
            guardian_name="Ann Lee",
            by=by,
        ),
        field="guardian_name",
    )
    edc.refuses(
        InvalidInput,
        lambda s: record(
            s,
            subject_id=subject_id,
            icf_version="1.0",
            signed_at=at(days_ago(1)),
            assent_at=at(days_ago(1)),
            by=by,
        ),
        field="assent_at",
    )


def test_a_minor_is_consented_by_a_guardian_with_the_subjects_assent(edc: Edc) -> None:
    subject_id = edc.new_subject(born=MINOR_BIRTH)
    record = consents.record_consent
    by = edc["coordinator"]
    base = {"subject_id": subject_id, "icf_version": "1.0", "signed_at": at(days_ago(1)), "by": by}
    edc.refuses(InvalidInput, lambda s: record(s, **base), field="guardian_name")  # type: ignore[arg-type]
    edc.refuses(
        InvalidInput,
        lambda s: record(s, guardian_name="Ann Lee", guardian_relationship="mother", **base),  # type: ignore[arg-type]
        field="assent_at",
    )
    edc.run(
        lambda s: record(
            s,
            guardian_name="Ann Lee",
            guardian_relationship="mother",
            assent_at=at(days_ago(1), 10),
            **base,  # type: ignore[arg-type]
        )
    )
    [shown] = edc.run(lambda s: consents.history(s, subject_id=subject_id, by=edc["sponsor"]))
    assert (shown.signer, shown.guardian_relationship) == ("guardian", "mother")
    assert "guardian_name" not in shown.model_dump()


def test_consent_refuses_an_unknown_version_a_future_time_and_a_naive_time(edc: Edc) -> None:
    subject_id = edc.new_subject()
    record = consents.record_consent
    by = edc["coordinator"]
    edc.refuses(
        NotFound,
        lambda s: record(s, subject_id=subject_id, icf_version="9.9", signed_at=at(days_ago(1)), by=by),
        field="icf_version",
    )
    edc.refuses(
        InvalidInput,
        lambda s: record(s, subject_id=subject_id, icf_version="1.0", signed_at=at(days_ago(-2)), by=by),
        field="signed_at",
    )
    edc.refuses(
        InvalidInput,
        lambda s: record(
            s, subject_id=subject_id, icf_version="1.0", signed_at=at(days_ago(1)).replace(tzinfo=None), by=by
        ),
        field="signed_at",
    )


def test_a_new_icf_version_asks_for_re_consent_and_the_old_one_is_refused(edc: Edc) -> None:
    subject_id = edc.new_subject()
    edc.consent(subject_id, day=days_ago(20))
    sponsor = edc["sponsor"]
    edc.run(
        lambda s: consents.approve_icf_version(
            s, study_id=edc.study_id, version="2.0", approved_on=days_ago(10), summary="new risk", by=sponsor
        )
    )
    waiting = edc.run(
        lambda s: [x.id for x in consents.needing_reconsent(s, study_id=edc.study_id, by=sponsor)]
    )
    assert waiting == [subject_id]
    error = edc.refuses(
        Conflict,
        lambda s: consents.record_consent(
            s, subject_id=subject_id, icf_version="1.0", signed_at=at(days_ago(1)), by=edc["coordinator"]
        ),
        field="icf_version",
    )
    assert "superseded by version 2.0" in str(error)
    edc.consent(subject_id, day=days_ago(1), version="2.0")
    assert edc.run(lambda s: consents.needing_reconsent(s, study_id=edc.study_id, by=sponsor)) == []


def test_an_icf_version_is_approved_once_and_not_before_the_current_one(edc: Edc) -> None:
    approve = consents.approve_icf_version
    sponsor = edc["sponsor"]
    edc.refuses(
        Conflict,
        lambda s: approve(s, study_id=edc.study_id, version="1.0", approved_on=ICF_APPROVED, by=sponsor),
        field="version",
    )
    edc.refuses(
        InvalidInput,
        lambda s: approve(s, study_id=edc.study_id, version="0.9", approved_on=date(2000, 1, 1), by=sponsor),
        field="approved_on",
    )


def test_no_form_data_before_consent(edc: Edc) -> None:
    subject_id = edc.new_subject()
    form_id = scr_form(edc, subject_id, "vital_signs")
    error = edc.refuses(
        Conflict,
        lambda s: forms.save(
            s, form_id=form_id, values={"heart_rate": 72}, expected_version=0, by=edc["coordinator"]
        ),
        field="consent",
    )
    assert "has not consented" in str(error)


def test_no_study_procedure_dated_before_consent(edc: Edc) -> None:
    subject_id = edc.new_subject()
    edc.consent(subject_id, day=days_ago(5))
    form_id = scr_form(edc, subject_id, "screening")
    error = edc.refuses(
        InvalidInput,
        lambda s: forms.save(
            s,
            form_id=form_id,
            values={"screening_date": days_ago(6)},
            expected_version=0,
            by=edc["coordinator"],
        ),
        field="screening.screening_date",
    )
    assert "before the subject's consent" in str(error)


def test_withdrawal_keeps_and_marks_the_data_and_stops_new_collection(edc: Edc) -> None:
    subject_id = edc.enrolled_subject()
    by = edc["coordinator"]
    vitals = scr_form(edc, subject_id, "vital_signs")
    labs = scr_form(edc, subject_id, "labs")
    edc.run(lambda s: forms.save(s, form_id=vitals, values={"heart_rate": 72}, expected_version=0, by=by))
    edc.run(
        lambda s: consents.withdraw(
            s, subject_id=subject_id, withdrawn_at=at(TODAY, 0), reason="no longer wishes to take part", by=by
        )
    )
    subject = edc.subject(subject_id)
    assert subject.status is SubjectStatus.WITHDRAWN
    assert subject.consent_withdrawn_at is not None
    with edc.sessions() as session:
        kept = session.get_one(FormInstance, vitals)
        untouched = session.get_one(FormInstance, labs)
    assert (kept.data, kept.consent_withdrawn) == ({"heart_rate": 72}, True)
    assert untouched.consent_withdrawn is False
    error = edc.refuses(
        Conflict,
        lambda s: forms.save(s, form_id=labs, values={"wbc": 5.0}, expected_version=0, by=by),
        field="consent",
    )
    assert "withdrew consent" in str(error)
    edc.refuses(
        Conflict,
        lambda s: forms.add_form(s, subject_id=subject_id, form_code="adverse_events", by=by),
        field="consent",
    )
    corrected = edc.run(
        lambda s: forms.save(
            s,
            form_id=vitals,
            values={"heart_rate": 74},
            expected_version=1,
            reason="transcription error",
            by=by,
        )
    )
    assert corrected.form.data == {"heart_rate": 74}


def test_withdrawal_needs_a_reason_and_a_standing_consent(edc: Edc) -> None:
    subject_id = edc.new_subject()
    withdraw = consents.withdraw
    by = edc["coordinator"]
    edc.refuses(
        Conflict,
        lambda s: withdraw(s, subject_id=subject_id, withdrawn_at=at(TODAY, 0), reason="moving away", by=by),
        field="consent",
    )
    edc.consent(subject_id)
    edc.refuses(
        InvalidInput,
        lambda s: withdraw(s, subject_id=subject_id, withdrawn_at=at(TODAY, 0), reason=" ", by=by),
        field="reason",
    )
    edc.refuses(
        InvalidInput,
        lambda s: withdraw(
            s, subject_id=subject_id, withdrawn_at=at(days_ago(30)), reason="moving away", by=by
        ),
        field="withdrawn_at",
    )
