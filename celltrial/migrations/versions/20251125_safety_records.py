"""Safety: adverse events, daily CRS/ICANS assessments, SAEs and follow-ups, DLT assessments.

Revision ID: safety_0001
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "safety_0001"
down_revision = None
branch_labels = ("safety",)
depends_on = "edc_0001"


def _instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _choice(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


_RELATEDNESS = ("not_related", "unlikely", "possible", "probable", "definite")
_OUTCOME = ("recovered", "recovering", "not_recovered", "recovered_with_sequelae", "fatal", "unknown")


def _user_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["user_account.id"], name=op.f(f"fk_{table}_{column}_user_account")
    )


def _subject_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["subject_id"], ["subject.id"], name=op.f(f"fk_{table}_subject_id_subject")
    )


def upgrade() -> None:
    op.create_table(
        "adverse_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column("meddra_code", sa.String(length=8), nullable=True),
        sa.Column("soc", sa.String(length=100), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("ctcae_version", sa.String(length=8), nullable=False),
        sa.Column("onset_date", sa.Date(), nullable=False),
        sa.Column("resolution_date", sa.Date(), nullable=True),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("seriousness", sa.JSON(), nullable=False),
        sa.Column("related_to_cart", _choice("relatedness", *_RELATEDNESS), nullable=False),
        sa.Column("related_to_lymphodepletion", _choice("relatedness", *_RELATEDNESS), nullable=False),
        sa.Column("action_taken", sa.JSON(), nullable=False),
        sa.Column("outcome", _choice("outcome", *_OUTCOME), nullable=False),
        sa.Column("aesi", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.CheckConstraint("grade BETWEEN 1 AND 5", name=op.f("ck_adverse_event_grade_range")),
        _user_fk("adverse_event", "created_by_id"),
        _subject_fk("adverse_event"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_event")),
    )
    op.create_index(op.f("ix_adverse_event_subject_id"), "adverse_event", ["subject_id"], unique=False)
    op.create_table(
        "crs_icans_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("assessment_date", sa.Date(), nullable=False),
        sa.Column("symptomatic", sa.Boolean(), nullable=False),
        sa.Column("temperature_c", sa.Float(), nullable=False),
        sa.Column("fever_masked", sa.Boolean(), nullable=False),
        sa.Column(
            "hypotension",
            _choice("hypotension", "none", "no_vasopressor", "one_vasopressor", "multiple_vasopressors"),
            nullable=False,
        ),
        sa.Column(
            "hypoxia",
            _choice("hypoxia", "none", "low_flow", "high_flow", "positive_pressure"),
            nullable=False,
        ),
        sa.Column("death_due_to_crs", sa.Boolean(), nullable=False),
        sa.Column("ice_score", sa.Integer(), nullable=True),
        sa.Column(
            "consciousness",
            _choice(
                "consciousness",
                "normal",
                "awakens_spontaneously",
                "awakens_to_voice",
                "awakens_to_tactile",
                "unarousable",
            ),
            nullable=False,
        ),
        sa.Column(
            "seizure",
            _choice(
                "seizure",
                "none",
                "resolved_rapidly",
                "nonconvulsive_on_eeg_resolved",
                "prolonged_or_repetitive",
            ),
            nullable=False,
        ),
        sa.Column("motor_weakness", sa.Boolean(), nullable=False),
        sa.Column(
            "cerebral_edema", _choice("cerebraledema", "none", "focal", "diffuse_or_signs"), nullable=False
        ),
        sa.Column("death_due_to_icans", sa.Boolean(), nullable=False),
        sa.Column("tocilizumab_given", sa.Boolean(), nullable=False),
        sa.Column("corticosteroids_given", sa.Boolean(), nullable=False),
        sa.Column("crs_grade", sa.Integer(), nullable=False),
        sa.Column("crs_drivers", sa.JSON(), nullable=False),
        sa.Column("icans_grade", sa.Integer(), nullable=False),
        sa.Column("icans_drivers", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.CheckConstraint("crs_grade BETWEEN 0 AND 5", name=op.f("ck_crs_icans_assessment_crs_grade_range")),
        sa.CheckConstraint(
            "icans_grade BETWEEN 0 AND 5", name=op.f("ck_crs_icans_assessment_icans_grade_range")
        ),
        _user_fk("crs_icans_assessment", "created_by_id"),
        _subject_fk("crs_icans_assessment"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crs_icans_assessment")),
        sa.UniqueConstraint("subject_id", "assessment_date", name=op.f("uq_crs_icans_assessment_subject_id")),
    )
    op.create_index(
        op.f("ix_crs_icans_assessment_subject_id"), "crs_icans_assessment", ["subject_id"], unique=False
    )
    op.create_table(
        "dlt_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.Column("evaluated_at", _instant(), nullable=False),
        sa.Column("investigator_dlt", sa.Boolean(), nullable=True),
        sa.Column("investigator_comment", sa.Text(), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", _instant(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _user_fk("dlt_assessment", "confirmed_by_id"),
        _subject_fk("dlt_assessment"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dlt_assessment")),
        sa.UniqueConstraint("subject_id", name=op.f("uq_dlt_assessment_subject_id")),
    )
    op.create_table(
        "serious_adverse_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("adverse_event_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("site_awareness_at", _instant(), nullable=False),
        sa.Column("reported_to_sponsor_at", _instant(), nullable=True),
        sa.Column("expected", sa.Boolean(), nullable=True),
        sa.Column("expectedness_assessed_at", _instant(), nullable=True),
        sa.Column("susar_reported_at", _instant(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["adverse_event_id"],
            ["adverse_event.id"],
            name=op.f("fk_serious_adverse_event_adverse_event_id_adverse_event"),
        ),
        _subject_fk("serious_adverse_event"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serious_adverse_event")),
        sa.UniqueConstraint("adverse_event_id", name=op.f("uq_serious_adverse_event_adverse_event_id")),
    )
    op.create_index(
        op.f("ix_serious_adverse_event_subject_id"), "serious_adverse_event", ["subject_id"], unique=False
    )
    op.create_table(
        "sae_follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sae_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("received_at", _instant(), nullable=False),
        sa.Column("reported_at", _instant(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sae_id"],
            ["serious_adverse_event.id"],
            name=op.f("fk_sae_follow_up_sae_id_serious_adverse_event"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sae_follow_up")),
        sa.UniqueConstraint("sae_id", "number", name=op.f("uq_sae_follow_up_sae_id")),
    )
    op.create_index(op.f("ix_sae_follow_up_sae_id"), "sae_follow_up", ["sae_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sae_follow_up_sae_id"), table_name="sae_follow_up")
    op.drop_table("sae_follow_up")
    op.drop_index(op.f("ix_serious_adverse_event_subject_id"), table_name="serious_adverse_event")
    op.drop_table("serious_adverse_event")
    op.drop_table("dlt_assessment")
    op.drop_index(op.f("ix_crs_icans_assessment_subject_id"), table_name="crs_icans_assessment")
    op.drop_table("crs_icans_assessment")
    op.drop_index(op.f("ix_adverse_event_subject_id"), table_name="adverse_event")
    op.drop_table("adverse_event")
