"""The due moment on the case row (`cases.answer_due_at`, what the statistics count 超期 by) follows
every change the escalation service makes to a case's clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from hotline.services.escalation.tracking import (
    ClockRules,
    apply_workflow,
    recompute_provisional,
    start_clocks,
)
from hotline.shared.calendar_table import calendar_in_force
from hotline.shared.clock import FixedClock
from hotline.shared.db import CalendarTableRow, CaseRow, DeadlineRow, transaction
from hotline.shared.events import CaseRouted, Channel, Verdict
from tests.escalation.test_tracking import RECEIVED, RULES, acted, routed


async def logged(sessions: Any, channel: Channel, received: datetime = RECEIVED) -> CaseRouted:
    """A case as intake stores it, routed to 县住建局."""
    case = routed(channel=channel).model_copy(update={"received_at": received, "occurred_at": received})
    async with transaction(sessions) as session:
        await session.execute(
            insert(CaseRow).values(
                id=case.case_id,
                query_code=case.case_id.hex[:12],
                channel=channel.value,
                received_at=received,
                created_at=received,
                updated_at=received,
                content="小区门口道路破损多日无人修",
                status="received",
            )
        )
    return case


async def due_on_row_and_clocks(sessions: Any, case: CaseRouted) -> tuple[datetime | None, dict[str, datetime]]:
    async with sessions() as session:
        on_row = await session.scalar(select(CaseRow.answer_due_at).where(CaseRow.id == case.case_id))
        clocks = (
            await session.execute(
                select(DeadlineRow.name, DeadlineRow.due_at).where(DeadlineRow.case_id == case.case_id)
            )
        ).all()
    return on_row, {name: due for name, due in clocks}


async def step(sessions: Any, case: CaseRouted, kind: str, at: datetime, **fields: Any) -> None:
    async with transaction(sessions) as session:
        await apply_workflow(session, [acted(case, kind, at, **fields)], rules=RULES, clock=FixedClock(at))


async def test_a_hotline_case_is_due_by_its_response_clock_through_pause_and_a_reopening(sessions: Any) -> None:
    case = await logged(sessions, Channel.HOTLINE)
    assert (await due_on_row_and_clocks(sessions, case))[0] is None  # no clock yet
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=FixedClock(RECEIVED), rules=RULES)
    on_row, clocks = await due_on_row_and_clocks(sessions, case)
    assert on_row == clocks["respond"] == RECEIVED + timedelta(hours=48)

    await step(sessions, case, "paused", RECEIVED + timedelta(hours=10))
    await step(sessions, case, "resumed", RECEIVED + timedelta(hours=34))
    on_row, clocks = await due_on_row_and_clocks(sessions, case)
    assert on_row == clocks["respond"] == RECEIVED + timedelta(hours=72)  # moved on by the 24-hour pause

    answered = RECEIVED + timedelta(hours=40)
    await step(sessions, case, "answered", answered)
    revisited = RECEIVED + timedelta(days=4)
    await step(sessions, case, "visited", revisited, verdict=Verdict.UNSATISFIED)  # 发回重办: a new 48 hours
    on_row, clocks = await due_on_row_and_clocks(sessions, case)
    assert on_row == clocks["respond"] == revisited + timedelta(hours=48)


async def test_a_petition_is_due_by_its_finishing_clock_and_an_extension_moves_it(sessions: Any) -> None:
    case = await logged(sessions, Channel.PETITION)
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=FixedClock(RECEIVED), rules=RULES)
    on_row, clocks = await due_on_row_and_clocks(sessions, case)
    assert "respond" not in clocks and on_row == clocks["finish"]
    before = on_row
    await step(sessions, case, "extension_decided", RECEIVED + timedelta(days=10), approved=True, extension_days=30)
    on_row, clocks = await due_on_row_and_clocks(sessions, case)
    assert on_row == clocks["finish"] and before is not None and on_row > before


async def test_a_provisional_clock_made_firm_moves_the_due_moment_too(sessions: Any) -> None:
    late_november = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 60 days on reaches 2027, a year not yet known
    case = await logged(sessions, Channel.PETITION, received=late_november)
    async with sessions() as session:
        rules = ClockRules(RULES.policies, await calendar_in_force(session))
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=FixedClock(late_november), rules=rules)
    provisional, _ = await due_on_row_and_clocks(sessions, case)
    async with transaction(sessions) as session:
        # The State Council's arrangement for 2027, entered by an admin: 27 January a rest day.
        content = {"covered_years": [2027], "overrides": {"2027-01-27": False}}
        session.add(CalendarTableRow(content=content, created_by="admin", created_at=RECEIVED))
    async with sessions() as session:
        rules = ClockRules(RULES.policies, await calendar_in_force(session))
    async with transaction(sessions) as session:
        assert await recompute_provisional(session, rules) == 1
    on_row, clocks = await due_on_row_and_clocks(sessions, case)
    assert on_row == clocks["finish"] == datetime(2027, 1, 28, 16, 0, tzinfo=UTC)
    assert provisional == datetime(2027, 1, 27, 16, 0, tzinfo=UTC)
