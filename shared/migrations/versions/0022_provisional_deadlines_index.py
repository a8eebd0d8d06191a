"""the provisional clocks still running indexed apart, so finding them reads only them

The escalation service recounts provisional deadlines (counted before their year's holiday
arrangement was known) at every start and every calendar update. Without an index it read every
deadline on file: at a million clocks 141 ms on SQLite and 95–114 ms on PostgreSQL, against 1.9 and
3.6 ms with it (`hotline bench-escalation --open 1000000`, `start_recount_ms`). The partial index
holds only the provisional ones still open or overdue, usually none or a few hundred.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# As in shared/db.py at this revision (a migration keeps its own copy: the model may change later).
PROVISIONAL_OPEN = "provisional AND state IN ('open', 'overdue')"


def upgrade() -> None:
    op.create_index(
        "ix_deadlines_provisional_open",
        "deadlines",
        ["case_id"],
        unique=False,
        sqlite_where=sa.text(PROVISIONAL_OPEN),
        postgresql_where=sa.text(PROVISIONAL_OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_deadlines_provisional_open", table_name="deadlines")
