"""Trial design domains: TS, TA, TE, TV and TI, from the registry record, settings and rules.

Nothing here reads subject data except ``ACTSUB`` (subjects enrolled) and the data cut-off.
TS parameter codes and the CDISC controlled terms used for their values (phase, study type,
intervention model, blinding, control) are those of the SDTM Controlled Terminology codelists
TSPARMCD, TPHASE, STYPE, INTMODEL, TBLIND, TCNTRL and TINDTP.
"""

from __future__ import annotations

from celltrial.eligibility.rules import EligibilityRules
from celltrial.reporting.sdtm.common import ARM, ARMCD, Dataset, VisitNumbers
from celltrial.reporting.sdtm.metadata import standard
from celltrial.reporting.trialdata import TrialData

__all__ = ["design_domains", "ietest"]

_PHASES = {
    "NA": "NOT APPLICABLE",
    "EARLY_PHASE1": "PHASE 0 TRIAL",
    "PHASE1": "PHASE I TRIAL",
    "PHASE2": "PHASE II TRIAL",
    "PHASE3": "PHASE III TRIAL",
    "PHASE4": "PHASE IV TRIAL",
}
_MODELS = {
    "SINGLE_GROUP": "SINGLE GROUP",
    "PARALLEL": "PARALLEL",
    "CROSSOVER": "CROSS-OVER",
    "FACTORIAL": "FACTORIAL",
    "SEQUENTIAL": "SEQUENTIAL",
}
_MASKING = {"NONE": "OPEN LABEL", "SINGLE": "SINGLE BLIND", "DOUBLE": "DOUBLE BLIND"}
_INTERVENTION_TYPES = {"BIOLOGICAL": "BIOLOGIC", "DRUG": "DRUG", "DEVICE": "DEVICE", "GENETIC": "GENETIC"}
_PURPOSES = {"TREATMENT": "TREATMENT", "PREVENTION": "PREVENTION", "DIAGNOSTIC": "DIAGNOSIS"}
ELEMENTS = (
    ("SCRN", "Screening", "SCREENING", "Informed consent", "Enrolment or screen failure", "P28D"),
    ("APHER", "Leukapheresis", "TREATMENT", "Enrolment", "Start of lymphodepletion", None),
    (
        "LYMPHDEP",
        "Lymphodepletion",
        "TREATMENT",
        "First dose of fludarabine or cyclophosphamide",
        "CAR-T infusion",
        "P5D",
    ),
    (
        "CART",
        "CD7 CAR-T infusion",
        "TREATMENT",
        "Start of the CAR-T infusion",
        "Day after the infusion",
        "P1D",
    ),
    ("FU", "Follow-up", "FOLLOW-UP", "Day after the CAR-T infusion", "End of study or death", "P2Y"),
)
"""Trial elements: code, description, epoch, start rule, end rule, planned duration."""


def ietest(text: str) -> str:
    """Criterion text fitted to IETEST's 200 characters (cut at a word, with an ellipsis)."""
    flat = " ".join(text.split())
    if len(flat) <= 200:
        return flat
    return flat[:196].rsplit(" ", 1)[0] + " ..."


