"""Migration 0019 fills the due moment of the cases already on file from their clocks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from hotline.shared.db import CaseRow, DeadlineRow
from hotline.shared.migrate import alembic_config

RECEIVED = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def _case(connection: sa.Connection, answered: bool, clocks: dict[str, datetime]) -> uuid.UUID:
    case_id = uuid.uuid4()
    connection.execute(
        sa.insert(CaseRow).values(
            id=case_id,
            query_code=case_id.hex[:12],
            channel="hotline",
            received_at=RECEIVED,
            created_at=RECEIVED,
            updated_at=RECEIVED,
            content="路灯不亮",
            status="answered" if answered else "tracked",
            answered_at=RECEIVED + timedelta(hours=3) if answered else None,
            needs_review=False,
            repeat_count=0,
            urgent=False,
            details={},
            urgent_reasons=[],
            urgent_lines=[],
            handovers=[],
        )
    )
    for name, due in clocks.items():
        connection.execute(
            sa.insert(DeadlineRow).values(
                case_id=case_id,
                name=name,
                label=name,
                unit_of_time="hours",
                channel="hotline",
                unit_code="zjj",
                received_at=RECEIVED,
                starts_at=RECEIVED,
                due_at=due,
                state="open",
                step=0,
                paused_seconds=0,
                extensions=0,
                provisional=False,
                source_event_id=uuid.uuid4(),
            )
        )
    return case_id


def test_the_unanswered_cases_get_the_due_moment_of_their_clocks(tmp_path: Path) -> None:
    config = alembic_config(f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}")
    command.upgrade(config, "0018")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    respond, finish = RECEIVED + timedelta(hours=48), RECEIVED + timedelta(days=7)
    with engine.begin() as connection:
        both = _case(connection, answered=False, clocks={"respond": respond, "finish": finish})
        petition = _case(connection, answered=False, clocks={"accept": respond, "finish": finish})
        no_clock = _case(connection, answered=False, clocks={})
        answered = _case(connection, answered=True, clocks={"respond": respond})
    command.upgrade(config, "head")
    with engine.connect() as connection:
        due = {case_id: at for case_id, at in connection.execute(sa.select(CaseRow.id, CaseRow.answer_due_at))}
    assert due == {both: respond, petition: finish, no_clock: None, answered: None}  # only the unanswered count
    command.downgrade(config, "0018")
    command.upgrade(config, "head")
    engine.dispose()
