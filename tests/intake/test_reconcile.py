"""The reconciler: the pure "what is stuck" rule, and a pass against a real database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from hotline.services.intake.reconcile import (
    MAX_REDRIVES,
    CaseProgress,
    Reconciler,
    due_for_redrive,
    stuck_reason,
)
from hotline.shared.clock import FixedClock
from hotline.shared.db import CaseRow, OutboxRow, TaskRow, transaction
from hotline.shared.events import CaseReceived, Channel
from hotline.shared.outbox import enqueue

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
GRACE = timedelta(minutes=2)


def progress(status: str, *, age: timedelta = timedelta(minutes=5), **fields: Any) -> CaseProgress:
    values: dict[str, Any] = {"topic": "城乡建设", "unit_code": "cgj", "has_task": True, **fields}
    return CaseProgress(case_id=uuid.uuid4(), status=status, updated_at=NOW - age, **values)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        (progress("received", topic=None, unit_code=None, has_task=False), "未分类"),
        (progress("received", received_pending=True), None),  # the outbox relay's job, not ours
        (progress("received", age=timedelta(seconds=119)), None),  # still within the grace period
        (progress("routed", has_task=True), "未启动时限"),
        (progress("tracked", topic=None, unit_code=None, has_task=False), "已跟踪但缺少类别、承办单位、任务"),
        (progress("tracked", has_task=False), "已跟踪但缺少任务"),
        (progress("overdue", unit_code=None), "已跟踪但缺少承办单位"),
        (progress("tracked"), None),
        (progress("classified", unit_code=None, has_task=False), None),  # 人工分拣 or 当场解释
        (progress("signed"), None),
    ],
)
def test_stuck_reason(case: CaseProgress, reason: str | None) -> None:
    assert stuck_reason(case, now=NOW, grace=GRACE) == reason


def test_a_case_is_redriven_a_grace_period_apart_and_a_bounded_number_of_times() -> None:
    assert due_for_redrive(0, None, now=NOW, grace=GRACE)
    assert not due_for_redrive(1, NOW - timedelta(minutes=1), now=NOW, grace=GRACE)
    assert due_for_redrive(1, NOW - GRACE, now=NOW, grace=GRACE)
    assert not due_for_redrive(MAX_REDRIVES, None, now=NOW, grace=GRACE)


async def add_case(sessions: Any, *, status: str, unit_code: str | None = None, task: bool = False) -> CaseReceived:
    event = CaseReceived(
        event_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        occurred_at=NOW,
        channel=Channel.HOTLINE,
        received_at=NOW,
        content="路灯坏了",
    )
    async with transaction(sessions) as session:
        session.add(
            CaseRow(
                id=event.case_id,
                query_code=uuid.uuid4().hex[:8],
                channel="hotline",
                received_at=NOW,
                created_at=NOW,
                updated_at=NOW,
                content="路灯坏了",
                status=status,
                topic="城乡建设" if unit_code else None,
                unit_code=unit_code,
                details={},
                needs_review=False,
            )
        )
        if task:
            session.add(
                TaskRow(
                    id=uuid.uuid4(),
                    case_id=event.case_id,
                    unit_code=unit_code or "cgj",
                    unit_name="县城管局",
                    co_units=[],
                    state="pending",
                    assigned_at=NOW,
                    attachments=[],
                    source_event_id=uuid.uuid4(),
                    updated_at=NOW,
                )
            )
        await enqueue(session, source="intake", events=[("case.v1.received", event)], clock=FixedClock(NOW))
        await session.execute(update(OutboxRow).values(published_at=NOW))  # the relay did its part
    return event


async def test_a_pass_republishes_stuck_cases_received_events_with_their_own_id(sessions: Any) -> None:
    clock = FixedClock(NOW)
    sent: list[tuple[str, str, bytes]] = []

    async def publish(subject: str, payload: bytes, message_id: str) -> None:
        sent.append((subject, message_id, payload))

    never_classified = await add_case(sessions, status="received")
    half_made = await add_case(sessions, status="tracked")
    await add_case(sessions, status="tracked", unit_code="cgj", task=True)  # complete
    reconciler = Reconciler(sessions=sessions, publish=publish, clock=clock, grace=GRACE, interval_s=30)

    # Within the grace period nothing is touched (the pipeline may simply be busy).
    assert await reconciler.run_once() == 0 and sent == []

    clock.advance(GRACE)
    assert await reconciler.run_once() == 2
    assert sorted(message_id for _, message_id, _ in sent) == sorted(
        [str(never_classified.event_id), str(half_made.event_id)]
    )
    assert {subject for subject, _, _ in sent} == {"case.v1.received"}
    assert CaseReceived.model_validate_json(sent[0][2]).case_id in {never_classified.case_id, half_made.case_id}
    report = reconciler.report()
    assert report["redriven"] == 2 and report["stuck_now"] == 2
    assert report["reasons"] == {"未分类": 1, "已跟踪但缺少类别、承办单位、任务": 1}

    # Not again before another grace period; then again, up to MAX_REDRIVES times, then reported.
    assert await reconciler.run_once() == 0
    for _ in range(MAX_REDRIVES - 1):
        clock.advance(GRACE)
        assert await reconciler.run_once() == 2
    clock.advance(GRACE)
    assert await reconciler.run_once() == 0
    assert reconciler.report()["gave_up"] == 2
    assert len(sent) == 2 * MAX_REDRIVES
