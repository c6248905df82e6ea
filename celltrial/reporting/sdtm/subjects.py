"""Subject-level domains: DM, DS, IE and SV.

- DM has every screened patient. A screen failure has ARMNRS ``SCREEN FAILURE``, a patient still
  in screening ``NOT ASSIGNED``, an enrolled subject never infused the planned arm with ARMNRS
  ``ASSIGNED, NOT TREATED`` (SDTMIG 3.4, 5.2). AGE is in whole years at informed consent.
- DS holds the protocol milestones (informed consent obtained, at each consent) and the
  disposition events: screen failure, and the end of study from the disposition CRF, or from the
  subject's final status when the CRF is not saved yet.
- IE has one record per criterion that excluded the patient at each screening attempt
  (inclusions not met, exclusions met), after the investigator's judgments; IETEST is the TI text.
- SV has every visit that took place.
"""

from __future__ import annotations

from datetime import date

from celltrial.errors import InvalidInput
from celltrial.reporting.sdtm.common import (
    ARM,
    ARMCD,
    Dataset,
    VisitNumbers,
    day_of,
    epoch_on,
    iso,
    study_day,
    subjid,
    usubjid,
)
from celltrial.reporting.sdtm.design import ietest
from celltrial.reporting.trialdata import SubjectRecord, TrialData

__all__ = ["COUNTRIES", "first_exposure", "subject_domains"]

COUNTRIES = {
    "china": "CHN",
    "united states": "USA",
    "usa": "USA",
    "germany": "DEU",
    "france": "FRA",
    "united kingdom": "GBR",
    "spain": "ESP",
    "italy": "ITA",
    "japan": "JPN",
    "korea": "KOR",
    "south korea": "KOR",
    "canada": "CAN",
    "australia": "AUS",
    "netherlands": "NLD",
    "belgium": "BEL",
    "switzerland": "CHE",
    "israel": "ISR",
    "singapore": "SGP",
    "taiwan": "TWN",
    "hong kong": "HKG",
}
"""Country names of site records to ISO 3166-1 alpha-3 (DM.COUNTRY)."""

_RACES = {
    "american_indian_or_alaska_native": "AMERICAN INDIAN OR ALASKA NATIVE",
    "asian": "ASIAN",
    "black_or_african_american": "BLACK OR AFRICAN AMERICAN",
    "native_hawaiian_or_other_pacific_islander": "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER",
    "white": "WHITE",
    "not_reported": "NOT REPORTED",
    "unknown": "UNKNOWN",
}
_DISPOSITIONS = {
    "completed": "COMPLETED",
    "withdrawn_by_subject": "WITHDRAWAL BY SUBJECT",
    "withdrawn_by_investigator": "PHYSICIAN DECISION",
    "lost_to_follow_up": "LOST TO FOLLOW-UP",
    "death": "DEATH",
    "study_terminated": "STUDY TERMINATED BY SPONSOR",
    "other": "OTHER",
}
_FINAL_STATUSES = {
    "completed": "COMPLETED",
    "withdrawn": "WITHDRAWAL BY SUBJECT",
    "lost_to_follow_up": "LOST TO FOLLOW-UP",
    "died": "DEATH",
}


def country_code(data: TrialData, site_code: str) -> str:
    """ISO 3166-1 alpha-3 of a site's country; an unknown name is refused naming the site."""
    country = data.site(site_code).country
    if len(country) == 3 and country.isupper():
        return country
    code = COUNTRIES.get(country.strip().lower())
    if code is None:
        raise InvalidInput(
            f"the country {country!r} of site {site_code} has no ISO 3166 code known to the SDTM export",
            field=f"site {site_code}.country",
        )
    return code


def first_exposure(data: TrialData, subject: SubjectRecord) -> date | None:
    """The first day of study treatment: lymphodepletion, else the infusion."""
    starts = [day_of(form.data.get("start_date")) for form in data.forms_of("lymphodepletion", subject.id)]
    known = [day for day in starts if day is not None]
    return min(known) if known else subject.infusion_date


