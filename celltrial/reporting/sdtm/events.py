"""Events and interventions: AE (+ SUPPAE), MH, CM and EX.

AE comes from the safety records (CTCAE term, SOC, grade, seriousness, relatedness). Each event
gets the grading scale in SUPPAE (QNAM ``AETOXGRS``): ``ASTCT 2019`` for cytokine release
syndrome and ICANS, which CAR-T trials grade by the ASTCT consensus (Lee et al., Biol Blood Marrow
Transplant 2019;25:625), else ``CTCAE v<version>``. The relationship to lymphodepletion goes to
SUPPAE ``AERELLD`` (AEREL is the relationship to the CAR-T cells), the adverse events of special
interest to ``AESI``. AEACN is ``NOT APPLICABLE``: the CAR-T cells are one infusion, there is no
treatment to change; what was given for the event is AEACNOTH.

EX has the lymphodepletion (fludarabine and cyclophosphamide, mg/m2 per day) and the CAR-T
infusion (CAR-positive cells per kg, with the product lot; EXREFID the ISBT 128 DINs of the bags
infused, from the chain of identity) from their CRFs. CM has the
concomitant medications and the prior anticancer drug therapies (CMCAT).
"""

from __future__ import annotations

from collections.abc import Callable

from celltrial.reporting.sdtm.common import Dataset, VisitNumbers, epoch_on, iso, study_day, usubjid
from celltrial.reporting.sdtm.subjects import first_exposure
from celltrial.reporting.trialdata import AdverseEventRecord, SubjectRecord, TrialData

__all__ = ["ASTCT_TERMS", "event_domains", "grading_scale"]

ASTCT_TERMS = frozenset(
    {"cytokine release syndrome", "immune effector cell-associated neurotoxicity syndrome"}
)
_OUTCOMES = {
    "recovered": "RECOVERED/RESOLVED",
    "recovering": "RECOVERING/RESOLVING",
    "not_recovered": "NOT RECOVERED/NOT RESOLVED",
    "recovered_with_sequelae": "RECOVERED/RESOLVED WITH SEQUELAE",
    "fatal": "FATAL",
    "unknown": "UNKNOWN",
}
_RELATEDNESS = {
    "not_related": "NOT RELATED",
    "unlikely": "UNLIKELY RELATED",
    "possible": "POSSIBLY RELATED",
    "probable": "PROBABLY RELATED",
    "definite": "RELATED",
}
_SERIOUSNESS = {
    "AESCONG": "congenital_anomaly",
    "AESDISAB": "disability",
    "AESDTH": "death",
    "AESHOSP": "hospitalisation",
    "AESLIFE": "life_threatening",
    "AESMIE": "important_medical_event",
}
_ROUTES = {
    "oral": "ORAL",
    "intravenous": "INTRAVENOUS",
    "subcutaneous": "SUBCUTANEOUS",
    "intramuscular": "INTRAMUSCULAR",
    "inhaled": "RESPIRATORY (INHALATION)",
    "topical": "TOPICAL",
    "other": "OTHER",
}
_DRUG_THERAPIES = frozenset({"chemotherapy", "targeted_therapy", "immunotherapy", "car_t"})


def grading_scale(event: AdverseEventRecord) -> str:
    """The scale the event's grade follows: ASTCT 2019 for CRS and ICANS, else CTCAE."""
    if event.term.strip().lower() in ASTCT_TERMS or {"crs", "icans"} & set(event.aesi):
        return "ASTCT 2019"
    return f"CTCAE v{event.ctcae_version}"


def _yn(flag: bool) -> str:
    return "Y" if flag else "N"


