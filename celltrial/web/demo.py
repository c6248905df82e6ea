"""A small, fixed demo trial built through the services, for ``celltrial demo``.

Two sites, one user per role (site staff at both sites), the trial RECRUITING with ICF 1.0, and
six patients: three enrolled (one apheresed and infused, with labs that raised a query, signed
vital signs and a serious CRS with its reporting clocks running), one screen failure, one
awaiting the investigator's judgment, one eligible and consented awaiting enrolment. Screening
uses the shipped example forms, moved to recent dates. Passwords are random, printed once.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import unit_of_work
from celltrial.study.consent import service as consents
from celltrial.study.forms import service as forms
from celltrial.study.forms.models import FormInstance
from celltrial.study.queries import service as queries
from celltrial.study.safety import service as safety
from celltrial.study.screening import service as screenings
from celltrial.study.sites import service as sites
from celltrial.study.subjects import service as subjects
from celltrial.study.trial import service as trials
from celltrial.study.types import utcnow
from celltrial.study.users import service as users
from celltrial.study.users.models import SITE_ROLES, Role, User
from celltrial.web.screening import evaluate_document

__all__ = ["DemoLogin", "DemoTrial", "build_demo"]

NCT_ID = "NCT07008872"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_PEOPLE = {
    Role.INVESTIGATOR: "Dr Wei Zhang",
    Role.COORDINATOR: "Li Na",
    Role.CELL_LAB: "Chen Jie",
    Role.DATA_MANAGER: "Maria Rossi",
    Role.MONITOR: "Tom Becker",
    Role.SPONSOR: "Qi Deng",
    Role.DSMB: "Prof Anna Novak",
    Role.ADMIN: "Sam Admin",
}


@dataclass(frozen=True)
class DemoLogin:
    """A login printed for the demo."""

    role: str
    username: str
    password: str
    site: str | None


@dataclass
class DemoTrial:
    """What the demo built: its logins and its subjects by story."""

    logins: list[DemoLogin] = field(default_factory=list)
    subjects: dict[str, int] = field(default_factory=dict)


def _shift(node: Any, by: timedelta) -> Any:
    if isinstance(node, dict):
        return {key: _shift(value, by) for key, value in node.items()}
    if isinstance(node, list):
        return [_shift(value, by) for value in node]
    if isinstance(node, str) and _DATE.match(node):
        if len(node) == 10:
            return (date.fromisoformat(node) + by).isoformat()
        return (datetime.fromisoformat(node) + by).isoformat()
    return node


def example_form(name: str, *, screened_on: date) -> dict[str, Any]:
    """The shipped example screening form ``name`` with every date moved to a screening on ``screened_on``."""
    raw = json.loads((resources.files("celltrial.eligibility") / "examples" / f"{name}.json").read_text())
    moved: dict[str, Any] = _shift(raw, screened_on - date.fromisoformat(raw["screening_date"]))
    return moved


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


class _Builder:
    def __init__(self, session: Session, today: date) -> None:
        self.session = session
        self.today = today
        self.people: dict[str, User] = {}
        self.passwords: dict[str, str] = {}
        self.study_id = 0
        self.site_ids: dict[str, int] = {}

    def staff(self, built: DemoTrial) -> None:
        admin = users.operator("demo")
        hospitals = (("S01", "Demo Hospital A, Shijiazhuang"), ("S02", "Demo Hospital B, Beijing"))
        for site_code, name in hospitals:
            self.site_ids[site_code] = sites.create(
                self.session, code=site_code, name=name, country="China", by=admin
            ).id
        for role in Role:
            for code in ("S01", "S02") if role in SITE_ROLES else (None,):
                username = role.value.replace("_", "-") + ("" if code in (None, "S01") else "-b")
                password = secrets.token_urlsafe(12)
                full_name = _PEOPLE[role] + ("" if code in (None, "S01") else " (site B)")
                self.people[username] = users.create(
                    self.session,
                    username=username,
                    full_name=full_name,
                    role=role,
                    password=password,
                    site_id=self.site_ids[code] if code else None,
                    by=admin,
                )
                self.passwords[username] = password
                built.logins.append(DemoLogin(role.value, username, password, code))

    def trial(self) -> None:
        sponsor = self.people["sponsor"]
        trial = trials.register(self.session, nct_id=NCT_ID, by=sponsor)
        trials.change_status(
            self.session,
            study_id=trial.id,
            status="RECRUITING",
            reason="ethics approval and site initiation",
            by=sponsor,
        )
        consents.approve_icf_version(
            self.session,
            study_id=trial.id,
            version="1.0",
            approved_on=self.today - timedelta(days=120),
            summary="initial version",
            by=sponsor,
        )
        self.study_id = trial.id

    def patient(
        self,
        *,
        site: str,
        initials: str,
        example: str,
        screened_days_ago: int,
        consent: bool = True,
        keep_judgments: bool = True,
    ) -> int:
        suffix = "" if site == "S01" else "-b"
        coordinator, investigator = self.people[f"coordinator{suffix}"], self.people[f"investigator{suffix}"]
        screened_on = self.today - timedelta(days=screened_days_ago)
        document = example_form(example, screened_on=screened_on)
        if not keep_judgments:
            document["judgments"] = [item for item in document["judgments"] if item["criterion"] != "I4"]
        patient = document["patient"]
        subject = subjects.register(
            self.session,
            study_id=self.study_id,
            site_id=self.site_ids[site],
            date_of_birth=date.fromisoformat(patient["birth_date"]),
            sex=patient["sex"],
            initials=initials,
            by=coordinator,
        )
        if consent:
            consents.record_consent(
                self.session,
                subject_id=subject.id,
                icf_version="1.0",
                signed_at=_at(screened_on - timedelta(days=1), 10),
                by=coordinator,
            )
        result = evaluate_document(document, nct_id=NCT_ID, on=screened_on, today=self.today)
        screenings.record(
            self.session,
            subject_id=subject.id,
            result=result.to_json(),
            rule_set_version=result.rules_version,
            by=investigator,
        )
        return subject.id

    def enrol(self, subject_id: int, *, days_ago: int, site: str = "S01") -> None:
        investigator = self.people["investigator" + ("" if site == "S01" else "-b")]
        subjects.enrol(
            self.session, subject_id=subject_id, on=self.today - timedelta(days=days_ago), by=investigator
        )

    def form(self, subject_id: int, code: str, *, nth: int = 0) -> FormInstance:
        found = [
            item
            for item in forms.list_forms(self.session, subject_id=subject_id, by=self.people["monitor"])
            if item.form_code == code
        ]
        return found[nth]

    def treated(self, subject_id: int) -> None:
        investigator, coordinator = self.people["investigator"], self.people["coordinator"]
        apheresis, infusion = self.today - timedelta(days=40), self.today - timedelta(days=21)
        subjects.change_status(
            self.session, subject_id=subject_id, status="apheresed", reason="apheresis done", on=apheresis,
            by=investigator,
        )  # fmt: skip
        subjects.change_status(
            self.session, subject_id=subject_id, status="infused", reason="CAR-T infused", on=infusion,
            by=investigator,
        )  # fmt: skip
        labs = self.form(subject_id, "labs")
        values = {"collection_date": (infusion + timedelta(days=1)).isoformat(), "wbc": 0.8, "anc": 0.3,
                  "hemoglobin": 35, "platelets": 42, "crp": 88, "ferritin": 2400}  # fmt: skip
        forms.save(
            self.session, form_id=labs.id, values=values, expected_version=labs.version, by=coordinator
        )
        monitor = self.people["monitor"]
        query = queries.raise_query(
            self.session,
            form_id=labs.id,
            field="ferritin",
            text="Please attach the laboratory report",
            by=monitor,
        )
        queries.answer(
            self.session, query_id=query.id, text="Report filed in the source binder", by=coordinator
        )
        vitals = self.form(subject_id, "vital_signs")
        vital_values = {"assessment_date": (infusion + timedelta(days=1)).isoformat(), "temperature": 38.9,
                        "heart_rate": 112, "systolic_bp": 104, "diastolic_bp": 62, "respiratory_rate": 20,
                        "spo2": 95, "on_oxygen": False, "weight": 61}  # fmt: skip
        forms.save(
            self.session,
            form_id=vitals.id,
            values=vital_values,
            expected_version=vitals.version,
            complete=True,
            by=coordinator,
        )
        forms.sign_form(
            self.session,
            form_id=vitals.id,
            password=self.passwords["investigator"],
            meaning="approved",
            by=investigator,
        )
        safety.record_adverse_event(
            self.session,
            by=investigator,
            subject_id=subject_id,
            event={
                "term": "Cytokine release syndrome",
                "soc": "Immune system disorders",
                "grade": 3,
                "onset_date": (infusion + timedelta(days=2)).isoformat(),
                "serious": True,
                "seriousness": ["hospitalisation"],
                "related_to_cart": "probable",
                "related_to_lymphodepletion": "unlikely",
                "outcome": "recovering",
                "aesi": ["crs"],
                "site_awareness_at": (utcnow() - timedelta(hours=10)).isoformat(),
            },
        )

    def followed(self, subject_id: int) -> None:
        labs = self.form(subject_id, "labs")
        values = {"collection_date": (self.today - timedelta(days=3)).isoformat(), "wbc": 5.1, "anc": 3.2,
                  "hemoglobin": 112, "platelets": 210, "creatinine": 0.8}  # fmt: skip
        forms.save(
            self.session, form_id=labs.id, values=values, expected_version=labs.version, complete=True,
            by=self.people["coordinator"],
        )  # fmt: skip


def build_demo(factory: sessionmaker[Session]) -> DemoTrial:
    """Fill an empty, migrated database with the demo trial; return the logins and subjects."""
    built = DemoTrial()
    today = utcnow().date()
    with unit_of_work(factory) as session:
        builder = _Builder(session, today)
        builder.staff(built)
        builder.trial()
        infused = builder.patient(site="S01", initials="ZH", example="eligible", screened_days_ago=50)
        builder.enrol(infused, days_ago=48)
        builder.treated(infused)
        built.subjects["infused"] = infused
        enrolled = builder.patient(site="S01", initials="WL", example="eligible", screened_days_ago=12)
        builder.enrol(enrolled, days_ago=10)
        builder.followed(enrolled)
        built.subjects["enrolled"] = enrolled
        other_site = builder.patient(site="S02", initials="QY", example="eligible", screened_days_ago=6)
        builder.enrol(other_site, days_ago=5, site="S02")
        built.subjects["enrolled_site_b"] = other_site
        built.subjects["screen_failed"] = builder.patient(
            site="S01", initials="MK", example="ineligible", screened_days_ago=9
        )
        built.subjects["needs_judgment"] = builder.patient(
            site="S01", initials="LT", example="eligible", screened_days_ago=2, keep_judgments=False
        )
        built.subjects["awaiting_enrolment"] = builder.patient(
            site="S02", initials="HX", example="eligible", screened_days_ago=1
        )
    return built
