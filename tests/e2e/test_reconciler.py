"""The reconciler with the real processes: a case whose received event never reached the pipeline
(as if it had been parked) is re-driven to the end by itself."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from hotline.shared.clock import FixedClock
from hotline.shared.db import CaseRow, OutboxRow, TaskRow, create_engine, session_factory, transaction
from hotline.shared.events import CaseReceived, Channel
from hotline.shared.outbox import enqueue
from tests.e2e.conftest import SystemFactory, client_for, wait_until

TEXT = "城厢镇经兜村村道旁的路灯坏了两个多月，晚上出行很不安全，请尽快维修。"


def plant_half_made_case(database_url: str) -> uuid.UUID:
    """A stored case and its received event, marked published, that no consumer ever saw."""

    async def run() -> uuid.UUID:
        now = datetime.now(UTC)
        event = CaseReceived(
            event_id=uuid.uuid4(),
            case_id=uuid.uuid4(),
            occurred_at=now,
            channel=Channel.HOTLINE,
            received_at=now,
            content=TEXT,
        )
        engine = create_engine(database_url)
        try:
            async with transaction(session_factory(engine)) as session:
                session.add(
                    CaseRow(
                        id=event.case_id,
                        query_code=uuid.uuid4().hex[:8].upper(),
                        channel="hotline",
                        received_at=now,
                        created_at=now,
                        updated_at=now,
                        content=TEXT,
                        outcome="transfer",
                        status="received",
                        details={},
                        needs_review=False,
                    )
                )
                await enqueue(session, source="intake", events=[("case.v1.received", event)], clock=FixedClock(now))
                await session.execute(OutboxRow.__table__.update().values(published_at=now))
        finally:
            await engine.dispose()
        return event.case_id

    return asyncio.run(run())


def tasks_of(database_url: str, case_id: uuid.UUID) -> int:
    async def run() -> int:
        engine = create_engine(database_url, writes=False)
        try:
            async with session_factory(engine)() as session:
                lead = select(func.count()).where(TaskRow.case_id == case_id, TaskRow.role == "lead")
                return int(await session.scalar(lead) or 0)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_a_case_stuck_received_is_redriven_to_tracked_with_unit_and_task(
    start_system: SystemFactory, database_url: str
) -> None:
    system = start_system(HOTLINE_RECONCILE_GRACE="1", HOTLINE_RECONCILE_EVERY="1")
    case_id = plant_half_made_case(database_url)
    with client_for(system) as client:
        case = wait_until(
            lambda: (c := client.get(f"/api/v1/cases/{case_id}").json())["status"] == "tracked" and c["unit"] and c,
            timeout_s=90,
            what="the stuck case to be re-driven to tracked",
        )
        assert case["topic"] and case["unit"]  # which class and unit is the routing's business, not this test's
        assert tasks_of(database_url, case_id) == 1
        reconciler = client.get("/api/v1/health").json()["checks"]["reconciler"]
        assert reconciler["redriven"] >= 1 and reconciler["reasons"].get("未分类", 0) >= 1
