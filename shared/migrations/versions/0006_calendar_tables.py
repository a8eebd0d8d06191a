"""calendar tables

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 08:49:23.419113
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.shared.db import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "calendar_tables",
        sa.Column("version", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_calendar_tables")),
    )


def downgrade() -> None:

    op.drop_table("calendar_tables")
