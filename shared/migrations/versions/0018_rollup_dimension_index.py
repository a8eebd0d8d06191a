"""an index on the statistics' rollups by grouping, span and day

The primary key leads with (span, day), which serves a period's counts; the trend (every day row of the
grouping "all") and the answered-day counts ask by grouping first and, without this index, read the whole
table: 40 ms at a few hundred thousand rollup rows, whatever the period.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 13:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_rollups_dimension_span_day", "case_rollups", ["dimension", "span", "day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_case_rollups_dimension_span_day", table_name="case_rollups")
