"""intake's repeat search indexed by phone or township and channel, so SQLite picks them

The searches ask for a channel's open cases of one phone (or township) since a moment, newest first.
With (phone, received_at) and (channel, received_at) both able to answer that, SQLite's planner
(which has no statistics unless someone runs ANALYZE) took the channel's index and read every case
of the channel in the 30-day window: 5.5 ms a call at 20,000 cases, growing with the cases on file.
With the channel in the phone's and the township's indexes they match more of the query and are
chosen (0.01 and 0.4 ms at 20,000 cases). They serve a phone's or a township's cases without a
channel too (their first column).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 03:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_phone_channel_received", "cases", ["phone", "channel", "received_at"], unique=False)
    op.create_index("ix_cases_township_channel_received", "cases", ["township", "channel", "received_at"], unique=False)
    op.drop_index("ix_cases_phone_received", table_name="cases")
    op.drop_index("ix_cases_township_received", table_name="cases")


def downgrade() -> None:
    op.create_index("ix_cases_phone_received", "cases", ["phone", "received_at"], unique=False)
    op.create_index("ix_cases_township_received", "cases", ["township", "received_at"], unique=False)
    op.drop_index("ix_cases_township_channel_received", table_name="cases")
    op.drop_index("ix_cases_phone_channel_received", table_name="cases")
