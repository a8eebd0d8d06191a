"""deadline units pauses extensions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 08:27:06.466788
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.shared.db import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_of_time", sa.String(length=16), nullable=False, server_default="hours"))
        batch_op.add_column(sa.Column("source", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("paused_at", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("paused_seconds", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("extended_by", sa.String(length=32), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_column("extended_by")
        batch_op.drop_column("paused_seconds")
        batch_op.drop_column("paused_at")
        batch_op.drop_column("source")
        batch_op.drop_column("unit_of_time")
