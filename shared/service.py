"""What every FastStream service process shares: logging, the health responder and the run loop."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import Any

import nats
from faststream import FastStream
from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient

from hotline.shared.consumer import ConsumerSpec, PullConsumer
from hotline.shared.messaging import declare_streams
from hotline.shared.settings import Settings
from hotline.shared.subjects import health_subject


def configure_logging(service: str) -> None:
    logging.basicConfig(
        level=os.environ.get("HOTLINE_LOG_LEVEL", "INFO"),
        format=f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s",
    )
    # APScheduler logs every scan at INFO; the scans report what they did themselves.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def add_health_responder(broker: NatsBroker, service: str, details: Callable[[], dict[str, Any]] | None = None) -> None:
    """Answer `hotline.v1.health.<service>` requests (core NATS request/reply)."""
    started = time.time()

    @broker.subscriber(health_subject(service))
    async def health() -> dict[str, Any]:
        body: dict[str, Any] = {
            "service": service,
            "status": "ok",
            "pid": os.getpid(),
            "uptime_s": round(time.time() - started, 1),
        }
        if details is not None:
            body.update(details())
        return body


def run(app: FastStream, service: str) -> None:
    """Run a service until SIGINT/SIGTERM (FastStream handles both and drains subscribers)."""
    configure_logging(service)
    asyncio.run(app.run())


def attach_consumers(app: FastStream, settings: Settings, service: str, specs: list[ConsumerSpec]) -> None:
    """Start the service's pull consumers once the app is up; on shutdown let them finish the batch
    in hand before FastStream closes the broker their handlers publish through."""
    consumers: list[PullConsumer] = []
    connections: list[NatsClient] = []

    @app.after_startup
    async def start_consumers() -> None:
        nc = await nats.connect(
            settings.nats_url, name=f"hotline-{service}-consumer", max_reconnect_attempts=-1, reconnect_time_wait=0.5
        )
        connections.append(nc)
        js = nc.jetstream()
        await declare_streams(js)
        for spec in specs:
            consumer = PullConsumer(js, spec, settings)
            await consumer.start()
            consumers.append(consumer)

    @app.on_shutdown
    async def stop_consumers() -> None:
        for consumer in consumers:
            await consumer.stop()
        for nc in connections:
            await nc.close()
