"""What every FastStream service process shares: logging, the health responder and the run loop."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from faststream import FastStream
from faststream.nats import NatsBroker

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
