"""What every FastStream service process shares: logging, the health responder and the run loop."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import nats
from faststream import FastStream
from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient

from hotline.shared import eventloop
from hotline.shared.consumer import ConsumerSpec, PullConsumer
from hotline.shared.logs import configure_logging
from hotline.shared.memory import settle_heap, trim_heap_periodically
from hotline.shared.messaging import declare_streams, patiently
from hotline.shared.metrics import BATCH_IN_HAND_SECONDS, Sample, Sampler, consumer_lag
from hotline.shared.ops_http import OpsServer
from hotline.shared.settings import Settings
from hotline.shared.subjects import health_subject

log = logging.getLogger(__name__)


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
    configure_logging(service)  # reads its settings: instance and log directory
    app.after_startup(settle_heap)  # after the service's own start-up hooks (models loaded, warmed up)
    eventloop.run(_run_trimmed(app))


async def _run_trimmed(app: FastStream) -> None:
    trimming = asyncio.create_task(trim_heap_periodically())
    try:
        await app.run()
    finally:
        trimming.cancel()


def attach_consumers(
    app: FastStream,
    settings: Settings,
    service: str,
    specs: list[ConsumerSpec],
    *,
    samples: Sequence[Sample] = (),
) -> None:
    """Start the service's pull consumers once the app is up; on shutdown let them finish the batch
    in hand before FastStream closes the broker their handlers publish through.

    With HOTLINE_METRICS_PORT set, also serve /metrics and /health there, sampling the consumers' lag
    and the service's own `samples` (outbox backlog, open clocks, ...)."""
    consumers: list[PullConsumer] = []
    connections: list[NatsClient] = []
    ops: list[OpsServer] = []
    samplers: list[Sampler] = []

    def reasons() -> list[str]:
        problems = [] if connections and connections[0].is_connected else ["未连接 NATS（正在重连）"]
        problems += [f"消费者 {c.spec.durable} 已停止" for c in consumers if not c.alive]
        problems += [
            f"消费者 {c.spec.durable} 的一批消息已处理 {s:.0f} 秒，可能卡住" for c in consumers if (s := c.stuck_s())
        ]
        return problems

    async def batches_in_hand() -> None:
        for consumer in consumers:
            BATCH_IN_HAND_SECONDS.labels(consumer.spec.durable).set(consumer.held_s())

    @app.after_startup
    async def start_consumers() -> None:
        nc = await nats.connect(
            settings.nats_servers,
            name=f"hotline-{service}-consumer",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
        )
        connections.append(nc)
        js = nc.jetstream()
        await declare_streams(js, replicas=settings.stream_replicas, scale=False)
        for spec in specs:
            consumer = PullConsumer(js, spec, settings)
            await patiently(consumer.start, what=f"consumer {spec.durable}")
            consumers.append(consumer)
        log.info("%s: consuming %s", service, ", ".join(spec.durable for spec in specs))
        if settings.metrics_port:
            lags = [consumer_lag(js, spec.stream, spec.durable) for spec in specs]
            samplers.append(Sampler([*lags, batches_in_hand, *samples]))
            samplers[0].start()
            server = OpsServer(
                service=service,
                instance=settings.instance,
                host=settings.metrics_host,
                port=settings.metrics_port,
                health=reasons,
            )
            await server.start()
            ops.append(server)
            log.info("%s: /metrics and /health on %s:%d", service, settings.metrics_host, settings.metrics_port)

    @app.on_shutdown
    async def stop_consumers() -> None:
        for server in ops:
            await server.stop()
        for sampler in samplers:
            await sampler.stop()
        for consumer in consumers:
            await consumer.stop()
        for nc in connections:
            await nc.close()
