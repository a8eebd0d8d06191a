"""What the intake process holds while it runs (built by the app's lifespan)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hotline.services.intake.auth import TokenCache
from hotline.services.intake.candidates import TownshipCandidates
from hotline.services.intake.case_batches import CaseBatches
from hotline.services.intake.live import FeedBroadcaster
from hotline.services.intake.login_guard import LoginGuard
from hotline.services.intake.reconcile import Reconciler
from hotline.shared.clock import Clock
from hotline.shared.db import transaction
from hotline.shared.outbox import OutboxRelay
from hotline.shared.settings import Settings

T = TypeVar("T")


class PlaceNames:
    """The county's place names as read at most `ttl_s` ago (see `place_names_in_force`)."""

    def __init__(self, *, ttl_s: float = 5.0, now: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.now = now
        self._names: tuple[str, ...] | None = None
        self._read_at = 0.0

    def get(self) -> tuple[str, ...] | None:
        if self._names is not None and self.now() - self._read_at < self.ttl_s:
            return self._names
        return None

    def put(self, names: tuple[str, ...]) -> tuple[str, ...]:
        self._names, self._read_at = names, self.now()
        return names

    def forget(self) -> None:
        self._names = None


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    read_engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    nc: NatsClient
    js: JetStreamContext
    relay: OutboxRelay
    feed: FeedBroadcaster
    reconciler: Reconciler
    login_guard: LoginGuard = field(default_factory=LoginGuard)
    tokens: TokenCache = field(default_factory=TokenCache)
    places: PlaceNames = field(default_factory=PlaceNames)
    case_batches: CaseBatches | None = None  # group commit of new cases (set by the app)
    candidates: TownshipCandidates = field(default_factory=TownshipCandidates)  # kept for the repeat check

    async def write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` (a service function) in one transaction, then wake the outbox relay to publish
        the events it queued."""
        async with transaction(self.sessions) as session:
            result = await work(session)
        self.relay.wake()
        return result
