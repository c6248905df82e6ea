"""Manufacturing and release: failures counted for CONSORT, out-of-spec lots held, exceptional release."""

from __future__ import annotations

from dataclasses import replace

import pytest
from product_world import GOOD_RESULTS, PASSWORD, Lab, when

from celltrial.errors import Conflict, IllegalTransition, NotAllowed
from celltrial.product import manufacturing, views
from celltrial.product.custody_rules import CustodyStep, LotOutcome
from celltrial.study.signatures import service as signatures

S = CustodyStep
LOW_VIABILITY = replace(GOOD_RESULTS, viability_percent=64.0)


def _approve(lab: Lab, subject: str, *, who: str = "sponsor", password: str = PASSWORD) -> object:
    lot_id = lab.lot_id(subject)
    return lab.run(
        lambda s: manufacturing.approve_exceptional_release(
            s,
            by=lab[who],
            lot_id=lot_id,
            justification="No alternative therapy; viability 64% judged acceptable by the sponsor's QP",
            password=password,
        )
    )


def test_a_manufacturing_failure_ends_the_chain_counts_in_consort_and_allows_a_new_collection(
    lab: Lab,
) -> None:
    lab.advance("S01-001", S.MANUFACTURING_STARTED)
    lab.end_manufacturing("S01-001", failure="insufficient T-cell expansion")
    error = lab.refuses(IllegalTransition, lambda: lab.step("S01-001", S.QC_SAMPLED), field="step")
    assert "manufacturing of the lot failed (insufficient T-cell expansion)" in str(error)
    lab.advance("S01-002", S.INFUSED)
    counts = lab.run(lambda s: views.manufacturing_counts(s, by=lab["sponsor"]))
    assert counts.model_dump() == {
        "subjects_apheresed": 2,
        "lots_started": 2,
        "manufacturing_failures": 1,
        "out_of_specification": 0,
        "exceptional_releases": 0,
        "subjects_infused": 1,
    }
    coi = lab.run(lambda s: views.coi_view(s, by=lab["lab"], subject_number="S01-001"))
    assert coi.collections[0].lot is not None
    assert coi.collections[0].lot.outcome is LotOutcome.FAILURE
    assert coi.collections[0].next_step is None
    assert coi.flags == ["MANUFACTURING FAILURE: lot LOT-S01-001 (insufficient T-cell expansion)"]

    second = lab.collect("S01-001", sequence=555, start=when(S.MANUFACTURING_STARTED))
    assert second.attempt == 2
    coi = lab.run(lambda s: views.coi_view(s, by=lab["lab"], subject_number="S01-001"))
    assert [(c.attempt, c.custody_step) for c in coi.collections] == [
        (1, S.MANUFACTURING_STARTED),
        (2, S.COLLECTED),
    ]


