"""Hostile input: events forged for a case the store does not know are dead-lettered with the
reason 案件不存在 and leave no task, clock, escalation or projection behind, while a real case
published in the same burst goes through."""

from __future__ import annotations

import asyncio
import uuid

import nats
from sqlalchemy import func, select

from hotline.bench import sample_received_events, store_cases
from hotline.chaos_nats import forged_routed
from hotline.shared import subjects
from hotline.shared.db import CaseEventRow, DeadlineRow, TaskRow, create_engine, session_factory
from hotline.shared.events import CaseEvent
from hotline.shared.messaging import MSG_ID_HEADER
from tests.e2e.conftest import SystemFactory, client_for, wait_until


async def publish(url: str, events: list[CaseEvent]) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    for event in events:
        subject = subjects.case_subject(str(getattr(event, "kind")))  # noqa: B009
        await js.publish(subject, event.model_dump_json().encode(), headers={MSG_ID_HEADER: str(event.event_id)})
    await nc.close()


def rows_for(database_url: str, case_ids: list[uuid.UUID]) -> dict[str, int]:
    async def run() -> dict[str, int]:
        engine = create_engine(database_url, writes=False)
        counts: dict[str, int] = {}
        async with session_factory(engine)() as session:
            for name, row in (("deadlines", DeadlineRow), ("tasks", TaskRow), ("events", CaseEventRow)):
                query = select(func.count()).select_from(row).where(row.case_id.in_(case_ids))
                counts[name] = await session.scalar(query) or 0
        await engine.dispose()
        return counts

    return asyncio.run(run())


def test_events_for_unknown_cases_are_dead_lettered_and_change_nothing(start_system: SystemFactory) -> None:
    system = start_system()
    url, database_url = system.env["NATS_URL"], system.env["DATABASE_URL"]
    known, forged_received = sample_received_events(2)
    routed = forged_routed()
    asyncio.run(store_cases(database_url, [known]))
    asyncio.run(publish(url, [forged_received, known, routed]))

    # The real case goes all the way to its clocks although forged events shared its batches.
    wait_until(lambda: rows_for(database_url, [known.case_id])["deadlines"] > 0, what="the known case's clocks")
    with client_for(system) as client:
        # received → feed; classified (the classifier reads no store) → router and feed; routed →
        # escalation and feed.
        letters = wait_until(
            lambda: len(items := client.get("/api/v1/dead-letters").json()["items"]) >= 5 and items,
            what="the dead letters",
        )
    assert all("案件不存在" in letter["error"] for letter in letters), [letter["error"] for letter in letters]
    assert {letter["consumer"] for letter in letters} == {"feed", "router", "escalation"}
    forged = [forged_received.case_id, routed.case_id]
    assert rows_for(database_url, forged) == {"deadlines": 0, "tasks": 0, "events": 0}

    async def escalations() -> int:
        nc = await nats.connect(url)
        info = await nc.jetstream().stream_info(subjects.CASES_STREAM, subjects_filter=subjects.CASE_ESCALATED)
        tracked = await nc.jetstream().stream_info(subjects.CASES_STREAM, subjects_filter=subjects.CASE_TRACKED)
        await nc.close()
        return sum((info.state.subjects or {}).values()) + sum((tracked.state.subjects or {}).values())

    # Only the known case was tracked; nothing was escalated.
    assert asyncio.run(escalations()) == 1