def _ae(data: TrialData, subject: SubjectRecord, ae: Dataset, supp: Dataset) -> None:
    key = usubjid(data.nct_id, subject)
    exposed = first_exposure(data, subject)
    for event in (e for e in data.adverse_events if e.subject_id == subject.id):
        flags = {
            name: _yn(code in event.seriousness) if event.serious else "N"
            for name, code in _SERIOUSNESS.items()
        }
        given = [code.replace("_", " ").upper() for code in event.action_taken if code != "none"]
        ae.add(
            STUDYID=data.nct_id,
            USUBJID=key,
            AESPID=f"AE-{event.id}",
            AETERM=event.term,
            AEDECOD=event.term,
            AEPTCD=int(event.meddra_code) if event.meddra_code else None,
            AEBODSYS=event.soc,
            AESOC=event.soc,
            AESER=_yn(event.serious),
            AEACN="NOT APPLICABLE",
            AEACNOTH="; ".join(given) or None,
            AEREL=_RELATEDNESS[event.related_to_cart],
            AEOUT=_OUTCOMES[event.outcome],
            AETOXGR=str(event.grade),
            EPOCH=epoch_on(event.onset_date, subject, exposed),
            AESTDTC=iso(event.onset_date),
            AEENDTC=iso(event.resolution_date),
            AESTDY=study_day(event.onset_date, subject.infusion_date),
            AEENDY=study_day(event.resolution_date, subject.infusion_date),
            **flags,
        )
        qualifiers = [
            ("AETOXGRS", "Toxicity Grading Scale", grading_scale(event)),
            ("AERELLD", "Causality to Lymphodepletion", _RELATEDNESS[event.related_to_lymphodepletion]),
        ]
        if event.aesi:
            qualifiers.append(
                (
                    "AESI",
                    "Adverse Event of Special Interest",
                    ", ".join(code.replace("_", " ").upper() for code in event.aesi),
                )
            )
        for name, label, value in qualifiers:
            supp.add(
                STUDYID=data.nct_id,
                RDOMAIN="AE",
                USUBJID=key,
                IDVAR="AESPID",
                IDVARVAL=f"AE-{event.id}",
                QNAM=name,
                QLABEL=label,
                QVAL=value,
                QORIG="CRF" if name != "AETOXGRS" else "ASSIGNED",
                QEVAL="INVESTIGATOR" if name == "AERELLD" else None,
            )


def _mh(data: TrialData, subject: SubjectRecord, mh: Dataset) -> None:
    for form in data.forms_of("medical_history", subject.id):
        values = form.data
        ongoing = values.get("ongoing") is True
        mh.add(
            STUDYID=data.nct_id,
            USUBJID=usubjid(data.nct_id, subject),
            MHSPID=f"MH-{form.id}",
            MHTERM=values.get("condition"),
            MHCAT="GENERAL MEDICAL HISTORY",
            MHTOXGR=str(values["grade"]) if values.get("grade") is not None else None,
            EPOCH="SCREENING",
            MHSTDTC=iso(values.get("onset_date")),
            MHENDTC=iso(values.get("end_date")),
            MHENRTPT="ONGOING" if ongoing else None,
            MHENTPT="SCREENING" if ongoing else None,
        )


def _cm(data: TrialData, subject: SubjectRecord, cm: Dataset) -> None:
    key = usubjid(data.nct_id, subject)
    exposed = first_exposure(data, subject)
    for form in data.forms_of("conmeds", subject.id):
        values = form.data
        ongoing = values.get("ongoing") is True
        cm.add(
            STUDYID=data.nct_id,
            USUBJID=key,
            CMSPID=f"CM-{form.id}",
            CMTRT=values.get("medication"),
            CMCAT="CONCOMITANT MEDICATION",
            CMINDC=values.get("indication"),
            CMDOSE=values.get("dose"),
            CMDOSU=("IU" if values.get("dose_unit") == "[iU]" else values.get("dose_unit")),
            CMDOSFRQ=values.get("frequency"),
            CMROUTE=_ROUTES.get(str(values.get("route"))),
            EPOCH=epoch_on(values.get("start_date"), subject, exposed),
            CMSTDTC=iso(values.get("start_date")),
            CMENDTC=iso(values.get("end_date")),
            CMSTDY=study_day(values.get("start_date"), subject.infusion_date),
            CMENDY=study_day(values.get("end_date"), subject.infusion_date),
            CMENRTPT="ONGOING" if ongoing else None,
            CMENTPT="END OF STUDY" if ongoing else None,
        )
    for form in data.forms_of("prior_therapy", subject.id):
        values = form.data
        if values.get("therapy_type") not in _DRUG_THERAPIES:
            continue
        cm.add(
            STUDYID=data.nct_id,
            USUBJID=key,
            CMSPID=f"PRIOR-{values.get('line_number')}",
            CMTRT=values.get("regimen"),
            CMCAT="PRIOR ANTICANCER THERAPY",
            CMINDC="T-CELL MALIGNANCY",
            EPOCH="SCREENING",
            CMSTDTC=iso(values.get("start_date")),
            CMENDTC=iso(values.get("end_date")),
            CMSTDY=study_day(values.get("start_date"), subject.infusion_date),
            CMENDY=study_day(values.get("end_date"), subject.infusion_date),
        )