def _ts(data: TrialData) -> Dataset:
    section = data.record.protocol_section
    design = section.design_module
    info = design.design_info if design else None
    eligibility = section.eligibility_module
    arms = section.arms_interventions_module
    sponsor = section.sponsor_collaborators_module
    status = section.status_module
    interventions = arms.interventions or [] if arms else []
    phases = (design.phases or ["NA"]) if design else ["NA"]

    def age(text: str | None) -> str | None:
        if not text:
            return None
        number, unit = text.split()
        return f"P{number}{unit[0].upper()}"

    rows: list[tuple[str, str, str | None]] = [
        ("TITLE", "Trial Title", data.record.brief_title),
        ("REGID", "Registry Identifier", data.nct_id),
        ("SPONSOR", "Clinical Study Sponsor", sponsor.lead_sponsor.name if sponsor else None),
        ("TPHASE", "Trial Phase Classification", _PHASES.get(phases[0])),
        ("STYPE", "Study Type", design.study_type if design else None),
        ("INTMODEL", "Intervention Model", _MODELS.get(info.intervention_model or "") if info else None),
        (
            "TBLIND",
            "Trial Blinding Schema",
            _MASKING.get(info.masking_info.masking or "") if info and info.masking_info else None,
        ),
        ("TCNTRL", "Control Type", "NONE"),
        ("RANDOM", "Trial is Randomized", "N" if not info or info.allocation != "RANDOMIZED" else "Y"),
        ("TINDTP", "Trial Intent Type", _PURPOSES.get(info.primary_purpose or "") if info else None),
        ("NARMS", "Planned Number of Arms", str(len(arms.arm_groups or [])) if arms else None),
        ("PLANSUB", "Planned Number of Subjects", str(data.settings.enrolment.cap.value)),
        ("ACTSUB", "Actual Number of Subjects", str(data.enrolled_count)),
        ("AGEMIN", "Planned Minimum Age of Subjects", age(eligibility.minimum_age) if eligibility else None),
        ("AGEMAX", "Planned Maximum Age of Subjects", age(eligibility.maximum_age) if eligibility else None),
        ("SEXPOP", "Sex of Participants", "BOTH"),
        ("HLTSUBJI", "Healthy Subject Indicator", "N"),
        ("ADDON", "Added on to Existing Treatments", "N"),
        ("TRT", "Investigational Therapy or Treatment", interventions[0].name if interventions else None),
        (
            "INTTYPE",
            "Intervention Type",
            _INTERVENTION_TYPES.get(interventions[0].type) if interventions else None,
        ),
        ("ROUTE", "Route of Administration", data.settings.treatment.cart_dose.infusion_route.value.upper()),
        ("SSTDTC", "Study Start Date", status.start_date_struct.date if status.start_date_struct else None),
        ("STOPRULE", "Study Stop Rules", data.settings.safety.stopping_rule.event.value),
        ("SDTIGVER", "SDTM IG Version", standard().sdtmig_version),
        ("SDTMVER", "SDTM Version", standard().sdtm_version),
        ("DCUTDTC", "Data Cutoff Date", data.extracted_on.isoformat()),
        (
            "DCUTDESC",
            "Data Cutoff Description",
            "DRAFT EXTRACT OF UNLOCKED DATA" if data.draft else "DATABASE LOCK",
        ),
    ]
    conditions = section.conditions_module.conditions or [] if section.conditions_module else []
    rows += [("TDIGRP", "Diagnosis Group", condition) for condition in conditions]
    dataset = Dataset("TS")
    for code, name, value in rows:
        dataset.add(
            STUDYID=data.nct_id,
            TSPARMCD=code,
            TSPARM=name,
            TSVAL=value[:200] if value else None,
            TSVALNF=None if value else "NA",
        )
    for code in {row["TSPARMCD"] for row in dataset.rows}:
        for seq, row in enumerate((r for r in dataset.rows if r["TSPARMCD"] == code), start=1):
            row["TSSEQ"] = seq
    return dataset


def _ta_te(data: TrialData) -> tuple[Dataset, Dataset]:
    ta, te = Dataset("TA"), Dataset("TE")
    for order, (code, name, epoch, start, end, duration) in enumerate(ELEMENTS, start=1):
        ta.add(
            STUDYID=data.nct_id,
            ARMCD=ARMCD,
            ARM=ARM,
            TAETORD=order,
            ETCD=code,
            ELEMENT=name,
            EPOCH=epoch,
            TATRANS="If ineligible, the subject leaves the study" if code == "SCRN" else None,
        )
        te.add(STUDYID=data.nct_id, ETCD=code, ELEMENT=name, TESTRL=start, TEENRL=end, TEDUR=duration)
    return ta, te


def _tv(data: TrialData, numbers: VisitNumbers) -> Dataset:
    tv = Dataset("TV")
    for code, name, anchor, day in numbers.planned:
        if anchor == "infusion":
            visit_day: int | None = day + 1 if day >= 0 else day
            rule = f"Day {day} after the CAR-T infusion (day 0)" if day else "Day of the CAR-T infusion"
        else:
            visit_day = None
            rule = f"{abs(day)} days {'before' if day < 0 else 'after'} enrolment" if day else "Enrolment"
        tv.add(
            STUDYID=data.nct_id,
            VISITNUM=numbers.number[code],
            VISIT=name.upper(),
            VISITDY=visit_day,
            ARMCD=ARMCD,
            ARM=ARM,
            TVSTRL=rule,
        )
    return tv


def _ti(data: TrialData, rules: EligibilityRules) -> Dataset:
    ti = Dataset("TI")
    for criterion in rules.criteria:
        if "." in criterion.id or not criterion.id[1:].isdigit():
            continue
        ti.add(
            STUDYID=data.nct_id,
            IETESTCD=criterion.id,
            IETEST=ietest(criterion.text),
            IECAT=criterion.kind.upper(),
            TIRL=f"celltrial eligibility rule {criterion.id}, rule set {rules.version}",
            TIVERS=rules.version,
        )
    return ti


def design_domains(data: TrialData, numbers: VisitNumbers) -> list[Dataset]:
    """TS, TA, TE, TV and TI of the trial."""
    ta, te = _ta_te(data)
    return [_ts(data), ta, te, _tv(data, numbers), _ti(data, data.rules)]
