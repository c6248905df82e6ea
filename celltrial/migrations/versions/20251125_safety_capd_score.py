"""Safety: the CAPD score of a child's daily ICANS assessment (ASTCT grading for children <= 12).

Revision ID: safety_0002
Revises: safety_0001
Create Date: 2025-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "safety_0002"
down_revision = "safety_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crs_icans_assessment") as table:
        table.add_column(sa.Column("capd_score", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crs_icans_assessment") as table:
        table.drop_column("capd_score")
