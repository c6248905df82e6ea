"""The trial as the exports read it: one consistent snapshot of the study database.

:func:`load_trial_data` reads, in the caller's transaction, everything the SDTM, ODM, FHIR and
ClinicalTrials.gov exports need (study, protocol record and settings, eligibility rules, sites,
subjects, consents, screenings with judgments, visits, saved CRFs, adverse events, daily CRS/ICANS
assessments, the cell products' chain of identity) into frozen dataclasses, so that every export
is a pure function of this snapshot.

Exports are of locked data: the study lock, or a lock on every subject. Unlocked data are refused
(:class:`~celltrial.errors.Conflict` naming the first unlocked subject) unless the export is a
*draft*, which every output then says it is. Only users whose role may run exports
(data manager, sponsor) read the snapshot; identifying data (initials, full dates of birth) are
left out of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.analysis.response import MRD_NEGATIVE_BELOW_PERCENT
from celltrial.analysis.response_forms import response_of
from celltrial.analysis.subject_efficacy import AssessedResponse, SubjectEfficacy, subject_efficacy
from celltrial.eligibility.rules import EligibilityRules, load_rules
from celltrial.errors import Conflict
from celltrial.product.models import ApheresisCollection, ChainOfIdentity, ManufacturingLot, ProductBag
from celltrial.protocol.ctgov import Study
from celltrial.protocol.library import load_study
from celltrial.protocol.settings import ProtocolSettings
from celltrial.study.audit import service as audit
from celltrial.study.consent.models import Consent, IcfVersion
from celltrial.study.forms.models import FormInstance
from celltrial.study.locks.service import get_active
from celltrial.study.permissions import Action, require
from celltrial.study.safety.models import AdverseEvent, CrsIcansAssessment
from celltrial.study.screening.decision import EligibilityResult, effective_verdicts, screen_fail_reasons
from celltrial.study.screening.models import EligibilityJudgment, ScreeningAttempt
from celltrial.study.sites.models import Site
from celltrial.study.subjects.models import Subject
from celltrial.study.trial import service as trials
from celltrial.study.types import utcnow
from celltrial.study.users.models import User
from celltrial.study.visits.models import Visit

__all__ = [
    "AdverseEventRecord",
    "AssessmentRecord",
    "ConsentRecord",
    "CriterionOutcome",
    "FormRecord",
    "ProductRecord",
    "ScreeningRecord",
    "SiteRecord",
    "SubjectRecord",
    "TrialData",
    "VisitRecord",
    "efficacy",
    "load_trial_data",
    "record_export",
]


@dataclass(frozen=True)
class SiteRecord:
    id: int
    code: str
    name: str
    country: str


@dataclass(frozen=True)
class SubjectRecord:
    """A screened patient without identifying data (the birth year stays for the age)."""

    id: int
    site_code: str
    screening_number: str
    subject_number: str | None
    status: str
    sex: str
    birth_year: int
    age_at_consent: int | None
    enrolment_date: date | None
    infusion_date: date | None
    consent_withdrawn_at: datetime | None
    status_changed_at: datetime

    @property
    def label(self) -> str:
        """The subject number once enrolled, else the screening number."""
        return self.subject_number or self.screening_number


@dataclass(frozen=True)
class ConsentRecord:
    id: int
    subject_id: int
    icf_version: str
    signed_at: datetime
    signer: str
    assent_at: datetime | None
    withdrawn_at: datetime | None
    withdrawal_reason: str | None


@dataclass(frozen=True)
class CriterionOutcome:
    """One top-level criterion of a screening with its verdict after the investigator's judgments."""

    id: str
    kind: str
    verdict: str


@dataclass(frozen=True)
class ScreeningRecord:
    id: int
    subject_id: int
    attempt: int
    screening_date: date
    rule_set_version: str
    decision: str
    criteria: tuple[CriterionOutcome, ...]

    excluded_by: tuple[str, ...] = ()
    """The criteria that excluded the patient (the screening's screen-fail reasons)."""

    def failed(self) -> list[CriterionOutcome]:
        """The excluding criteria: top-level inclusions not met, exclusions met, after judgments."""
        return [c for c in self.criteria if c.id in self.excluded_by]


@dataclass(frozen=True)
class VisitRecord:
    id: int
    subject_id: int
    code: str
    name: str
    anchor: str | None
    day: int | None
    target_date: date | None
    actual_date: date | None
    unscheduled: bool
    reason: str | None


