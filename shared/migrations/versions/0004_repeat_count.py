"""repeat count

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 08:43:51.830092
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repeat_count", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("repeat_count")
