"""Test data of the product and safety web tests: two enrolled subjects of site A with their products.

``P1`` is enrolled ten days ago and its product is thawed at the bedside (ready for the two-person
check); ``P2`` went the whole way to infusion two days ago and had a serious adverse event the site
has known of for 30 hours without reporting it (an overdue SAE clock). Made through the API (consent,
screening, enrolment) and the product and safety services (the chain of custody).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar

from documents import example_form
from e2e_world import PASSWORD, World
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.clinical.isbt128 import make_din
from celltrial.database import make_engine, session_factory, unit_of_work
from celltrial.product import bedside, custody, identity, manufacturing
from celltrial.product.bedside import BedsideRead
from celltrial.product.custody_rules import CHAIN_ORDER, CustodyStep, TemperatureRange, TemperatureReading
from celltrial.product.identity import BagSpec
from celltrial.product.models import ManufacturingLot
from celltrial.product.release_rules import ReleaseResults
from celltrial.study.safety import service as safety
from celltrial.study.types import utcnow
from celltrial.study.users import service as users

__all__ = ["Products", "build_products"]

T = TypeVar("T")
S = CustodyStep
TODAY = utcnow().date()
GOOD = ReleaseResults(
    viability_percent=91.0,
    car_positive_percent=42.0,
    cd3_positive_percent=96.0,
    sterility="no_growth",
    endotoxin_eu_per_ml=0.5,
    mycoplasma="negative",
    vector_copy_number=2.0,
)


@dataclass(frozen=True)
class Products:
    """The two subjects (ids and numbers), their bags' DINs and the lot of P1."""

    p1: int
    p1_number: str
    p1_bag: str
    p2: int
    p2_number: str
    p2_bag: str
    p1_lot: int


def _enrol(
    client: TestClient, world: World, headers: dict[str, dict[str, str]], initials: str
) -> dict[str, Any]:
    form = example_form(screened_days_ago=12)
    new = {
        "site_id": world.site_a,
        "date_of_birth": form["patient"]["birth_date"],
        "sex": "female",
        "initials": initials,
    }
    subject_id = client.post("/api/v1/subjects", json=new, headers=headers["coordinator"]).json()["id"]
    consent = {"icf_version": "1.0", "signed_at": f"{TODAY - timedelta(days=14)}T09:00:00Z"}
    client.post(f"/api/v1/subjects/{subject_id}/consents", json=consent, headers=headers["coordinator"])
    client.post(f"/api/v1/subjects/{subject_id}/screenings", json=form, headers=headers["investigator"])
    enrolment = {"on": str(TODAY - timedelta(days=10))}
    made = client.post(
        f"/api/v1/subjects/{subject_id}/enrolment", json=enrolment, headers=headers["investigator"]
    )
    assert made.status_code == 200, made.text
    return dict(made.json())