@dataclass(frozen=True)
class FormRecord:
    """A saved CRF (version ≥ 1) with its values as stored (JSON)."""

    id: int
    subject_id: int
    visit_id: int | None
    form_code: str
    definition_version: int
    sequence: int
    version: int
    status: str
    data: dict[str, Any]
    updated_at: datetime
    updated_by: str | None


@dataclass(frozen=True)
class AdverseEventRecord:
    id: int
    subject_id: int
    term: str
    meddra_code: str | None
    soc: str
    grade: int
    ctcae_version: str
    onset_date: date
    resolution_date: date | None
    serious: bool
    seriousness: tuple[str, ...]
    related_to_cart: str
    related_to_lymphodepletion: str
    action_taken: tuple[str, ...]
    outcome: str
    aesi: tuple[str, ...]


@dataclass(frozen=True)
class AssessmentRecord:
    """One day's CRS/ICANS assessment with the ASTCT grades computed from it."""

    id: int
    subject_id: int
    assessment_date: date
    temperature_c: float
    crs_grade: int
    icans_grade: int
    ice_score: int | None
    tocilizumab_given: bool
    corticosteroids_given: bool


@dataclass(frozen=True)
class ProductRecord:
    """A subject's cell product: chain of identity, collection and lot, and the bags infused."""

    subject_id: int
    coi_number: str
    collection_din: str
    collected_at: datetime
    lot_number: str | None
    infused_bags: tuple[tuple[str, datetime], ...]
    """(bag DIN, infusion time) of every bag infused."""


@dataclass(frozen=True)
class TrialData:
    """Everything an export reads, at one moment (``extracted_on``)."""

    nct_id: str
    title: str
    status: str
    enrolled_count: int
    record: Study
    settings: ProtocolSettings
    rules: EligibilityRules
    extracted_at: datetime
    draft: bool
    sites: tuple[SiteRecord, ...]
    subjects: tuple[SubjectRecord, ...]
    consents: tuple[ConsentRecord, ...] = ()
    screenings: tuple[ScreeningRecord, ...] = ()
    visits: tuple[VisitRecord, ...] = ()
    forms: tuple[FormRecord, ...] = ()
    adverse_events: tuple[AdverseEventRecord, ...] = ()
    assessments: tuple[AssessmentRecord, ...] = ()
    products: tuple[ProductRecord, ...] = ()
    extracted_by: str = ""
    _visits_by_id: dict[int, VisitRecord] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._visits_by_id.update({visit.id: visit for visit in self.visits})

    @property
    def extracted_on(self) -> date:
        return self.extracted_at.date()

    def site(self, code: str) -> SiteRecord:
        return next(site for site in self.sites if site.code == code)

    def visit(self, visit_id: int | None) -> VisitRecord | None:
        return None if visit_id is None else self._visits_by_id.get(visit_id)

    def forms_of(self, form_code: str, subject_id: int | None = None) -> list[FormRecord]:
        """The saved forms ``form_code`` (of one subject), in entry order."""
        return [
            form
            for form in self.forms
            if form.form_code == form_code and (subject_id is None or form.subject_id == subject_id)
        ]

    def latest_form(self, form_code: str, subject_id: int) -> FormRecord | None:
        found = self.forms_of(form_code, subject_id)
        return found[-1] if found else None


def _day(value: object, infused: date) -> int | None:
    return None if not value else (date.fromisoformat(str(value)[:10]) - infused).days


def _mrd_negative(values: dict[str, Any]) -> bool | None:
    if values.get("mrd_status") == "negative":
        return True
    level = values.get("mrd_percent")
    return None if level is None else float(level) < MRD_NEGATIVE_BELOW_PERCENT


def _subject_efficacy(data: TrialData, subject: SubjectRecord) -> SubjectEfficacy | None:
    infused = subject.infusion_date
    if infused is None:
        return None
    assessed, hsct_days = [], []
    for form in data.forms_of("response", subject.id):
        day = _day(form.data.get("assessment_date"), infused)
        code = form.data.get("overall_response")
        if form.data.get("consolidative_hsct") is True and form.data.get("hsct_date"):
            hsct_days.append(_day(form.data["hsct_date"], infused))
        if day is None or code is None:
            continue
        visit = data.visit(form.visit_id)
        response = response_of(str(code), form.data.get("response_criteria"))
        assessed.append(
            AssessedResponse(day, response, _mrd_negative(form.data), visit.code if visit else None)
        )
    for form in data.forms_of("disposition", subject.id):
        if form.data.get("proceeded_to_hsct") is True and form.data.get("hsct_date"):
            hsct_days.append(_day(form.data["hsct_date"], infused))
    death = data.latest_form("death", subject.id)
    return subject_efficacy(
        assessed,
        hsct_day=min((day for day in hsct_days if day is not None), default=None),
        death_day=_day(death.data.get("death_date"), infused) if death else None,
    )


