"""TU (tumour identification) and TR (tumour results) from the lymphoma lesion CRF (SDTMIG 3.4).

Test codes are those of the CDISC Oncology codetable as the CDISC disease-response supplements
use them: TU ``TUMIDENT`` (Tumor Identification) with results ``TARGET``, ``NON-TARGET`` and
``NEW``; TR ``LDIAM`` (Longest Diameter) and ``LPERP`` (Longest Perpendicular) for each target
lesion and ``TUMSTATE`` (Tumor State: ``PRESENT``, ``ABSENT``, ``UNEQUIVOCAL PROGRESSION``) for
non-target and new lesions. The Lugano 2014 sum of the products of the diameters
(Cheson et al., J Clin Oncol 2014;32:3059), which the CRF computes, is one TR record per time
point with ``TRGRPID`` ``TARGET``, no ``TRLNKID``, no method, like the supplements' summary
results; its short name ``SPD`` ("Sum of Products of Diameters") is celltrial's, declared in
define.xml (:data:`SPD_TEST`).

Link IDs: ``T01``-``T06`` for the target slots of the CRF (the same lesion at every time point),
``NT01`` for the non-target lesions, ``NEW01``, ``NEW02``... for each time point that found new
lesions. Targets and non-targets are identified at the baseline lesion form (the last one on or
before the infusion, else the first), new lesions where they were found. ``TULOC`` is the site in
the anatomical-location terms (e.g. ``MEDIASTINAL LYMPH NODE``) with the side in ``TULAT``.
"""

from __future__ import annotations

import re
from typing import Any

from celltrial.analysis.lesion_forms import LesionAssessment, read_lesion_form
from celltrial.analysis.lugano import SiteStatus
from celltrial.reporting.sdtm.common import Dataset, VisitNumbers, iso, study_day, usubjid
from celltrial.reporting.trialdata import FormRecord, SubjectRecord, TrialData

__all__ = ["SPD_TEST", "TR_TESTS", "TU_TESTS", "location", "tumour_domains"]

TU_TESTS = {"TUMIDENT": "Tumor Identification"}
TR_TESTS = {
    "LDIAM": "Longest Diameter",
    "LPERP": "Longest Perpendicular",
    "TUMSTATE": "Tumor State",
}
SPD_TEST = ("SPD", "Sum of Products of Diameters")
_METHODS = {"ct": "CT SCAN", "pet_ct": "PET/CT SCAN"}
_STATES = {
    SiteStatus.ABSENT_OR_NORMAL: "ABSENT",
    SiteStatus.REGRESSED_OR_STABLE: "PRESENT",
    SiteStatus.PROGRESSED: "UNEQUIVOCAL PROGRESSION",
}
_SIDE = re.compile(r"[,(]?\s*\b(left|right|bilateral)\b\)?", re.IGNORECASE)


def location(site: str) -> tuple[str, str | None]:
    """``TULOC`` and ``TULAT`` of a site as the CRF records it ("Axillary lymph nodes, right")."""
    side = _SIDE.search(site)
    place = _SIDE.sub("", site).strip(" ,")
    place = re.sub(r"\blymph nodes\b", "lymph node", place, flags=re.IGNORECASE)
    return place.upper()[:200], side.group(1).upper() if side else None


def _baseline(lesions: list[tuple[FormRecord, LesionAssessment]], subject: SubjectRecord) -> int | None:
    infused = subject.infusion_date.isoformat() if subject.infusion_date else ""
    before = [i for i, (_f, a) in enumerate(lesions) if infused and a.assessment_date[:10] <= infused]
    if before:
        return before[-1]
    return 0 if lesions else None


def _common(
    data: TrialData, subject: SubjectRecord, numbers: VisitNumbers, form: FormRecord
) -> dict[str, Any]:
    visit = data.visit(form.visit_id)
    return {
        "STUDYID": data.nct_id,
        "USUBJID": usubjid(data.nct_id, subject),
        "VISITNUM": numbers.of(visit),
        "VISIT": visit.name.upper() if visit else None,
    }


