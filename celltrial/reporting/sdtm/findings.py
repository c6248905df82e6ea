"""Findings: LB, VS, RS, TU/TR and the custom CAR-T kinetics domain XK.

- LB and VS: one record per result of the labs and vital-signs CRFs (VS also has the height and
  weight of the demographics CRF). Results stay in the CRF's units, which are the standard units
  here; the reference ranges are the site's (protocol settings), with LBNRIND. ``--LOBXFL`` flags
  each test's last result on or before the first day of study treatment.
- RS: the overall response each response form derived from its components, RSCAT naming the
  criteria the form applied (``response_criteria``): Lugano 2014 (PET-CT or CT) for lymphoma,
  ELN 2017 for CD7-positive AML, NCCN for T-ALL. RSORRES is the category as the criteria name it
  (CMR, PMR, NMR, PMD for Lugano PET-CT; RELAPSE after CR/CRi), RSSTRESC the standard category
  (CR, CRi, MLFS, PR, SD, PD, NE; a relapse is PD).
- TU/TR: the lymphoma lesion CRF (:mod:`.tumours`).
- XK: CAR transgene copies (qPCR) and CAR-T cells (flow) per sample (see ``sdtmig.yaml``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from celltrial.analysis.response_forms import response_of
from celltrial.reporting.sdtm.common import Dataset, VisitNumbers, day_of, epoch_on, iso, study_day, usubjid
from celltrial.reporting.sdtm.subjects import first_exposure
from celltrial.reporting.sdtm.tumours import tumour_domains
from celltrial.reporting.trialdata import SubjectRecord, TrialData

__all__ = ["LAB_TESTS", "VITAL_SIGNS", "finding_domains"]

LAB_TESTS = {
    "wbc": ("WBC", "Leukocytes", "HEMATOLOGY", "10^9/L"),
    "anc": ("NEUT", "Neutrophils", "HEMATOLOGY", "10^9/L"),
    "alc": ("LYM", "Lymphocytes", "HEMATOLOGY", "10^9/L"),
    "hemoglobin": ("HGB", "Hemoglobin", "HEMATOLOGY", "g/L"),
    "platelets": ("PLAT", "Platelets", "HEMATOLOGY", "10^9/L"),
    "creatinine": ("CREAT", "Creatinine", "CHEMISTRY", "mg/dL"),
    "total_bilirubin": ("BILI", "Bilirubin", "CHEMISTRY", "mg/dL"),
    "alt": ("ALT", "Alanine Aminotransferase", "CHEMISTRY", "U/L"),
    "ast": ("AST", "Aspartate Aminotransferase", "CHEMISTRY", "U/L"),
    "ldh": ("LDH", "Lactate Dehydrogenase", "CHEMISTRY", "U/L"),
    "crp": ("CRP", "C Reactive Protein", "CHEMISTRY", "mg/L"),
    "ferritin": ("FERRITIN", "Ferritin", "CHEMISTRY", "ug/L"),
    "fibrinogen": ("FIBRINO", "Fibrinogen", "COAGULATION", "g/L"),
    "il6": ("IL6", "Interleukin 6", "IMMUNOLOGY", "pg/mL"),
}
"""Field of the labs CRF: LBTESTCD, LBTEST, LBCAT, unit (CDISC UNIT terms)."""

VITAL_SIGNS = {
    "temperature": ("TEMP", "Temperature", "C"),
    "heart_rate": ("HR", "Heart Rate", "beats/min"),
    "systolic_bp": ("SYSBP", "Systolic Blood Pressure", "mmHg"),
    "diastolic_bp": ("DIABP", "Diastolic Blood Pressure", "mmHg"),
    "respiratory_rate": ("RESP", "Respiratory Rate", "breaths/min"),
    "spo2": ("OXYSAT", "Oxygen Saturation", "%"),
    "weight": ("WEIGHT", "Weight", "kg"),
    "height": ("HEIGHT", "Height", "cm"),
}
"""Field of the vital-signs (and demographics) CRF: VSTESTCD, VSTEST, unit."""

_RESPONSES = {
    "cr": "CR",
    "cri": "CRi",
    "mlfs": "MLFS",
    "pr": "PR",
    "sd": "SD",
    "pd": "PD",
    "relapse": "PD",
    "not_evaluable": "NE",
}
_CRITERIA = {
    "lugano_2014_pet_ct": "LUGANO CLASSIFICATION 2014",
    "lugano_2014_ct": "LUGANO CLASSIFICATION 2014",
    "eln_2017": "ELN 2017 AML RESPONSE CRITERIA",
    "nccn_all": "NCCN ALL RESPONSE CRITERIA",
}
_SPECIMENS = {"peripheral_blood": "BLOOD", "bone_marrow": "BONE MARROW", "csf": "CEREBROSPINAL FLUID"}


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _flag_last_before(rows: list[dict[str, Any]], code: str, date_name: str, exposed: date | None) -> None:
    if exposed is None:
        return
    last: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r[date_name] or ""):
        day = day_of(row[date_name])
        if day is not None and day <= exposed and row.get(f"{code}STRESN") is not None:
            last[row[f"{code}TESTCD"]] = row
    for row in last.values():
        row[f"{code}LOBXFL"] = "Y"


def _range(data: TrialData, field: str) -> tuple[float | None, float | None]:
    reference = data.settings.reference_ranges.get(field)
    return (reference.lln, reference.uln) if reference else (None, None)


def _lb(data: TrialData, subject: SubjectRecord, numbers: VisitNumbers, lb: Dataset) -> None:
    exposed = first_exposure(data, subject)
    mine: list[dict[str, Any]] = []
    for form in data.forms_of("labs", subject.id):
        visit = data.visit(form.visit_id)
        taken = form.data.get("collection_date")
        for field, (code, name, category, unit) in LAB_TESTS.items():
            value = form.data.get(field)
            if value is None:
                continue
            low, high = _range(data, field)
            indicator = None
            if low is not None and value < low:
                indicator = "LOW"
            elif high is not None and value > high:
                indicator = "HIGH"
            elif low is not None or high is not None:
                indicator = "NORMAL"
            mine.append(
                {
                    "STUDYID": data.nct_id,
                    "DOMAIN": "LB",
                    "USUBJID": usubjid(data.nct_id, subject),
                    "LBTESTCD": code,
                    "LBTEST": name,
                    "LBCAT": category,
                    "LBORRES": _text(value),
                    "LBORRESU": unit,
                    "LBORNRLO": None if low is None else _text(low),
                    "LBORNRHI": None if high is None else _text(high),
                    "LBSTRESC": _text(value),
                    "LBSTRESN": float(value),
                    "LBSTRESU": unit,
                    "LBSTNRLO": low,
                    "LBSTNRHI": high,
                    "LBNRIND": indicator,
                    "LBSPEC": "BLOOD",
                    "VISITNUM": numbers.of(visit),
                    "VISIT": visit.name.upper() if visit else None,
                    "EPOCH": epoch_on(taken, subject, exposed),
                    "LBDTC": iso(taken),
                    "LBDY": study_day(taken, subject.infusion_date),
                }
            )
    _flag_last_before(mine, "LB", "LBDTC", exposed)
    for row in mine:
        lb.add(**row)


def _vs(data: TrialData, subject: SubjectRecord, numbers: VisitNumbers, vs: Dataset) -> None:
    exposed = first_exposure(data, subject)
    mine: list[dict[str, Any]] = []
    sources = [(form, form.data.get("assessment_date")) for form in data.forms_of("vital_signs", subject.id)]
    for form in data.forms_of("demographics", subject.id):
        visit = data.visit(form.visit_id)
        sources.append((form, visit.actual_date if visit else None))
    for form, measured in sources:
        visit = data.visit(form.visit_id)
        for field, (code, name, unit) in VITAL_SIGNS.items():
            value = form.data.get(field)
            if value is None:
                continue
            mine.append(
                {
                    "STUDYID": data.nct_id,
                    "USUBJID": usubjid(data.nct_id, subject),
                    "VSTESTCD": code,
                    "VSTEST": name,
                    "VSORRES": _text(value),
                    "VSORRESU": unit,
                    "VSSTRESC": _text(value),
                    "VSSTRESN": float(value),
                    "VSSTRESU": unit,
                    "VISITNUM": numbers.of(visit),
                    "VISIT": visit.name.upper() if visit else None,
                    "EPOCH": epoch_on(measured, subject, exposed),
                    "VSDTC": iso(measured),
                    "VSDY": study_day(measured, subject.infusion_date),
                }
            )
    _flag_last_before(mine, "VS", "VSDTC", exposed)
    for row in mine:
        vs.add(**row)


def _rs(data: TrialData, subject: SubjectRecord, numbers: VisitNumbers, rs: Dataset) -> None:
    exposed = first_exposure(data, subject)
    for form in data.forms_of("response", subject.id):
        visit = data.visit(form.visit_id)
        assessed = form.data.get("assessment_date")
        result = form.data.get("overall_response")
        if result is None:
            continue
        criteria = form.data.get("response_criteria")
        rs.add(
            STUDYID=data.nct_id,
            USUBJID=usubjid(data.nct_id, subject),
            RSTESTCD="OVRLRESP",
            RSTEST="Overall Response",
            RSCAT=_CRITERIA.get(str(criteria)),
            RSORRES=str(response_of(str(result), criteria)).upper(),
            RSSTRESC=_RESPONSES[str(result)],
            RSEVAL="INVESTIGATOR",
            VISITNUM=numbers.of(visit),
            VISIT=visit.name.upper() if visit else None,
            EPOCH=epoch_on(assessed, subject, exposed),
            RSDTC=iso(assessed),
            RSDY=study_day(assessed, subject.infusion_date),
        )


def _xk(data: TrialData, subject: SubjectRecord, numbers: VisitNumbers, xk: Dataset) -> None:
    lloq = data.settings.analysis.kinetics_lloq_copies_per_ug.value
    for form in data.forms_of("kinetics_sample", subject.id):
        visit = data.visit(form.visit_id)
        taken = form.data.get("sample_datetime")
        below = form.data.get("below_lloq") is True
        tests: list[tuple[str, str, str, Any, float | None]] = [
            ("CARTGCP", "CAR Transgene Copies", "copies/ug", form.data.get("car_copies"), lloq)
        ]
        if form.data.get("car_t_cells") is not None:
            tests.append(("CARTCELL", "CAR-T Cells", "cells/uL", form.data.get("car_t_cells"), None))
        for code, name, unit, value, limit in tests:
            blq = below and code == "CARTGCP"
            if value is None and not blq:
                continue
            xk.add(
                STUDYID=data.nct_id,
                USUBJID=usubjid(data.nct_id, subject),
                XKTESTCD=code,
                XKTEST=name,
                XKORRES="BLQ" if blq else _text(value),
                XKORRESU=unit,
                XKSTRESC="BLQ" if blq else _text(value),
                XKSTRESN=None if blq else float(value),
                XKSTRESU=unit,
                XKSPEC=_SPECIMENS.get(str(form.data.get("sample_type"))),
                XKLLOQ=limit,
                VISITNUM=numbers.of(visit),
                VISIT=visit.name.upper() if visit else None,
                XKDTC=iso(taken),
                XKDY=study_day(taken, subject.infusion_date),
            )


def finding_domains(data: TrialData, numbers: VisitNumbers) -> list[Dataset]:
    """LB, VS, RS, TU, TR and XK."""
    lb, vs, rs, xk = Dataset("LB"), Dataset("VS"), Dataset("RS"), Dataset("XK")
    for subject in data.subjects:
        _lb(data, subject, numbers, lb)
        _vs(data, subject, numbers, vs)
        _rs(data, subject, numbers, rs)
        _xk(data, subject, numbers, xk)
    return [lb.number(), vs.number(), rs.number(), *tumour_domains(data, numbers), xk.number()]
