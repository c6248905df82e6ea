"""SDTM TU/TR from lesion forms and RS from derived responses (SDTMIG 3.4; CDISC Oncology codetable)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from test_sdtm_building_blocks import empty_trial, subject

from celltrial.reporting.sdtm.common import VisitNumbers
from celltrial.reporting.sdtm.findings import finding_domains
from celltrial.reporting.sdtm.tumours import location, tumour_domains
from celltrial.reporting.trialdata import FormRecord, TrialData


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        ("Axillary lymph nodes, right", ("AXILLARY LYMPH NODE", "RIGHT")),
        ("Mediastinal lymph nodes", ("MEDIASTINAL LYMPH NODE", None)),
        ("Inguinal lymph node (left)", ("INGUINAL LYMPH NODE", "LEFT")),
        ("Liver", ("LIVER", None)),
    ],
)
def test_a_site_becomes_an_anatomical_location_and_a_laterality(
    site: str, expected: tuple[str, str | None]
) -> None:
    assert location(site) == expected


def form(number: int, code: str, data: dict[str, Any]) -> FormRecord:
    return FormRecord(
        number, 1, None, code, 1, 1, 1, "complete", data, datetime(2026, 6, 1, tzinfo=UTC), "coordinator"
    )


def lesion_form(number: int, day: str, ldiam: float, *, new: bool = False) -> FormRecord:
    data: dict[str, Any] = {
        "assessment_date": day,
        "method": "ct",
        "target_1_site": "Cervical lymph nodes, left",
        "target_1_kind": "nodal",
        "target_1_ldiam": ldiam,
        "target_1_perpdiam": 10.0,
        "non_target_status": "regressed_or_stable",
        "non_target_sites": "Spleen",
        "new_lesions": new,
        "spd": ldiam * 10.0,
    }
    if new:
        data["new_lesion_sites"] = "Para-aortic lymph nodes"
    return form(number, "lesions", data)


def trial(*forms: FormRecord) -> TrialData:
    return replace(empty_trial(), subjects=(subject(),), forms=forms)


def test_lesions_identified_at_baseline_are_measured_at_each_time_point_and_new_ones_identified_later() -> (
    None
):
    data = trial(
        lesion_form(1, "2026-03-01", 40.0),
        lesion_form(2, "2026-04-07", 20.0),
        lesion_form(3, "2026-06-08", 22.0, new=True),
    )
    tu, tr = tumour_domains(data, VisitNumbers(data))
    assert [(r["TULNKID"], r["TUORRES"], r["TULOC"], r["TULAT"]) for r in tu.rows] == [
        ("NEW01", "NEW", "PARA-AORTIC LYMPH NODE", None),
        ("NT01", "NON-TARGET", "SPLEEN", None),
        ("T01", "TARGET", "CERVICAL LYMPH NODE", "LEFT"),
    ]
    results = {(r["TRLNKID"], r["TRTESTCD"], r["TRDTC"]): r["TRSTRESN"] for r in tr.rows}
    assert results[("T01", "LDIAM", "2026-04-07")] == 20.0
    assert results[("T01", "LPERP", "2026-04-07")] == 10.0
    assert results[(None, "SPD", "2026-04-07")] == 200.0
    assert len(tr.rows) == 3 * 4 + 1  # per form: LDIAM, LPERP, SPD, non-target state; one new lesion
    states = [(r["TRLNKID"], r["TRSTRESC"]) for r in tr.rows if r["TRTESTCD"] == "TUMSTATE"]
    assert states.count(("NT01", "PRESENT")) == 3
    assert ("NEW01", "PRESENT") in states
    assert {r["TRSEQ"] for r in tr.rows} == set(range(1, len(tr.rows) + 1))


def test_rs_holds_each_derived_response_under_the_criteria_its_form_applied() -> None:
    derived = [
        form(
            1,
            "response",
            {
                "assessment_date": "2026-04-07",
                "overall_response": "cr",
                "response_criteria": "lugano_2014_pet_ct",
            },
        ),
        form(
            2,
            "response",
            {"assessment_date": "2026-06-08", "overall_response": "relapse", "response_criteria": "nccn_all"},
        ),
        form(3, "response", {"assessment_date": "2026-07-08", "response_criteria": None}),
    ]
    data = trial(*derived)
    rs = next(d for d in finding_domains(data, VisitNumbers(data)) if d.domain == "RS")
    assert [(r["RSCAT"], r["RSORRES"], r["RSSTRESC"], r["RSDY"]) for r in rs.rows] == [
        ("LUGANO CLASSIFICATION 2014", "CMR", "CR", 29),
        ("NCCN ALL RESPONSE CRITERIA", "RELAPSE", "PD", 91),
    ]
    assert date.fromisoformat(rs.rows[0]["RSDTC"]) == date(2026, 4, 7)