def _identify(
    tu: Dataset, common: dict[str, Any], link: str, result: str, site: str | None, dated: dict[str, Any]
) -> None:
    place, side = location(site) if site else (None, None)
    tu.add(
        **common,
        TULNKID=link,
        TUTESTCD="TUMIDENT",
        TUTEST=TU_TESTS["TUMIDENT"],
        TUORRES=result,
        TUSTRESC=result,
        TULOC=place,
        TULAT=side,
        TUMETHOD=dated["TRMETHOD"],
        TUDTC=dated["TRDTC"],
        TUDY=dated["TRDY"],
    )


def _result(
    tr: Dataset, common: dict[str, Any], link: str | None, code: str, value: Any, **more: Any
) -> None:
    numeric = isinstance(value, float)
    text = f"{value:g}" if numeric else str(value)
    name = SPD_TEST[1] if code == SPD_TEST[0] else TR_TESTS[code]
    unit = ("mm2" if code == SPD_TEST[0] else "mm") if numeric else None
    tr.add(
        **common,
        TRLNKID=link,
        TRTESTCD=code,
        TRTEST=name,
        TRORRES=text,
        TRORRESU=unit,
        TRSTRESC=text,
        TRSTRESN=value if numeric else None,
        TRSTRESU=unit,
        **more,
    )


def _subject(
    data: TrialData, subject: SubjectRecord, numbers: VisitNumbers, tu: Dataset, tr: Dataset
) -> None:
    read = [(form, read_lesion_form(form.data)) for form in data.forms_of("lesions", subject.id)]
    lesions = sorted(((f, a) for f, a in read if a is not None), key=lambda pair: pair[1].assessment_date)
    first = _baseline(lesions, subject)
    if first is None:
        return
    new_count, non_target = 0, False
    for index, (form, assessment) in enumerate(lesions):
        common = _common(data, subject, numbers, form)
        method = _METHODS.get(assessment.method, assessment.method.upper())
        day = assessment.assessment_date
        dated = {"TRMETHOD": method, "TRDTC": iso(day), "TRDY": study_day(day, subject.infusion_date)}
        if index == first:
            for target in assessment.targets:
                _identify(tu, common, f"T{target.slot:02d}", "TARGET", target.site, dated)
            non_target = assessment.non_target is not SiteStatus.ABSENT_OR_NORMAL
            if non_target:
                _identify(tu, common, "NT01", "NON-TARGET", assessment.non_target_sites, dated)
        for target in assessment.targets:
            link = f"T{target.slot:02d}"
            _result(tr, common, link, "LDIAM", target.ldiam_mm, TRGRPID="TARGET", **dated)
            _result(tr, common, link, "LPERP", target.perpdiam_mm, TRGRPID="TARGET", **dated)
        if non_target and index >= first:
            state = _STATES[assessment.non_target]
            _result(tr, common, "NT01", "TUMSTATE", state, TRGRPID="NON-TARGET", **dated)
        if assessment.new_lesions and index > first:
            new_count += 1
            link = f"NEW{new_count:02d}"
            _identify(tu, common, link, "NEW", assessment.new_lesion_sites, dated)
            _result(tr, common, link, "TUMSTATE", "PRESENT", TRGRPID="NEW", **dated)
        if assessment.targets:
            spd = round(assessment.spd_mm2, 2)
            _result(
                tr, common, None, SPD_TEST[0], spd, TRGRPID="TARGET", TRDTC=dated["TRDTC"], TRDY=dated["TRDY"]
            )


def tumour_domains(data: TrialData, numbers: VisitNumbers) -> list[Dataset]:
    """TU and TR of every subject with lesion forms."""
    tu, tr = Dataset("TU"), Dataset("TR")
    for subject in data.subjects:
        _subject(data, subject, numbers, tu, tr)
    return [tu.number(), tr.number()]
