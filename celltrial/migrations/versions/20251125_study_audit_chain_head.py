"""Study: the audit chain's head (last entry number and hash), locked only to append.

The row starts at the trail's current end; an empty trail gets it at its first append (so a
fresh database stays empty for ``db restore``). On PostgreSQL
a trigger refuses to delete the row, to truncate the table, or to move the head backwards.

Revision ID: study_0002
Revises: study_0001
Create Date: 2025-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "study_0002"
down_revision = "study_0001"
branch_labels = None
depends_on = None

PG_GUARD = """
CREATE FUNCTION audit_chain_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.last_id >= OLD.last_id AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit chain head only moves forward: % on audit_chain_head refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    # an existing trail: the head is its last entry (an empty one gets its head at the first append)
    op.execute(
        "INSERT INTO audit_chain_head (id, last_id, last_hash) "
        "SELECT 1, MAX(id), (SELECT hash FROM audit_entry ORDER BY id DESC LIMIT 1) FROM audit_entry "
        "HAVING COUNT(*) > 0"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_GUARD)
        op.execute(
            "CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE OR DELETE ON audit_chain_head "
            "FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard()"
        )
        op.execute(
            "CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_guard()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_chain_head_no_truncate ON audit_chain_head")
        op.execute("DROP TRIGGER IF EXISTS audit_chain_head_forward ON audit_chain_head")
        op.execute("DROP FUNCTION IF EXISTS audit_chain_head_guard()")
    op.drop_table("audit_chain_head")
