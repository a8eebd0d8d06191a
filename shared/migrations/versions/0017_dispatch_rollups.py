"""the 派单准确率's rollups kept by the feed service (per Beijing day and week of a case's first 主办
assignment, and unit) and what each case adds to them

The rollups start empty: `hotline rollups rebuild` counts the tasks already on file, and `hotline up`
does it by itself when it finds 主办 tasks and no counts.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dispatch_rollups",
        sa.Column("span", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=False),
        sa.Column("unit_name", sa.String(length=64), nullable=False),
        sa.Column("routed", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("reassigned", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("span", "day", "unit_code", "unit_name", name=op.f("pk_dispatch_rollups")),
    )
    op.create_table(
        "dispatch_rollup_members",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=False),
        sa.Column("unit_name", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_dispatch_rollup_members")),
    )


def downgrade() -> None:
    op.drop_table("dispatch_rollup_members")
    op.drop_table("dispatch_rollups")
