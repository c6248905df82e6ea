"""Test data of the safety integration tests: infused subjects and valid safety records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from edc_world import Edc, at, days_ago
from sqlalchemy import func, select

from celltrial.database import Base
from celltrial.study.audit.models import AuditEntry
from celltrial.study.subjects import service as subjects

SAFETY_TABLES = (
    "adverse_event",
    "crs_icans_assessment",
    "serious_adverse_event",
    "sae_follow_up",
    "dlt_assessment",
)


def assessment(day: date, **changes: Any) -> dict[str, Any]:
    """A daily CRS/ICANS assessment with no finding, changed by ``changes``."""
    values: dict[str, Any] = {
        "assessment_date": day,
        "temperature_c": 36.8,
        "fever_masked": False,
        "hypotension": "none",
        "hypoxia": "none",
        "ice_score": 10,
        "consciousness": "normal",
        "seizure": "none",
        "motor_weakness": False,
        "cerebral_edema": "none",
        "tocilizumab_given": False,
        "corticosteroids_given": False,
    }
    values.update(changes)
    return values


def adverse_event(onset: date, **changes: Any) -> dict[str, Any]:
    """A grade-2 non-serious adverse event possibly related to CAR-T, recovered three days later."""
    values: dict[str, Any] = {
        "term": "Nausea",
        "soc": "Gastrointestinal disorders",
        "grade": 2,
        "onset_date": onset,
        "resolution_date": date.fromordinal(onset.toordinal() + 3),
        "related_to_cart": "possible",
        "related_to_lymphodepletion": "unlikely",
        "outcome": "recovered",
        "action_taken": ["none"],
    }
    values.update(changes)
    return values


@dataclass
class Safety:
    """The EDC world plus helpers that make infused subjects and count safety rows."""

    edc: Edc

    def __getattr__(self, name: str) -> Any:
        return getattr(self.edc, name)

    def __getitem__(self, name: str) -> Any:
        return self.edc[name]

    def infused_subject(self, *, infused_days_ago: int = 40, site: str = "S01") -> int:
        subject_id = self.edc.new_subject(site=site)
        self.edc.consent(subject_id, day=days_ago(infused_days_ago + 20))
        self.edc.screen(subject_id, screening_date=days_ago(infused_days_ago + 15))
        by = self.edc["investigator"] if site == "S01" else self.edc["investigator_s02"]
        self.edc.run(
            lambda s: subjects.enrol(s, subject_id=subject_id, by=by, on=days_ago(infused_days_ago + 12))
        )
        self.edc.run(
            lambda s: subjects.change_status(
                s, subject_id=subject_id, status="apheresed", by=by, reason="collected"
            )
        )
        self.edc.run(
            lambda s: subjects.change_status(
                s,
                subject_id=subject_id,
                status="infused",
                by=by,
                reason="infused",
                on=days_ago(infused_days_ago),
            )
        )
        return subject_id

    def footprint(self) -> dict[str, int]:
        with self.edc.sessions() as session:
            counts = {
                name: int(session.scalar(select(func.count()).select_from(Base.metadata.tables[name])) or 0)
                for name in SAFETY_TABLES
            }
            counts["audit_entry"] = int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
        return counts


@pytest.fixture(name="safety")
def safety_fixture(edc: Edc) -> Safety:
    return Safety(edc)


__all__ = ["Safety", "adverse_event", "assessment", "at", "days_ago", "safety_fixture"]
