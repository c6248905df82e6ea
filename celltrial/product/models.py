"""The cell product in the database: chain of identity, custody events, lots, bags, release, bedside checks.

::

    ChainOfIdentity (one per enrolled subject, "COI-<subject number>")
     ├── ApheresisCollection (DIN)  ── one custody chain: CustodyEvent × 12 steps (+ TemperatureReading)
     │    └── ManufacturingLot (lot number, start/end, outcome, exceptional release)
     │         ├── ReleaseTest (results, decision against the settings' specifications)
     │         └── ProductBag × n (DIN, volume, cells, expiry)
     └── BedsideVerification × n (two people's scans of bag DIN and wristband; passed or blocked)

A subject normally has one collection; a new one (and a new chain) is allowed only after the
previous lot's manufacturing failed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from celltrial.database import Base
from celltrial.product.custody_rules import CustodyStep, LotOutcome
from celltrial.study.types import UtcDateTime, utcnow

__all__ = [
    "ApheresisCollection",
    "BedsideVerification",
    "ChainOfIdentity",
    "CustodyEvent",
    "ManufacturingLot",
    "ProductBag",
    "ReleaseTest",
    "TemperatureLog",
]


def _values(items: list[StrEnum]) -> list[str]:
    return [item.value for item in items]


def _step_enum() -> Enum:
    return Enum(CustodyStep, native_enum=False, length=32, values_callable=_values, name="custodystep")


class ChainOfIdentity(Base):
    """The one record that ties a subject to every bag made from their cells."""

    __tablename__ = "chain_of_identity"

    id: Mapped[int] = mapped_column(primary_key=True)
    coi_number: Mapped[str] = mapped_column(String(48), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    collections: Mapped[list[ApheresisCollection]] = relationship(
        back_populates="coi", order_by="ApheresisCollection.attempt"
    )

    def __repr__(self) -> str:
        return f"ChainOfIdentity({self.coi_number!r})"


class ApheresisCollection(Base):
    """One leukapheresis collection, identified by its DIN; its custody chain starts here."""

    __tablename__ = "apheresis_collection"
    __table_args__ = (UniqueConstraint("coi_id", "attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coi_id: Mapped[int] = mapped_column(ForeignKey("chain_of_identity.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    din: Mapped[str] = mapped_column(String(13), unique=True)
    din_flags: Mapped[str] = mapped_column(String(2))
    collected_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    custody_step: Mapped[CustodyStep] = mapped_column(_step_enum())
    custody_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    coi: Mapped[ChainOfIdentity] = relationship(back_populates="collections")
    lot: Mapped[ManufacturingLot | None] = relationship(back_populates="collection")
    events: Mapped[list[CustodyEvent]] = relationship(back_populates="collection", order_by="CustodyEvent.id")


class ManufacturingLot(Base):
    """The manufacturing of one collection: start, end, outcome and any exceptional release."""

    __tablename__ = "manufacturing_lot"

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("apheresis_collection.id"), unique=True)
    lot_number: Mapped[str] = mapped_column(String(40), unique=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[LotOutcome | None] = mapped_column(
        Enum(LotOutcome, native_enum=False, length=32, values_callable=_values, name="lotoutcome"), index=True
    )
    failure_reason: Mapped[str | None] = mapped_column(Text)
    exceptional_release: Mapped[bool] = mapped_column(Boolean, default=False)
    exceptional_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    exceptional_approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    exceptional_justification: Mapped[str | None] = mapped_column(Text)
    exceptional_signature_id: Mapped[int | None] = mapped_column(ForeignKey("signature.id"))

    collection: Mapped[ApheresisCollection] = relationship(back_populates="lot")
    bags: Mapped[list[ProductBag]] = relationship(back_populates="lot", order_by="ProductBag.bag_number")
    release_test: Mapped[ReleaseTest | None] = relationship(back_populates="lot")


class ProductBag(Base):
    """A final product bag: its own DIN, volume, cell count and expiry."""

    __tablename__ = "product_bag"
    __table_args__ = (UniqueConstraint("lot_id", "bag_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("manufacturing_lot.id"), index=True)
    bag_number: Mapped[int] = mapped_column(Integer)
    din: Mapped[str] = mapped_column(String(13), unique=True)
    din_flags: Mapped[str] = mapped_column(String(2))
    product_key: Mapped[str] = mapped_column(String(32))
    volume_ml: Mapped[float] = mapped_column(Float)
    total_nucleated_cells: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    thawed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    infused_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    lot: Mapped[ManufacturingLot] = relationship(back_populates="bags")


class ReleaseTest(Base):
    """A lot's release results and the decision against the specifications in force."""

    __tablename__ = "release_test"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("manufacturing_lot.id"), unique=True)
    tested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    results: Mapped[dict[str, Any]] = mapped_column(JSON)
    dose_volume_ml: Mapped[float] = mapped_column(Float)
    weight_kg: Mapped[float] = mapped_column(Float)
    endotoxin_eu_per_kg: Mapped[float] = mapped_column(Float)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    releasable: Mapped[bool] = mapped_column(Boolean)
    settings_version: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    lot: Mapped[ManufacturingLot] = relationship(back_populates="release_test")


class CustodyEvent(Base):
    """One hand-over of the product: step, time, place, who handed over and who received."""

    __tablename__ = "custody_event"
    __table_args__ = (UniqueConstraint("collection_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("apheresis_collection.id"), index=True)
    step: Mapped[CustodyStep] = mapped_column(_step_enum())
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    location: Mapped[str] = mapped_column(String(200))
    handed_over_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    handed_over_by_name: Mapped[str] = mapped_column(String(200))
    received_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    received_by_name: Mapped[str] = mapped_column(String(200))
    bags: Mapped[list[str]] = mapped_column(JSON, default=list)
    temperature_min_c: Mapped[float | None] = mapped_column(Float)
    temperature_max_c: Mapped[float | None] = mapped_column(Float)
    excursion: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    collection: Mapped[ApheresisCollection] = relationship(back_populates="events")
    readings: Mapped[list[TemperatureLog]] = relationship(
        back_populates="event", order_by="TemperatureLog.at"
    )


class TemperatureLog(Base):
    """A data-logger reading taken during a shipment, kept with the event that brought it in."""

    __tablename__ = "temperature_reading"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("custody_event.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    celsius: Mapped[float] = mapped_column(Float)
    within_range: Mapped[bool] = mapped_column(Boolean)

    event: Mapped[CustodyEvent] = relationship(back_populates="readings")


class BedsideVerification(Base):
    """Two people's independent reads of the bag DIN and the wristband before infusion."""

    __tablename__ = "bedside_verification"

    id: Mapped[int] = mapped_column(primary_key=True)
    coi_id: Mapped[int] = mapped_column(ForeignKey("chain_of_identity.id"), index=True)
    collection_id: Mapped[int | None] = mapped_column(ForeignKey("apheresis_collection.id"))
    bag_id: Mapped[int | None] = mapped_column(ForeignKey("product_bag.id"))
    verified_at: Mapped[datetime] = mapped_column(UtcDateTime)
    first_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    first_bag_read: Mapped[str] = mapped_column(String(16))
    first_wristband_read: Mapped[str] = mapped_column(String(64))
    second_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    second_bag_read: Mapped[str] = mapped_column(String(16))
    second_wristband_read: Mapped[str] = mapped_column(String(64))
    passed: Mapped[bool] = mapped_column(Boolean)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
