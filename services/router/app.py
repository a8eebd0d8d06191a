"""The router service: `case.v1.classified` → `case.v1.routed` (主办 unit from the county table)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from faststream import FastStream

from hotline.services.router.routing import needs_routing, route_case
from hotline.services.router.rules import County, load_county
from hotline.shared import subjects
from hotline.shared.clock import Clock, ScaledClock
from hotline.shared.consumer import ConsumerSpec
from hotline.shared.events import CaseClassified, CaseRouted
from hotline.shared.messaging import (
    CASES_STREAM,
    MSG_ID_HEADER,
    BatchProcessor,
    Delivery,
    create_broker,
)
from hotline.shared.service import add_health_responder, attach_consumers
from hotline.shared.settings import Settings

SERVICE = "router"


def create_app(settings: Settings, *, clock: Clock | None = None, county: County | None = None) -> FastStream:
    clock = clock or ScaledClock(scale=settings.time_scale, epoch=settings.clock_epoch)
    table = county or load_county()
    broker = create_broker(settings, service=SERVICE)
    publisher = broker.publisher(subjects.CASE_ROUTED, stream=CASES_STREAM, schema=CaseRouted)

    async def process(deliveries: Sequence[Delivery[CaseClassified]]) -> None:
        routed = [route_case(d.event, county=table, clock=clock) for d in deliveries if needs_routing(d.event)]
        await asyncio.gather(
            *(publisher.publish(event, headers={MSG_ID_HEADER: str(event.event_id)}) for event in routed)
        )

    processor = BatchProcessor(
        broker=broker, decode=CaseClassified.model_validate_json, consumer=SERVICE, process=process, settings=settings
    )

    add_health_responder(broker, SERVICE, lambda: {"county": table.name, "units": len(table.units)})
    app = FastStream(broker)
    attach_consumers(
        app,
        settings,
        SERVICE,
        [ConsumerSpec(subjects.CASES_STREAM, subjects.CASE_CLASSIFIED, subjects.ROUTER_DURABLE, processor)],
    )
    return app
