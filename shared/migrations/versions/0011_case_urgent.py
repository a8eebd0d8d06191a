"""case urgent (紧急诉求) and handovers (转接)

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-28 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("urgent_reasons", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("urgent_lines", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("handovers", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.create_index(batch_op.f("ix_cases_urgent"), ["urgent"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_urgent"))
        batch_op.drop_column("handovers")
        batch_op.drop_column("urgent_lines")
        batch_op.drop_column("urgent_reasons")
        batch_op.drop_column("urgent")
