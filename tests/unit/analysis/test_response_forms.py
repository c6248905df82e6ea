"""The response and lesion CRFs' computed fields, one case per boundary of the criteria they apply.

Leukemia: Döhner et al., Blood 2017;129:424 (ELN 2017, CD7-positive AML) and NCCN ALL (T-ALL):
CR needs marrow blasts < 5%, ANC ≥ 1.0×10⁹/L and platelets ≥ 100×10⁹/L; relapse is a return of
disease after CR/CRi. Lymphoma: Cheson et al., J Clin Oncol 2014;32:3059, Table 3 (Lugano):
PET-CT by the Deauville score; CT by the SPD (PR at ≥ 50% decrease from baseline), CR when every
target node is ≤ 15 mm, PD when a lesion's PPD grows ≥ 50% from its nadir with LDi > 15 mm.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest

from celltrial.analysis.lesion_forms import derive_lesion_form
from celltrial.analysis.response import Response
from celltrial.analysis.response_forms import FORM_CODE, derive_response_form, response_of
from celltrial.errors import InvalidInput
from celltrial.simulate.crf_values import (
    baseline_lesions,
    imaging_method,
    lesion_values,
    lymphoma_response_on,
    response_on,
    response_values,
)
from celltrial.simulate.outcomes import draw_treatment_outcome
from celltrial.simulate.patients import referrals
from celltrial.simulate.scenario import default_scenario

T_ALL = {"diagnosis": "t_cell_all", "marrow_blasts_percent": 60.0, "peripheral_blasts_percent": 20.0}
AML = {**T_ALL, "diagnosis": "cd7_positive_aml"}
REMISSION = {
    "assessment_date": "2026-02-01",
    "disease_type": "leukemia",
    "marrow_blasts_percent": 2.0,
    "marrow_adequate": True,
    "circulating_blasts": False,
    "extramedullary_disease": "absent",
    "anc": 1.5,
    "platelets": 150.0,
    "mrd_status": "negative",
}


def leukemia(changes: dict[str, Any], screening: dict[str, Any] = T_ALL, **others: Any) -> dict[str, Any]:
    return derive_response_form({**REMISSION, **changes}, {"screening": [screening], **others})


@pytest.mark.parametrize(
    ("name", "changes", "screening", "expected", "criteria"),
    [
        ("cr-nccn", {}, T_ALL, "cr", "nccn_all"),
        ("cr-eln-for-cd7-aml", {}, AML, "cr", "eln_2017"),
        ("cr-marrow-blasts-4.9", {"marrow_blasts_percent": 4.9}, T_ALL, "cr", "nccn_all"),
        ("marrow-blasts-5-is-no-response-nccn", {"marrow_blasts_percent": 5.0}, T_ALL, "sd", "nccn_all"),
        ("marrow-blasts-5-is-pr-eln", {"marrow_blasts_percent": 5.0}, AML, "pr", "eln_2017"),
        ("cr-anc-exactly-1.0", {"anc": 1.0}, T_ALL, "cr", "nccn_all"),
        ("cri-anc-0.99", {"anc": 0.99}, T_ALL, "cri", "nccn_all"),
        ("cri-platelets-99", {"platelets": 99.0}, AML, "cri", "eln_2017"),
        (
            "blood-blasts-are-not-cr-nccn",
            {"circulating_blasts": True, "peripheral_blasts_percent": 2.0},
            T_ALL,
            "sd",
            "nccn_all",
        ),
        ("inadequate-marrow-not-evaluable", {"marrow_adequate": False}, T_ALL, "not_evaluable", "nccn_all"),
        (
            "new-emd-is-progression",
            {"extramedullary_disease": "present", "new_extramedullary_disease": True},
            T_ALL,
            "pd",
            "nccn_all",
        ),
        ("marrow-rise-25-percent-is-pd-nccn", {"marrow_blasts_percent": 75.0}, T_ALL, "pd", "nccn_all"),
        ("marrow-rise-24.9-percent-is-not-pd", {"marrow_blasts_percent": 74.9}, T_ALL, "sd", "nccn_all"),
    ],
)
def test_a_leukemia_response_is_derived_from_the_form_components(
    name: str, changes: dict[str, Any], screening: dict[str, Any], expected: str, criteria: str
) -> None:
    derived = leukemia(changes, screening)
    assert (derived["overall_response"], derived["response_criteria"]) == (expected, criteria), name


def test_a_return_of_disease_after_an_earlier_cr_is_a_relapse() -> None:
    earlier = {**REMISSION, "assessment_date": "2026-01-01", "overall_response": "cr"}
    back = {"marrow_blasts_percent": 30.0, "circulating_blasts": True, "peripheral_blasts_percent": 10.0}
    assert leukemia(back, response=[earlier])["overall_response"] == "relapse"
    assert leukemia(back)["overall_response"] == "sd"
    relapsed = {**earlier, "assessment_date": "2026-01-15", "overall_response": "relapse"}
    assert leukemia(back, response=[earlier, relapsed])["overall_response"] == "sd"


def test_a_leukemia_response_waits_for_its_components_and_the_screening_baseline() -> None:
    assert leukemia({"anc": None})["overall_response"] is None
    without_baseline = {"diagnosis": "t_cell_all"}
    assert leukemia({}, without_baseline) == {
        "overall_response": None,
        "response_criteria": None,
        "spd_change_percent": None,
    }


def lesions(day: str, *targets: tuple[float, float], new: bool = False, method: str = "ct") -> dict[str, Any]:
    values: dict[str, Any] = {
        "assessment_date": day,
        "method": method,
        "non_target_status": "absent_or_normal",
        "new_lesions": new,
    }
    for slot, (longest, perpendicular) in enumerate(targets, start=1):
        values |= {
            f"target_{slot}_site": f"Node {slot}",
            f"target_{slot}_kind": "nodal",
            f"target_{slot}_ldiam": longest,
            f"target_{slot}_perpdiam": perpendicular,
        }
    return values


def test_the_lesion_form_computes_each_product_and_their_sum_in_mm2() -> None:
    computed = derive_lesion_form(lesions("2026-01-01", (40.0, 30.0), (25.0, 20.0)), {})
    assert (computed["target_1_ppd"], computed["target_2_ppd"], computed["spd"]) == (1200.0, 500.0, 1700.0)
    assert computed["target_3_ppd"] is None
    half_entered = lesions("2026-01-01", (40.0, 30.0)) | {"target_2_site": "Node 2", "target_2_ldiam": 20.0}
    assert derive_lesion_form(half_entered, {})["spd"] == 1200.0
    assert derive_lesion_form({"assessment_date": "2026-01-01"}, {})["spd"] is None


BASELINE = lesions("2026-01-01", (40.0, 30.0), (30.0, 20.0))  # SPD 1800 mm²
LYMPHOMA = {
    "assessment_date": "2026-03-01",
    "disease_type": "lymphoma",
    "methods": ["ct"],
    "marrow_involvement": "normal",
    "spleen": "absent_or_normal",
}


def ct(*forms: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return derive_response_form({**LYMPHOMA, **changes}, {"lesions": [BASELINE, *forms]})


@pytest.mark.parametrize(
    ("name", "targets", "expected", "change"),
    [
        ("spd-minus-50-percent-is-pr", ((30.0, 20.0), (30.0, 10.0)), "pr", -50.0),
        ("spd-minus-49-percent-is-sd", ((30.0, 20.0), (30.0, 10.6)), "sd", -49.0),
        ("nodes-at-15-mm-are-cr", ((15.0, 10.0), (15.0, 10.0)), "cr", -83.3),
        ("a-node-at-16-mm-is-not-cr", ((16.0, 10.0), (15.0, 10.0)), "pr", -82.8),
    ],
)
def test_a_ct_response_follows_the_spd_change_from_baseline(
    name: str, targets: tuple[tuple[float, float], ...], expected: str, change: float
) -> None:
    derived = ct(lesions("2026-03-01", *targets))
    assert derived == {
        "overall_response": expected,
        "response_criteria": "lugano_2014_ct",
        "spd_change_percent": change,
    }, name


def test_a_lesion_growing_50_percent_from_its_nadir_is_progression_even_below_baseline() -> None:
    nadir = lesions("2026-02-01", (20.0, 15.0), (15.0, 10.0))  # target 1 PPD 300 mm² at its nadir
    grown = lesions("2026-03-01", (26.0, 18.0), (15.0, 10.0))  # 468 mm² (+56%), LDi +6 mm, below baseline
    assert ct(nadir, grown)["overall_response"] == "pd"
    assert ct(grown)["overall_response"] == "pr"  # without the nadir it is a partial response


def test_new_lesions_new_marrow_disease_or_a_growing_spleen_are_progression() -> None:
    shrunk = ((15.0, 10.0), (15.0, 10.0))
    assert ct(lesions("2026-03-01", *shrunk, new=True))["overall_response"] == "pd"
    assert (
        ct(lesions("2026-03-01", *shrunk), marrow_involvement="new_or_recurrent")["overall_response"] == "pd"
    )
    assert ct(lesions("2026-03-01", *shrunk), spleen="progressed")["overall_response"] == "pd"


def test_a_ct_response_needs_the_same_target_lesions_as_baseline_and_says_where() -> None:
    with pytest.raises(InvalidInput) as refused:
        ct(lesions("2026-03-01", (20.0, 10.0)))
    assert refused.value.field == "lesions.target_1_site"
    assert ct()["overall_response"] is None  # no lesion form of the assessment's date yet


@pytest.mark.parametrize(
    ("score", "uptake", "new", "expected", "metabolic"),
    [
        (3, "reduced", False, "cr", Response.CMR),
        (1, "unchanged", False, "cr", Response.CMR),
        (4, "reduced", False, "pr", Response.PMR),
        (4, "unchanged", False, "sd", Response.NMR),
        (5, "increased", False, "pd", Response.PMD),
        (2, "reduced", True, "pd", Response.PMD),
    ],
)
def test_a_pet_ct_response_follows_the_deauville_score(
    score: int, uptake: str, new: bool, expected: str, metabolic: Response
) -> None:
    form = {**LYMPHOMA, "methods": ["pet_ct"], "deauville_score": score, "uptake_change": uptake}
    now = lesions("2026-03-01", (15.0, 10.0), (15.0, 10.0), new=new, method="pet_ct")
    derived = derive_response_form(form, {"lesions": [BASELINE, now]})
    assert (derived["overall_response"], derived["response_criteria"]) == (expected, "lugano_2014_pet_ct")
    assert response_of(derived["overall_response"], derived["response_criteria"]) is metabolic


def test_every_derived_response_is_read_back_as_itself() -> None:
    criteria = {
        Response.CMR: "lugano_2014_pet_ct",
        Response.PMR: "lugano_2014_pet_ct",
        Response.NMR: "lugano_2014_pet_ct",
        Response.PMD: "lugano_2014_pet_ct",
        Response.NR: "nccn_all",
    }
    for response, code in FORM_CODE.items():
        if response is Response.SD:
            continue
        assert response_of(code, criteria.get(response, "lugano_2014_ct")) is response
    with pytest.raises(InvalidInput):
        response_of("excellent", None)


def test_the_simulated_forms_derive_the_response_each_course_intends() -> None:
    """The simulator's components, derived by the criteria, give back the simulated response."""
    scenario = default_scenario()
    rng = np.random.default_rng(8)
    infused = date(2026, 1, 1)
    checked = 0
    for patient in referrals(scenario, seed=8, patients=40):
        outcome = draw_treatment_outcome(rng, scenario)
        myeloid = patient.diagnosis == "cd7_aml"
        diagnosis = "cd7_positive_aml" if myeloid else "t_cell_all"
        screening = {"diagnosis": diagnosis, "marrow_blasts_percent": 45.0, "peripheral_blasts_percent": 8.0}
        targets = baseline_lesions(rng)
        others: dict[str, list[dict[str, Any]]] = {
            "screening": [screening],
            "infusion": [{"infusion_datetime": "2026-01-01T10:00:00+00:00"}],
            "lesions": [lesion_values(targets, None, date(2025, 12, 20), "pet_ct")],
            "response": [],
        }
        remission = False
        for day in (28, 60, 90, 180, 270):
            on = date.fromordinal(infused.toordinal() + day)
            values = response_values(patient, outcome, day, on, baseline=screening)
            if not patient.leukaemia:
                found = lymphoma_response_on(outcome, day)
                others["lesions"].append(lesion_values(targets, found, on, imaging_method(day)))
            derived = derive_response_form(values, others)
            others["response"].append({**values, **derived})
            intended = response_on(outcome, day)
            if patient.leukaemia:
                expected = intended if myeloid or intended != "pr" else "sd"  # NCCN ALL has no PR
                if intended == "pd" and remission:
                    expected = "relapse"
                remission = expected in ("cr", "cri") or (remission and expected not in ("pd", "relapse"))
            else:
                expected = lymphoma_response_on(outcome, day)
            assert derived["overall_response"] == expected, (patient.number, day, values)
            checked += 1
    assert checked == 200
