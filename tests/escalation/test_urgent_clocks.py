"""紧急诉求: minute-level clocks from clocks.toml, and the immediate notice when such a case is tracked."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hotline.services.escalation.policies import compute_deadlines, load_policies, parse_policies
from hotline.services.escalation.rules import steps_due
from hotline.services.escalation.tracking import load_clock_rules, start_clocks, take_due_steps
from hotline.shared import subjects
from hotline.shared.clock import FixedClock
from hotline.shared.db import DeadlineRow, OutboxRow, transaction
from hotline.shared.domain.calendar import default_calendar
from hotline.shared.events import CaseRouted, CaseUrgent, Channel, EmergencyLine, EscalationStep, Severity

RECEIVED = datetime(2026, 5, 12, 1, 0, tzinfo=UTC)  # a Tuesday; a 60-日 petition clock stays in 2026
POLICIES = load_policies()
CAL = default_calendar()


def due(channel: Channel, *, urgent: bool, severity: Severity = Severity.GENERAL) -> dict[str, timedelta]:
    computed = compute_deadlines(
        channel=channel.value,
        severity=severity.value,
        received_at=RECEIVED,
        policies=POLICIES,
        calendar=CAL,
        urgent=urgent,
    )
    return {d.name: d.due_at - RECEIVED for d in computed}


def test_an_urgent_hotline_case_must_be_signed_in_10_minutes_and_answered_first_in_an_hour() -> None:
    urgent = due(Channel.HOTLINE, urgent=True)
    assert urgent["sign"] == timedelta(minutes=10)
    assert urgent["respond"] == timedelta(hours=1)
    plain = due(Channel.HOTLINE, urgent=False)
    assert plain["sign"] == timedelta(hours=2) and plain["respond"] == timedelta(hours=48)
    assert urgent["finish"] == plain["finish"]  # 办结 keeps its working days


@pytest.mark.parametrize("channel", [Channel.PETITION, Channel.MEDIA])
def test_urgent_petitions_and_mentions_get_the_minute_clocks_beside_their_own(channel: Channel) -> None:
    urgent, plain = due(channel, urgent=True), due(channel, urgent=False)
    assert urgent["sign"] == timedelta(minutes=10) and urgent["respond"] == timedelta(hours=1)
    assert set(plain) < set(urgent)
    assert "sign" not in plain


def test_the_urgent_clocks_name_the_linkage_rule_as_their_source() -> None:
    sources = [r.policy.source for r in POLICIES.rules if r.urgent and r.policy.name in ("sign", "respond")]
    assert len(sources) == 6 and all("国办发〔2022〕12号" in s for s in sources)


GENERAL = {"name": "respond", "label": "48小时", "amount": 48, "unit": "hours", "source": "x"}


def test_the_urgent_numbers_are_configuration() -> None:
    policies = parse_policies(
        {
            "clock": [
                {**GENERAL, "channel": "hotline"},
                {**GENERAL, "channel": "media"},
                {
                    "channel": "hotline",
                    "name": "respond",
                    "urgent": True,
                    "label": "30分钟",
                    "amount": 30,
                    "unit": "minutes",
                    "source": "本地联动规定",
                },
            ]
        }
    )
    [policy] = policies.clocks_for(channel="hotline", severity="一般", urgent=True)
    assert (policy.amount, policy.unit) == (30, "minutes")
    [policy] = policies.clocks_for(channel="hotline", severity="一般")
    assert (policy.amount, policy.unit) == (48, "hours")


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"urgent": "yes"}, "urgent must be true or false"),
        ({"unit": "minutes", "amount": 0}, "amount must be a positive number"),
    ],
)
def test_bad_urgent_entries_are_refused(entry: dict[str, Any], problem: str) -> None:
    base = {"channel": "hotline", "name": "respond", "label": "x", "amount": 1, "unit": "hours", "source": "x"}
    with pytest.raises(ValueError, match=problem):
        parse_policies({"clock": [{**base, **entry}]})


def test_the_ladder_of_an_urgent_sign_clock_fires_within_minutes() -> None:
    start, end = RECEIVED, RECEIVED + timedelta(minutes=10)
    steps = steps_due(starts_at=start, due_at=end, taken=0, now=RECEIVED + timedelta(minutes=9, seconds=1))
    assert [s.step for _, s in steps] == [EscalationStep.REMIND, EscalationStep.URGE]


def routed(*, urgent: bool) -> CaseRouted:
    return CaseRouted(
        event_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        occurred_at=RECEIVED,
        channel=Channel.HOTLINE,
        received_at=RECEIVED,
        topic="卫生计生",
        severity=Severity.MAJOR,
        unit_code="wjj",
        unit_name="县卫健局",
        reason="test",
        urgent=urgent,
        urgent_lines=[EmergencyLine.AMBULANCE, EmergencyLine.POLICE] if urgent else [],
    )


async def outbox(sessions: Any) -> list[tuple[str, str]]:
    async with sessions() as session:
        return [(r.subject, r.payload) for r in (await session.execute(select(OutboxRow))).scalars()]


async def test_a_tracked_urgent_case_tells_the_feed_leadership_and_the_unit_once(sessions: Any) -> None:
    case = routed(urgent=True)
    clock = FixedClock(RECEIVED + timedelta(seconds=1))
    for _ in range(2):  # redelivered: nothing new
        async with transaction(sessions) as session:
            await start_clocks(session, [case], clock=clock, rules=load_clock_rules())
    redispatched = case.model_copy(update={"event_id": uuid.uuid4(), "unit_code": "gaj", "unit_name": "县公安局"})
    async with transaction(sessions) as session:
        await start_clocks(session, [redispatched], clock=clock, rules=load_clock_rules())

    messages = await outbox(sessions)
    urgent = [(s, CaseUrgent.model_validate_json(p)) for s, p in messages if '"kind":"urgent"' in p]
    # The feed and leadership once; each unit that gets the case (here re-dispatched to 公安局) once.
    assert sorted(s for s, _ in urgent) == sorted(
        [
            subjects.CASE_URGENT,
            subjects.NOTIFY_URGENT,
            subjects.notify_unit_subject("wjj"),
            subjects.notify_unit_subject("gaj"),
        ]
    )
    notice = urgent[0][1]
    assert notice.urgent_lines == [EmergencyLine.AMBULANCE, EmergencyLine.POLICE]
    assert notice.sign_due_at == RECEIVED + timedelta(minutes=10)
    assert notice.respond_due_at == RECEIVED + timedelta(hours=1)
    assert len({e.event_id for _, e in urgent}) == 4

    async with sessions() as session:
        rows = {r.name: r for r in (await session.execute(select(DeadlineRow))).scalars()}
    assert rows["sign"].unit_of_time == "minutes" and rows["sign"].due_at == RECEIVED + timedelta(minutes=10)

    # 8 minutes on, the 10-minute 签收 clock has passed its 75 % 提醒.
    async with transaction(sessions) as session:
        assert await take_due_steps(session, clock=FixedClock(RECEIVED + timedelta(minutes=8))) == 1


async def test_an_ordinary_case_sends_no_urgent_notice(sessions: Any) -> None:
    async with transaction(sessions) as session:
        await start_clocks(session, [routed(urgent=False)], clock=FixedClock(RECEIVED), rules=load_clock_rules())
    assert not [s for s, _ in await outbox(sessions) if s in (subjects.CASE_URGENT, subjects.NOTIFY_URGENT)]
