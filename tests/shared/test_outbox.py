"""The outbox relay against a real database and a recording publisher."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
from sqlalchemy import event, select

from hotline.natsserver import EmbeddedNats
from hotline.shared.clock import FixedClock
from hotline.shared.db import OutboxRow, create_engine, session_factory, transaction
from hotline.shared.events import CaseReceived, CaseRepeated, Channel
from hotline.shared.messaging import declare_streams
from hotline.shared.outbox import OutboxRelay, Publish, PublishMany, enqueue, jetstream_publish_many

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def received() -> CaseReceived:
    return CaseReceived(
        event_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        occurred_at=NOW,
        channel=Channel.HOTLINE,
        received_at=NOW,
        content="x",
    )


def one_at_a_time(publish: Publish) -> PublishMany:
    """A recording per-message publisher used as the relay's: a round's messages sent concurrently."""

    async def publish_all(messages: Sequence[tuple[str, bytes, str]]) -> None:
        await asyncio.gather(*(publish(subject, payload, message_id) for subject, payload, message_id in messages))

    return publish_all


def repeated(case: CaseReceived) -> CaseRepeated:
    return CaseRepeated(
        event_id=uuid.uuid4(),
        case_id=case.case_id,
        occurred_at=NOW,
        channel=Channel.HOTLINE,
        received_at=NOW,
        repeat_count=1,
        matched_by="phone",
        content="again",
    )


async def test_rows_are_published_once_with_their_event_id_then_pruned_after_a_week(sessions: Any) -> None:
    clock = FixedClock(NOW)
    sent: list[tuple[str, str]] = []

    async def publish(subject: str, payload: bytes, message_id: str) -> None:
        sent.append((subject, message_id))

    relay = OutboxRelay(publish=one_at_a_time(publish), sessions=sessions, source="intake", clock=clock)
    events = [received() for _ in range(3)]
    async with transaction(sessions) as session:
        await enqueue(session, source="intake", events=[("case.v1.received", e) for e in events], clock=clock)
        await enqueue(session, source="intake", events=[("case.v1.received", events[0])], clock=clock)  # again
    assert await relay.publish_pending() == 3
    assert await relay.publish_pending() == 0
    assert sorted(message_id for _, message_id in sent) == sorted(str(e.event_id) for e in events)

    clock.advance(timedelta(days=6))
    assert await relay.prune_published() == 0
    clock.advance(timedelta(days=2))
    assert await relay.prune_published() == 3
    async with sessions() as session:
        assert (await session.execute(select(OutboxRow))).first() is None


async def test_one_cases_events_are_published_in_order_while_cases_run_concurrently(sessions: Any) -> None:
    clock = FixedClock(NOW)
    sent: list[str] = []
    in_flight = 0
    most_in_flight = 0

    async def publish(subject: str, payload: bytes, message_id: str) -> None:
        nonlocal in_flight, most_in_flight
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        # The first event of each case is the slowest to be acknowledged: it must still go first.
        for _ in range(3 if subject.endswith("received") else 0):
            await asyncio.sleep(0)
        sent.append(message_id)
        in_flight -= 1

    first, second = received(), received()
    follow_ups = [repeated(case) for case in (first, second)]
    async with transaction(sessions) as session:
        await enqueue(
            session,
            source="intake",
            events=[
                ("case.v1.received", first),
                ("case.v1.received", second),
                ("case.v1.repeated", follow_ups[0]),
                ("case.v1.repeated", follow_ups[1]),
            ],
            clock=clock,
        )
    relay = OutboxRelay(publish=one_at_a_time(publish), sessions=sessions, source="intake", clock=clock)
    assert await relay.publish_pending() == 4
    for case_start, follow_up in zip((first, second), follow_ups, strict=True):
        assert sent.index(str(case_start.event_id)) < sent.index(str(follow_up.event_id))
    assert most_in_flight == 2  # the two cases went out side by side


async def test_pending_rows_are_read_outside_a_write_transaction(database_url: str) -> None:
    """Only the mark writes: a poll that finds nothing takes no writer's turn, one that publishes takes one."""
    writer, reader = create_engine(database_url), create_engine(database_url, writes=False)
    write_transactions = 0

    @event.listens_for(writer.sync_engine, "begin")
    def _count(_connection: Any) -> None:
        nonlocal write_transactions
        write_transactions += 1

    async def publish(subject: str, payload: bytes, message_id: str) -> None:
        pass

    try:
        sessions = session_factory(writer)
        relay = OutboxRelay(
            publish=one_at_a_time(publish),
            sessions=sessions,
            read_sessions=session_factory(reader),
            source="intake",
            clock=FixedClock(NOW),
        )
        assert await relay.publish_pending() == 0
        assert write_transactions == 0
        async with transaction(sessions) as session:
            await enqueue(session, source="intake", events=[("case.v1.received", received())], clock=relay.clock)
        write_transactions = 0
        assert await relay.publish_pending() == 1
        assert write_transactions == 1
    finally:
        await writer.dispose()
        await reader.dispose()


async def test_the_relay_stores_each_row_once_in_jetstream_each_cases_in_order(
    sessions: Any, nats_server: EmbeddedNats
) -> None:
    clock = FixedClock(NOW)
    cases = [received() for _ in range(5)]
    repeats = [repeated(case) for case in cases]
    async with transaction(sessions) as session:
        pairs = [(("case.v1.received", c), ("case.v1.repeated", r)) for c, r in zip(cases, repeats, strict=True)]
        await enqueue(session, source="intake", events=[event for pair in pairs for event in pair], clock=clock)
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await declare_streams(js)
        relay = OutboxRelay(publish=jetstream_publish_many(js), sessions=sessions, source="intake", clock=clock)
        assert await relay.publish_pending() == 10
        assert await relay.publish_pending() == 0
        sub = await js.pull_subscribe("case.v1.>", durable="check")
        got: list[Any] = []
        while len(got) < 10:
            got += await sub.fetch(batch=10 - len(got), timeout=5)
        ids = [m.headers["Nats-Msg-Id"] for m in got]
        assert sorted(ids) == sorted(str(e.event_id) for e in [*cases, *repeats])
        for case, repeat in zip(cases, repeats, strict=True):
            assert ids.index(str(case.event_id)) < ids.index(str(repeat.event_id))
    finally:
        await nc.close()
