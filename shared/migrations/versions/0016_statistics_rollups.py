"""the statistics' rollups kept by the feed service (per Beijing day and month, and grouping) and what each case
adds to them; unanswered cases indexed by receiving time (overdue is counted live among them)

The rollups start empty: `hotline rollups rebuild` counts the cases already on file (run it once
after this migration on a database that has cases).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 04:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Written out, not imported from shared/rollups.py: a migration must not change when the code does.
COUNTERS = (
    "received",
    "answered_on_spot",
    "transferred",
    "answered",
    "answered_late",
    "open",
    "finished",
    "visited",
    "satisfied",
)


def upgrade() -> None:
    op.create_table(
        "case_rollups",
        sa.Column("span", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS),
        sa.PrimaryKeyConstraint("span", "day", "dimension", "key", name=op.f("pk_case_rollups")),
    )
    op.create_table(
        "case_rollup_members",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=True),
        sa.Column("topic", sa.String(length=32), nullable=True),
        sa.Column("subtopic", sa.String(length=32), nullable=True),
        sa.Column("township", sa.String(length=64), nullable=True),
        sa.Column("answered_day", sa.Date(), nullable=True),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_rollup_members")),
    )
    op.create_index(
        "ix_cases_unanswered_received",
        "cases",
        ["received_at", "id", "channel", "unit_name", "topic", "township", "answered_at"],
        unique=False,
        sqlite_where=sa.text("answered_at IS NULL"),
        postgresql_where=sa.text("answered_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_unanswered_received", table_name="cases")
    op.drop_table("case_rollup_members")
    op.drop_table("case_rollups")
