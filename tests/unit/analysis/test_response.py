"""Response derivation, one case per boundary of each definition.

Leukemia: Döhner et al., Blood 2017;129:424 ("Response criteria in AML") for myeloid leukemia;
NCCN ALL response criteria for lymphoblastic leukemia. Lymphoma: Cheson et al., J Clin Oncol
2014;32:3059, Table 3 (Lugano). Counts are in 10⁹/L, blasts and MRD in percent.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.analysis.lugano import (
    CtAssessment,
    LesionSize,
    MarrowStatus,
    MetabolicChange,
    PetCtAssessment,
    SiteStatus,
    derive_ct_response,
    derive_pet_ct_response,
)
from celltrial.analysis.response import (
    DatedResponse,
    LeukemiaAssessment,
    LeukemiaLineage,
    Response,
    best_overall_response,
    derive_leukemia_response,
    derive_leukemia_responses,
    duration_of_response,
    time_to_response,
)
from celltrial.errors import InvalidInput

MYELOID, LYMPHOBLASTIC = LeukemiaLineage.MYELOID, LeukemiaLineage.LYMPHOBLASTIC

#: A complete remission with full count recovery; each case changes one component.
REMISSION = LeukemiaAssessment(
    marrow_blasts_percent=2.0,
    baseline_marrow_blasts_percent=60.0,
    circulating_blasts=False,
    extramedullary_disease=False,
    new_extramedullary_disease=False,
    anc=1.5,
    platelets=150.0,
)

LEUKEMIA_CASES = [
    # CR: marrow blasts < 5%, ANC ≥ 1.0, platelets ≥ 100, no blood blasts, no EMD
    ("cr-all-criteria-met", {}, MYELOID, Response.CR),
    ("cr-marrow-blasts-4.9-percent", {"marrow_blasts_percent": 4.9}, MYELOID, Response.CR),
    ("cr-anc-exactly-1.0", {"anc": 1.0}, MYELOID, Response.CR),
    ("cr-platelets-exactly-100", {"platelets": 100.0}, MYELOID, Response.CR),
    ("cr-lymphoblastic", {}, LYMPHOBLASTIC, Response.CR),
    # CRi: all CR criteria except ANC < 1.0 or platelets < 100
    ("cri-anc-0.99", {"anc": 0.99}, MYELOID, Response.CRI),
    ("cri-platelets-99", {"platelets": 99.0}, MYELOID, Response.CRI),
    ("cri-both-counts-low", {"anc": 0.3, "platelets": 20.0}, LYMPHOBLASTIC, Response.CRI),
    # Marrow blasts of 5% is no longer a morphologic remission
    ("marrow-blasts-5-percent-is-not-cr", {"marrow_blasts_percent": 5.0}, LYMPHOBLASTIC, Response.NR),
    # Extramedullary disease or Auer rods exclude CR
    ("persistent-emd-is-not-cr", {"extramedullary_disease": True}, MYELOID, Response.NR),
    ("auer-rods-exclude-myeloid-cr", {"auer_rods": True}, MYELOID, Response.NR),
    # MLFS (myeloid only): marrow < 5% without Auer rods or EMD, blood blasts allowed
    ("mlfs-with-circulating-blasts", {"circulating_blasts": True}, MYELOID, Response.MLFS),
    ("no-mlfs-in-lymphoblastic", {"circulating_blasts": True}, LYMPHOBLASTIC, Response.NR),
    # PR (myeloid only): blood criteria of CR, marrow 5–25% and ≥ 50% below pretreatment
    ("pr-marrow-5-percent", {"marrow_blasts_percent": 5.0}, MYELOID, Response.PR),
    ("pr-marrow-25-percent", {"marrow_blasts_percent": 25.0}, MYELOID, Response.PR),
    ("marrow-25.1-percent-is-not-pr", {"marrow_blasts_percent": 25.1}, MYELOID, Response.NR),
    (
        "pr-exactly-half-of-pretreatment",
        {"marrow_blasts_percent": 20.0, "baseline_marrow_blasts_percent": 40.0},
        MYELOID,
        Response.PR,
    ),
    (
        "less-than-half-reduction-is-not-pr",
        {"marrow_blasts_percent": 20.0, "baseline_marrow_blasts_percent": 39.0},
        MYELOID,
        Response.NR,
    ),
    ("pr-needs-count-recovery", {"marrow_blasts_percent": 10.0, "anc": 0.9}, MYELOID, Response.NR),
    # PD, myeloid: > 50% rise in marrow blasts (≥ 15 points when baseline < 30%)
    (
        "myeloid-pd-marrow-rise-over-50-percent-baseline-30",
        {"marrow_blasts_percent": 45.1, "baseline_marrow_blasts_percent": 30.0},
        MYELOID,
        Response.PD,
    ),
    (
        "myeloid-rise-of-exactly-50-percent-is-not-pd",
        {"marrow_blasts_percent": 45.0, "baseline_marrow_blasts_percent": 30.0},
        MYELOID,
        Response.NR,
    ),
    (
        "myeloid-low-baseline-needs-15-points",
        {"marrow_blasts_percent": 24.0, "baseline_marrow_blasts_percent": 10.0},
        MYELOID,
        Response.NR,
    ),
    (
        "myeloid-low-baseline-15-points-is-pd",
        {"marrow_blasts_percent": 25.0, "baseline_marrow_blasts_percent": 10.0},
        MYELOID,
        Response.PD,
    ),
    (
        "myeloid-pd-peripheral-blasts-over-25",
        {"marrow_blasts_percent": 50.0, "peripheral_blasts": 26.0, "baseline_peripheral_blasts": 10.0},
        MYELOID,
        Response.PD,
    ),
    (
        "myeloid-peripheral-blasts-at-25-is-not-pd",
        {"marrow_blasts_percent": 50.0, "peripheral_blasts": 25.0, "baseline_peripheral_blasts": 10.0},
        MYELOID,
        Response.NR,
    ),
    # PD, lymphoblastic: ≥ 25% rise in marrow or blood blasts
    (
        "lymphoblastic-pd-marrow-rise-of-25-percent",
        {"marrow_blasts_percent": 50.0, "baseline_marrow_blasts_percent": 40.0},
        LYMPHOBLASTIC,
        Response.PD,
    ),
    (
        "lymphoblastic-marrow-rise-under-25-percent-is-not-pd",
        {"marrow_blasts_percent": 49.9, "baseline_marrow_blasts_percent": 40.0},
        LYMPHOBLASTIC,
        Response.NR,
    ),
    (
        "lymphoblastic-pd-blood-rise-of-25-percent",
        {"marrow_blasts_percent": 40.0, "peripheral_blasts": 5.0, "baseline_peripheral_blasts": 4.0},
        LYMPHOBLASTIC,
        Response.PD,
    ),
    ("new-emd-is-pd", {"new_extramedullary_disease": True}, LYMPHOBLASTIC, Response.PD),
    # Not evaluable
    ("aplastic-marrow-is-not-evaluable", {"marrow_evaluable": False}, MYELOID, Response.NE),
    ("no-marrow-examined-is-not-evaluable", {"marrow_blasts_percent": None}, MYELOID, Response.NE),
]


@pytest.mark.parametrize(
    ("changes", "lineage", "expected"),
    [
        pytest.param(changes, lineage, expected, id=name)
        for name, changes, lineage, expected in LEUKEMIA_CASES
    ],
)
def test_leukemia_response_at_each_boundary(
    changes: dict[str, object], lineage: LeukemiaLineage, expected: Response
) -> None:
    assessment = replace(REMISSION, **changes)  # type: ignore[arg-type]
    assert derive_leukemia_response(assessment, lineage).response is expected


RELAPSE_CASES = [
    ("myeloid-marrow-5-percent-after-cr", {"marrow_blasts_percent": 5.0}, MYELOID, Response.RELAPSE),
    (
        "lymphoblastic-marrow-5-percent-is-not-relapse",
        {"marrow_blasts_percent": 5.0},
        LYMPHOBLASTIC,
        Response.NR,
    ),
    (
        "lymphoblastic-marrow-5.1-percent-after-cr",
        {"marrow_blasts_percent": 5.1},
        LYMPHOBLASTIC,
        Response.RELAPSE,
    ),
    ("blood-blasts-reappear-after-cr", {"circulating_blasts": True}, LYMPHOBLASTIC, Response.RELAPSE),
    ("emd-after-cr", {"extramedullary_disease": True}, MYELOID, Response.RELAPSE),
    (
        "blood-blasts-with-aplastic-marrow-after-cr",
        {"circulating_blasts": True, "marrow_evaluable": False},
        MYELOID,
        Response.RELAPSE,
    ),
    ("continued-remission", {}, MYELOID, Response.CR),
]


@pytest.mark.parametrize(
    ("changes", "lineage", "expected"),
    [pytest.param(changes, lineage, expected, id=name) for name, changes, lineage, expected in RELAPSE_CASES],
)
def test_return_of_disease_after_remission_is_relapse(
    changes: dict[str, object], lineage: LeukemiaLineage, expected: Response
) -> None:
    assessment = replace(REMISSION, **changes)  # type: ignore[arg-type]
    assert derive_leukemia_response(assessment, lineage, in_remission_before=True).response is expected


@pytest.mark.parametrize(
    ("mrd_percent", "negative"),
    [
        pytest.param(0.0099, True, id="mrd-just-below-0.01-percent-is-negative"),
        pytest.param(0.01, False, id="mrd-of-0.01-percent-is-positive"),
        pytest.param(None, None, id="mrd-not-measured"),
    ],
)
def test_mrd_is_negative_below_one_in_ten_thousand(mrd_percent: float | None, negative: bool | None) -> None:
    derived = derive_leukemia_response(replace(REMISSION, mrd_percent=mrd_percent), LYMPHOBLASTIC)
    assert derived.mrd_negative is negative


def test_a_series_tracks_remission_so_later_marrow_disease_is_relapse() -> None:
    series = [
        REMISSION,
        replace(REMISSION, marrow_blasts_percent=30.0),
        replace(REMISSION, marrow_blasts_percent=2.0),
    ]
    derived = [d.response for d in derive_leukemia_responses(series, MYELOID)]
    assert derived == [Response.CR, Response.RELAPSE, Response.CR]


def test_impossible_form_values_are_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as raised:
        replace(REMISSION, marrow_blasts_percent=140.0)
    assert raised.value.field == "marrow_blasts_percent"


PET_CASES = [
    ("cmr-deauville-1", 1, MetabolicChange.REDUCED, False, MarrowStatus.NORMAL, Response.CMR),
    ("cmr-deauville-3-residual-mass", 3, MetabolicChange.REDUCED, False, MarrowStatus.NORMAL, Response.CMR),
    ("pmr-deauville-4-reduced", 4, MetabolicChange.REDUCED, False, MarrowStatus.NORMAL, Response.PMR),
    ("pmr-deauville-5-reduced", 5, MetabolicChange.REDUCED, False, MarrowStatus.UNCHANGED, Response.PMR),
    (
        "pmr-deauville-3-marrow-reduced",
        3,
        MetabolicChange.REDUCED,
        False,
        MarrowStatus.RESIDUAL_REDUCED,
        Response.PMR,
    ),
    ("nmr-deauville-4-unchanged", 4, MetabolicChange.UNCHANGED, False, MarrowStatus.UNCHANGED, Response.NMR),
    ("pmd-deauville-4-increased", 4, MetabolicChange.INCREASED, False, MarrowStatus.UNCHANGED, Response.PMD),
    ("pmd-new-fdg-avid-lesion", 2, MetabolicChange.REDUCED, True, MarrowStatus.NORMAL, Response.PMD),
    ("pmd-new-marrow-foci", 3, MetabolicChange.REDUCED, False, MarrowStatus.NEW_OR_RECURRENT, Response.PMD),
]


@pytest.mark.parametrize(
    ("score", "change", "new_lesions", "marrow", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in PET_CASES],
)
def test_lugano_pet_ct_response_at_each_boundary(
    score: int, change: MetabolicChange, new_lesions: bool, marrow: MarrowStatus, expected: Response
) -> None:
    assessment = PetCtAssessment(
        deauville_score=score, uptake_change=change, new_fdg_avid_lesions=new_lesions, marrow=marrow
    )
    assert derive_pet_ct_response(assessment) is expected


def test_deauville_score_outside_one_to_five_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        PetCtAssessment(
            deauville_score=6,
            uptake_change=MetabolicChange.REDUCED,
            new_fdg_avid_lesions=False,
            marrow=MarrowStatus.NORMAL,
        )
    assert raised.value.field == "deauville_score"


BASELINE = (LesionSize(4.0, 3.0), LesionSize(3.0, 2.0))  # SPD 12 + 6 = 18 cm²


def _ct(
    targets: tuple[LesionSize, ...], nadir: tuple[LesionSize, ...] = BASELINE, **changes: object
) -> CtAssessment:
    fields: dict[str, object] = {
        "targets": targets,
        "baseline_targets": BASELINE,
        "nadir_targets": nadir,
        "non_measured_lesions": SiteStatus.ABSENT_OR_NORMAL,
        "spleen": SiteStatus.ABSENT_OR_NORMAL,
        "new_lesions": False,
        "marrow": MarrowStatus.NORMAL,
    }
    fields.update(changes)
    return CtAssessment(**fields)  # type: ignore[arg-type]


SMALL_NADIR = (LesionSize(1.8, 1.0), LesionSize(1.0, 1.0))
CT_CASES = [
    ("cr-nodes-ldi-1.5", _ct((LesionSize(1.5, 1.0), LesionSize(1.2, 1.0))), Response.CR),
    ("node-ldi-1.6-is-not-cr", _ct((LesionSize(1.6, 1.0), LesionSize(1.2, 1.0))), Response.PR),
    (
        "extranodal-lesion-still-seen-is-not-cr",
        _ct((LesionSize(1.0, 0.5, nodal=False), LesionSize(1.0, 1.0))),
        Response.PR,
    ),
    (
        "marrow-still-involved-is-not-cr",
        _ct((LesionSize(1.0, 1.0), LesionSize(1.0, 1.0)), marrow=MarrowStatus.UNCHANGED),
        Response.PR,
    ),
    ("pr-spd-exactly-half", _ct((LesionSize(3.0, 2.0), LesionSize(3.0, 1.0))), Response.PR),
    ("sd-spd-just-over-half", _ct((LesionSize(3.0, 2.0), LesionSize(3.1, 1.0))), Response.SD),
    ("pd-new-lesion", _ct(BASELINE, new_lesions=True), Response.PD),
    ("pd-spleen-progression", _ct(BASELINE, spleen=SiteStatus.PROGRESSED), Response.PD),
    ("pd-non-measured-progression", _ct(BASELINE, non_measured_lesions=SiteStatus.PROGRESSED), Response.PD),
    ("pd-new-marrow-involvement", _ct(BASELINE, marrow=MarrowStatus.NEW_OR_RECURRENT), Response.PD),
    # Lesion PD from nadir: LDi > 1.5, PPD +50%, LDi/SDi +0.5 cm (nadir ≤ 2 cm) or +1.0 cm (> 2 cm)
    (
        "pd-small-lesion-grows-0.5-cm",
        _ct((LesionSize(2.3, 1.2), LesionSize(1.0, 1.0)), SMALL_NADIR),
        Response.PD,
    ),
    (
        "small-lesion-grows-0.4-cm-is-not-pd",
        _ct((LesionSize(2.2, 1.3), LesionSize(1.0, 1.0)), SMALL_NADIR),
        Response.PR,
    ),
    ("pd-large-lesion-grows-1.0-cm", _ct((LesionSize(5.0, 3.7), LesionSize(3.0, 2.0))), Response.PD),
    ("large-lesion-grows-0.9-cm-is-not-pd", _ct((LesionSize(4.9, 3.8), LesionSize(3.0, 2.0))), Response.SD),
    (
        "lesion-ldi-1.5-cannot-progress",
        _ct((LesionSize(1.5, 1.5), LesionSize(0.5, 0.5)), (LesionSize(1.0, 1.0), LesionSize(0.5, 0.5))),
        Response.CR,
    ),
]


@pytest.mark.parametrize(("assessment", "expected"), [pytest.param(a, e, id=n) for n, a, e in CT_CASES])
def test_lugano_ct_response_at_each_boundary(assessment: CtAssessment, expected: Response) -> None:
    assert derive_ct_response(assessment) is expected


def test_ct_targets_must_match_the_baseline_lesions() -> None:
    with pytest.raises(InvalidInput) as raised:
        _ct((LesionSize(1.0, 1.0),))
    assert raised.value.field == "targets"


def _timeline(*pairs: tuple[int, Response]) -> list[DatedResponse]:
    return [DatedResponse(day, response) for day, response in pairs]


@pytest.mark.parametrize(
    ("timeline", "expected"),
    [
        pytest.param(_timeline((28, Response.CRI), (90, Response.CR)), Response.CR, id="cri-deepens-to-cr"),
        pytest.param(_timeline((28, Response.CR), (90, Response.RELAPSE)), Response.CR, id="cr-then-relapse"),
        pytest.param(
            _timeline((28, Response.PD), (60, Response.CR)), Response.PD, id="nothing-counts-after-pd"
        ),
        pytest.param(_timeline((90, Response.PMR), (28, Response.NMR)), Response.PMR, id="unsorted-input"),
        pytest.param(_timeline((28, Response.NE)), Response.NE, id="never-evaluable"),
        pytest.param([], Response.NE, id="no-assessment"),
    ],
)
def test_best_overall_response_is_the_best_before_progression(
    timeline: list[DatedResponse], expected: Response
) -> None:
    assert best_overall_response(timeline) is expected


def test_time_to_response_is_the_day_of_the_first_response() -> None:
    assert time_to_response(_timeline((14, Response.NR), (28, Response.CRI), (90, Response.CR))) == 28
    assert time_to_response(_timeline((28, Response.SD))) is None


def test_duration_of_response_ends_at_relapse() -> None:
    duration = duration_of_response(_timeline((28, Response.CR), (90, Response.CR), (180, Response.RELAPSE)))
    assert duration is not None
    assert (duration.days, duration.event, duration.ended_by) == (152, True, "relapse")


def test_duration_of_response_ends_at_death_before_progression() -> None:
    duration = duration_of_response(_timeline((28, Response.CMR), (90, Response.CMR)), death_day=120)
    assert duration is not None
    assert (duration.days, duration.event, duration.ended_by) == (92, True, "death")


def test_duration_of_response_is_censored_at_the_last_adequate_assessment() -> None:
    duration = duration_of_response(_timeline((28, Response.PR), (90, Response.CR), (120, Response.NE)))
    assert duration is not None
    assert (duration.days, duration.event) == (62, False)


def test_allo_hsct_censors_the_response_only_in_the_sensitivity_analysis() -> None:
    timeline = _timeline((28, Response.CR), (60, Response.CR), (200, Response.RELAPSE))
    primary = duration_of_response(timeline, hsct_day=75)
    sensitivity = duration_of_response(timeline, hsct_day=75, censor_at_hsct=True)
    assert primary is not None
    assert sensitivity is not None
    assert (primary.days, primary.event) == (172, True)
    assert (sensitivity.days, sensitivity.event, sensitivity.ended_by) == (47, False, "allo-HSCT (censored)")


def test_a_subject_who_never_responded_has_no_duration_of_response() -> None:
    assert duration_of_response(_timeline((28, Response.NR), (60, Response.PD))) is None


@given(
    blasts=st.floats(min_value=0, max_value=100),
    baseline=st.floats(min_value=0, max_value=100),
    anc=st.floats(min_value=0, max_value=20),
    platelets=st.floats(min_value=0, max_value=600),
    circulating=st.booleans(),
    lineage=st.sampled_from(LeukemiaLineage),
)
def test_remission_is_only_ever_derived_with_marrow_blasts_below_5_percent(
    blasts: float, baseline: float, anc: float, platelets: float, circulating: bool, lineage: LeukemiaLineage
) -> None:
    assessment = replace(
        REMISSION,
        marrow_blasts_percent=blasts,
        baseline_marrow_blasts_percent=baseline,
        anc=anc,
        platelets=platelets,
        circulating_blasts=circulating,
    )
    response = derive_leukemia_response(assessment, lineage).response
    if response in (Response.CR, Response.CRI, Response.MLFS):
        assert blasts < 5
    if response is Response.CR:
        assert anc >= 1.0
        assert platelets >= 100
        assert not circulating
    if lineage is LeukemiaLineage.LYMPHOBLASTIC:
        assert response not in (Response.MLFS, Response.PR)
