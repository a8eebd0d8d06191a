"""Durable JetStream pull consumers that hand batches to a handler.

Why not FastStream's batch subscriber: its pull keeps the request open until the batch is full or the
timeout passes, so at low load every stage waits out the timeout (measured: ~1 s a stage with a 2 s
timeout), while short timeouts race the server and strand messages until `ack_wait`. Here each round
waits as long as needed for the first message, then takes whatever else arrives within a few
milliseconds: ~20 ms a stage at idle, full batches under load.

The loop outlives outages: a handler that saw its store unavailable asks for a pause (`Throttled`),
pull errors (NATS restarting) back off up to a few seconds, and nats-py resubscribes the pull inbox
on reconnect. Consumers have no `max_deliver`: JetStream would silently stop redelivering a message
after it; the handlers decide themselves when a message is hopeless (`messaging.BatchProcessor`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from hotline.shared.faults import Pause
from hotline.shared.pull import fetch_available
from hotline.shared.settings import Settings

log = logging.getLogger(__name__)

BatchHandler = Callable[[Sequence[Msg]], Awaitable[None]]
IDLE_WAIT_S = 5.0
UNLIMITED = -1
# A message whose ack was lost (NATS restarted mid-batch) comes back after this. A batch normally takes
# well under a second; one still in hand after half of it tells the server it is being worked on (and
# again every half), so a full batch of long petitions on a slow machine is not redelivered meanwhile.
ACK_WAIT_S = 10.0
# ... but not for ever: a handler hung on a connection that never answers would otherwise keep its batch
# from every other replica. Past this, the batch's messages go back to the stream after ack_wait.
KEEP_IN_PROGRESS_S = 60.0


@runtime_checkable
class Throttled(Protocol):
    def pause_s(self) -> float: ...


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    stream: str
    subject: str | tuple[str, ...]  # one filter subject, or several (nats-server 2.10+)
    durable: str
    handle: BatchHandler
    # How long to wait after a first message for more to join its batch (0: take what is there).
    linger_s: float = 0.0


class PullConsumer:
    def __init__(
        self,
        js: JetStreamContext,
        spec: ConsumerSpec,
        settings: Settings,
        *,
        ack_wait_s: float = ACK_WAIT_S,
        keep_in_progress_s: float = KEEP_IN_PROGRESS_S,
    ) -> None:
        self.js = js
        self.spec = spec
        self.batch_size = settings.batch_size
        self.drain_s = settings.batch_timeout_s
        self.progress_every_s = ack_wait_s / 2
        self.keep_in_progress_s = keep_in_progress_s
        self.config = ConsumerConfig(
            durable_name=spec.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=UNLIMITED,
            ack_wait=ack_wait_s,
            max_ack_pending=max(1000, settings.batch_size * 10),
        )
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._handling = False  # messages in hand: a stop lets them be handled and settled
        self._handling_since = 0.0  # monotonic time the batch in hand was taken
        self._pull_errors = Pause(base_s=0.5, cap_s=5.0)

    async def start(self) -> None:
        if isinstance(self.spec.subject, str):
            self.config.filter_subject = self.spec.subject
        else:
            self.config.filter_subjects = list(self.spec.subject)
        # Create, or update an existing durable (e.g. one made with a finite max_deliver).
        await self.js.add_consumer(self.spec.stream, config=self.config)
        subscription = await self.js.pull_subscribe_bind(self.spec.durable, self.spec.stream)
        self._task = asyncio.create_task(self._run(subscription), name=f"consumer-{self.spec.durable}")

    @property
    def alive(self) -> bool:
        """Whether the pull loop runs (for the health check)."""
        return self._task is not None and not self._task.done()

    def held_s(self) -> float:
        """How long the batch in hand has been handled; 0 between batches."""
        return time.monotonic() - self._handling_since if self._handling else 0.0

    def stuck_s(self) -> float:
        """`held_s` once past `keep_in_progress_s`, else 0 (for the health check: a handler hung on a
        connection that never answers)."""
        held = self.held_s()
        return held if held > self.keep_in_progress_s else 0.0

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Finish the batch in hand (so its acks go out), then stop pulling."""
        self._stopping.set()
        if self._task is None:
            return
        if not self._handling:  # only waiting for messages: nothing in hand to finish
            self._task.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=timeout_s)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        except asyncio.CancelledError:
            pass

    async def _next_batch(self, subscription: JetStreamContext.PullSubscription) -> list[Msg]:
        try:
            batch = await subscription.fetch(batch=1, timeout=IDLE_WAIT_S)
        except (TimeoutError, NatsTimeoutError):
            return []
        self._handling = True
        self._handling_since = time.monotonic()
        batch += await self._drain(subscription, self.batch_size - len(batch))
        if self.spec.linger_s > 0 and len(batch) < self.batch_size:
            # Not a full batch waiting: let more come. With a backlog the batch is full at once and
            # nothing waits, so the linger never limits how fast a backlog drains.
            await self._rest(self.spec.linger_s)  # cut short by a stop: the batch in hand is handled
            batch += await self._drain(subscription, self.batch_size - len(batch))
        return batch

    async def _drain(self, subscription: JetStreamContext.PullSubscription, room: int) -> list[Msg]:
        """Whatever else is there (waiting at most `drain_s` for it), up to `room` messages."""
        return await fetch_available(subscription, room, self.drain_s)

    async def _rest(self, seconds: float) -> None:
        """Sleep, but wake at once when asked to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _handle(self, handle: BatchHandler, batch: Sequence[Msg]) -> None:
        keeper = asyncio.create_task(self._keep_in_progress(batch))
        try:
            await handle(batch)
        finally:
            keeper.cancel()

    async def _keep_in_progress(self, batch: Sequence[Msg]) -> None:
        """Every `progress_every_s` while the batch is in hand, up to `keep_in_progress_s`, tell the
        server its unsettled messages are being worked on (each such word restarts their ack_wait)."""
        for _ in range(int(self.keep_in_progress_s / self.progress_every_s)):
            await asyncio.sleep(self.progress_every_s)
            try:
                for msg in batch:
                    if not msg._ackd:
                        await msg.in_progress()
            except Exception as exc:  # the connection is down: the settling that follows will tell
                log.warning("consumer %s: could not extend a batch's ack_wait (%r)", self.spec.durable, exc)
        log.warning(
            "consumer %s: a batch of %d has been in hand for %.0f s; unless settled within %.0f s more,"
            " its messages go back to the stream for another replica",
            self.spec.durable,
            len(batch),
            self.keep_in_progress_s,
            self.progress_every_s * 2,
        )

    async def _run(self, subscription: JetStreamContext.PullSubscription) -> None:
        handle = self.spec.handle
        while not self._stopping.is_set():
            if isinstance(handle, Throttled) and (pause := handle.pause_s()) > 0:
                await self._rest(min(pause, 1.0))  # recheck: a success elsewhere may have cleared it
                continue
            try:
                try:
                    batch = await self._next_batch(subscription)
                    if batch:
                        await self._handle(handle, batch)
                finally:
                    self._handling = False
                self._pull_errors.succeeded()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The handler settles its own messages; anything else (a lost connection) is retried.
                delay = self._pull_errors.failed()
                if self._pull_errors.failures <= 3:
                    log.exception("consumer %s: pull failed; retrying in %.1f s", self.spec.durable, delay)
                else:
                    log.warning(
                        "consumer %s: pull still failing (%r); retrying in %.1f s", self.spec.durable, exc, delay
                    )
                await self._rest(delay)
