"""The feed service: projects every case event into the database that the API and the live feed
read, and stores dead letters where operators can see and replay them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from faststream import FastStream
from nats.aio.msg import Msg

from hotline.services.feed.projection import project
from hotline.shared import metrics, subjects
from hotline.shared.clock import Clock, ScaledClock
from hotline.shared.consumer import ConsumerSpec
from hotline.shared.db import (
    DeadLetterRow,
    create_engine,
    insert_ignoring_duplicates,
    session_factory,
    transaction,
)
from hotline.shared.events import ANY_CASE_EVENT, AnyCaseEvent
from hotline.shared.faults import PAUSE_CAP_S, Pause, backoff_s
from hotline.shared.known_cases import require_known_cases
from hotline.shared.messaging import (
    BatchProcessor,
    Delivery,
    create_broker,
)
from hotline.shared.service import add_health_responder, attach_consumers
from hotline.shared.settings import Settings

SERVICE = "feed"
log = logging.getLogger(__name__)


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastStream:
    clock = clock or ScaledClock(scale=settings.time_scale, epoch=settings.clock_epoch)
    broker = create_broker(settings, service=SERVICE)
    engine = create_engine(settings.resolved_database_url())
    sessions = session_factory(engine)
    # Metrics read through their own read-only engine (a writing one begins IMMEDIATE on SQLite).
    read_engine = create_engine(settings.resolved_database_url(), writes=False)
    read_sessions = session_factory(read_engine)

    async def process(deliveries: Sequence[Delivery[AnyCaseEvent]]) -> None:
        async with transaction(sessions) as session:
            await require_known_cases(session, (d.event.case_id for d in deliveries))
            await project(session, [d.event for d in deliveries], now=clock.now())

    processor = BatchProcessor(
        broker=broker,
        decode=ANY_CASE_EVENT.validate_json,
        consumer=SERVICE,
        process=process,
        settings=settings,
    )

    async def store(messages: Sequence[Msg]) -> None:
        async with transaction(sessions) as session:
            await session.execute(
                insert_ignoring_duplicates(session, DeadLetterRow),
                [dead_letter_row(m, clock) for m in messages],
            )

    store_dead_letters = DeadLetterStore(store, settings)

    add_health_responder(broker, SERVICE)
    app = FastStream(broker)
    attach_consumers(
        app,
        settings,
        SERVICE,
        [
            ConsumerSpec(
                subjects.CASES_STREAM, subjects.CASE_ALL, subjects.FEED_DURABLE, processor, settings.feed_linger_s
            ),
            ConsumerSpec(
                subjects.DEADLETTER_STREAM, "deadletter.v1.>", subjects.FEED_DEADLETTER_DURABLE, store_dead_letters
            ),
        ],
        samples=[metrics.dead_letters(read_sessions)],
    )

    @app.on_shutdown
    async def dispose() -> None:
        await engine.dispose()
        await read_engine.dispose()

    return app


class DeadLetterStore:
    """Copies dead letters from their stream into the table, retrying forever: the stream keeps them
    meanwhile (they are acked only once stored), so a database outage only delays them. While the
    database fails the pull loop pauses, doubling up to 10 s, instead of hammering it."""

    def __init__(self, store: Callable[[Sequence[Msg]], Awaitable[None]], settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.pause = Pause(base_s=max(settings.nak_delay_s, 0.1), cap_s=PAUSE_CAP_S)

    def pause_s(self) -> float:
        return self.pause.remaining_s()

    async def __call__(self, messages: Sequence[Msg]) -> None:
        try:
            await self.store(messages)
        except Exception as exc:
            pause = self.pause.failed()
            log.warning("feed: could not store %d dead letter(s) (%r); retrying in %.1f s", len(messages), exc, pause)
            for m in messages:
                delay = backoff_s(m.metadata.num_delivered or 1, cap_s=self.settings.backoff_cap_s)
                await m.nak(delay=delay)
            return
        self.pause.succeeded()
        for m in messages:
            await m.ack()


def dead_letter_row(msg: Msg, clock: Clock) -> dict[str, Any]:
    headers = dict(msg.headers or {})
    seq = headers.get("Hotline-Stream-Seq")
    return dict(
        message_id=headers.get("Nats-Msg-Id") or f"dl-seq-{msg.metadata.sequence.stream}",
        subject=headers.get("Hotline-Original-Subject", msg.subject),
        consumer=headers.get("Hotline-Consumer", "?"),
        stream_seq=int(seq) if seq else None,
        error=headers.get("Hotline-Error", ""),
        payload=msg.data.decode("utf-8", errors="replace"),
        headers=headers,
        created_at=clock.now(),
        replayed_at=None,
    )
