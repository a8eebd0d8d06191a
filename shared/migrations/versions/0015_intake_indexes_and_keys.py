"""intake's per-call lookups indexed (repeat search by phone and by township, earlier reports of a
post, newest first); the client keys of bulk intake

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.shared.db import UtcDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_phone_received", "cases", ["phone", "received_at"], unique=False)
    op.create_index("ix_cases_township_received", "cases", ["township", "received_at"], unique=False)
    op.create_index("ix_cases_channel_received", "cases", ["channel", "received_at"], unique=False)
    op.create_table(
        "intake_keys",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_intake_keys")),
    )


def downgrade() -> None:
    op.drop_table("intake_keys")
    op.drop_index("ix_cases_channel_received", table_name="cases")
    op.drop_index("ix_cases_township_received", table_name="cases")
    op.drop_index("ix_cases_phone_received", table_name="cases")
