"""Clocks and escalation against a real database (SQLite, and PostgreSQL when reachable)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from hotline.services.escalation.tracking import start_clocks, take_due_steps
from hotline.shared.clock import FixedClock
from hotline.shared.db import DeadlineRow, OutboxRow, transaction
from hotline.shared.events import CaseEscalated, CaseRouted, Channel, Severity

RECEIVED = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def routed(severity: Severity = Severity.GENERAL, channel: Channel = Channel.HOTLINE) -> CaseRouted:
    return CaseRouted(
        event_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        occurred_at=RECEIVED,
        channel=channel,
        received_at=RECEIVED,
        topic="城乡建设",
        severity=severity,
        unit_code="zjj",
        unit_name="县住建局",
        reason="test",
    )


async def outbox_subjects(sessions: Any) -> list[str]:
    async with sessions() as session:
        return list((await session.execute(select(OutboxRow.subject).order_by(OutboxRow.id))).scalars())


async def test_a_redelivered_routed_event_starts_its_clock_once(sessions: Any) -> None:
    clock = FixedClock(RECEIVED)
    case = routed()
    for _ in range(3):
        async with transaction(sessions) as session:
            await start_clocks(session, [case], clock=clock, response_hours=48)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DeadlineRow)) == 1
    assert await outbox_subjects(sessions) == ["case.v1.tracked"]


async def test_each_ladder_step_is_emitted_exactly_once(sessions: Any) -> None:
    clock = FixedClock(RECEIVED)
    case = routed()
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=clock, response_hours=48)

    emitted = []
    for hours in (10, 36, 36, 44, 47, 48, 60, 100):
        clock._now = RECEIVED + timedelta(hours=hours)
        async with transaction(sessions) as session:
            emitted.append(await take_due_steps(session, clock=clock))
    assert emitted == [0, 1, 0, 1, 0, 1, 0, 0]

    async with sessions() as session:
        payloads = (
            await session.execute(select(OutboxRow.payload).where(OutboxRow.subject == "case.v1.escalated"))
        ).scalars()
        steps = [CaseEscalated.model_validate_json(p).step.value for p in payloads]
        deadline = await session.get(DeadlineRow, (case.case_id, "respond"))
    assert steps == ["提醒", "催办", "超期"]
    assert deadline is not None and deadline.state == "overdue" and deadline.next_step_at is None


async def test_a_scan_after_downtime_catches_up_every_missed_step(sessions: Any) -> None:
    clock = FixedClock(RECEIVED)
    async with transaction(sessions) as session:
        await start_clocks(session, [routed(), routed()], clock=clock, response_hours=48)
    clock.advance(timedelta(days=5))
    async with transaction(sessions) as session:
        assert await take_due_steps(session, clock=clock) == 6
    async with transaction(sessions) as session:
        assert await take_due_steps(session, clock=clock) == 0
