"""`hotline init`: what a multi-host installation does once before its services start (the
`hotline-init.service` oneshot of deploy/systemd): migrate the database, create the first admin, and
declare the JetStream streams with HOTLINE_STREAM_REPLICAS replicas (as the NATS admin: services may
not create or change streams). Every step is idempotent, so it runs again on every boot and after
upgrades. `hotline up` does the same for one machine itself."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from hotline.services.intake.accounts import ensure_admin
from hotline.shared.messaging import declare_streams
from hotline.shared.migrate import upgrade
from hotline.shared.settings import Settings


@dataclass(frozen=True, slots=True)
class Provisioned:
    database_url: str
    admin_password: str | None  # set only when the admin was created now
    streams_replicas: int


def provision(settings: Settings, *, admin_password: str | None = None) -> Provisioned:
    url = settings.resolved_database_url()
    upgrade(url)
    created = ensure_admin(url, password=admin_password)
    declare_streams_at(settings.nats_servers, replicas=settings.stream_replicas)
    return Provisioned(url, created, settings.stream_replicas)


def declare_streams_at(nats_servers: str | list[str], *, replicas: int) -> None:
    """Create the streams and set their replicas, as a NATS user allowed to (the admin): the services'
    users may only look at streams."""
    asyncio.run(_declare(nats_servers, replicas))


async def _declare(nats_servers: str | list[str], replicas: int) -> None:
    import nats

    nc = await nats.connect(nats_servers, name="hotline-init", max_reconnect_attempts=5)
    try:
        await declare_streams(nc.jetstream(), replicas=replicas)
    finally:
        await nc.close()