def _ex(data: TrialData, subject: SubjectRecord, numbers: VisitNumbers, ex: Dataset) -> None:
    key = usubjid(data.nct_id, subject)
    exposed = first_exposure(data, subject)
    for form in data.forms_of("lymphodepletion", subject.id):
        values = form.data
        visit = data.visit(form.visit_id)
        for drug in ("fludarabine", "cyclophosphamide"):
            if values.get(f"{drug}_dose") is None:
                continue
            ex.add(
                STUDYID=data.nct_id,
                USUBJID=key,
                EXSPID=f"LD-{form.id}",
                EXTRT=drug.upper(),
                EXCAT="LYMPHODEPLETION",
                EXDOSE=values[f"{drug}_dose"],
                EXDOSU="mg/m2",
                EXDOSFRM="INJECTION",
                EXDOSFRQ="QD",
                EXROUTE="INTRAVENOUS",
                EXADJ=values.get("modification_reason") if values.get("dose_modified") else None,
                VISITNUM=numbers.of(visit),
                VISIT=visit.name.upper() if visit else None,
                EPOCH=epoch_on(values.get("start_date"), subject, exposed),
                EXSTDTC=iso(values.get("start_date")),
                EXENDTC=iso(values.get("end_date")),
                EXSTDY=study_day(values.get("start_date"), subject.infusion_date),
                EXENDY=study_day(values.get("end_date"), subject.infusion_date),
            )
    bags = [
        din
        for product in data.products
        if product.subject_id == subject.id
        for din, _ in product.infused_bags
    ]
    for form in data.forms_of("infusion", subject.id):
        values = form.data
        visit = data.visit(form.visit_id)
        started = values.get("infusion_datetime")
        ex.add(
            STUDYID=data.nct_id,
            USUBJID=key,
            EXREFID=", ".join(bags) or None,
            EXSPID=f"INF-{form.id}",
            EXTRT="CD7 CAR-T CELLS",
            EXCAT="CAR-T CELL INFUSION",
            EXDOSE=values.get("dose_per_kg"),
            EXDOSU="cells/kg",
            EXDOSFRM="SUSPENSION",
            EXDOSFRQ="ONCE",
            EXROUTE="INTRAVENOUS",
            EXLOT=values.get("product_lot"),
            VISITNUM=numbers.of(visit),
            VISIT=visit.name.upper() if visit else None,
            EPOCH="TREATMENT",
            EXSTDTC=iso(started),
            EXENDTC=iso(started),
            EXSTDY=study_day(started, subject.infusion_date),
            EXENDY=study_day(started, subject.infusion_date),
        )


def event_domains(data: TrialData, numbers: VisitNumbers) -> list[Dataset]:
    """AE, SUPPAE, MH, CM and EX."""
    ae, supp, mh, cm, ex = (Dataset(name) for name in ("AE", "SUPPAE", "MH", "CM", "EX"))
    builders: list[Callable[[SubjectRecord], None]] = [
        lambda s: _ae(data, s, ae, supp),
        lambda s: _mh(data, s, mh),
        lambda s: _cm(data, s, cm),
        lambda s: _ex(data, s, numbers, ex),
    ]
    for subject in data.subjects:
        for build in builders:
            build(subject)
    supp.rows.sort(key=lambda row: (row["USUBJID"], row["IDVARVAL"], row["QNAM"]))
    return [ae.number(), supp, mh.number(), cm.number(), ex.number()]
