"""Clocks and escalation against a real database (SQLite, and PostgreSQL when reachable)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from hotline.services.escalation.tracking import (
    anything_due,
    apply_workflow,
    load_clock_rules,
    start_clocks,
    take_due_steps,
)
from hotline.shared.clock import FixedClock
from hotline.shared.db import DeadlineRow, OutboxRow, transaction
from hotline.shared.events import CaseActed, CaseEscalated, CaseRouted, Channel, Severity

RECEIVED = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # a Tuesday, 09:00 Beijing time
RULES = load_clock_rules()


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


def acted(case: CaseRouted, kind: str, at: datetime, **fields: Any) -> CaseActed:
    return CaseActed(
        event_id=uuid.uuid4(),
        case_id=case.case_id,
        occurred_at=at,
        channel=case.channel,
        received_at=case.received_at,
        kind=kind,  # type: ignore[arg-type]
        task_id=uuid.uuid4(),
        unit_code=case.unit_code,
        actor="staff",
        actor_role="unit",
        **fields,
    )


async def clocks(sessions: Any, case: CaseRouted) -> dict[str, DeadlineRow]:
    async with sessions() as session:
        rows = (await session.execute(select(DeadlineRow).where(DeadlineRow.case_id == case.case_id))).scalars()
        return {row.name: row for row in rows}


async def escalations(sessions: Any, deadline: str) -> list[str]:
    async with sessions() as session:
        payloads = (
            await session.execute(select(OutboxRow.payload).where(OutboxRow.subject == "case.v1.escalated"))
        ).scalars()
        events = [CaseEscalated.model_validate_json(p) for p in payloads]
    return [e.step.value for e in events if e.deadline == deadline]


async def test_a_hotline_transfer_runs_sign_respond_and_finish_clocks(sessions: Any) -> None:
    case = routed()
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=FixedClock(RECEIVED), rules=RULES)
    rows = await clocks(sessions, case)
    assert rows["sign"].due_at - RECEIVED == timedelta(hours=2)
    assert rows["respond"].due_at - RECEIVED == timedelta(hours=48)
    # 5 working days from Tuesday 2026-11-24, the start day not counted: ends 24:00 Tuesday 2026-12-01.
    assert rows["finish"].due_at == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    assert rows["finish"].unit_of_time == "workdays"


async def test_a_redelivered_routed_event_starts_its_clocks_once(sessions: Any) -> None:
    case = routed()
    for _ in range(3):
        async with transaction(sessions) as session:
            await start_clocks(session, [case], clock=FixedClock(RECEIVED), rules=RULES)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DeadlineRow)) == 3
        tracked = await session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.subject == "case.v1.tracked")
        )
    assert tracked == 1


async def test_each_ladder_step_is_emitted_exactly_once(sessions: Any) -> None:
    clock = FixedClock(RECEIVED)
    case = routed(channel=Channel.MEDIA)
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=clock, rules=RULES)
    emitted = []
    for hours in (10, 36, 36, 44, 47, 48, 60, 100):
        clock._now = RECEIVED + timedelta(hours=hours)
        async with transaction(sessions) as session:
            emitted.append(await take_due_steps(session, clock=clock))
    assert emitted == [0, 1, 0, 1, 0, 1, 0, 0]
    assert await escalations(sessions, "respond") == ["提醒", "催办", "超期"]
    async with sessions() as session:
        addressed = (
            await session.execute(select(OutboxRow.subject).where(OutboxRow.subject.like("notify.%")))
        ).scalars()
        assert sorted(addressed) == ["notify.v1.leadership"] + ["notify.v1.unit.zjj"] * 3
    respond = (await clocks(sessions, case))["respond"]
    assert respond.state == "overdue" and respond.next_step_at is None


async def test_a_scan_looks_for_due_steps_before_it_takes_a_write_turn(sessions: Any) -> None:
    clock = FixedClock(RECEIVED)
    async with sessions() as session:
        assert not await anything_due(session, clock=clock)  # no clocks at all
    async with transaction(sessions) as session:
        await start_clocks(session, [routed(channel=Channel.MEDIA)], clock=clock, rules=RULES)
    clock.advance(timedelta(hours=35))  # the 48-hour clock's first step (75 %) is at 36 hours
    async with sessions() as session:
        assert not await anything_due(session, clock=clock)
    clock.advance(timedelta(hours=1))
    async with sessions() as session:
        assert await anything_due(session, clock=clock)
    async with transaction(sessions) as session:
        assert await take_due_steps(session, clock=clock) == 1
    async with sessions() as session:
        assert not await anything_due(session, clock=clock)  # taken: the next is at 90 %


async def test_a_scan_after_downtime_catches_up_every_missed_step(sessions: Any) -> None:
    clock = FixedClock(RECEIVED)
    async with transaction(sessions) as session:
        await start_clocks(
            session, [routed(channel=Channel.MEDIA), routed(channel=Channel.MEDIA)], clock=clock, rules=RULES
        )
    clock.advance(timedelta(days=5))
    async with transaction(sessions) as session:
        assert await take_due_steps(session, clock=clock) == 6
    async with transaction(sessions) as session:
        assert await take_due_steps(session, clock=clock) == 0


async def test_signing_and_answering_meet_their_clocks(sessions: Any) -> None:
    case = routed()
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=FixedClock(RECEIVED), rules=RULES)
        await apply_workflow(
            session, [acted(case, "signed", RECEIVED + timedelta(hours=1))], rules=RULES, clock=FixedClock(RECEIVED)
        )
    states = {name: row.state for name, row in (await clocks(sessions, case)).items()}
    assert states == {"sign": "met", "respond": "open", "finish": "open"}
    async with transaction(sessions) as session:
        await apply_workflow(
            session, [acted(case, "answered", RECEIVED + timedelta(hours=20))], rules=RULES, clock=FixedClock(RECEIVED)
        )
    states = {name: row.state for name, row in (await clocks(sessions, case)).items()}
    assert states == {"sign": "met", "respond": "met", "finish": "open"}


async def test_a_pause_stops_the_clock_and_moves_it_on_by_its_length(sessions: Any) -> None:
    clock = FixedClock(RECEIVED)
    case = routed(channel=Channel.MEDIA)
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=clock, rules=RULES)
        await apply_workflow(
            session,
            [acted(case, "paused", RECEIVED + timedelta(hours=10), note="等待群众补充材料")],
            rules=RULES,
            clock=clock,
        )
    clock._now = RECEIVED + timedelta(hours=100)
    async with transaction(sessions) as session:
        assert await take_due_steps(session, clock=clock) == 0  # paused: nothing escalates
        await apply_workflow(
            session, [acted(case, "resumed", RECEIVED + timedelta(hours=34))], rules=RULES, clock=FixedClock(RECEIVED)
        )
    respond = (await clocks(sessions, case))["respond"]
    assert respond.paused_seconds == 24 * 3600 and respond.paused_at is None
    assert respond.due_at - RECEIVED == timedelta(hours=72)


async def test_an_approved_extension_moves_the_finishing_clock(sessions: Any) -> None:
    case = routed()
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=FixedClock(RECEIVED), rules=RULES)
    before = (await clocks(sessions, case))["finish"].due_at
    async with transaction(sessions) as session:
        await apply_workflow(
            session,
            [acted(case, "extension_decided", RECEIVED + timedelta(days=2), approved=True, extension_days=5)],
            rules=RULES,
            clock=FixedClock(RECEIVED),
        )
    finish = (await clocks(sessions, case))["finish"]
    assert finish.due_at == before + timedelta(days=7)  # five working days: one weekend in between
    assert finish.extended_by is not None


async def test_two_scanners_racing_never_emit_a_step_twice(database_url: str) -> None:
    """Two escalation instances (two engines, as two processes would have) scan the same due clocks."""
    import asyncio

    from hotline.shared.db import create_engine, session_factory

    engines = [create_engine(database_url) for _ in range(2)]
    factories = [session_factory(engine) for engine in engines]
    clock = FixedClock(RECEIVED)
    cases = [routed(channel=Channel.MEDIA) for _ in range(40)]
    async with transaction(factories[0]) as session:
        await start_clocks(session, cases, clock=clock, rules=RULES)
    clock.advance(timedelta(days=3))

    async def scan(factory: Any) -> int:
        total = 0
        for _ in range(5):
            async with transaction(factory) as session:
                total += await take_due_steps(session, clock=clock, limit=15)
        return total

    try:
        emitted = await asyncio.gather(scan(factories[0]), scan(factories[1]))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(emitted) == 40 * 3  # every step of every respond clock, once
    assert len(await escalations(factories[0], "respond")) == 40 * 3


async def _rules(sessions: Any) -> Any:
    from hotline.services.escalation.tracking import ClockRules
    from hotline.shared.calendar_table import calendar_in_force

    async with sessions() as session:
        return ClockRules(RULES.policies, await calendar_in_force(session))


async def _save_calendar(sessions: Any, content: dict[str, Any]) -> None:
    from hotline.shared.db import CalendarTableRow

    async with transaction(sessions) as session:
        session.add(CalendarTableRow(content=content, created_by="admin", created_at=RECEIVED))


async def test_a_clock_reaching_an_unknown_year_runs_provisionally_until_an_admin_enters_the_year(
    sessions: Any,
) -> None:
    from hotline.services.escalation.tracking import recompute_provisional

    late_december = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)  # 5 working days later is in 2027
    case = routed().model_copy(update={"received_at": late_december, "occurred_at": late_december})
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=FixedClock(late_december), rules=await _rules(sessions))
    finish = (await clocks(sessions, case))["finish"]
    # Tue 29, Wed 30, Thu 31 Dec; Fri 1 Jan 元旦 (statutory); Mon 4, Tue 5 Jan → 24:00 Tue 5 Jan, 暂定.
    assert finish.provisional and finish.due_at == datetime(2027, 1, 5, 16, 0, tzinfo=UTC)
    assert not (await clocks(sessions, case))["respond"].provisional
    async with sessions() as session:
        alerts = (
            await session.execute(select(OutboxRow.payload).where(OutboxRow.subject == "case.v1.alert"))
        ).scalars()
        messages = [json.loads(alert)["message"] for alert in alerts]
    assert len(messages) == 1 and "暂定" in messages[0] and "2027年" in messages[0]
    assert not re.search(r"[A-Za-z]{3,}", messages[0])  # all Chinese

    # The State Council's arrangement, entered by an admin (here with 4 January as a rest day).
    await _save_calendar(sessions, {"covered_years": [2027], "overrides": {"2027-01-01": False, "2027-01-04": False}})
    async with transaction(sessions) as session:
        assert await recompute_provisional(session, await _rules(sessions)) == 1
    finish = (await clocks(sessions, case))["finish"]
    assert not finish.provisional and finish.due_at == datetime(2027, 1, 6, 16, 0, tzinfo=UTC)


async def test_a_60_day_petition_clock_received_in_late_november_gets_a_provisional_due_date(sessions: Any) -> None:
    from hotline.services.escalation.tracking import recompute_provisional

    received = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # Saturday 10:00 Beijing
    case = routed(channel=Channel.PETITION).model_copy(update={"received_at": received, "occurred_at": received})
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=FixedClock(received), rules=await _rules(sessions))
    rows = await clocks(sessions, case)
    # 15 日: Sunday 13 December → Monday 14 December, firm; 60 日: Wednesday 27 January 2027, 暂定.
    assert not rows["accept"].provisional and rows["accept"].due_at == datetime(2026, 12, 14, 16, 0, tzinfo=UTC)
    assert rows["finish"].provisional and rows["finish"].due_at == datetime(2027, 1, 27, 16, 0, tzinfo=UTC)
    async with transaction(sessions) as session:  # nothing known yet: stays provisional
        assert await recompute_provisional(session, await _rules(sessions)) == 0
    await _save_calendar(sessions, {"covered_years": [2027], "overrides": {"2027-01-27": False}})
    async with transaction(sessions) as session:
        assert await recompute_provisional(session, await _rules(sessions)) == 1
    finish = (await clocks(sessions, case))["finish"]
    assert not finish.provisional and finish.due_at == datetime(2027, 1, 28, 16, 0, tzinfo=UTC)


async def test_a_case_bouncing_three_times_becomes_a_problem_ticket_once(sessions: Any) -> None:
    from hotline.shared.events import Verdict

    clock = FixedClock(RECEIVED)
    case = routed()
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=clock, rules=RULES)
    steps = [
        acted(case, "returned", RECEIVED + timedelta(hours=1), note="不属于本单位"),
        acted(case, "visited", RECEIVED + timedelta(days=1), verdict=Verdict.UNSATISFIED),
        acted(case, "visited", RECEIVED + timedelta(days=2), verdict=Verdict.UNSATISFIED),
        acted(case, "visited", RECEIVED + timedelta(days=3), verdict=Verdict.UNSATISFIED),
    ]
    for step in [*steps, steps[1]]:  # the last one is a redelivery: counted once
        async with transaction(sessions) as session:
            await apply_workflow(session, [step], rules=RULES, clock=clock)
    async with sessions() as session:
        payloads = (
            await session.execute(select(OutboxRow.payload).where(OutboxRow.subject == "case.v1.escalated"))
        ).scalars()
        problems = [e for e in map(CaseEscalated.model_validate_json, payloads) if e.step.value == "问题工单"]
    assert len(problems) == 1 and "退回1次、重办2次" in problems[0].notify


async def test_co_units_get_their_own_clock_met_by_their_own_answer(sessions: Any) -> None:
    case = routed().model_copy(update={"co_units": ["cgj", "zjj"]})  # zjj leads: no copy for it
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=FixedClock(RECEIVED), rules=RULES)
    rows = await clocks(sessions, case)
    assert set(rows) == {"sign", "respond", "finish", "respond@cgj"}
    co = rows["respond@cgj"]
    assert (co.unit_code, co.due_at, co.label) == ("cgj", rows["respond"].due_at, "协办：48小时内答复")

    lead_answer = acted(case, "answered", RECEIVED + timedelta(hours=1))
    async with transaction(sessions) as session:
        await apply_workflow(session, [lead_answer], rules=RULES, clock=FixedClock(RECEIVED))
    rows = await clocks(sessions, case)
    assert rows["respond"].state == "met" and rows["respond@cgj"].state == "open"

    # Nobody at 城管局 answered: the ladder reminds 城管局 itself.
    late = FixedClock(RECEIVED + timedelta(hours=37))
    async with transaction(sessions) as session:
        await take_due_steps(session, clock=late)
    async with sessions() as session:
        subjects_sent = set((await session.execute(select(OutboxRow.subject))).scalars())
    assert "notify.v1.unit.cgj" in subjects_sent

    co_answer = acted(case, "answered", RECEIVED + timedelta(hours=38)).model_copy(update={"unit_code": "cgj"})
    async with transaction(sessions) as session:
        await apply_workflow(session, [co_answer], rules=RULES, clock=late)
    rows = await clocks(sessions, case)
    assert rows["respond@cgj"].state == "met" and rows["finish"].state == "open"  # the lead's clock untouched


async def test_an_extension_is_granted_as_often_as_the_policy_allows(sessions: Any) -> None:
    case = routed()
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=FixedClock(RECEIVED), rules=RULES)
    due_dates = [(await clocks(sessions, case))["finish"].due_at]
    for day in (1, 2):  # the hotline finish clock allows one extension (times = 1)
        decided = acted(case, "extension_decided", RECEIVED + timedelta(days=day), approved=True, extension_days=5)
        async with transaction(sessions) as session:
            await apply_workflow(session, [decided], rules=RULES, clock=FixedClock(RECEIVED))
        finish = (await clocks(sessions, case))["finish"]
        assert finish.extensions == 1
        due_dates.append(finish.due_at)
    assert due_dates[0] < due_dates[1] == due_dates[2]  # the second approval changed nothing
    once = due_dates[1]

    two_times = _with_extension_times(RULES, 2)
    decided = acted(case, "extension_decided", RECEIVED + timedelta(days=3), approved=True, extension_days=5)
    async with transaction(sessions) as session:
        await apply_workflow(session, [decided], rules=two_times, clock=FixedClock(RECEIVED))
    finish = (await clocks(sessions, case))["finish"]
    assert finish.extensions == 2 and finish.due_at > once


def _with_extension_times(rules: Any, times: int) -> Any:
    import dataclasses

    from hotline.services.escalation.policies import Policies

    changed = tuple(
        dataclasses.replace(
            rule,
            policy=dataclasses.replace(rule.policy, extension=dataclasses.replace(rule.policy.extension, times=times)),
        )
        if rule.policy.extension is not None
        else rule
        for rule in rules.policies.rules
    )
    return dataclasses.replace(rules, policies=Policies(changed))


async def test_a_clock_entry_for_a_topic_applies_to_cases_of_that_topic(sessions: Any) -> None:
    import dataclasses

    from hotline.services.escalation.policies import ClockRule, Policies

    finish = RULES.policies.clock(channel="hotline", name="finish")
    land = ClockRule(
        channel="hotline",
        policy=dataclasses.replace(finish, label="15个工作日内办结", amount=15),
        categories=frozenset({"国土资源"}),
    )
    rules = dataclasses.replace(RULES, policies=Policies((*RULES.policies.rules, land)))
    land_case = routed().model_copy(update={"topic": "国土资源"})
    other_case = routed()
    async with transaction(sessions) as session:
        await start_clocks(session, [land_case, other_case], clock=FixedClock(RECEIVED), rules=rules)
    assert (await clocks(sessions, land_case))["finish"].label == "15个工作日内办结"
    assert (await clocks(sessions, other_case))["finish"].label == "5个工作日内办结"


async def test_a_written_reply_opens_the_review_window_and_each_review_step_starts_the_next_clock(
    sessions: Any,
) -> None:
    case = routed(channel=Channel.PETITION)
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=FixedClock(RECEIVED), rules=RULES)
    replied = RECEIVED + timedelta(days=10)  # Friday 4 December 2026
    steps = [
        acted(case, "answered", replied),
        acted(case, "closed", replied + timedelta(days=1)),  # 办结 does not close the petitioner's window
    ]
    async with transaction(sessions) as session:
        await apply_workflow(session, steps, rules=RULES, clock=FixedClock(replied))
    rows = await clocks(sessions, case)
    window = rows["review_window"]
    # 30 日 from 4 December: Sunday 3 January 2027 → Monday 4 January (provisional: 2027 is unknown).
    assert (window.state, window.due_at, window.next_step_at) == ("open", datetime(2027, 1, 4, 16, tzinfo=UTC), None)
    assert window.provisional and rows["finish"].state == "met"

    requested = replied + timedelta(days=20)
    async with transaction(sessions) as session:
        await apply_workflow(
            session, [acted(case, "review_requested", requested)], rules=RULES, clock=FixedClock(requested)
        )
    rows = await clocks(sessions, case)
    assert rows["review_window"].state == "met" and rows["review"].state == "open"
    assert rows["review"].next_step_at is not None  # the organ's clock climbs the ladder

    opinion = requested + timedelta(days=25)
    async with transaction(sessions) as session:
        answer = acted(case, "review_answered", opinion)
        await apply_workflow(session, [answer], rules=RULES, clock=FixedClock(opinion))
    rows = await clocks(sessions, case)
    assert rows["review"].state == "met" and rows["recheck_window"].state == "open"


async def test_a_redispatch_releases_co_units_it_no_longer_names(sessions: Any) -> None:
    case = routed().model_copy(update={"co_units": ["cgj"]})
    async with transaction(sessions) as session:
        await start_clocks(session, [case], clock=FixedClock(RECEIVED), rules=RULES)
    again = case.model_copy(update={"event_id": uuid.uuid4(), "unit_code": "jyj", "co_units": ["scjgj"]})
    async with transaction(sessions) as session:
        await start_clocks(session, [again], clock=FixedClock(RECEIVED), rules=RULES)
    rows = await clocks(sessions, case)
    assert rows["respond@cgj"].state == "cancelled" and rows["respond@cgj"].next_step_at is None
    assert rows["respond@scjgj"].state == "open" and rows["respond"].unit_code == "jyj"
