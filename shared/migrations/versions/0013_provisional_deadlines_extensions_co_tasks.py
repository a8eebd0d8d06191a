"""provisional deadlines, extension count, co-unit tasks

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        # Counted from the statutory holidays because the year's official arrangement is not known yet.
        batch_op.add_column(sa.Column("provisional", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("extensions", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        # lead 主办 | co 协办
        batch_op.add_column(sa.Column("role", sa.String(length=8), nullable=False, server_default="lead"))


def downgrade() -> None:

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("role")
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_column("extensions")
        batch_op.drop_column("provisional")
