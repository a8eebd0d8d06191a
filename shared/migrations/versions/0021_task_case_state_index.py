"""a case's tasks indexed with their state, so SQLite stops reading every open task per batch

The feed marks the superseded open tasks of a batch's cases with one statement (case id in the
batch, state open, an older assignment). With one index on the case and one on the state, SQLite's
planner (no statistics) took the state's and read every open task of the county for every batch.
(case_id, state) fits both conditions and is chosen; it also serves every lookup by case alone.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 03:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tasks_case_state", "tasks", ["case_id", "state"], unique=False)
    op.drop_index("ix_tasks_case_id", table_name="tasks")


def downgrade() -> None:
    op.create_index("ix_tasks_case_id", "tasks", ["case_id"], unique=False)
    op.drop_index("ix_tasks_case_state", table_name="tasks")
