"""the dead letters still to replay indexed apart, so counting them reads only the index

Intake and the feed count the letters not yet replayed every few seconds for their metrics. Without
an index each count read the whole table, payloads and errors included: nothing while it holds a
handful, but a flood of malformed messages (the time an operator most needs the figure) made every
sampler round read all of it (100,000 letters of ~1 kB on SQLite: 60–68 ms a count, 3.2–3.5 ms
from the index, in a scratch timing).

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_dead_letters_pending",
        "dead_letters",
        ["id", "replayed_at"],  # replayed_at always NULL here: without it SQLite reads the table to check
        unique=False,
        sqlite_where=sa.text("replayed_at IS NULL"),
        postgresql_where=sa.text("replayed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_dead_letters_pending", table_name="dead_letters")
