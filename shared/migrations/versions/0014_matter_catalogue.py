"""matter catalogue in the 派单目录; people's routing decisions as labelled examples

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 21:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.shared.db import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: the matter catalogue shipped with the system (matters.toml), like a missing routing table.
    with op.batch_alter_table("routing_tables", schema=None) as batch_op:
        batch_op.add_column(sa.Column("matters", sa.Text(), nullable=True))
    op.create_table(
        "routing_examples",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("township", sa.String(length=64), nullable=True),
        sa.Column("topic", sa.String(length=32), nullable=True),
        sa.Column("subtopic", sa.String(length=32), nullable=True),
        sa.Column("unit_code", sa.String(length=64), nullable=True),
        sa.Column("previous_unit", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_examples")),
    )
    op.create_index(op.f("ix_routing_examples_case_id"), "routing_examples", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_routing_examples_case_id"), table_name="routing_examples")
    op.drop_table("routing_examples")
    with op.batch_alter_table("routing_tables", schema=None) as batch_op:
        batch_op.drop_column("matters")