def build_products(client: TestClient, world: World, headers: dict[str, dict[str, str]]) -> Products:
    """Enrol P1 and P2 and move their products along (see the module docstring)."""
    p1, p2 = _enrol(client, world, headers, "PA"), _enrol(client, world, headers, "PB")
    engine = make_engine(world.url)
    sessions = session_factory(engine)

    def run(action: Callable[[Session], T]) -> T:
        with unit_of_work(sessions) as session:
            return action(session)

    lab = run(lambda s: users.get_by_username_or_raise(s, username=world["cell_lab"]))
    investigator = run(lambda s: users.get_by_username_or_raise(s, username=world["investigator"]))
    start = datetime.combine(TODAY - timedelta(days=9), time(8), tzinfo=UTC)

    def chain(subject_id: int, sequence: int, until: CustodyStep) -> str:
        bag = make_din("G1234", 26, sequence + 1).keyboard_entry
        run(
            lambda s: identity.record_collection(
                s,
                by=lab,
                subject_id=subject_id,
                din=make_din("G1234", 26, sequence).keyboard_entry,
                collected_at=start,
                expires_at=start + timedelta(hours=72),
                location="Apheresis unit",
                handed_over_by=investigator,
                received_by=lab,
                counterpart_password=PASSWORD,
            )
        )
        for index, step in enumerate(CHAIN_ORDER[1 : CHAIN_ORDER.index(until) + 1], start=1):
            at = start + timedelta(hours=10 * index)
            lot = run(
                lambda s: s.scalar(select(ManufacturingLot.id).order_by(ManufacturingLot.id.desc()).limit(1))
            )
            if step is S.QC_SAMPLED:
                run(
                    lambda s, a=at, lot=lot: manufacturing.end_manufacturing(
                        s, by=lab, lot_id=lot, ended_at=a
                    )
                )
            if step is S.RELEASED:
                spec = [BagSpec(bag, 70.0, 2.0e8, start + timedelta(days=200))]
                run(lambda s, lot=lot, spec=spec: identity.register_bags(s, by=lab, lot_id=lot, bags=spec))
                run(
                    lambda s, a=at, lot=lot: manufacturing.record_release_tests(
                        s, by=lab, lot_id=lot, results=GOOD, weight_kg=70.0, tested_at=a
                    )
                )
            if step is S.INFUSED:
                read = BedsideRead(bag, p2["subject_number"])
                run(
                    lambda s, a=at, read=read: bedside.verify_at_bedside(
                        s,
                        by=investigator,
                        subject_id=subject_id,
                        verified_at=a,
                        first=read,
                        second_person=lab,
                        second_password=PASSWORD,
                        second=read,
                    )
                )
            options: dict[str, Any] = {}
            if step is S.SHIPPED_TO_MANUFACTURING:
                options["temperature_range"] = TemperatureRange(2.0, 8.0)
            if step is S.SHIPPED_TO_SITE:
                options["temperature_range"] = TemperatureRange(-196.0, -150.0)
                options["readings"] = [TemperatureReading(at, -120.0)]  # an excursion
            if step is S.MANUFACTURING_STARTED:
                options["lot_number"] = f"LOT-{subject_id}"
            if step in (S.THAWED, S.INFUSED):
                options["bags"] = [bag]
            moment = (
                at
                if step is not S.INFUSED
                else datetime.combine(TODAY - timedelta(days=2), time(10), tzinfo=UTC)
            )
            run(
                lambda s, st=step, m=moment, o=options: custody.record_custody_event(
                    s,
                    by=lab,
                    subject_id=subject_id,
                    step=st,
                    occurred_at=m,
                    location="Cell therapy laboratory",
                    handed_over_by=lab,
                    received_by=investigator,
                    counterpart_password=PASSWORD,
                    **o,
                )
            )
        return bag

    try:
        p2_bag = chain(p2["id"], 2000, S.INFUSED)
        p1_bag = chain(p1["id"], 1000, S.THAWED)
        p1_lot = run(
            lambda s: s.scalar(select(ManufacturingLot.id).order_by(ManufacturingLot.id.desc()).limit(1))
        )
        event = {
            "term": "Febrile neutropenia",
            "soc": "Blood and lymphatic system disorders",
            "grade": 3,
            "onset_date": TODAY - timedelta(days=2),
            "related_to_cart": "possible",
            "related_to_lymphodepletion": "probable",
            "outcome": "recovering",
            "serious": True,
            "seriousness": ["hospitalisation"],
            "aesi": ["infection"],
            "site_awareness_at": utcnow() - timedelta(hours=30),
        }
        run(lambda s: safety.record_adverse_event(s, by=investigator, subject_id=p2["id"], event=event))
    finally:
        engine.dispose()
    assert p1_lot is not None
    return Products(
        p1=p1["id"],
        p1_number=p1["subject_number"],
        p1_bag=p1_bag,
        p2=p2["id"],
        p2_number=p2["subject_number"],
        p2_bag=p2_bag,
        p1_lot=p1_lot,
    )
