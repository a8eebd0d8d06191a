"""Case rows written a batch at a time: the waves keep each case's changes in order, the grouping
shares statements, and a batch of many cases costs a few statements, not one per event."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select

from hotline.services.feed.case_updates import CaseUpdate, by_shape, waves
from hotline.services.feed.projection import project
from hotline.shared.db import CaseRow, transaction
from hotline.shared.events import CaseEscalated, CaseTracked, DeadlineInfo, DecidedBy, EscalationStep
from tests.feed.test_projection import NOW, by_person, classified, make_case, routed

A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def test_a_cases_later_changes_go_to_later_waves_in_the_order_they_came() -> None:
    first_a, first_b = CaseUpdate(A, {"topic": "x"}, "classified"), CaseUpdate(B, {"topic": "y"}, "classified")
    second_a, third_a = CaseUpdate(A, {"unit_code": "cgj"}, "routed"), CaseUpdate(A, {}, "tracked")
    first_c = CaseUpdate(C, {}, "tracked")
    assert waves([first_a, first_b, second_a, third_a, first_c]) == [
        [first_a, first_b, first_c],
        [second_a],
        [third_a],
    ]


def test_updates_of_the_same_shape_share_a_group_in_order_of_first_appearance() -> None:
    a = CaseUpdate(A, {"topic": "x", "severity": "一般"}, "classified")
    b = CaseUpdate(B, {"unit_code": "cgj"}, "routed")
    c = CaseUpdate(C, {"severity": "重大", "topic": "y"}, "classified")
    urgent = CaseUpdate(uuid.uuid4(), {"unit_code": "cgj"}, "routed", says_urgent=True)
    assert by_shape([a, b, c, urgent]) == [[a, c], [b], [urgent]]


def tracked(case_id: uuid.UUID) -> CaseTracked:
    return CaseTracked(
        event_id=uuid.uuid4(),
        case_id=case_id,
        occurred_at=NOW,
        channel=classified(case_id).channel,
        received_at=NOW,
        unit_code="cgj",
        deadlines=[DeadlineInfo(name="reply", label="答复", starts_at=NOW, due_at=NOW + timedelta(hours=48))],
    )


async def test_a_batch_of_many_cases_ends_in_the_same_state_with_a_few_statements(sessions: Any) -> None:
    cases = [await make_case(sessions) for _ in range(20)]
    overdue = cases[0]
    batch: list[Any] = [e for case_id in cases for e in (classified(case_id), routed(case_id), tracked(case_id))]
    batch.append(
        CaseEscalated(
            event_id=uuid.uuid4(),
            case_id=overdue,
            occurred_at=NOW,
            channel=classified(overdue).channel,
            received_at=NOW,
            unit_code="cgj",
            deadline="reply",
            step=EscalationStep.OVERDUE,
            due_at=NOW,
            notify="县政府办",
        )
    )
    statements: list[str] = []

    def count(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    async with transaction(sessions) as session:
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            await project(session, batch, now=NOW)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE CASES")]
    assert len(updates) == 4  # classified, routed, tracked, overdue: one statement each for 20 cases
    async with sessions() as session:
        rows = {row.id: row for row in (await session.execute(select(CaseRow))).scalars()}
    assert rows[overdue].status == "overdue"
    assert {(rows[c].status, rows[c].unit_code, rows[c].severity) for c in cases[1:]} == {("tracked", "cgj", "一般")}


async def test_a_case_routed_twice_in_one_batch_keeps_the_later_routing(sessions: Any) -> None:
    case_id = await make_case(sessions)
    first, second = by_person(case_id, "cgj", NOW), by_person(case_id, "jyj", NOW + timedelta(minutes=5))
    async with transaction(sessions) as session:
        await project(session, [first, second], now=NOW)
    async with sessions() as session:
        case = await session.get(CaseRow, case_id)
    assert case is not None and case.unit_code == "jyj" and second.decided_by is DecidedBy.PERSON
