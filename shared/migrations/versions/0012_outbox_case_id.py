"""outbox rows name their case (the reconciler re-publishes a stuck case's received event)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("case_id", sa.Uuid(), nullable=True))
    op.create_index(op.f("ix_outbox_case_id"), "outbox", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_case_id"), table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("case_id")
