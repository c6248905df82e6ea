"""A small trial built through the study services, for the export tests.

Four patients at site S01 (on top of the EDC world: NCT07008872 RECRUITING, ICF 1.0):

- ``infused``: enrolled, apheresed, lymphodepleted, infused 35 days ago, with demographics,
  screening, medical history, a concomitant medication, a prior therapy, vital signs, labs, two
  kinetics samples, a day-28 response (the components of a CR, which the form derives), three
  daily CRS/ICANS assessments and two adverse events (CRS grade 2, an AESI graded by ASTCT;
  serious febrile neutropenia grade 3);
- ``died``: infused 30 days ago, a fatal ICANS (grade 5), a death form and disposition death;
- ``screen_failed``: haemoglobin criterion I7 not met;
- ``enrolled``: enrolled, never infused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from edc_world import Edc, at, days_ago
from sqlalchemy import func, select
from study_world import PASSWORD

from celltrial.study.audit.models import AuditEntry
from celltrial.study.forms import service as forms
from celltrial.study.forms.models import FormInstance
from celltrial.study.locks import service as locks
from celltrial.study.safety import service as safety
from celltrial.study.subjects import service as subjects
from celltrial.study.visits import service as visits
from celltrial.study.visits.models import Visit

__all__ = ["Trial", "build_trial"]


@dataclass
class Trial:
    """The built trial: the EDC world, the database URL and the subject ids by role in the story."""

    edc: Edc
    url: str
    ids: dict[str, int]

    def locked(self) -> None:
        """Lock the study unless it is locked."""
        with self.edc.sessions() as session:
            held = locks.get_active(session, subject_id=None)
        if held is None:
            self.edc.run(
                lambda s: locks.lock(s, subject_id=None, by=self.edc["data_manager"], reason="final")
            )

    def unlocked(self) -> None:
        """Lift the study lock if it holds."""
        with self.edc.sessions() as session:
            held = locks.get_active(session, subject_id=None)
        if held is not None:
            self.edc.run(
                lambda s: locks.unlock(s, subject_id=None, by=self.edc["data_manager"], reason="re-test")
            )

    def audit_mark(self) -> int:
        """The number of the last audit entry so far."""
        with self.edc.sessions() as session:
            return int(session.scalar(select(func.max(AuditEntry.id))) or 0)


def _visit(edc: Edc, subject_id: int, code: str) -> int:
    with edc.sessions() as session:
        found = session.scalar(select(Visit.id).where(Visit.subject_id == subject_id, Visit.code == code))
    assert found is not None, f"no visit {code}"
    return found


def _form(edc: Edc, subject_id: int, code: str, visit: str | None = None) -> int:
    with edc.sessions() as session:
        query = select(FormInstance.id).where(
            FormInstance.subject_id == subject_id, FormInstance.form_code == code
        )
        if visit is not None:
            query = query.join(Visit, Visit.id == FormInstance.visit_id).where(Visit.code == visit)
        found = session.scalars(query.order_by(FormInstance.id)).first()
    assert found is not None, f"no form {code} at {visit}"
    return found


def _save(edc: Edc, form_id: int, values: dict[str, Any]) -> None:
    edc.run(
        lambda s: forms.save(
            s, form_id=form_id, values=values, expected_version=0, by=edc["coordinator"], complete=True
        )
    )


def _log(edc: Edc, subject_id: int, code: str, values: dict[str, Any]) -> None:
    form_id = edc.run(
        lambda s: forms.add_form(s, subject_id=subject_id, form_code=code, by=edc["coordinator"]).id
    )
    _save(edc, form_id, values)


def _date_visit(edc: Edc, subject_id: int, code: str, on: date) -> None:
    visit_id = _visit(edc, subject_id, code)
    edc.run(lambda s: visits.record_visit_date(s, visit_id=visit_id, on=on, by=edc["coordinator"]))


def _status(edc: Edc, subject_id: int, status: str, on: date | None = None) -> None:
    by = edc["investigator"]
    edc.run(
        lambda s: subjects.change_status(s, subject_id=subject_id, status=status, by=by, reason=status, on=on)
    )


def _infused_subject(edc: Edc, infused_days_ago: int) -> int:
    d0 = days_ago(infused_days_ago)
    subject_id = edc.new_subject(born=date(1985, 3, 9), sex="male")
    edc.consent(subject_id, day=d0 - timedelta(days=25))
    edc.screen(subject_id, screening_date=d0 - timedelta(days=20))
    edc.run(
        lambda s: subjects.enrol(s, subject_id=subject_id, by=edc["investigator"], on=d0 - timedelta(days=15))
    )
    _save(
        edc,
        _form(edc, subject_id, "demographics", "SCR"),
        {
            "sex": "male",
            "ethnicity": "not_hispanic_or_latino",
            "race": ["asian"],
            "height": 172,
            "weight": 68.5,
        },
    )
    _save(
        edc,
        _form(edc, subject_id, "screening", "SCR"),
        {
            "screening_date": d0 - timedelta(days=20),
            "diagnosis": "t_cell_all",
            "disease_status": "refractory",
            "marrow_blasts_percent": 60.0,
            "cd7_method": ["flow_cytometry"],
            "cd7_positive": True,
            "ecog": 1,
            "eligibility_confirmed": True,
        },
    )
    _log(
        edc,
        subject_id,
        "medical_history",
        {"condition": "Hypertension", "onset_date": date(2015, 4, 1), "ongoing": True, "grade": 1},
    )
    _log(
        edc,
        subject_id,
        "conmeds",
        {
            "medication": "Acyclovir",
            "indication": "Antiviral prophylaxis",
            "dose": 400,
            "dose_unit": "mg",
            "route": "oral",
            "frequency": "BID",
            "start_date": d0 - timedelta(days=6),
            "ongoing": True,
        },
    )
    _log(
        edc,
        subject_id,
        "prior_therapy",
        {
            "line_number": 1,
            "therapy_type": "chemotherapy",
            "regimen": "Hyper-CVAD",
            "start_date": date(2023, 1, 10),
            "end_date": date(2023, 6, 1),
            "cycles": 4,
            "best_response": "pd",
            "outcome": "refractory",
        },
    )
    _date_visit(edc, subject_id, "APH", d0 - timedelta(days=12))
    _save(
        edc,
        _form(edc, subject_id, "apheresis", "APH"),
        {
            "collection_date": d0 - timedelta(days=12),
            "volume_processed": 12,
            "product_volume": 150,
            "complication": False,
        },
    )
    _status(edc, subject_id, "apheresed")
    _status(edc, subject_id, "infused", on=d0)
    _date_visit(edc, subject_id, "LD", d0 - timedelta(days=5))
    _save(
        edc,
        _form(edc, subject_id, "lymphodepletion", "LD"),
        {
            "start_date": d0 - timedelta(days=5),
            "end_date": d0 - timedelta(days=3),
            "weight": 68,
            "height": 172,
            "bsa": 1.8,
            "fludarabine_dose": 30,
            "fludarabine_days": 3,
            "cyclophosphamide_dose": 300,
            "cyclophosphamide_days": 3,
            "dose_modified": False,
        },
    )
    _date_visit(edc, subject_id, "D0", d0)
    _save(
        edc,
        _form(edc, subject_id, "infusion", "D0"),
        {
            "infusion_datetime": f"{d0.isoformat()}T10:30:00+00:00",
            "product_lot": "LOT-0001",
            "bedside_identity_check": True,
            "weight": 68,
            "dose_per_kg": 1000000,
            "premedication_given": True,
            "infusion_reaction": False,
        },
    )
    _save(
        edc,
        _form(edc, subject_id, "vital_signs", "D0"),
        {
            "assessment_date": d0,
            "temperature": 36.8,
            "heart_rate": 80,
            "systolic_bp": 118,
            "diastolic_bp": 76,
        },
    )
    _save(
        edc,
        _form(edc, subject_id, "kinetics_sample", "D0"),
        {
            "sample_datetime": f"{d0.isoformat()}T14:00:00+00:00",
            "sample_type": "peripheral_blood",
            "below_lloq": True,
        },
    )
    return subject_id


def build_trial(edc: Edc, url: str) -> Trial:
    """The four patients of the module docstring, through the services."""
    infused = _infused_subject(edc, 35)
    d0 = days_ago(35)
    _date_visit(edc, infused, "D7", d0 + timedelta(days=7))
    _save(
        edc,
        _form(edc, infused, "labs", "D7"),
        {
            "collection_date": d0 + timedelta(days=7),
            "wbc": 2.1,
            "anc": 0.4,
            "hemoglobin": 85,
            "platelets": 40,
            "creatinine": 0.9,
            "alt": 30,
            "crp": 80,
            "ferritin": 1500,
        },
    )
    _save(
        edc,
        _form(edc, infused, "kinetics_sample", "D7"),
        {
            "sample_datetime": f"{(d0 + timedelta(days=7)).isoformat()}T09:00:00+00:00",
            "sample_type": "peripheral_blood",
            "below_lloq": False,
            "car_copies": 85000.5,
            "car_t_cells": 120,
        },
    )
    _date_visit(edc, infused, "D28", d0 + timedelta(days=28))
    _save(
        edc,
        _form(edc, infused, "response", "D28"),
        {
            "assessment_date": d0 + timedelta(days=28),
            "disease_type": "leukemia",
            "methods": ["bone_marrow_morphology", "bone_marrow_flow"],
            "marrow_blasts_percent": 1.5,
            "marrow_adequate": True,
            "circulating_blasts": False,
            "extramedullary_disease": "absent",
            "anc": 1.6,
            "platelets": 140,
            "mrd_status": "negative",
        },
    )
    for day, temperature in ((1, 38.6), (2, 39.1), (3, 37.0)):
        edc.run(
            lambda s, day=day, t=temperature: safety.record_assessment(
                s,
                by=edc["investigator"],
                subject_id=infused,
                assessment=_assessment(d0 + timedelta(days=day), t),
            )
        )
    edc.run(
        lambda s: safety.record_adverse_event(
            s,
            by=edc["investigator"],
            subject_id=infused,
            event={
                "term": "Cytokine release syndrome",
                "soc": "Immune system disorders",
                "grade": 2,
                "onset_date": d0 + timedelta(days=1),
                "resolution_date": d0 + timedelta(days=4),
                "related_to_cart": "definite",
                "related_to_lymphodepletion": "unlikely",
                "outcome": "recovered",
                "action_taken": ["tocilizumab"],
                "aesi": ["crs"],
            },
        )
    )
    edc.run(
        lambda s: safety.record_adverse_event(
            s,
            by=edc["investigator"],
            subject_id=infused,
            event={
                "term": "Febrile neutropenia",
                "soc": "Blood and lymphatic system disorders",
                "grade": 3,
                "meddra_code": "10016288",
                "onset_date": d0 + timedelta(days=6),
                "resolution_date": d0 + timedelta(days=10),
                "serious": True,
                "seriousness": ["hospitalisation"],
                "site_awareness_at": at(d0 + timedelta(days=6)),
                "related_to_cart": "possible",
                "related_to_lymphodepletion": "probable",
                "outcome": "recovered",
                "action_taken": ["other"],
                "aesi": ["infection"],
            },
        )
    )
    vitals = _form(edc, infused, "vital_signs", "D0")
    edc.run(
        lambda s: forms.save(
            s,
            form_id=vitals,
            values={"heart_rate": 84},
            expected_version=1,
            by=edc["coordinator"],
            reason="transcription error",
        )
    )
    infusion = _form(edc, infused, "infusion", "D0")
    edc.run(
        lambda s: forms.sign_form(
            s, form_id=infusion, password=PASSWORD, meaning="authored", by=edc["investigator"]
        )
    )
    died = _infused_subject(edc, 30)
    death = days_ago(20)
    edc.run(
        lambda s: safety.record_adverse_event(
            s,
            by=edc["investigator"],
            subject_id=died,
            event={
                "term": "Immune effector cell-associated neurotoxicity syndrome",
                "soc": "Nervous system disorders",
                "grade": 5,
                "onset_date": days_ago(26),
                "resolution_date": death,
                "serious": True,
                "seriousness": ["death"],
                "site_awareness_at": at(days_ago(26)),
                "related_to_cart": "probable",
                "related_to_lymphodepletion": "not_related",
                "outcome": "fatal",
                "aesi": ["icans"],
            },
        )
    )
    _log(
        edc,
        died,
        "death",
        {"death_date": death, "primary_cause": "icans", "relationship_to_cart": "probable"},
    )
    _status(edc, died, "died")
    screen_failed = edc.new_subject(born=date(1990, 7, 1), sex="female", initials="CD")
    edc.consent(screen_failed, day=days_ago(12))
    edc.screen(screen_failed, screening_date=days_ago(10), verdicts={"I7": "not_met"})
    enrolled = edc.enrolled_subject(on=days_ago(2), born=date(1975, 1, 20), initials="EF")
    return Trial(
        edc, url, {"infused": infused, "died": died, "screen_failed": screen_failed, "enrolled": enrolled}
    )


def _assessment(day: date, temperature: float) -> dict[str, Any]:
    return {
        "assessment_date": day,
        "temperature_c": temperature,
        "fever_masked": False,
        "hypotension": "none",
        "hypoxia": "low_flow" if temperature > 39 else "none",
        "ice_score": 10,
        "consciousness": "normal",
        "seizure": "none",
        "motor_weakness": False,
        "cerebral_edema": "none",
        "tocilizumab_given": temperature > 39,
        "corticosteroids_given": False,
    }
