"""indexes for intake's per-call lookups: the repeat search by phone and by township (newest first)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 01:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_phone_received", "cases", ["phone", "received_at"], unique=False)
    op.create_index("ix_cases_township_received", "cases", ["township", "received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_township_received", table_name="cases")
    op.drop_index("ix_cases_phone_received", table_name="cases")
