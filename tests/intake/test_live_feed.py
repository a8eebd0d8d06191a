"""The live feed's poller against a real database: it reads only while someone listens, and a client
that connects after an idle spell starts from the newest event rather than the backlog."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from hotline.services.intake.live import FeedBroadcaster
from hotline.shared.db import CaseEventRow, transaction

AT = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


async def _record(sessions: Any, kind: str, case_id: uuid.UUID) -> None:
    async with transaction(sessions) as session:
        session.add(
            CaseEventRow(
                event_id=uuid.uuid4(), case_id=case_id, kind=kind, occurred_at=AT, recorded_at=AT, payload={"k": kind}
            )
        )


async def test_an_idle_feed_reads_nothing_and_a_late_client_gets_only_what_follows(sessions: Any) -> None:
    case_id = uuid.uuid4()
    await _record(sessions, "received", case_id)
    feed = FeedBroadcaster(sessions, poll_s=0)
    reads = 0
    plain_read = feed.read_since

    async def counted_read(seq: int, limit: int = 500) -> list[dict[str, Any]]:
        nonlocal reads
        reads += 1
        return await plain_read(seq, limit)

    feed.read_since = counted_read  # type: ignore[method-assign]
    await feed.start()
    try:
        await _record(sessions, "classified", case_id)  # while nobody listens
        for _ in range(200):  # the poller, polling without pause, has gone round many times
            await asyncio.sleep(0)
        assert reads == 0

        stream = feed.stream(None)
        assert await anext(stream) == "retry: 2000\n\n"
        following = asyncio.create_task(anext(stream))
        await _record(sessions, "routed", case_id)
        message = await asyncio.wait_for(following, timeout=30)
        data = json.loads(message.split("data: ", 1)[1])
        assert (data["kind"], data["case_id"], data["seq"]) == ("routed", str(case_id), 3)
        assert reads >= 1
        await stream.aclose()
    finally:
        await feed.stop()