def death_date(data: TrialData, subject: SubjectRecord) -> date | None:
    form = data.latest_form("death", subject.id)
    if form is not None and form.data.get("death_date"):
        return day_of(form.data["death_date"])
    fatal = [
        e.resolution_date or e.onset_date
        for e in data.adverse_events
        if e.subject_id == subject.id and (e.grade == 5 or e.outcome == "fatal")
    ]
    if fatal:
        return min(fatal)
    return subject.status_changed_at.date() if subject.status == "died" else None


def _end_of_participation(data: TrialData, subject: SubjectRecord) -> date | None:
    days = [v.actual_date for v in data.visits if v.subject_id == subject.id and v.actual_date]
    disposition = data.latest_form("disposition", subject.id)
    if disposition is not None:
        days += [
            day
            for day in (day_of(disposition.data.get(k)) for k in ("disposition_date", "last_contact_date"))
            if day
        ]
    died = death_date(data, subject)
    if died:
        days.append(died)
    return max(days) if days else None


def _dm_row(data: TrialData, subject: SubjectRecord, consented: date | None) -> dict[str, object]:
    demographics = data.latest_form("demographics", subject.id)
    values = demographics.data if demographics else {}
    races = values.get("race") or []
    race = None if not races else ("MULTIPLE" if len(races) > 1 else _RACES[races[0]])
    infused = subject.infusion_date
    arm_null: str | None
    if subject.subject_number is None:
        arm_null = "SCREEN FAILURE" if subject.status == "screen_failed" else "NOT ASSIGNED"
    else:
        arm_null = None if infused else "ASSIGNED, NOT TREATED"
    died = death_date(data, subject)
    screening_visit = next(
        (v for v in data.visits if v.subject_id == subject.id and v.code == "SCR" and v.actual_date), None
    )
    exposed = first_exposure(data, subject)
    return {
        "STUDYID": data.nct_id,
        "USUBJID": usubjid(data.nct_id, subject),
        "SUBJID": subjid(subject),
        "RFSTDTC": iso(infused),
        "RFENDTC": iso(_end_of_participation(data, subject)) if infused else None,
        "RFXSTDTC": iso(exposed) if infused else None,
        "RFXENDTC": iso(infused),
        "RFICDTC": iso(consented),
        "RFPENDTC": iso(_end_of_participation(data, subject)),
        "DTHDTC": iso(died),
        "DTHFL": "Y" if died else None,
        "SITEID": subject.site_code,
        "AGE": subject.age_at_consent,
        "AGEU": "YEARS" if subject.age_at_consent is not None else None,
        "SEX": {"female": "F", "male": "M"}.get(subject.sex, "U"),
        "RACE": race,
        "ETHNIC": str(values["ethnicity"]).replace("_", " ").upper() if values.get("ethnicity") else None,
        "ARMCD": ARMCD if subject.subject_number else None,
        "ARM": ARM if subject.subject_number else None,
        "ACTARMCD": ARMCD if infused else None,
        "ACTARM": ARM if infused else None,
        "ARMNRS": arm_null,
        "COUNTRY": country_code(data, subject.site_code),
        "DMDTC": iso(screening_visit.actual_date) if screening_visit else None,
        "DMDY": study_day(screening_visit.actual_date, infused) if screening_visit else None,
    }


