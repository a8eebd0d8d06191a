"""The feed projection: idempotent and forward-only, on a real database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from hotline.services.feed.projection import project
from hotline.shared.db import CaseEventRow, CaseRow, TaskRow, transaction
from hotline.shared.events import CaseClassified, CaseRouted, Channel, DecidedBy, Severity

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


async def make_case(sessions: Any, **fields: Any) -> uuid.UUID:
    case_id = uuid.uuid4()
    async with transaction(sessions) as session:
        session.add(
            CaseRow(
                id=case_id,
                query_code=uuid.uuid4().hex[:8],
                channel="hotline",
                received_at=NOW,
                created_at=NOW,
                updated_at=NOW,
                content="路灯坏了",
                details={},
                needs_review=False,
                **{"status": "received", **fields},
            )
        )
    return case_id


def classified(case_id: uuid.UUID) -> CaseClassified:
    return CaseClassified(
        event_id=uuid.uuid4(),
        case_id=case_id,
        occurred_at=NOW,
        channel=Channel.HOTLINE,
        received_at=NOW,
        topic="城乡建设",
        severity=Severity.GENERAL,
        confidence=0.9,
        model_version="test",
    )


def routed(case_id: uuid.UUID) -> CaseRouted:
    return CaseRouted(
        event_id=uuid.uuid4(),
        case_id=case_id,
        occurred_at=NOW,
        channel=Channel.HOTLINE,
        received_at=NOW,
        topic="城乡建设",
        severity=Severity.GENERAL,
        unit_code="cgj",
        unit_name="县城管局",
        reason="test",
    )


async def test_redelivered_events_are_recorded_once(sessions: Any) -> None:
    case_id = await make_case(sessions)
    event = classified(case_id)
    for _ in range(3):
        async with transaction(sessions) as session:
            await project(session, [event], now=NOW)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CaseEventRow)) == 1


async def test_state_only_moves_forward_whatever_the_arrival_order(sessions: Any) -> None:
    case_id = await make_case(sessions)
    async with transaction(sessions) as session:
        await project(session, [routed(case_id)], now=NOW)
    async with transaction(sessions) as session:
        await project(session, [classified(case_id)], now=NOW)
    async with sessions() as session:
        case = await session.get(CaseRow, case_id)
    assert case is not None
    assert (case.status, case.unit_name, case.severity) == ("routed", "县城管局", "一般")


async def _tasks(sessions: Any, case_id: uuid.UUID) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = (await session.execute(select(TaskRow).where(TaskRow.case_id == case_id))).scalars().all()
    return sorted((row.unit_code, row.state) for row in rows)


def by_person(case_id: uuid.UUID, unit: str, at: datetime) -> CaseRouted:
    return routed(case_id).model_copy(
        update={
            "event_id": uuid.uuid4(),
            "unit_code": unit,
            "unit_name": unit,
            "occurred_at": at,
            "decided_by": DecidedBy.PERSON,
        }
    )


async def test_a_late_automatic_routing_never_replaces_a_persons(sessions: Any) -> None:
    """The reported sequence: a dispatcher sends the case to 教育局, then the table's routing of the same
    case (城管局) arrives; the case stays with 教育局 with one pending task."""
    case_id = await make_case(sessions)
    async with transaction(sessions) as session:
        await project(session, [by_person(case_id, "jyj", NOW)], now=NOW)
    late = routed(case_id).model_copy(update={"occurred_at": NOW + timedelta(seconds=1)})
    async with transaction(sessions) as session:
        await project(session, [late], now=NOW)
    assert await _tasks(sessions, case_id) == [("jyj", "pending")]
    async with sessions() as session:
        case = await session.get(CaseRow, case_id)
    assert case is not None and case.unit_code == "jyj"


async def test_a_redispatch_leaves_one_open_task(sessions: Any) -> None:
    case_id = await make_case(sessions)
    first, second = by_person(case_id, "cgj", NOW), by_person(case_id, "jyj", NOW + timedelta(minutes=5))
    # Out of order on purpose: the later assignment wins, not the last one projected.
    async with transaction(sessions) as session:
        await project(session, [second], now=NOW)
    async with transaction(sessions) as session:
        await project(session, [first], now=NOW)
    assert await _tasks(sessions, case_id) == [("cgj", "reassigned"), ("jyj", "pending")]


async def test_each_co_unit_gets_its_own_task(sessions: Any) -> None:
    case_id = await make_case(sessions)
    event = routed(case_id).model_copy(update={"co_units": ["town-chengxiang", "cgj"]})
    for _ in range(2):  # redelivered: still one task each
        async with transaction(sessions) as session:
            await project(session, [event], now=NOW)
    async with sessions() as session:
        rows = (await session.execute(select(TaskRow).where(TaskRow.case_id == case_id))).scalars().all()
    assert sorted((r.unit_code, r.role, r.state) for r in rows) == [
        ("cgj", "lead", "pending"),
        ("town-chengxiang", "co", "pending"),
    ]
    assert next(r.unit_name for r in rows if r.role == "co") != "town-chengxiang"  # the unit's name, not its code


ON_SPOT = {"status": "answered", "outcome": "answered_on_spot", "answered_at": NOW}


async def _status(sessions: Any, case_id: uuid.UUID) -> tuple[str, datetime | None, str | None]:
    async with sessions() as session:
        case = await session.get(CaseRow, case_id)
    assert case is not None
    return case.status, case.answered_at, case.unit_code


async def test_an_urgent_call_answered_on_the_spot_is_opened_again_when_routed(sessions: Any) -> None:
    case_id = await make_case(sessions, **ON_SPOT)
    async with transaction(sessions) as session:
        await project(session, [routed(case_id).model_copy(update={"urgent": True})], now=NOW)
    assert await _status(sessions, case_id) == ("routed", None, "cgj")


async def test_a_call_answered_on_the_spot_and_not_urgent_stays_answered(sessions: Any) -> None:
    case_id = await make_case(sessions, **ON_SPOT)
    async with transaction(sessions) as session:
        await project(session, [routed(case_id)], now=NOW)
    status, answered_at, _ = await _status(sessions, case_id)
    assert (status, answered_at is not None) == ("answered", True)


async def test_a_units_answer_to_an_urgent_case_is_not_undone_by_a_late_routing(sessions: Any) -> None:
    later = NOW + timedelta(hours=1)
    case_id = await make_case(sessions, **{**ON_SPOT, "answered_at": later, "urgent": True})
    async with transaction(sessions) as session:
        await project(session, [routed(case_id).model_copy(update={"urgent": True})], now=NOW)
    assert (await _status(sessions, case_id))[0] == "answered"
