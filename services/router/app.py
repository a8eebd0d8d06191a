"""The router service: `case.v1.classified` → `case.v1.routed` (主办 unit from the county table)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from faststream import FastStream

from hotline.services.router.routing import needs_routing, route_case
from hotline.shared import subjects
from hotline.shared.catalogue import Catalogue, current, packaged
from hotline.shared.clock import Clock, ScaledClock
from hotline.shared.consumer import ConsumerSpec
from hotline.shared.db import create_engine, session_factory
from hotline.shared.decisions import routed_by_person
from hotline.shared.domain.county import County
from hotline.shared.events import CaseClassified
from hotline.shared.known_cases import require_known_cases
from hotline.shared.messaging import BatchProcessor, Delivery, create_broker
from hotline.shared.publishing import EventPublisher
from hotline.shared.service import add_health_responder, attach_consumers
from hotline.shared.settings import Settings

SERVICE = "router"
log = logging.getLogger(__name__)


def create_app(settings: Settings, *, clock: Clock | None = None, county: County | None = None) -> FastStream:
    clock = clock or ScaledClock(scale=settings.time_scale, epoch=settings.clock_epoch)
    broker = create_broker(settings, service=SERVICE)
    publisher = EventPublisher(lambda: broker.connection, subjects.CASE_ROUTED)
    engine = create_engine(settings.resolved_database_url(), writes=False)
    sessions = session_factory(engine)
    # The table in force; replaced as a whole when an admin saves a new version.
    in_force: list[Catalogue] = [replace(packaged(), county=county, content="") if county else packaged()]

    async def reload() -> None:
        if county is not None:
            return
        async with sessions() as session:
            fresh = await current(session)
        if fresh.version != in_force[0].version:
            in_force[0] = fresh
            log.info("router: 派单目录 version %s in force", fresh.version)

    async def process(deliveries: Sequence[Delivery[CaseClassified]]) -> None:
        catalogue = in_force[0]
        async with sessions() as session:
            await require_known_cases(session, (d.event.case_id for d in deliveries))
            by_person = await routed_by_person(session, (d.event.case_id for d in deliveries))
        routed = [
            route_case(d.event, catalogue=catalogue, clock=clock)
            for d in deliveries
            if needs_routing(d.event, routed_by_person=d.event.case_id in by_person)
        ]
        await publisher.publish(routed)

    processor = BatchProcessor(
        broker=broker, decode=CaseClassified.model_validate_json, consumer=SERVICE, process=process, settings=settings
    )

    @broker.subscriber(subjects.ROUTING_UPDATED)
    async def routing_updated() -> None:
        await reload()

    add_health_responder(
        broker,
        SERVICE,
        lambda: {"county": in_force[0].county.name, "routing_version": in_force[0].version},
    )
    app = FastStream(broker)

    @app.on_startup
    async def load_table() -> None:
        await reload()

    @app.on_shutdown
    async def close() -> None:
        await engine.dispose()

    attach_consumers(
        app,
        settings,
        SERVICE,
        [ConsumerSpec(subjects.CASES_STREAM, subjects.CASE_CLASSIFIED, subjects.ROUTER_DURABLE, processor)],
    )
    return app