def test_a_lot_out_of_specification_is_held_until_the_sponsors_signed_approval_then_flagged_everywhere(
    lab: Lab,
) -> None:
    lab.advance("S01-001", S.QC_SAMPLED)
    lab.register_bags("S01-001", (101,))
    lab.release_tests("S01-001", LOW_VIABILITY)
    error = lab.refuses(IllegalTransition, lambda: lab.step("S01-001", S.RELEASED), field="step")
    assert "viability 64% (specification >= 70%)" in str(error)
    assert "sponsor's documented approval" in str(error)
    lot = lab.run(lambda s: views.coi_view(s, by=lab["lab"], subject_number="S01-001")).collections[0].lot
    assert lot is not None
    assert (lot.outcome, lot.releasable) == (LotOutcome.OUT_OF_SPECIFICATION, False)
    assert lot.out_of_specification == ["viability 64% (specification >= 70%)"]

    _approve(lab, "S01-001")
    lab.step("S01-001", S.RELEASED)
    for step in (S.CRYOPRESERVED, S.SHIPPED_TO_SITE, S.RECEIVED_AT_SITE, S.STORED_LN2, S.THAWED):
        lab.step("S01-001", step)
    lab.verify("S01-001")
    lab.step("S01-001", S.INFUSED)
    coi = lab.run(lambda s: views.coi_view(s, by=lab["monitor"], subject_number="S01-001"))
    assert coi.collections[0].lot is not None
    assert coi.collections[0].lot.exceptional_release
    assert any(flag.startswith("EXCEPTIONAL RELEASE: lot LOT-S01-001") for flag in coi.flags)
    events = lab.run(lambda s: views.custody_view(s, by=lab["monitor"], subject_number="S01-001"))
    released = next(event for event in events if event.step is S.RELEASED)
    assert released.flags == [
        "EXCEPTIONAL RELEASE of out-of-specification lot LOT-S01-001 (sponsor approved)"
    ]
    (row,) = lab.run(lambda s: views.vein_to_vein_report(s, by=lab["sponsor"])).subjects
    assert row.exceptional_release
    counts = lab.run(lambda s: views.manufacturing_counts(s, by=lab["sponsor"]))
    assert (counts.out_of_specification, counts.exceptional_releases) == (1, 1)
    lot_id = lab.lot_id("S01-001")
    (signature,) = lab.run(
        lambda s: signatures.signatures_of(s, entity="manufacturing_lot", entity_id=lot_id)
    )
    assert (signature.username, signature.meaning) == ("sponsor", "approved")


def test_only_the_sponsor_with_their_password_approves_and_only_a_lot_out_of_specification(lab: Lab) -> None:
    lab.advance("S01-001", S.QC_SAMPLED)
    lab.register_bags("S01-001", (101,))
    lab.release_tests("S01-001", LOW_VIABILITY)
    for who in ("lab", "nurse", "monitor"):
        lab.refuses(NotAllowed, lambda w=who: _approve(lab, "S01-001", who=w))
    with pytest.raises(NotAllowed, match="password is wrong"):
        _approve(lab, "S01-001", password="guess")
    lab.refuses(IllegalTransition, lambda: lab.step("S01-001", S.RELEASED), field="step")

    lab.advance("S01-002", S.QC_SAMPLED)
    lab.register_bags("S01-002", (201,))
    lab.release_tests("S01-002")
    error = lab.refuses(IllegalTransition, lambda: _approve(lab, "S01-002"), field="lot")
    assert "within specification" in str(error)


def test_release_results_follow_the_end_of_manufacturing_qc_sampling_and_bags_once(lab: Lab) -> None:
    lab.advance("S01-001", S.MANUFACTURING_STARTED)
    error = lab.refuses(IllegalTransition, lambda: lab.step("S01-001", S.QC_SAMPLED), field="step")
    assert "end of manufacturing" in str(error)
    lab.end_manufacturing("S01-001")
    error = lab.refuses(IllegalTransition, lambda: lab.release_tests("S01-001"), field="lot")
    assert "is at manufacturing_started" in str(error)
    lab.step("S01-001", S.QC_SAMPLED)
    error = lab.refuses(IllegalTransition, lambda: lab.release_tests("S01-001"), field="lot")
    assert "no bags registered" in str(error)
    lab.register_bags("S01-001", (101,))
    lot_id = lab.lot_id("S01-001")
    lab.refuses(
        NotAllowed,
        lambda: lab.run(
            lambda s: manufacturing.record_release_tests(
                s,
                by=lab["nurse"],
                lot_id=lot_id,
                results=GOOD_RESULTS,
                weight_kg=70.0,
                tested_at=when(S.QC_SAMPLED),
            )
        ),
    )
    lab.release_tests("S01-001")
    lab.refuses(Conflict, lambda: lab.release_tests("S01-001"), field="lot")
    lab.advance("S01-002", S.RECEIVED)
    lab.refuses(
        Conflict,
        lambda: lab.step("S01-002", S.MANUFACTURING_STARTED, lot_number="LOT-S01-001"),
        field="lot_number",
    )
