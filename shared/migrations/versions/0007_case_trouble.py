"""case trouble

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 08:51:53.889986
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.shared.db import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "case_trouble",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("returns", sa.Integer(), nullable=False),
        sa.Column("redos", sa.Integer(), nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("seen_events", sa.JSON(), nullable=False),
        sa.Column("flagged_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_trouble")),
    )


def downgrade() -> None:

    op.drop_table("case_trouble")
