"""A product from vein to vein: collection, manufacturing, release, shipment, bedside check, infusion.

Each test is a scenario on one database (SQLite and PostgreSQL): the chain is walked through the
services and every refusal is checked to change nothing (``Lab.refuses``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from product_world import CRYO, Lab, TemperatureReading, when
from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.errors import Conflict, IllegalTransition, InvalidInput, NotAllowed, NotFound
from celltrial.product import views
from celltrial.product.custody_rules import CHAIN_ORDER, CustodyStep, LotOutcome
from celltrial.study.audit import service as audit
from celltrial.study.audit.models import AuditEntry

S = CustodyStep


def test_a_full_chain_runs_from_apheresis_to_infusion_signed_audited_and_timed(lab: Lab) -> None:
    lab.advance("S01-001", S.INFUSED)
    lab.advance("S01-002", S.STORED_LN2)
    coi = lab.run(lambda s: views.coi_view(s, by=lab["monitor"], subject_number="S01-001"))
    assert coi.coi_number == "COI-S01-001"
    (chain,) = coi.collections
    assert (chain.custody_step, chain.next_step) == (S.INFUSED, None)
    assert chain.lot is not None
    assert (chain.lot.outcome, chain.lot.releasable) == (LotOutcome.SUCCESS, True)
    assert chain.lot.bags[0].infused_at == when(S.INFUSED)
    assert coi.flags == []
    events = lab.run(lambda s: views.custody_view(s, by=lab["monitor"], subject_number="S01-001"))
    assert [event.step for event in events] == list(CHAIN_ORDER)
    assert all(event.handed_over_by != event.received_by for event in events)
    assert (events[0].handed_over_by, events[0].received_by) == ("Dr Nurse One", "Dr Lab One")

    report = lab.run(lambda s: views.vein_to_vein_report(s, by=lab["sponsor"]))
    (row,) = report.subjects
    assert row.subject_number == "S01-001"
    assert row.total_days == pytest.approx(21.05)
    assert row.components["manufacturing_and_release"] == pytest.approx(11.0)
    assert row.components["at_site_to_infusion"] == pytest.approx(5.05)
    assert (report.summary["vein_to_vein"]["n"], report.summary["vein_to_vein"]["median"]) == (
        1,
        pytest.approx(21.05),
    )

    subject_id = lab.subjects["S01-001"]

    def entries(session: Session) -> list[tuple[str, str]]:
        return [(entry.entity, entry.action) for entry in audit.history(session, subject_id=subject_id)]

    trail = lab.run(entries)
    assert trail.count(("custody_event", "create")) == 12
    for expected in (
        ("chain_of_identity", "create"),
        ("apheresis_collection", "create"),
        ("manufacturing_lot", "create"),
        ("manufacturing_lot", "end_manufacturing"),
        ("product_bag", "create"),
        ("release_test", "create"),
        ("bedside_verification", "verify"),
    ):
        assert expected in trail
    assert lab.run(lambda s: audit.verify(s)).ok


def test_a_step_out_of_order_is_refused_with_the_reason_and_changes_nothing(lab: Lab) -> None:
    lab.refuses(NotFound, lambda: lab.step("S01-002", S.SHIPPED_TO_MANUFACTURING), field="subject")
    lab.advance("S01-001", S.RECEIVED)
    error = lab.refuses(IllegalTransition, lambda: lab.step("S01-001", S.SHIPPED_TO_SITE), field="step")
    assert "out of order" in str(error)
    assert "next is manufacturing_started" in str(error)
    error = lab.refuses(IllegalTransition, lambda: lab.step("S01-001", S.RECEIVED), field="step")
    assert "already recorded" in str(error)
    early = when(S.RECEIVED) - timedelta(hours=1)
    error = lab.refuses(
        IllegalTransition,
        lambda: lab.step("S01-001", S.MANUFACTURING_STARTED, occurred_at=early),
        field="occurred_at",
    )
    assert "dated before the previous step received" in str(error)


def test_a_temperature_excursion_in_transit_is_flagged_on_the_receipt_and_everywhere(lab: Lab) -> None:
    lab.advance("S01-002", S.SHIPPED_TO_MANUFACTURING)
    in_range = [TemperatureReading(when(S.RECEIVED), 4.0), TemperatureReading(when(S.RECEIVED), 7.9)]
    assert not lab.step("S01-002", S.RECEIVED, readings=in_range).excursion

    lab.advance("S01-001", S.SHIPPED_TO_SITE)
    shipped = when(S.SHIPPED_TO_SITE)
    readings = [
        TemperatureReading(shipped, -185.0),
        TemperatureReading(shipped + timedelta(hours=1), -120.0),
        TemperatureReading(when(S.RECEIVED_AT_SITE), -180.0),
    ]
    assert lab.step("S01-001", S.RECEIVED_AT_SITE, readings=readings).excursion
    receipt = lab.run(lambda s: views.custody_view(s, by=lab["lab"], subject_number="S01-001"))[-1]
    assert (receipt.step, receipt.excursion) == (S.RECEIVED_AT_SITE, True)
    assert [within for _, _, within in receipt.readings] == [True, False, True]
    assert receipt.flags == [f"TEMPERATURE EXCURSION outside {CRYO}"]
    coi = lab.run(lambda s: views.coi_view(s, by=lab["lab"], subject_number="S01-001"))
    assert any("TEMPERATURE EXCURSION at received_at_site" in flag for flag in coi.flags)
    entry = lab.run(
        lambda s: s.scalars(
            select(AuditEntry).where(AuditEntry.entity == "custody_event").order_by(AuditEntry.id.desc())
        ).first()
    )
    assert entry is not None
    assert entry.reason is not None
    assert "temperature excursion" in entry.reason
    assert entry.new_value is not None
    assert "-120.0" in entry.new_value


def test_a_hand_over_is_signed_by_two_people_one_of_them_recording_the_other_with_a_password(
    lab: Lab,
) -> None:
    lab.advance("S01-001", S.COLLECTED)
    ship = S.SHIPPED_TO_MANUFACTURING
    lab.refuses(InvalidInput, lambda: lab.step("S01-001", ship, received_by=lab["lab"]), field="received_by")
    lab.refuses(InvalidInput, lambda: lab.step("S01-001", ship, by=lab["nurse"]), field="handed_over_by")
    lab.refuses(
        InvalidInput, lambda: lab.step("S01-001", ship, temperature_range=None), field="temperature_range"
    )
    before = lab.footprint()
    with pytest.raises(NotAllowed, match="password is wrong"):
        lab.step("S01-001", ship, counterpart_password="not the password")
    after = lab.footprint()
    assert {k: v for k, v in after.items() if k != "audit_entry"} == {
        k: v for k, v in before.items() if k != "audit_entry"
    }
    assert after["audit_entry"] == before["audit_entry"] + 1  # the failed sign-in attempt, kept


def test_only_the_subjects_site_and_the_product_roles_see_or_move_the_product(lab: Lab) -> None:
    lab.advance("S01-001", S.COLLECTED)
    ship = S.SHIPPED_TO_MANUFACTURING
    lab.refuses(
        NotAllowed, lambda: lab.step("S01-001", ship, received_by=lab["coordinator"]), field="second_person"
    )
    lab.refuses(
        NotFound,
        lambda: lab.step("S01-001", ship, by=lab["lab_s02"], handed_over_by=lab["lab_s02"]),
        field="subject",
    )
    with pytest.raises(NotFound):
        lab.run(lambda s: views.coi_view(s, by=lab["lab_s02"], subject_number="S01-001"))
    with pytest.raises(NotAllowed):
        lab.run(lambda s: views.coi_view(s, by=lab["dsmb"], subject_number="S01-001"))
    assert lab.run(lambda s: views.coi_view(s, by=lab["sponsor"], subject_number="S01-001")).coi_number
    assert lab.run(lambda s: views.vein_to_vein_report(s, by=lab["lab_s02"])).subjects == []


def test_a_din_names_one_collection_of_one_enrolled_subject_with_one_live_chain(lab: Lab) -> None:
    error = lab.refuses(IllegalTransition, lambda: lab.collect("SCR-900"), field="subject")
    assert "not enrolled" in str(error)
    lab.collect("S01-001", sequence=7)
    lab.refuses(Conflict, lambda: lab.collect("S01-002", sequence=7), field="din")
    error = lab.refuses(IllegalTransition, lambda: lab.collect("S01-001", sequence=900), field="din")
    assert "only after its manufacturing failed" in str(error)
