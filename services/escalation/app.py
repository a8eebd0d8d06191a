"""The escalation service: starts each routed case's clocks (`case.v1.tracked`) and, on a schedule,
emits `case.v1.escalated` for deadlines reaching 75% / 90% / 100%.

Deadlines live in the database (the source of truth); APScheduler only triggers scans, so a scan missed
while the service was down is simply caught up by the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import nats
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from faststream import FastStream
from nats.aio.client import Client as NatsClient

from hotline.services.escalation.tracking import (
    OUTBOX_SOURCE,
    ClockRules,
    anything_due,
    apply_workflow,
    load_clock_rules,
    recompute_provisional,
    start_clocks,
    take_due_steps,
)
from hotline.shared import metrics, subjects
from hotline.shared.calendar_table import calendar_in_force
from hotline.shared.clock import Clock, ScaledClock
from hotline.shared.consumer import ConsumerSpec
from hotline.shared.db import create_engine, session_factory, transaction
from hotline.shared.events import ANY_CASE_EVENT, AnyCaseEvent, CaseRouted
from hotline.shared.faults import is_transient
from hotline.shared.known_cases import require_known_cases
from hotline.shared.messaging import BatchProcessor, Delivery, create_broker
from hotline.shared.outbox import OutboxRelay, PublishMany, jetstream_publish_many
from hotline.shared.publishing import StoredPublisher
from hotline.shared.service import add_health_responder, attach_consumers
from hotline.shared.settings import Settings

SERVICE = "escalation"


class _SkipOverrunScans(logging.Filter):
    """A scan still running when the next is due is skipped by design (max_instances=1; the next scan
    reads every due clock from the database): APScheduler's warning for it would only be noise on a
    busy machine, so it is dropped and nothing else is."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


_SKIP_OVERRUN_SCANS = _SkipOverrunScans()


def quiet_overrun_scans() -> None:
    """Drops APScheduler's skipped-scan warning (idempotent: logging keeps one copy of a filter)."""
    logging.getLogger("apscheduler.scheduler").addFilter(_SKIP_OVERRUN_SCANS)


log = logging.getLogger(__name__)


def create_app(settings: Settings, *, clock: Clock | None = None, rules: ClockRules | None = None) -> FastStream:
    clock = clock or ScaledClock(scale=settings.time_scale, epoch=settings.clock_epoch)
    quiet_overrun_scans()
    # Replaced as a whole when an admin saves new working-day overrides.
    clock_rules = [rules or load_clock_rules()]
    broker = create_broker(settings, service=SERVICE)
    engine = create_engine(settings.resolved_database_url())
    sessions = session_factory(engine)
    # Metrics read through their own read-only engine (a writing one begins IMMEDIATE on SQLite).
    read_engine = create_engine(settings.resolved_database_url(), writes=False)
    read_sessions = session_factory(read_engine)
    # The relay publishes to two streams (CASES and NOTIFY), so it uses a plain connection, made at
    # start-up, rather than the broker's stream-bound publish.
    connection: list[NatsClient] = []
    publishers: list[PublishMany] = []  # one publisher: it subscribes once for its acks

    async def publish(messages: Sequence[tuple[str, bytes, str]]) -> None:
        if not publishers:
            publishers.append(jetstream_publish_many(StoredPublisher(connection[0])))
        await publishers[0](messages)

    # Lingering 10 ms after a wake-up, as intake's relay does: one read and one mark (a write turn) carry
    # the clocks of several batches.
    relay = OutboxRelay(
        publish=publish,
        sessions=sessions,
        read_sessions=read_sessions,
        source=OUTBOX_SOURCE,
        clock=clock,
        linger_s=0.01,
    )
    scheduler = AsyncIOScheduler()

    async def process(deliveries: Sequence[Delivery[CaseRouted]]) -> None:
        async with transaction(sessions) as session:
            await require_known_cases(session, (d.event.case_id for d in deliveries))
            await start_clocks(session, [d.event for d in deliveries], clock=clock, rules=clock_rules[0])
        relay.wake()

    async def process_workflow(deliveries: Sequence[Delivery[AnyCaseEvent]]) -> None:
        async with transaction(sessions) as session:
            await require_known_cases(session, (d.event.case_id for d in deliveries))
            await apply_workflow(session, [d.event for d in deliveries], rules=clock_rules[0], clock=clock)
        relay.wake()

    workflow = BatchProcessor(
        broker=broker,
        decode=ANY_CASE_EVENT.validate_json,
        consumer=f"{SERVICE}-workflow",
        process=process_workflow,
        settings=settings,
    )

    processor = BatchProcessor(
        broker=broker, decode=CaseRouted.model_validate_json, consumer=SERVICE, process=process, settings=settings
    )

    async def scan() -> None:
        try:
            async with read_sessions() as session:
                if not await anything_due(session, clock=clock):
                    return
            async with transaction(sessions) as session:
                emitted = await take_due_steps(session, clock=clock)
        except Exception as exc:
            if is_transient(exc):  # every half second during an outage: one line, no traceback
                log.warning("escalation scan: database unavailable (%s); the next scan retries", type(exc).__name__)
            else:
                log.exception("escalation scan failed; the next scan retries")
            return
        if emitted:
            log.info("escalation scan: %d step(s) taken", emitted)
            relay.wake()

    async def reload_calendar() -> None:
        if rules is None:
            async with sessions() as session:
                calendar = await calendar_in_force(session)
            clock_rules[0] = ClockRules(policies=clock_rules[0].policies, calendar=calendar)
        # Deadlines counted provisionally become firm once their year is known.
        async with transaction(sessions) as session:
            firmed = await recompute_provisional(session, clock_rules[0])
        if firmed:
            log.info("escalation: %d provisional deadline(s) recomputed", firmed)

    @broker.subscriber(subjects.CALENDAR_UPDATED)
    async def calendar_updated() -> None:
        await reload_calendar()
        log.info("escalation: working-day overrides reloaded")

    add_health_responder(broker, SERVICE, lambda: {"scheduler_running": scheduler.running})
    app = FastStream(broker)
    attach_consumers(
        app,
        settings,
        SERVICE,
        [
            ConsumerSpec(
                subjects.CASES_STREAM,
                subjects.CASE_ROUTED,
                subjects.ESCALATION_DURABLE,
                processor,
                settings.escalation_linger_s,
            ),
            ConsumerSpec(subjects.CASES_STREAM, subjects.CLOCK_STEPS, subjects.ESCALATION_WORKFLOW_DURABLE, workflow),
        ],
        samples=[metrics.outbox_backlog(read_sessions, OUTBOX_SOURCE), metrics.open_clocks(read_sessions)],
    )

    @app.on_startup
    async def load_calendar() -> None:
        await reload_calendar()

    @app.after_startup
    async def start_background() -> None:
        connection.append(
            await nats.connect(settings.nats_servers, name="hotline-escalation-relay", max_reconnect_attempts=-1)
        )
        relay.start()
        scheduler.add_job(
            scan,
            "interval",
            seconds=settings.escalation_scan_s,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            id="deadline-scan",
        )
        scheduler.start()

    @app.on_shutdown
    async def stop_background() -> None:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        await relay.stop()
        for nc in connection:
            await nc.close()
        await engine.dispose()
        await read_engine.dispose()

    return app
