"""Database side of the escalation service: start clocks for routed cases and take ladder steps."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.services.escalation.rules import DEFAULT_LADDER, deadlines_for, next_step_at, steps_due
from hotline.shared import subjects
from hotline.shared.clock import Clock
from hotline.shared.db import DeadlineRow, insert_ignoring_duplicates
from hotline.shared.events import (
    CaseActed,
    CaseEscalated,
    CaseEvent,
    CaseRouted,
    CaseTracked,
    Channel,
    DeadlineInfo,
    Verdict,
    derived_event_id,
)
from hotline.shared.outbox import enqueue

OUTBOX_SOURCE = "escalation"
_STEP_NAMESPACE = uuid.UUID("0b8f5a52-2f5e-4c1d-8d0e-5d3e3c6a9b21")


def tracked_event(case: CaseRouted, *, clock: Clock, response_hours: float) -> tuple[CaseTracked, list[DeadlineRow]]:
    specs = deadlines_for(
        channel=case.channel,
        severity=case.severity,
        received_at=case.received_at,
        response_hours=response_hours,
    )
    rows = [
        DeadlineRow(
            case_id=case.case_id,
            name=spec.name,
            label=spec.label,
            channel=case.channel.value,
            unit_code=case.unit_code,
            received_at=case.received_at,
            starts_at=spec.starts_at,
            due_at=spec.due_at,
            state="open",
            step=0,
            next_step_at=next_step_at(spec.starts_at, spec.due_at, 0),
            source_event_id=case.event_id,
        )
        for spec in specs
    ]
    event = CaseTracked(
        event_id=derived_event_id(case.event_id, "tracked"),
        case_id=case.case_id,
        occurred_at=clock.now(),
        channel=case.channel,
        received_at=case.received_at,
        unit_code=case.unit_code,
        deadlines=[DeadlineInfo(name=s.name, label=s.label, starts_at=s.starts_at, due_at=s.due_at) for s in specs],
    )
    return event, rows


async def start_clocks(
    session: AsyncSession, cases: Sequence[CaseRouted], *, clock: Clock, response_hours: float
) -> None:
    """Insert each case's deadlines and its `tracked` event; a redelivered case changes nothing."""
    events: list[tuple[str, CaseEvent]] = []
    rows: list[dict[str, object]] = []
    for case in cases:
        event, deadline_rows = tracked_event(case, clock=clock, response_hours=response_hours)
        events.append((subjects.CASE_TRACKED, event))
        rows.extend(
            {column.name: getattr(row, column.name) for column in DeadlineRow.__table__.columns}
            for row in deadline_rows
        )
    if rows:
        await session.execute(insert_ignoring_duplicates(session, DeadlineRow), rows)
    await enqueue(session, source=OUTBOX_SOURCE, events=events, clock=clock)


def escalation_event_id(case_id: uuid.UUID, deadline: str, step_index: int) -> uuid.UUID:
    return uuid.uuid5(_STEP_NAMESPACE, f"{case_id}:{deadline}:{step_index}")


async def take_due_steps(session: AsyncSession, *, clock: Clock, limit: int = 500) -> int:
    """Take every ladder step that has fallen due; returns how many escalations were emitted.

    The update is compare-and-set on the step counter, so two scanners (or a scan racing a restart)
    never emit the same step twice; the event id is derived from (case, deadline, step) as well.
    """
    now = clock.now()
    due = (
        (
            await session.execute(
                select(DeadlineRow)
                .where(DeadlineRow.state == "open", DeadlineRow.next_step_at <= now)
                .order_by(DeadlineRow.next_step_at)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    events: list[tuple[str, CaseEvent]] = []
    for row in due:
        steps = steps_due(starts_at=row.starts_at, due_at=row.due_at, taken=row.step, now=now)
        if not steps:
            continue
        last_index = steps[-1][0]
        overdue = last_index == len(DEFAULT_LADDER) - 1
        claimed = await session.execute(
            update(DeadlineRow)
            .where(DeadlineRow.case_id == row.case_id, DeadlineRow.name == row.name, DeadlineRow.step == row.step)
            .values(
                step=last_index + 1,
                next_step_at=next_step_at(row.starts_at, row.due_at, last_index + 1),
                state="overdue" if overdue else "open",
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        for index, step in steps:
            events.append(
                (
                    subjects.CASE_ESCALATED,
                    CaseEscalated(
                        event_id=escalation_event_id(row.case_id, row.name, index),
                        case_id=row.case_id,
                        occurred_at=now,
                        channel=Channel(row.channel),
                        received_at=row.received_at,
                        unit_code=row.unit_code,
                        deadline=row.name,
                        step=step.step,
                        due_at=row.due_at,
                        notify=step.notify,
                    ),
                )
            )
    await enqueue(session, source=OUTBOX_SOURCE, events=events, clock=clock)
    return len(events)


async def apply_workflow(
    session: AsyncSession, events: Sequence[CaseEvent], *, clock: Clock, response_hours: float
) -> None:
    """People's steps that move clocks: an answer meets them; 不满意 at 回访 restarts the response clock."""
    for event in events:
        if not isinstance(event, CaseActed):
            continue
        if event.kind == "answered":
            await session.execute(
                update(DeadlineRow)
                .where(DeadlineRow.case_id == event.case_id, DeadlineRow.state.in_(("open", "overdue")))
                .values(state="met", next_step_at=None)
                .execution_options(synchronize_session=False)
            )
        elif event.kind == "visited" and event.verdict is Verdict.UNSATISFIED:
            restart = event.occurred_at
            due = restart + timedelta(hours=response_hours)
            await session.execute(
                update(DeadlineRow)
                .where(DeadlineRow.case_id == event.case_id, DeadlineRow.name == "respond")
                .values(state="open", step=0, starts_at=restart, due_at=due, next_step_at=next_step_at(restart, due, 0))
                .execution_options(synchronize_session=False)
            )
