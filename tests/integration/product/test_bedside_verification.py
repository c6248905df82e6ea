"""Bedside verification: two people check bag DIN and wristband against the COI; a wrong bag is blocked."""

from __future__ import annotations

import pytest
from product_world import PASSWORD, Lab, din, when
from sqlalchemy import select

from celltrial.errors import IllegalTransition, InvalidInput, NotAllowed
from celltrial.product import bedside, views
from celltrial.product.bedside import BedsideRead
from celltrial.product.custody_rules import CustodyStep
from celltrial.product.models import BedsideVerification
from celltrial.study.audit.models import AuditEntry

S = CustodyStep


@pytest.fixture
def two_thawed(lab: Lab) -> Lab:
    """Subjects S01-001 and S01-002 each with a thawed bag at the bedside."""
    lab.advance("S01-001", S.THAWED)
    lab.advance("S01-002", S.THAWED)
    return lab


def _verify(
    lab: Lab,
    first: BedsideRead,
    second: BedsideRead,
    *,
    second_person: str = "nurse2",
    password: str = PASSWORD,
) -> BedsideVerification:
    subject_id = lab.subjects["S01-001"]
    return lab.run(
        lambda s: bedside.verify_at_bedside(
            s,
            by=lab["nurse"],
            subject_id=subject_id,
            verified_at=when(S.THAWED),
            first=first,
            second_person=lab[second_person],
            second_password=password,
            second=second,
        )
    )


def test_a_wrong_bag_is_blocked_end_to_end_recorded_and_then_the_right_bag_is_infused(
    two_thawed: Lab,
) -> None:
    lab = two_thawed
    other_bag = lab.bags_of[lab.subjects["S01-002"]][0]
    blocked = lab.verify("S01-001", bag=other_bag)
    assert not blocked.passed
    assert blocked.problems == [
        f"bag {other_bag[:13]} belongs to another subject's chain of identity: WRONG BAG"
    ]
    error = lab.refuses(
        IllegalTransition, lambda: lab.step("S01-001", S.INFUSED, bags=[other_bag]), field="bags"
    )
    assert "do not belong to this chain's lot" in str(error)
    error = lab.refuses(IllegalTransition, lambda: lab.step("S01-001", S.INFUSED), field="bags")
    assert "have not passed the two-person bedside verification" in str(error)
    coi = lab.run(lambda s: views.coi_view(s, by=lab["monitor"], subject_number="S01-001"))
    assert coi.collections[0].custody_step is S.THAWED
    assert [v.passed for v in coi.bedside_verifications] == [False]
    assert any(flag.startswith("BEDSIDE VERIFICATION BLOCKED") and "WRONG BAG" in flag for flag in coi.flags)
    entry = lab.run(
        lambda s: s.scalars(select(AuditEntry).where(AuditEntry.entity == "bedside_verification")).one()
    )
    assert entry.action == "verify_blocked"
    assert entry.reason is not None
    assert "WRONG BAG" in entry.reason

    assert lab.verify("S01-001").passed
    lab.step("S01-001", S.INFUSED)
    coi = lab.run(lambda s: views.coi_view(s, by=lab["lab"], subject_number="S01-001"))
    assert coi.collections[0].custody_step is S.INFUSED
    assert [v.passed for v in coi.bedside_verifications] == [False, True]
    assert any("WRONG BAG" in flag for flag in coi.flags)


def test_another_subjects_wristband_blocks_and_withdraws_an_earlier_pass(two_thawed: Lab) -> None:
    lab = two_thawed
    assert lab.verify("S01-001").passed
    blocked = lab.verify("S01-001", wristband="S01-002")
    assert blocked.problems == ["wristband 'S01-002' is not subject S01-001's"]
    lab.refuses(IllegalTransition, lambda: lab.step("S01-001", S.INFUSED), field="bags")


def test_reads_that_disagree_an_unknown_bag_and_a_frozen_bag_block_the_infusion(two_thawed: Lab) -> None:
    lab = two_thawed
    bag = lab.bags_of[lab.subjects["S01-001"]][0]
    other = lab.bags_of[lab.subjects["S01-002"]][0]
    result = _verify(lab, BedsideRead(bag, "S01-001"), BedsideRead(other, "S01-001"))
    assert not result.passed
    assert f"the two bag reads differ ({bag[:13]} and {other[:13]})" in result.problems
    result = _verify(lab, BedsideRead(bag, "S01-001"), BedsideRead(bag, "S01-01"))
    assert "the two wristband reads differ ('S01-001' and 'S01-01')" in result.problems
    unknown = lab.verify("S01-001", bag=din(999_999))
    assert unknown.problems == [
        f"bag {din(999_999)[:13]} is not a product bag known to any chain of identity"
    ]
    lab.refuses(IllegalTransition, lambda: lab.step("S01-001", S.INFUSED), field="bags")

    lab.advance("S01-003", S.STORED_LN2)
    frozen = lab.bags_of[lab.subjects["S01-003"]][0]
    assert lab.verify("S01-003").problems == [f"bag {frozen[:13]} has not been thawed for this infusion"]


MISREADS = {
    "a wrong check character": lambda bag: bag[:13] + ("A" if bag[13] != "A" else "B"),
    "lower case": lambda bag: bag.lower(),
    "nothing": lambda bag: "",
    "a missing character": lambda bag: bag[1:],
}


def test_bad_bedside_input_is_refused_and_nothing_is_recorded(two_thawed: Lab) -> None:
    lab = two_thawed
    bag = lab.bags_of[lab.subjects["S01-001"]][0]
    read = BedsideRead(bag, "S01-001")
    lab.refuses(InvalidInput, lambda: _verify(lab, read, read, second_person="nurse"), field="second_person")
    lab.refuses(
        NotAllowed, lambda: _verify(lab, read, read, second_person="coordinator"), field="second_person"
    )
    for misread in MISREADS.values():
        first = BedsideRead(misread(bag), "S01-001")
        lab.refuses(InvalidInput, lambda f=first: _verify(lab, f, read), field="first.bag_din")
    lab.refuses(InvalidInput, lambda: _verify(lab, BedsideRead(bag, " "), read), field="first.wristband_id")
    with pytest.raises(NotAllowed, match="password is wrong"):
        _verify(lab, read, read, password="wrong")
    assert lab.footprint()["bedside_verification"] == 0