def _ds(data: TrialData, subject: SubjectRecord, add: Dataset) -> None:
    key = usubjid(data.nct_id, subject)
    exposed = first_exposure(data, subject)

    def event(term: str, decoded: str, category: str, on: date | None) -> None:
        add.add(
            STUDYID=data.nct_id,
            USUBJID=key,
            DSTERM=term,
            DSDECOD=decoded,
            DSCAT=category,
            EPOCH=epoch_on(on, subject, exposed),
            DSSTDTC=iso(on),
            DSSTDY=study_day(on, subject.infusion_date),
        )

    for consent in (c for c in data.consents if c.subject_id == subject.id):
        term = f"INFORMED CONSENT OBTAINED (ICF VERSION {consent.icf_version})"
        event(term, "INFORMED CONSENT OBTAINED", "PROTOCOL MILESTONE", consent.signed_at.date())
    if subject.status == "screen_failed":
        attempts = [s for s in data.screenings if s.subject_id == subject.id]
        failed = ", ".join(c.id for c in attempts[-1].failed()) if attempts else ""
        on = attempts[-1].screening_date if attempts else subject.status_changed_at.date()
        event(f"SCREEN FAILURE: CRITERIA {failed} NOT MET".strip(), "SCREEN FAILURE", "DISPOSITION EVENT", on)
    form = data.latest_form("disposition", subject.id)
    if form is not None and form.data.get("status"):
        decoded = _DISPOSITIONS[str(form.data["status"])]
        term = str(form.data.get("reason") or decoded).upper()
        event(term, decoded, "DISPOSITION EVENT", day_of(form.data.get("disposition_date")))
    elif subject.status in _FINAL_STATUSES:
        decoded = _FINAL_STATUSES[subject.status]
        ended = death_date(data, subject) if subject.status == "died" else subject.status_changed_at.date()
        event(decoded, decoded, "DISPOSITION EVENT", ended)


def _ie(data: TrialData, subject: SubjectRecord, numbers: VisitNumbers, ie: Dataset) -> None:
    texts = {criterion.id: criterion.text for criterion in data.rules.criteria}
    screening = next((v for v in data.visits if v.subject_id == subject.id and v.code == "SCR"), None)
    for attempt in (s for s in data.screenings if s.subject_id == subject.id):
        for criterion in attempt.failed():
            ie.add(
                STUDYID=data.nct_id,
                USUBJID=usubjid(data.nct_id, subject),
                IESPID=f"SCREENING-{attempt.attempt}",
                IETESTCD=criterion.id,
                IETEST=ietest(texts.get(criterion.id, criterion.id)),
                IECAT=criterion.kind.upper(),
                IEORRES="N" if criterion.kind == "inclusion" else "Y",
                IESTRESC="N" if criterion.kind == "inclusion" else "Y",
                VISITNUM=numbers.of(screening),
                VISIT=screening.name.upper() if screening else None,
                EPOCH="SCREENING",
                IEDTC=iso(attempt.screening_date),
            )


def _sv(data: TrialData, subject: SubjectRecord, numbers: VisitNumbers, sv: Dataset) -> None:
    exposed = first_exposure(data, subject)
    planned_day = {code: day for code, _name, anchor, day in numbers.planned if anchor == "infusion"}
    for visit in (v for v in data.visits if v.subject_id == subject.id and v.actual_date is not None):
        day = planned_day.get(visit.code)
        sv.add(
            STUDYID=data.nct_id,
            USUBJID=usubjid(data.nct_id, subject),
            VISITNUM=numbers.of(visit),
            VISIT=visit.name.upper(),
            VISITDY=None if day is None else (day + 1 if day >= 0 else day),
            EPOCH=epoch_on(visit.actual_date, subject, exposed),
            SVSTDTC=iso(visit.actual_date),
            SVENDTC=iso(visit.actual_date),
            SVSTDY=study_day(visit.actual_date, subject.infusion_date),
            SVENDY=study_day(visit.actual_date, subject.infusion_date),
            SVUPDES=visit.reason if visit.unscheduled else None,
        )


def subject_domains(data: TrialData, numbers: VisitNumbers) -> list[Dataset]:
    """DM, DS, IE and SV."""
    dm, ds, ie, sv = Dataset("DM"), Dataset("DS"), Dataset("IE"), Dataset("SV")
    first_consent: dict[int, date] = {}
    for consent in data.consents:
        first_consent.setdefault(consent.subject_id, consent.signed_at.date())
    for subject in data.subjects:
        dm.add(**_dm_row(data, subject, first_consent.get(subject.id)))
        _ds(data, subject, ds)
        _ie(data, subject, numbers, ie)
        _sv(data, subject, numbers, sv)
    return [dm.number(), ds.number(), ie.number(), sv.number()]
