"""The CONSORT flow of the simulated trial at the data cut, read back from the database.

Enrolment from the screening log (:func:`celltrial.study.screening.service.consort_counts`),
allocation and follow-up from the subjects' statuses and infusion dates, the day-28 response
from the response CRFs and CRS/ICANS from the DSMB safety tables, all read through the services
as the sponsor (who sees every site, without identifying data). Referrals never screened because
recruitment had closed are known only to the simulation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from celltrial.simulate.world import World
from celltrial.study.forms import service as forms
from celltrial.study.safety import monitoring
from celltrial.study.screening import service as screenings
from celltrial.study.subjects import service as subjects

__all__ = ["Consort", "consort_of", "render_consort"]

_RESPONDED = ("cr", "cri")


@dataclass(frozen=True)
class Consort:
    """The participant flow (counts of subjects) and the headline figures at the cut."""

    referred: int
    not_screened_recruitment_closed: int
    screened: int
    screen_failed: int
    screen_failed_by_criterion: dict[str, int]
    eligible_not_enrolled: int
    enrolled: int
    not_infused: dict[str, int]
    infused: int
    evaluable_day28: int
    cr_cri_day28: int
    crs_any: int
    crs_grade_3_or_more: int
    icans_any: int
    status_at_cut: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def consort_of(session: Session, world: World) -> Consort:
    """The CONSORT counts of the simulated study, as the sponsor reads them."""
    sponsor = world.staff.sponsor
    log = screenings.screening_log(session, study_id=world.study_id, by=sponsor)
    counts = screenings.consort_counts(log)
    everyone = subjects.list_subjects(session, by=sponsor, study_id=world.study_id)
    enrolled = [subject for subject in everyone if subject.subject_number is not None]
    infused = [subject for subject in enrolled if subject.infusion_date is not None]
    not_infused = Counter(str(subject.status) for subject in enrolled if subject.infusion_date is None)
    evaluable = [
        s
        for s in infused
        if s.infusion_date is not None and s.infusion_date + timedelta(days=28) <= world.cut
    ]
    responders = 0
    for subject in evaluable:
        first = _first_response(session, subject.id, world)
        responders += first in _RESPONDED
    tables = monitoring.dsmb_tables(session, by=sponsor, study_id=world.study_id) if infused else None
    return Consort(
        referred=len(world.journeys),
        not_screened_recruitment_closed=world.tally["referred after recruitment closed"],
        screened=int(counts["assessed"]),  # type: ignore[call-overload]
        screen_failed=int(counts["excluded"]),  # type: ignore[call-overload]
        screen_failed_by_criterion=dict(counts["excluded_by_criterion"]),  # type: ignore[call-overload]
        eligible_not_enrolled=world.tally["eligible, not enrolled"],
        enrolled=len(enrolled),
        not_infused=dict(sorted(not_infused.items())),
        infused=len(infused),
        evaluable_day28=len(evaluable),
        cr_cri_day28=responders,
        crs_any=tables.crs.any_grade if tables else 0,
        crs_grade_3_or_more=tables.crs.grade_3_or_more if tables else 0,
        icans_any=tables.icans.any_grade if tables else 0,
        status_at_cut=dict(sorted(Counter(str(subject.status) for subject in enrolled).items())),
    )


def _first_response(session: Session, subject_id: int, world: World) -> str | None:
    entered = [
        form.data
        for form in forms.list_forms(session, subject_id=subject_id, by=world.staff.sponsor)
        if form.form_code == "response" and form.version > 0 and "overall_response" in form.data
    ]
    if not entered:
        return None
    return str(min(entered, key=lambda data: str(data.get("assessment_date")))["overall_response"])


def render_consort(consort: Consort) -> list[str]:
    """The CONSORT flow as lines of text."""
    failed = (
        ", ".join(f"{name} {count}" for name, count in consort.screen_failed_by_criterion.items()) or "none"
    )
    not_infused = ", ".join(f"{name} {count}" for name, count in consort.not_infused.items()) or "none"
    status = ", ".join(f"{name} {count}" for name, count in consort.status_at_cut.items()) or "none"
    rate = f"{consort.cr_cri_day28 / consort.evaluable_day28:.0%}" if consort.evaluable_day28 else "n/a"
    return [
        f"Referred                      {consort.referred}",
        f"  not screened (recruitment closed) {consort.not_screened_recruitment_closed}",
        f"Assessed for eligibility      {consort.screened}",
        f"  excluded (screen failures)  {consort.screen_failed}  [criteria: {failed}]",
        f"  eligible, not enrolled      {consort.eligible_not_enrolled}",
        f"Enrolled                      {consort.enrolled}",
        f"  not infused                 {sum(consort.not_infused.values())}  [{not_infused}]",
        f"Infused                       {consort.infused}",
        f"  evaluable at day 28         {consort.evaluable_day28}, CR/CRi {consort.cr_cri_day28} ({rate})",
        f"  CRS any grade {consort.crs_any}, grade >= 3 {consort.crs_grade_3_or_more}; "
        f"ICANS {consort.icans_any}",
        f"Status at the cut             {status}",
    ]
