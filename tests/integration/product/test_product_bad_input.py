"""Bad input to the product services is refused naming its field, and changes nothing.

Each test walks one product to a state and then tries every malformed request of a kind against
it (one database per test keeps the suite fast); ``Lab.refuses`` checks the field named and that
no product row and no audit entry was written.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from product_world import PASSWORD, START, Lab, TemperatureReading, din, when

from celltrial.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from celltrial.product import identity, manufacturing
from celltrial.product.custody_rules import CustodyStep
from celltrial.product.identity import BagSpec
from celltrial.study.types import utcnow

S = CustodyStep

MALFORMED_STEPS: dict[str, tuple[dict[str, object], str]] = {
    "a time in the future": ({"occurred_at": utcnow() + timedelta(days=2)}, "occurred_at"),
    "a time without a time zone": ({"occurred_at": datetime(2026, 1, 1, 9, 0)}, "occurred_at"),
    "a blank location": ({"location": "   "}, "location"),
    "a location too long": ({"location": "x" * 201}, "location"),
    "bags on a receipt": ({"bags": [din(101)]}, "bags"),
    "a lot number on a receipt": ({"lot_number": "LOT-9"}, "lot_number"),
    "a note too long": ({"note": "n" * 2001}, "note"),
    "nobody received it": ({"received_by": None}, "received_by"),
}


def test_every_malformed_custody_step_is_refused_naming_its_field(lab: Lab) -> None:
    lab.advance("S01-001", S.SHIPPED_TO_MANUFACTURING)
    for options, field in MALFORMED_STEPS.values():
        lab.refuses(InvalidInput, lambda o=options: lab.step("S01-001", S.RECEIVED, **o), field=field)
    lab.refuses(InvalidInput, lambda: lab.step("S01-001", "teleported"), field="step")  # type: ignore[arg-type]
    lab.refuses(InvalidInput, lambda: lab.step("S01-001", S.COLLECTED), field="step")
    lab.step("S01-001", S.RECEIVED)
    readings = [TemperatureReading(when(S.MANUFACTURING_STARTED), 21.0)]
    lab.refuses(
        InvalidInput,
        lambda: lab.step("S01-001", S.MANUFACTURING_STARTED, readings=readings),
        field="temperature_range",
    )
    lab.refuses(
        InvalidInput,
        lambda: lab.step("S01-001", S.MANUFACTURING_STARTED, lot_number="lot 1!"),
        field="lot_number",
    )


def test_a_malformed_collection_is_refused(lab: Lab) -> None:
    subject_id = lab.subjects["S01-001"]

    def collect(**changes: object) -> object:
        options: dict[str, object] = {
            "by": lab["lab"],
            "subject_id": subject_id,
            "din": din(1),
            "collected_at": START,
            "expires_at": START + timedelta(hours=72),
            "location": "Apheresis unit",
            "handed_over_by": lab["nurse"],
            "received_by": lab["lab"],
            "counterpart_password": PASSWORD,
            **changes,
        }
        return lab.run(lambda s: identity.record_collection(s, **options))  # type: ignore[arg-type]

    lab.refuses(InvalidInput, lambda: collect(expires_at=START - timedelta(hours=1)), field="expires_at")
    lab.refuses(InvalidInput, lambda: collect(din="G123426000001A"), field="din")
    lab.refuses(InvalidInput, lambda: collect(din=1234), field="din")
    lab.refuses(InvalidInput, lambda: collect(subject_id="1"), field="subject_id")
    lab.refuses(NotFound, lambda: collect(subject_id=9999), field="subject")
    lab.refuses(InvalidInput, lambda: collect(counterpart_password=""), field="password")
    lab.refuses(InvalidInput, lambda: collect(handed_over_by="nurse-one"), field="handed_over_by")


def test_malformed_bags_are_refused_and_none_is_registered(lab: Lab) -> None:
    lab.advance("S01-001", S.QC_SAMPLED)
    lot_id = lab.lot_id("S01-001")
    later = START + timedelta(days=90)
    cases: list[tuple[list[BagSpec], str]] = [
        ([BagSpec(din(301), 0.0, 2e8, later)], "bags[0].volume_ml"),
        ([BagSpec(din(301), 70.0, -1.0, later)], "bags[0].total_nucleated_cells"),
        ([BagSpec(din(301), 70.0, 2e8, START)], "bags[0].expires_at"),
        ([BagSpec("G1234", 70.0, 2e8, later)], "bags[0].din"),
        ([BagSpec(din(301), 70.0, 2e8, later)] * 2, "bags[1].din"),
        ([], "bags"),
    ]
    for bags, field in cases:
        lab.refuses(
            InvalidInput,
            lambda b=bags: lab.run(lambda s: identity.register_bags(s, by=lab["lab"], lot_id=lot_id, bags=b)),
            field=field,
        )
    lab.refuses(
        Conflict, lambda: lab.register_bags("S01-001", (lab.subjects["S01-001"],)), field="bags[0].din"
    )


def test_bags_cannot_be_added_after_release(lab: Lab) -> None:
    lab.advance("S01-001", S.RELEASED)
    lab.refuses(IllegalTransition, lambda: lab.register_bags("S01-001", (777,)), field="lot")


def test_the_end_of_manufacturing_is_recorded_once_and_not_before_its_start(lab: Lab) -> None:
    lab.advance("S01-001", S.MANUFACTURING_STARTED)
    lot_id = lab.lot_id("S01-001")
    early = when(S.MANUFACTURING_STARTED) - timedelta(hours=1)
    lab.refuses(
        InvalidInput,
        lambda: lab.run(
            lambda s: manufacturing.end_manufacturing(s, by=lab["lab"], lot_id=lot_id, ended_at=early)
        ),
        field="ended_at",
    )
    lab.refuses(
        NotFound,
        lambda: lab.run(
            lambda s: manufacturing.end_manufacturing(s, by=lab["lab"], lot_id=999, ended_at=START)
        ),
        field="lot",
    )
    lab.end_manufacturing("S01-001")
    lab.refuses(Conflict, lambda: lab.end_manufacturing("S01-001"), field="ended_at")
