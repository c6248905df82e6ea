"""Registry: trials of the landscape, their sources, sites, embeddings, imports, full-text index.

Full-text search is dialect-specific:

- SQLite: an FTS5 table ``registry_trial_fts`` (Porter stemming, accents folded) whose rowid is
  the trial row's rowid, kept in step with ``registry_trial`` by triggers;
- PostgreSQL: a generated ``search_vector`` tsvector column (English configuration; title
  weight A, conditions and interventions B, summary C, eligibility D) with a GIN index.

Revision ID: registry_0001
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "registry_0001"
down_revision = None
branch_labels = ("registry",)
depends_on = None

_FTS_VALUES = (
    "coalesce(new.brief_title, '') || ' ' || coalesce(new.official_title, ''), "
    "new.conditions_text, new.interventions_text, coalesce(new.brief_summary, ''), "
    "coalesce(new.eligibility_text, '')"
)
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE registry_trial_fts USING fts5("
    "title, conditions, interventions, summary, eligibility, "
    "tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER registry_trial_fts_insert AFTER INSERT ON registry_trial BEGIN "
    "INSERT INTO registry_trial_fts(rowid, title, conditions, interventions, summary, eligibility) "
    f"VALUES (new.rowid, {_FTS_VALUES}); END",
    "CREATE TRIGGER registry_trial_fts_update AFTER UPDATE ON registry_trial BEGIN "
    "DELETE FROM registry_trial_fts WHERE rowid = old.rowid; "
    "INSERT INTO registry_trial_fts(rowid, title, conditions, interventions, summary, eligibility) "
    f"VALUES (new.rowid, {_FTS_VALUES}); END",
    "CREATE TRIGGER registry_trial_fts_delete AFTER DELETE ON registry_trial BEGIN "
    "DELETE FROM registry_trial_fts WHERE rowid = old.rowid; END",
]


def _searchable(column: str) -> str:
    # '/' joins words into one path token in PostgreSQL's parser ("T-ALL/T-LBL"); read it as a space
    return f"to_tsvector('english', replace(coalesce({column}, ''), '/', ' '))"


POSTGRES_FTS = [
    "ALTER TABLE registry_trial ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    f"setweight({_searchable('brief_title')} || {_searchable('official_title')}, 'A') || "
    f"setweight({_searchable('conditions_text')} || {_searchable('interventions_text')}, 'B') || "
    f"setweight({_searchable('brief_summary')}, 'C') || "
    f"setweight({_searchable('eligibility_text')}, 'D')) STORED",
    "CREATE INDEX ix_registry_trial_search_vector ON registry_trial USING gin (search_vector)",
]


def _instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "registry_trial",
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("brief_title", sa.Text(), nullable=False),
        sa.Column("official_title", sa.Text(), nullable=True),
        sa.Column("overall_status", sa.String(32), nullable=True),
        sa.Column("phases", sa.String(120), nullable=False),
        sa.Column("study_type", sa.String(32), nullable=True),
        sa.Column("conditions_text", sa.Text(), nullable=False),
        sa.Column("interventions_text", sa.Text(), nullable=False),
        sa.Column("brief_summary", sa.Text(), nullable=True),
        sa.Column("eligibility_text", sa.Text(), nullable=True),
        sa.Column("sex", sa.String(8), nullable=True),
        sa.Column("healthy_volunteers", sa.Boolean(), nullable=True),
        sa.Column("min_age_years", sa.Float(), nullable=True),
        sa.Column("max_age_years", sa.Float(), nullable=True),
        sa.Column("countries", sa.Text(), nullable=False),
        sa.Column("start_date", sa.String(10), nullable=True),
        sa.Column("start_year", sa.Integer(), nullable=True),
        sa.Column("last_update_date", sa.String(10), nullable=True),
        sa.Column("enrollment_count", sa.Integer(), nullable=True),
        sa.Column("lead_sponsor", sa.Text(), nullable=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("nct_id", name=op.f("pk_registry_trial")),
    )
    op.create_index(op.f("ix_registry_trial_overall_status"), "registry_trial", ["overall_status"])
    op.create_index(op.f("ix_registry_trial_start_year"), "registry_trial", ["start_year"])

    op.create_table(
        "registry_trial_source",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("origin", sa.String(255), nullable=False),
        sa.Column("snapshot_date", sa.String(10), nullable=True),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["nct_id"],
            ["registry_trial.nct_id"],
            name=op.f("fk_registry_trial_source_nct_id_registry_trial"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_trial_source")),
        sa.UniqueConstraint("nct_id", "kind", "origin", name="uq_registry_trial_source_origin"),
    )
    op.create_index(op.f("ix_registry_trial_source_nct_id"), "registry_trial_source", ["nct_id"])

    op.create_table(
        "registry_site",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("facility", sa.Text(), nullable=True),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("zip", sa.String(32), nullable=True),
        sa.Column("country", sa.String(120), nullable=True),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["nct_id"],
            ["registry_trial.nct_id"],
            name=op.f("fk_registry_site_nct_id_registry_trial"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_site")),
    )
    op.create_index(op.f("ix_registry_site_nct_id"), "registry_site", ["nct_id"])
    op.create_index(op.f("ix_registry_site_country"), "registry_site", ["country"])

    op.create_table(
        "registry_embedding",
        sa.Column("nct_id", sa.String(11), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["nct_id"],
            ["registry_trial.nct_id"],
            name=op.f("fk_registry_embedding_nct_id_registry_trial"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("nct_id", name=op.f("pk_registry_embedding")),
    )

    op.create_table(
        "registry_import",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", _instant(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_import")),
    )

    statements = POSTGRES_FTS if op.get_bind().dialect.name == "postgresql" else SQLITE_FTS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS registry_trial_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS registry_trial_fts")
    op.drop_table("registry_import")
    op.drop_table("registry_embedding")
    op.drop_index(op.f("ix_registry_site_country"), table_name="registry_site")
    op.drop_index(op.f("ix_registry_site_nct_id"), table_name="registry_site")
    op.drop_table("registry_site")
    op.drop_index(op.f("ix_registry_trial_source_nct_id"), table_name="registry_trial_source")
    op.drop_table("registry_trial_source")
    op.drop_index(op.f("ix_registry_trial_start_year"), table_name="registry_trial")
    op.drop_index(op.f("ix_registry_trial_overall_status"), table_name="registry_trial")
    op.drop_table("registry_trial")
