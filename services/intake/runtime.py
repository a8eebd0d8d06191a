"""What the intake process holds while it runs (built by the app's lifespan)."""

from __future__ import annotations

from dataclasses import dataclass, field

from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hotline.services.intake.auth import TokenCache
from hotline.services.intake.live import FeedBroadcaster
from hotline.services.intake.login_guard import LoginGuard
from hotline.services.intake.reconcile import Reconciler
from hotline.shared.clock import Clock
from hotline.shared.outbox import OutboxRelay
from hotline.shared.settings import Settings


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
