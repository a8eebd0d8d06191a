"""matter catalogue in the 派单目录

Revision ID: 0014
Revises: 0009
Create Date: 2026-11-28 21:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: the matter catalogue shipped with the system (matters.toml), like a missing routing table.
    with op.batch_alter_table("routing_tables", schema=None) as batch_op:
        batch_op.add_column(sa.Column("matters", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routing_tables", schema=None) as batch_op:
        batch_op.drop_column("matters")
