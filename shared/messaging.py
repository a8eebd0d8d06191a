"""JetStream plumbing shared by every consumer: streams, settling batches and dead letters.

Every consumer pulls batches (`consumer.py`) with manual acks: a message is acked only after its
effects are committed (or its output published), nacked with a growing delay on error (never TERM),
and parked in the dead-letter stream only for a permanent failure (`faults.py`): malformed, about an
unknown case, or failing `max_deliver` times for a reason that is not the store being unavailable.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from faststream.nats import JStream, NatsBroker
from nats.aio.msg import Msg
from pydantic import ValidationError

from hotline.shared import subjects
from hotline.shared.faults import PAUSE_CAP_S, Pause, backoff_s, is_permanent, is_transient
from hotline.shared.settings import Settings

log = logging.getLogger(__name__)

E = TypeVar("E")

CASES_STREAM = JStream(subjects.CASES_STREAM, subjects=list(subjects.CASES_SUBJECTS), declare=True)
DEADLETTER_STREAM = JStream(subjects.DEADLETTER_STREAM, subjects=list(subjects.DEADLETTER_SUBJECTS), declare=True)

MSG_ID_HEADER = "Nats-Msg-Id"


def create_broker(settings: Settings, *, service: str) -> NatsBroker:
    # Per-message logging costs ~40 µs a message; services log per batch instead.
    return NatsBroker(
        settings.nats_url,
        name=f"hotline-{service}",
        logger=None,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
    )


@dataclass(frozen=True, slots=True)
class Delivery(Generic[E]):
    msg: Msg
    event: E


async def publish_dead_letter(broker: NatsBroker, msg: Msg, *, consumer: str, error: str) -> None:
    """Copy a message we cannot process into the dead-letter stream, keeping its origin and reason."""
    seq = msg.metadata.sequence.stream if msg.reply else None
    headers = {
        "Hotline-Original-Subject": msg.subject,
        "Hotline-Consumer": consumer,
        "Hotline-Error": error[:1000],
        MSG_ID_HEADER: f"dl-{consumer}-{seq}" if seq is not None else f"dl-{consumer}-{id(msg)}",
    }
    if seq is not None:
        headers["Hotline-Stream-Seq"] = str(seq)
    await broker.publish(
        msg.data,
        subjects.deadletter_subject(msg.subject),
        headers=headers,
        stream=subjects.DEADLETTER_STREAM,
    )


class BatchProcessor(Generic[E]):
    """Decodes a batch, runs `process` on the valid part and settles every message.

    A transient failure (database or broker unavailable, `faults.is_transient`) naks the whole batch
    with an exponential delay from its delivery count and pauses the pull loop: such messages are
    never dead-lettered, however long the outage. Any other failure retries each message alone so
    one poison message cannot hold back its neighbours; a message that still fails is dead-lettered
    at once when the failure is permanent (malformed, unknown case), after `max_deliver` attempts
    otherwise (a bug we cannot tell from a glitch).
    """

    def __init__(
        self,
        *,
        broker: NatsBroker,
        decode: Callable[[bytes], E],
        consumer: str,
        process: Callable[[Sequence[Delivery[E]]], Awaitable[None]],
        settings: Settings,
    ) -> None:
        self.broker = broker
        self.decode = decode
        self.consumer = consumer
        self.process = process
        self.settings = settings
        self.pause = Pause(base_s=max(settings.nak_delay_s, 0.1), cap_s=min(PAUSE_CAP_S, settings.backoff_cap_s))

    def pause_s(self) -> float:
        """How long the pull loop should wait before pulling again (the store is unreachable)."""
        return self.pause.remaining_s()

    def delay_s(self, msg: Msg) -> float:
        return backoff_s(
            msg.metadata.num_delivered or 1, base_s=self.settings.nak_delay_s, cap_s=self.settings.backoff_cap_s
        )

    async def __call__(self, messages: Sequence[Msg]) -> None:
        deliveries: list[Delivery[E]] = []
        for msg in messages:
            try:
                deliveries.append(Delivery(msg, self.decode(msg.data)))
            except ValidationError as exc:
                log.warning("%s: malformed message on %s: %s", self.consumer, msg.subject, exc)
                await self._dead_letter(msg, f"malformed: {exc}")
        if not deliveries:
            return
        try:
            await self.process(deliveries)
        except Exception as exc:
            if is_transient(exc):
                await self._unavailable(deliveries, exc)
                return
            log.exception("%s: batch of %d failed; retrying one by one", self.consumer, len(deliveries))
            await self._one_by_one(deliveries)
            return
        self.pause.succeeded()
        for delivery in deliveries:
            await delivery.msg.ack()

    async def _unavailable(self, deliveries: Sequence[Delivery[E]], exc: BaseException) -> None:
        pause = self.pause.failed()
        log.warning(
            "%s: store or broker unavailable (%s: %s); %d message(s) back in the queue, pausing %.1f s",
            self.consumer,
            type(exc).__name__,
            str(exc)[:200],
            len(deliveries),
            pause,
        )
        for delivery in deliveries:
            await delivery.msg.nak(delay=self.delay_s(delivery.msg))

    async def _one_by_one(self, deliveries: Sequence[Delivery[E]]) -> None:
        for index, delivery in enumerate(deliveries):
            try:
                await self.process([delivery])
            except Exception as exc:
                if is_transient(exc):  # the rest would fail the same way: back off for all of them
                    await self._unavailable(deliveries[index:], exc)
                    return
                await self._failed(delivery.msg, exc)
            else:
                self.pause.succeeded()
                await delivery.msg.ack()

    async def _failed(self, msg: Msg, exc: Exception) -> None:
        delivered = msg.metadata.num_delivered or 1
        if is_permanent(exc):
            log.error("%s: cannot process %s: %r", self.consumer, msg.subject, exc)
            await self._dead_letter(msg, f"permanent: {exc!r}")
        elif delivered >= self.settings.max_deliver:
            log.error("%s: giving up on %s after %d deliveries: %r", self.consumer, msg.subject, delivered, exc)
            await self._dead_letter(msg, f"failed {delivered} times: {exc!r}")
        else:
            log.warning("%s: will retry %s (delivery %d): %r", self.consumer, msg.subject, delivered, exc)
            await msg.nak(delay=self.delay_s(msg))

    async def _dead_letter(self, msg: Msg, error: str) -> None:
        try:
            await publish_dead_letter(self.broker, msg, consumer=self.consumer, error=error)
        except Exception:
            # Without a dead-letter copy the message must stay in the stream: let it come back.
            log.exception("%s: could not dead-letter a message; nacking it", self.consumer)
            await msg.nak(delay=self.delay_s(msg))
            return
        await msg.ack()


async def declare_streams(js: Any) -> None:
    """Create the streams if missing (for processes that publish without FastStream subscribers).

    An existing stream is left as it is: FastStream may already have created it (adding the subjects
    of its subscribers), and an operator may have tuned limits.
    """
    from nats.js.api import StorageType, StreamConfig
    from nats.js.errors import NotFoundError

    for name, stream_subjects in (
        (subjects.CASES_STREAM, subjects.CASES_SUBJECTS),
        (subjects.DEADLETTER_STREAM, subjects.DEADLETTER_SUBJECTS),
        (subjects.NOTIFY_STREAM, subjects.NOTIFY_SUBJECTS),
    ):
        try:
            await js.stream_info(name)
        except NotFoundError:
            await js.add_stream(StreamConfig(name=name, subjects=list(stream_subjects), storage=StorageType.FILE))
