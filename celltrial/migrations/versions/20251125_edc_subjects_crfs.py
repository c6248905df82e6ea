"""EDC: the study row, subjects, screening, consent, visits, CRF instances, SDV, data queries.

Revision ID: edc_0001
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "edc_0001"
down_revision = None
branch_labels = ("edc",)
depends_on = "study_0001"

TABLES = (
    "query_event",
    "data_query",
    "source_verification",
    "form_revision",
    "form_instance",
    "visit",
    "eligibility_judgment",
    "screening_attempt",
    "consent",
    "icf_version",
    "subject",
    "study",
)


def _instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "study",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nct_id", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "NOT_YET_RECRUITING",
                "RECRUITING",
                "ACTIVE_NOT_RECRUITING",
                "SUSPENDED",
                "TERMINATED",
                "COMPLETED",
                "WITHDRAWN",
                name="studystatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("status_changed_at", _instant(), nullable=False),
        sa.Column("enrolled_count", sa.Integer(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study")),
        sa.UniqueConstraint("nct_id", name=op.f("uq_study_nct_id")),
    )
    op.create_table(
        "icf_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("recorded_at", _instant(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["user_account.id"], name=op.f("fk_icf_version_recorded_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"], name=op.f("fk_icf_version_study_id_study")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_icf_version")),
        sa.UniqueConstraint("study_id", "version", name=op.f("uq_icf_version_study_id")),
    )
    op.create_index(op.f("ix_icf_version_study_id"), "icf_version", ["study_id"], unique=False)
    op.create_table(
        "subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("screening_number", sa.String(length=32), nullable=False),
        sa.Column("subject_number", sa.String(length=32), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "screening",
                "screen_failed",
                "enrolled",
                "apheresed",
                "infused",
                "in_follow_up",
                "completed",
                "withdrawn",
                "lost_to_follow_up",
                "died",
                name="subjectstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=8), nullable=False),
        sa.Column("initials", sa.String(length=4), nullable=False),
        sa.Column("enrolment_date", sa.Date(), nullable=True),
        sa.Column("enrolled_at", _instant(), nullable=True),
        sa.Column("infusion_date", sa.Date(), nullable=True),
        sa.Column("consent_withdrawn_at", _instant(), nullable=True),
        sa.Column("status_changed_at", _instant(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_subject_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_subject_site_id_site")),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"], name=op.f("fk_subject_study_id_study")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject")),
        sa.UniqueConstraint("screening_number", name=op.f("uq_subject_screening_number")),
        sa.UniqueConstraint("subject_number", name=op.f("uq_subject_subject_number")),
    )
    op.create_index(op.f("ix_subject_site_id"), "subject", ["site_id"], unique=False)
    op.create_index(op.f("ix_subject_status"), "subject", ["status"], unique=False)
    op.create_index(op.f("ix_subject_study_id"), "subject", ["study_id"], unique=False)
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("icf_version_id", sa.Integer(), nullable=False),
        sa.Column("signed_at", _instant(), nullable=False),
        sa.Column("signer", sa.String(length=16), nullable=False),
        sa.Column("guardian_name", sa.String(length=200), nullable=True),
        sa.Column("guardian_relationship", sa.String(length=64), nullable=True),
        sa.Column("assent_at", _instant(), nullable=True),
        sa.Column("recorded_at", _instant(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("withdrawn_at", _instant(), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["icf_version_id"], ["icf_version.id"], name=op.f("fk_consent_icf_version_id_icf_version")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["user_account.id"], name=op.f("fk_consent_recorded_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_consent_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    op.create_index(op.f("ix_consent_subject_id"), "consent", ["subject_id"], unique=False)
    op.create_table(
        "screening_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("screening_date", sa.Date(), nullable=False),
        sa.Column("rule_set_version", sa.String(length=64), nullable=False),
        sa.Column("engine_decision", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("snapshot_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", _instant(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_screening_attempt_recorded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_screening_attempt_subject_id_subject")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_attempt")),
        sa.UniqueConstraint("subject_id", "attempt", name=op.f("uq_screening_attempt_subject_id")),
    )
    op.create_index(
        op.f("ix_screening_attempt_subject_id"), "screening_attempt", ["subject_id"], unique=False
    )
    op.create_table(
        "visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("anchor", sa.String(length=16), nullable=True),
        sa.Column("day", sa.Integer(), nullable=True),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("window_start", sa.Date(), nullable=True),
        sa.Column("window_end", sa.Date(), nullable=True),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("unscheduled", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("forms", sa.JSON(), nullable=False),
        sa.Column("actual_date", sa.Date(), nullable=True),
        sa.Column("created_at", _instant(), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_visit_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
        sa.UniqueConstraint("subject_id", "code", name=op.f("uq_visit_subject_id")),
    )
    op.create_index(op.f("ix_visit_subject_id"), "visit", ["subject_id"], unique=False)
    op.create_table(
        "eligibility_judgment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("screening_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("judged_by_id", sa.Integer(), nullable=False),
        sa.Column("judged_by_name", sa.String(length=200), nullable=False),
        sa.Column("judged_at", _instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["judged_by_id"],
            ["user_account.id"],
            name=op.f("fk_eligibility_judgment_judged_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["screening_id"],
            ["screening_attempt.id"],
            name=op.f("fk_eligibility_judgment_screening_id_screening_attempt"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_judgment")),
        sa.UniqueConstraint(
            "screening_id", "criterion_id", name=op.f("uq_eligibility_judgment_screening_id")
        ),
    )
    op.create_index(
        op.f("ix_eligibility_judgment_screening_id"), "eligibility_judgment", ["screening_id"], unique=False
    )
    op.create_table(
        "form_instance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("form_code", sa.String(length=64), nullable=False),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "not_started",
                "in_progress",
                "complete",
                "verified",
                "signed",
                "locked",
                name="formstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("consent_withdrawn", sa.Boolean(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_form_instance_subject_id_subject")
        ),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_form_instance_visit_id_visit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_instance")),
    )
    op.create_index(op.f("ix_form_instance_subject_id"), "form_instance", ["subject_id"], unique=False)
    op.create_index(op.f("ix_form_instance_visit_id"), "form_instance", ["visit_id"], unique=False)
    op.create_table(
        "data_query",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("check_id", sa.String(length=64), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "answered", "closed", name="querystatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("raised_by", sa.String(length=64), nullable=False),
        sa.Column("raised_at", _instant(), nullable=False),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"], ["form_instance.id"], name=op.f("fk_data_query_form_id_form_instance")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_data_query_subject_id_subject")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_query")),
    )
    op.create_index(op.f("ix_data_query_form_id"), "data_query", ["form_id"], unique=False)
    op.create_index(op.f("ix_data_query_site_id"), "data_query", ["site_id"], unique=False)
    op.create_index(op.f("ix_data_query_status"), "data_query", ["status"], unique=False)
    op.create_index(op.f("ix_data_query_subject_id"), "data_query", ["subject_id"], unique=False)
    op.create_table(
        "form_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("saved_by", sa.String(length=64), nullable=False),
        sa.Column("saved_at", _instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"], ["form_instance.id"], name=op.f("fk_form_revision_form_id_form_instance")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_revision")),
        sa.UniqueConstraint("form_id", "version", name=op.f("uq_form_revision_form_id")),
    )
    op.create_index(op.f("ix_form_revision_form_id"), "form_revision", ["form_id"], unique=False)
    op.create_table(
        "source_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("verified_value", sa.JSON(), nullable=True),
        sa.Column("verified_by", sa.String(length=64), nullable=False),
        sa.Column("verified_at", _instant(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["form_id"], ["form_instance.id"], name=op.f("fk_source_verification_form_id_form_instance")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_verification")),
        sa.UniqueConstraint("form_id", "field", name=op.f("uq_source_verification_form_id")),
    )
    op.create_index(op.f("ix_source_verification_form_id"), "source_verification", ["form_id"], unique=False)
    op.create_table(
        "query_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("status_after", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", _instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["query_id"], ["data_query.id"], name=op.f("fk_query_event_query_id_data_query")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_query_event")),
    )
    op.create_index(op.f("ix_query_event_query_id"), "query_event", ["query_id"], unique=False)


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