def efficacy(data: TrialData) -> dict[int, SubjectEfficacy]:
    """Each infused subject's efficacy outcomes (by subject id), from their saved response forms.

    The responses are those the response forms derived (with the criteria they name); the
    consolidative allo-HSCT is the earliest HSCT date on a response or disposition form; death
    is the death form's date (:mod:`celltrial.analysis.subject_efficacy`).
    """
    found = {subject.id: _subject_efficacy(data, subject) for subject in data.subjects}
    return {subject_id: outcome for subject_id, outcome in found.items() if outcome is not None}


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _unlocked(session: Session, subjects: list[Subject]) -> Subject | None:
    if get_active(session, subject_id=None) is not None:
        return None
    return next((s for s in subjects if get_active(session, subject_id=s.id) is None), None)


def _screenings(session: Session, subject_ids: set[int]) -> list[ScreeningRecord]:
    judged: dict[int, dict[str, str]] = {}
    for row in session.scalars(select(EligibilityJudgment)):
        judged.setdefault(row.screening_id, {})[row.criterion_id] = row.answer
    found = []
    query = select(ScreeningAttempt).order_by(ScreeningAttempt.subject_id, ScreeningAttempt.attempt)
    for attempt in session.scalars(query):
        if attempt.subject_id not in subject_ids:
            continue
        criteria = EligibilityResult.model_validate(attempt.snapshot).criteria
        answers = judged.get(attempt.id, {})
        verdicts = effective_verdicts(criteria, answers)
        outcomes = tuple(CriterionOutcome(c.id, c.kind, verdicts[c.id]) for c in criteria)
        found.append(
            ScreeningRecord(
                attempt.id,
                attempt.subject_id,
                attempt.attempt,
                attempt.screening_date,
                attempt.rule_set_version,
                attempt.decision,
                outcomes,
                tuple(screen_fail_reasons(criteria, answers)),
            )
        )
    return found


def _products(session: Session, subject_ids: set[int]) -> list[ProductRecord]:
    query = (
        select(ChainOfIdentity, ApheresisCollection, ManufacturingLot)
        .join(ApheresisCollection, ApheresisCollection.coi_id == ChainOfIdentity.id)
        .outerjoin(ManufacturingLot, ManufacturingLot.collection_id == ApheresisCollection.id)
        .order_by(ChainOfIdentity.subject_id, ApheresisCollection.attempt)
    )
    found = []
    for coi, collection, lot in session.execute(query):
        if coi.subject_id not in subject_ids:
            continue
        bags = session.scalars(select(ProductBag).where(ProductBag.lot_id == lot.id)).all() if lot else []
        infused = tuple((bag.din, bag.infused_at) for bag in bags if bag.infused_at is not None)
        found.append(
            ProductRecord(
                coi.subject_id,
                coi.coi_number,
                collection.din,
                collection.collected_at,
                lot.lot_number if lot else None,
                infused,
            )
        )
    return found


