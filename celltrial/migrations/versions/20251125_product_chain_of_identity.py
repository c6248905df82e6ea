"""Product: chain of identity, apheresis collections, custody events, lots, bags, release, bedside checks.

Revision ID: product_0001
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "product_0001"
down_revision = None
branch_labels = ("product",)
depends_on = "edc_0001"

TABLES = (
    "bedside_verification",
    "temperature_reading",
    "custody_event",
    "release_test",
    "product_bag",
    "manufacturing_lot",
    "apheresis_collection",
    "chain_of_identity",
)
STEPS = (
    "collected",
    "shipped_to_manufacturing",
    "received",
    "manufacturing_started",
    "qc_sampled",
    "released",
    "cryopreserved",
    "shipped_to_site",
    "received_at_site",
    "stored_ln2",
    "thawed",
    "infused",
)


def _instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _step() -> sa.Enum:
    return sa.Enum(*STEPS, name="custodystep", native_enum=False, length=32)


def _user_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["user_account.id"], name=op.f(f"fk_{table}_{column}_user_account")
    )


def upgrade() -> None:
    op.create_table(
        "chain_of_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coi_number", sa.String(length=48), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _user_fk("chain_of_identity", "created_by_id"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_chain_of_identity_site_id_site")),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_chain_of_identity_subject_id_subject")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_of_identity")),
        sa.UniqueConstraint("coi_number", name=op.f("uq_chain_of_identity_coi_number")),
        sa.UniqueConstraint("subject_id", name=op.f("uq_chain_of_identity_subject_id")),
    )
    op.create_index(op.f("ix_chain_of_identity_site_id"), "chain_of_identity", ["site_id"], unique=False)
    op.create_table(
        "apheresis_collection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coi_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("din", sa.String(length=13), nullable=False),
        sa.Column("din_flags", sa.String(length=2), nullable=False),
        sa.Column("collected_at", _instant(), nullable=False),
        sa.Column("expires_at", _instant(), nullable=False),
        sa.Column("custody_step", _step(), nullable=False),
        sa.Column("custody_at", _instant(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coi_id"],
            ["chain_of_identity.id"],
            name=op.f("fk_apheresis_collection_coi_id_chain_of_identity"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apheresis_collection")),
        sa.UniqueConstraint("coi_id", "attempt", name=op.f("uq_apheresis_collection_coi_id")),
        sa.UniqueConstraint("din", name=op.f("uq_apheresis_collection_din")),
    )
    op.create_index(op.f("ix_apheresis_collection_coi_id"), "apheresis_collection", ["coi_id"], unique=False)
    op.create_table(
        "manufacturing_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("lot_number", sa.String(length=40), nullable=False),
        sa.Column("started_at", _instant(), nullable=False),
        sa.Column("ended_at", _instant(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "success", "out_of_specification", "failure", name="lotoutcome", native_enum=False, length=32
            ),
            nullable=True,
        ),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("exceptional_release", sa.Boolean(), nullable=False),
        sa.Column("exceptional_approved_by_id", sa.Integer(), nullable=True),
        sa.Column("exceptional_approved_at", _instant(), nullable=True),
        sa.Column("exceptional_justification", sa.Text(), nullable=True),
        sa.Column("exceptional_signature_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["apheresis_collection.id"],
            name=op.f("fk_manufacturing_lot_collection_id_apheresis_collection"),
        ),
        _user_fk("manufacturing_lot", "exceptional_approved_by_id"),
        sa.ForeignKeyConstraint(
            ["exceptional_signature_id"],
            ["signature.id"],
            name=op.f("fk_manufacturing_lot_exceptional_signature_id_signature"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manufacturing_lot")),
        sa.UniqueConstraint("collection_id", name=op.f("uq_manufacturing_lot_collection_id")),
        sa.UniqueConstraint("lot_number", name=op.f("uq_manufacturing_lot_lot_number")),
    )
    op.create_index(op.f("ix_manufacturing_lot_outcome"), "manufacturing_lot", ["outcome"], unique=False)
    op.create_table(
        "product_bag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("bag_number", sa.Integer(), nullable=False),
        sa.Column("din", sa.String(length=13), nullable=False),
        sa.Column("din_flags", sa.String(length=2), nullable=False),
        sa.Column("product_key", sa.String(length=32), nullable=False),
        sa.Column("volume_ml", sa.Float(), nullable=False),
        sa.Column("total_nucleated_cells", sa.Float(), nullable=False),
        sa.Column("expires_at", _instant(), nullable=False),
        sa.Column("thawed_at", _instant(), nullable=True),
        sa.Column("infused_at", _instant(), nullable=True),
        sa.Column("created_at", _instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["manufacturing_lot.id"], name=op.f("fk_product_bag_lot_id_manufacturing_lot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_bag")),
        sa.UniqueConstraint("din", name=op.f("uq_product_bag_din")),
        sa.UniqueConstraint("lot_id", "bag_number", name=op.f("uq_product_bag_lot_id")),
    )
    op.create_index(op.f("ix_product_bag_lot_id"), "product_bag", ["lot_id"], unique=False)
    op.create_table(
        "release_test",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("tested_at", _instant(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("dose_volume_ml", sa.Float(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.Column("endotoxin_eu_per_kg", sa.Float(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("releasable", sa.Boolean(), nullable=False),
        sa.Column("settings_version", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", _instant(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["manufacturing_lot.id"], name=op.f("fk_release_test_lot_id_manufacturing_lot")
        ),
        _user_fk("release_test", "recorded_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_test")),
        sa.UniqueConstraint("lot_id", name=op.f("uq_release_test_lot_id")),
    )
    op.create_table(
        "custody_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("step", _step(), nullable=False),
        sa.Column("occurred_at", _instant(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("handed_over_by_id", sa.Integer(), nullable=False),
        sa.Column("handed_over_by_name", sa.String(length=200), nullable=False),
        sa.Column("received_by_id", sa.Integer(), nullable=False),
        sa.Column("received_by_name", sa.String(length=200), nullable=False),
        sa.Column("bags", sa.JSON(), nullable=False),
        sa.Column("temperature_min_c", sa.Float(), nullable=True),
        sa.Column("temperature_max_c", sa.Float(), nullable=True),
        sa.Column("excursion", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", _instant(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["apheresis_collection.id"],
            name=op.f("fk_custody_event_collection_id_apheresis_collection"),
        ),
        _user_fk("custody_event", "handed_over_by_id"),
        _user_fk("custody_event", "received_by_id"),
        _user_fk("custody_event", "recorded_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_event")),
        sa.UniqueConstraint("collection_id", "step", name=op.f("uq_custody_event_collection_id")),
    )
    op.create_index(op.f("ix_custody_event_collection_id"), "custody_event", ["collection_id"], unique=False)
    op.create_table(
        "temperature_reading",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("at", _instant(), nullable=False),
        sa.Column("celsius", sa.Float(), nullable=False),
        sa.Column("within_range", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["custody_event.id"], name=op.f("fk_temperature_reading_event_id_custody_event")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_temperature_reading")),
    )
    op.create_index(
        op.f("ix_temperature_reading_event_id"), "temperature_reading", ["event_id"], unique=False
    )
    op.create_table(
        "bedside_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coi_id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=True),
        sa.Column("bag_id", sa.Integer(), nullable=True),
        sa.Column("verified_at", _instant(), nullable=False),
        sa.Column("first_user_id", sa.Integer(), nullable=False),
        sa.Column("first_bag_read", sa.String(length=16), nullable=False),
        sa.Column("first_wristband_read", sa.String(length=64), nullable=False),
        sa.Column("second_user_id", sa.Integer(), nullable=False),
        sa.Column("second_bag_read", sa.String(length=16), nullable=False),
        sa.Column("second_wristband_read", sa.String(length=64), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("recorded_at", _instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bag_id"], ["product_bag.id"], name=op.f("fk_bedside_verification_bag_id_product_bag")
        ),
        sa.ForeignKeyConstraint(
            ["coi_id"],
            ["chain_of_identity.id"],
            name=op.f("fk_bedside_verification_coi_id_chain_of_identity"),
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["apheresis_collection.id"],
            name=op.f("fk_bedside_verification_collection_id_apheresis_collection"),
        ),
        _user_fk("bedside_verification", "first_user_id"),
        _user_fk("bedside_verification", "second_user_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bedside_verification")),
    )
    op.create_index(op.f("ix_bedside_verification_coi_id"), "bedside_verification", ["coi_id"], unique=False)


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
