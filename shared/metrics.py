"""Prometheus metrics of every process (prometheus-client's default registry, so the process
collectors — CPU, memory, open files — come along).

Counters and the latency histogram are updated where messages are settled (`messaging.py`); gauges that
describe shared state (consumer lag, outbox backlog, open clocks, dead letters) are sampled every few
seconds by a `Sampler`, from JetStream or the database (through read-only sessions: on SQLite a writing
session would take the write lock), so scraping never waits on I/O. A count that reads a row per item
(open clocks: 185 ms at a million on SQLite) is taken once a minute (`at_most_every`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.shared.db import DeadLetterRow, DeadlineRow, OutboxRow

log = logging.getLogger(__name__)

MESSAGES = Counter(
    "hotline_messages",
    "Messages settled by a consumer, by outcome (acked, retried = nacked for redelivery, dead_lettered)",
    ["consumer", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "hotline_handler_seconds",
    "Time a consumer took to process and settle one batch",
    ["consumer"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BATCH_MESSAGES = Histogram(
    "hotline_batch_messages",
    "Messages a consumer took in one batch (a pull takes what is waiting: full batches mean a backlog)",
    ["consumer"],
    buckets=(1, 5, 20, 50, 100, 250, 500, 1000),
)
HANDLER_ERRORS = Counter("hotline_handler_errors", "Batches and single messages whose processing raised", ["consumer"])
CONSUMER_PENDING = Gauge(
    "hotline_consumer_pending", "Messages of the stream the durable consumer has not delivered yet (lag)", ["durable"]
)
CONSUMER_ACK_PENDING = Gauge(
    "hotline_consumer_ack_pending", "Messages delivered to the durable consumer and not acknowledged yet", ["durable"]
)
CONSUMER_REDELIVERED = Gauge(
    "hotline_consumer_redelivered", "Messages of the durable consumer delivered more than once", ["durable"]
)
BATCH_IN_HAND_SECONDS = Gauge(
    "hotline_batch_in_hand_seconds",
    "How long the batch the durable consumer is handling has been in hand (0 between batches)",
    ["durable"],
)
OUTBOX_BACKLOG = Gauge("hotline_outbox_backlog", "Outbox rows stored and not yet published to JetStream", ["source"])
OPEN_CLOCKS = Gauge("hotline_open_clocks", "Deadlines still running (open), all cases; counted once a minute")
DEAD_LETTERS = Gauge("hotline_dead_letters", "Dead letters stored and not replayed")

Sample = Callable[[], Awaitable[None]]


def render() -> tuple[bytes, str]:
    """The text exposition of every metric, with its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class Sampler:
    """Runs each sample function every `interval_s` seconds; a failing sample keeps its last value."""

    def __init__(self, samples: Sequence[Sample], *, interval_s: float = 5.0) -> None:
        self.samples = list(samples)
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="metrics-sampler")

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Let a sample in progress finish (cancelling a database call midway can leave its
        connection in use while the engine is disposed), then stop."""
        self._stopping.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=timeout_s)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def sample_once(self) -> None:
        for sample in self.samples:
            try:
                await sample()
            except Exception as exc:
                log.debug("metrics sample %s failed: %r", getattr(sample, "__name__", sample), exc)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            await self.sample_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval_s)


def at_most_every(interval_s: float, sample: Sample, *, monotonic: Callable[[], float] = time.monotonic) -> Sample:
    """`sample`, run by a Sampler's round only once `interval_s` seconds have passed since it last ran."""
    last_run: list[float] = []

    async def throttled() -> None:
        now = monotonic()
        if last_run and now - last_run[0] < interval_s:
            return
        last_run[:] = [now]
        await sample()

    return throttled


def consumer_lag(js: Any, stream: str, durable: str) -> Sample:
    async def sample() -> None:
        info = await js.consumer_info(stream, durable)
        CONSUMER_PENDING.labels(durable).set(info.num_pending or 0)
        CONSUMER_ACK_PENDING.labels(durable).set(info.num_ack_pending or 0)
        CONSUMER_REDELIVERED.labels(durable).set(info.num_redelivered or 0)

    return sample


def outbox_backlog(sessions: async_sessionmaker[AsyncSession], source: str) -> Sample:
    async def sample() -> None:
        async with sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.source == source, OutboxRow.published_at.is_(None))
            )
        OUTBOX_BACKLOG.labels(source).set(count or 0)

    return sample


def open_clocks(sessions: async_sessionmaker[AsyncSession], *, interval_s: float = 60.0) -> Sample:
    """Counting reads every open clock (no index serves it: one on the state would cost every clock's
    insert and update), so once a minute is enough for a gauge that moves with the day's work."""

    async def sample() -> None:
        async with sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(DeadlineRow).where(DeadlineRow.state == "open")
            )
        OPEN_CLOCKS.set(count or 0)

    return at_most_every(interval_s, sample)


def dead_letters(sessions: async_sessionmaker[AsyncSession]) -> Sample:
    async def sample() -> None:
        async with sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(DeadLetterRow).where(DeadLetterRow.replayed_at.is_(None))
            )
        DEAD_LETTERS.set(count or 0)

    return sample