def load_trial_data(
    session: Session,
    *,
    by: User,
    nct_id: str | None = None,
    draft: bool = False,
    permissions: tuple[Action, ...] = (Action.EXPORT_RUN,),
) -> TrialData:
    """The snapshot of the study ``nct_id`` (the only one when None) as ``by`` may export it.

    ``by`` needs every action of ``permissions``: an export needs ``export.run``; the DSMB report
    and the analyses pages read it with ``safety.view`` and ``efficacy.view``.

    Refuses (:class:`Conflict`, naming the subject) when the data are not locked and ``draft`` is
    false. The snapshot is marked draft when its data are not locked (``draft`` only permits it):
    an export of locked data is final even when asked for as a draft.
    """
    for action in permissions:
        require(by, action)
    trial = trials.the_study(session, nct_id=nct_id)
    subjects = list(
        session.scalars(
            select(Subject).where(Subject.study_id == trial.id).order_by(Subject.screening_number)
        )
    )
    unlocked = _unlocked(session, subjects)
    if unlocked is not None and not draft:
        raise Conflict(
            f"subject {unlocked.subject_number or unlocked.screening_number} is not locked: lock the study "
            "(or every subject) before exporting, or export a draft with --draft",
            field=f"subject {unlocked.subject_number or unlocked.screening_number}",
        )
    ids = {subject.id for subject in subjects}
    sites = {site.id: site for site in session.scalars(select(Site).order_by(Site.code))}
    consents = [
        ConsentRecord(
            consent.id,
            consent.subject_id,
            version,
            consent.signed_at,
            consent.signer,
            consent.assent_at,
            consent.withdrawn_at,
            consent.withdrawal_reason,
        )
        for consent, version in session.execute(
            select(Consent, IcfVersion.version)
            .join(IcfVersion, IcfVersion.id == Consent.icf_version_id)
            .order_by(Consent.subject_id, Consent.signed_at, Consent.id)
        )
        if consent.subject_id in ids
    ]
    first_consent: dict[int, date] = {}
    for consent in consents:
        first_consent.setdefault(consent.subject_id, consent.signed_at.date())
    subject_records = tuple(
        SubjectRecord(
            s.id,
            sites[s.site_id].code,
            s.screening_number,
            s.subject_number,
            s.status.value,
            s.sex,
            s.date_of_birth.year,
            _age(s.date_of_birth, first_consent[s.id]) if s.id in first_consent else None,
            s.enrolment_date,
            s.infusion_date,
            s.consent_withdrawn_at,
            s.status_changed_at,
        )
        for s in subjects
    )
    visits = tuple(
        VisitRecord(
            v.id,
            v.subject_id,
            v.code,
            v.name,
            v.anchor,
            v.day,
            v.target_date,
            v.actual_date,
            v.unscheduled,
            v.reason,
        )
        for v in session.scalars(select(Visit).order_by(Visit.subject_id, Visit.id))
        if v.subject_id in ids
    )
    forms = tuple(
        FormRecord(
            f.id,
            f.subject_id,
            f.visit_id,
            f.form_code,
            f.definition_version,
            f.sequence,
            f.version,
            f.status.value,
            dict(f.data),
            f.updated_at,
            f.updated_by,
        )
        for f in session.scalars(
            select(FormInstance).where(FormInstance.version > 0).order_by(FormInstance.id)
        )
        if f.subject_id in ids
    )
    events = tuple(
        AdverseEventRecord(
            e.id,
            e.subject_id,
            e.term,
            e.meddra_code,
            e.soc,
            e.grade,
            e.ctcae_version,
            e.onset_date,
            e.resolution_date,
            e.serious,
            tuple(e.seriousness),
            str(e.related_to_cart),
            str(e.related_to_lymphodepletion),
            tuple(e.action_taken),
            str(e.outcome),
            tuple(e.aesi),
        )
        for e in session.scalars(
            select(AdverseEvent).order_by(AdverseEvent.subject_id, AdverseEvent.onset_date, AdverseEvent.id)
        )
        if e.subject_id in ids
    )
    assessments = tuple(
        AssessmentRecord(
            a.id,
            a.subject_id,
            a.assessment_date,
            a.temperature_c,
            a.crs_grade,
            a.icans_grade,
            a.ice_score,
            a.tocilizumab_given,
            a.corticosteroids_given,
        )
        for a in session.scalars(
            select(CrsIcansAssessment).order_by(
                CrsIcansAssessment.subject_id, CrsIcansAssessment.assessment_date
            )
        )
        if a.subject_id in ids
    )
    return TrialData(
        nct_id=trial.nct_id,
        title=trial.title,
        status=trial.status.value,
        enrolled_count=trials.enrolled_count(session, study_id=trial.id),
        record=load_study(trial.nct_id),
        settings=trials.settings_of(trial),
        rules=load_rules(trial.nct_id),
        extracted_at=utcnow(),
        draft=unlocked is not None,
        sites=tuple(SiteRecord(site.id, site.code, site.name, site.country) for site in sites.values()),
        subjects=subject_records,
        consents=tuple(consents),
        screenings=tuple(_screenings(session, ids)),
        visits=visits,
        forms=forms,
        adverse_events=events,
        assessments=assessments,
        products=tuple(_products(session, ids)),
        extracted_by=by.username,
    )


def record_export(
    session: Session, *, by: User, data: TrialData, kind: str, target: str, summary: dict[str, Any]
) -> None:
    """The audit entry of one export run (``kind`` to ``target``), in the export's transaction.

    The CLI (``celltrial export``) and the API (``POST /exports/{kind}``) both record through it.
    """
    audit.record(
        session,
        actor=by.username,
        action="export",
        entity="export",
        entity_id=kind,
        new={"study": data.nct_id, "target": target, "draft": data.draft, **summary},
    )
