"""the moment each case is due to be answered, on the case row

`cases.answer_due_at` copies the due moment of the case's response clock (else its finishing clock),
kept by the escalation service with every change to the clocks (shared/answer_due.py). The statistics
count overdue cases from the unanswered cases' index alone, which now holds it, instead of looking up
two clocks per unanswered case. Filled here for the unanswered cases; an answered case gets it with
its clocks' next change (only unanswered cases are counted).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.shared.db import UtcDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

UNANSWERED_COLUMNS = ["received_at", "id", "channel", "unit_name", "topic", "township", "answered_at"]


def _unanswered_index(columns: list[str]) -> None:
    op.create_index(
        "ix_cases_unanswered_received",
        "cases",
        columns,
        unique=False,
        sqlite_where=sa.text("answered_at IS NULL"),
        postgresql_where=sa.text("answered_at IS NULL"),
    )


def upgrade() -> None:
    op.add_column("cases", sa.Column("answer_due_at", UtcDateTime(), nullable=True))
    op.execute(
        "UPDATE cases SET answer_due_at = COALESCE("
        "(SELECT due_at FROM deadlines WHERE deadlines.case_id = cases.id AND deadlines.name = 'respond'), "
        "(SELECT due_at FROM deadlines WHERE deadlines.case_id = cases.id AND deadlines.name = 'finish')) "
        "WHERE answered_at IS NULL"
    )
    op.drop_index("ix_cases_unanswered_received", table_name="cases")
    _unanswered_index([*UNANSWERED_COLUMNS, "answer_due_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_unanswered_received", table_name="cases")
    _unanswered_index(UNANSWERED_COLUMNS)
    op.drop_column("cases", "answer_due_at")
