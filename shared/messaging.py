"""JetStream plumbing shared by every consumer: streams, settling batches and dead letters.

Every consumer pulls batches (`consumer.py`) with manual acks: a message is acked only after its
effects are committed (or its output published), nacked with a growing delay on error (never TERM),
and parked in the dead-letter stream only for a permanent failure (`faults.py`): malformed, about an
unknown case, or failing `max_deliver` times for a reason that is not the store being unavailable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from faststream.nats import JStream, NatsBroker
from nats.aio.msg import Msg
from pydantic import ValidationError

from hotline.shared import metrics, subjects
from hotline.shared.faults import PAUSE_CAP_S, Pause, backoff_s, is_permanent, is_transient
from hotline.shared.settings import Settings

log = logging.getLogger(__name__)

E = TypeVar("E")
T = TypeVar("T")


def cases_stream() -> JStream:
    """The CASES stream as FastStream publishers name it. Never declared by them: streams are
    created and scaled by the provisioning step (`provision.py`, with the admin's credentials), and a
    service's NATS user may not create or update them."""
    return JStream(subjects.CASES_STREAM, declare=False)


MSG_ID_HEADER = "Nats-Msg-Id"


def create_broker(settings: Settings, *, service: str) -> NatsBroker:
    # Per-message logging costs ~40 µs a message; services log per batch instead.
    return NatsBroker(
        settings.nats_servers,
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
    never dead-lettered, however long the outage. Any other failure retries the batch's halves apart,
    and theirs, down to single messages, so one poison message cannot hold back its neighbours (and
    costs about 2·log2(n) attempts, not n: a batch holds up to 500); a message that still fails alone
    is dead-lettered at once when the failure is permanent (malformed, unknown case), after
    `max_deliver` attempts otherwise (a bug we cannot tell from a glitch).
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
        metrics.BATCH_MESSAGES.labels(self.consumer).observe(len(messages))
        with metrics.HANDLER_SECONDS.labels(self.consumer).time():
            await self._settle(messages)

    async def _settle(self, messages: Sequence[Msg]) -> None:
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
            metrics.HANDLER_ERRORS.labels(self.consumer).inc()
            log.exception("%s: batch of %d failed; retrying its halves apart", self.consumer, len(deliveries))
            await self._apart(deliveries, exc)
            return
        await self._done(deliveries)

    async def _done(self, deliveries: Sequence[Delivery[E]]) -> None:
        self.pause.succeeded()
        for delivery in deliveries:
            await delivery.msg.ack()
        metrics.MESSAGES.labels(self.consumer, "acked").inc(len(deliveries))
        if log.isEnabledFor(logging.DEBUG):  # a case's path through every service (HOTLINE_LOG_LEVEL=DEBUG)
            for delivery in deliveries:
                where = {"case_id": _case_id(delivery.event)}
                log.debug("%s: done %s", self.consumer, delivery.msg.subject, extra=where)

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

    async def _apart(self, deliveries: Sequence[Delivery[E]], failure: Exception) -> None:
        """Settle a batch that failed with `failure`: its halves are processed apart, each half that
        fails split again, in the batch's order, down to single messages, which `_failed` settles."""
        parts: list[tuple[Sequence[Delivery[E]], Exception | None]] = [(deliveries, failure)]
        while parts:
            part, failed_with = parts.pop(0)
            if failed_with is None:
                try:
                    await self.process(part)
                except Exception as exc:
                    if is_transient(exc):  # the rest would fail the same way: back off for all of them
                        await self._unavailable([d for p, _ in [(part, None), *parts] for d in p], exc)
                        return
                    metrics.HANDLER_ERRORS.labels(self.consumer).inc()
                    failed_with = exc
                else:
                    await self._done(part)
                    continue
            if len(part) == 1:
                await self._failed(part[0].msg, failed_with, case_id=_case_id(part[0].event))
            else:
                middle = (len(part) + 1) // 2
                parts[:0] = [(part[:middle], None), (part[middle:], None)]

    async def _failed(self, msg: Msg, exc: Exception, *, case_id: str | None = None) -> None:
        delivered = msg.metadata.num_delivered or 1
        where = {"case_id": case_id} if case_id else {}
        if is_permanent(exc):
            log.error("%s: cannot process %s: %r", self.consumer, msg.subject, exc, extra=where)
            await self._dead_letter(msg, f"permanent: {exc!r}")
        elif delivered >= self.settings.max_deliver:
            log.error(
                "%s: giving up on %s after %d deliveries: %r", self.consumer, msg.subject, delivered, exc, extra=where
            )
            await self._dead_letter(msg, f"failed {delivered} times: {exc!r}")
        else:
            log.warning("%s: will retry %s (delivery %d): %r", self.consumer, msg.subject, delivered, exc, extra=where)
            await msg.nak(delay=self.delay_s(msg))
            metrics.MESSAGES.labels(self.consumer, "retried").inc()

    async def _dead_letter(self, msg: Msg, error: str) -> None:
        try:
            await publish_dead_letter(self.broker, msg, consumer=self.consumer, error=error)
        except Exception:
            # Without a dead-letter copy the message must stay in the stream: let it come back.
            log.exception("%s: could not dead-letter a message; nacking it", self.consumer)
            await msg.nak(delay=self.delay_s(msg))
            metrics.MESSAGES.labels(self.consumer, "retried").inc()
            return
        await msg.ack()
        metrics.MESSAGES.labels(self.consumer, "dead_lettered").inc()


def _case_id(event: object) -> str | None:
    case_id = getattr(event, "case_id", None)
    return str(case_id) if case_id is not None else None


async def patiently(
    action: Callable[[], Awaitable[T]], *, what: str, patience_s: float = 60.0, retry_every_s: float = 1.0
) -> T:
    """Run a JetStream API call again while the cluster is still electing leaders: services and
    their replicas starting together with (or just after losing) a node see API timeouts for a
    few seconds."""
    from nats.errors import TimeoutError as NatsTimeoutError
    from nats.js.errors import ServiceUnavailableError

    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience_s
    while True:
        try:
            return await action()
        except (NatsTimeoutError, ServiceUnavailableError) as exc:
            if loop.time() > deadline:
                raise
            log.warning("JetStream not ready for %s (%r); trying again", what, exc)
            await asyncio.sleep(retry_every_s)


async def declare_streams(js: Any, *, replicas: int = 1, scale: bool = True) -> None:
    """The provisioning step (`scale`) or a service starting (`scale=False`): see `ensure_streams`."""
    await patiently(lambda: ensure_streams(js, replicas=replicas, scale=scale), what="declaring the streams")


async def ensure_streams(js: Any, *, replicas: int = 1, scale: bool = True) -> None:
    """Create the streams if missing; with `scale`, set their replica count.

    The provisioning step (`hotline up`, `hotline init`, as the NATS admin) does both. Services only
    look (STREAM.INFO is all their NATS users may do to a stream): on an open NATS without that step
    (development, in-process tests) they create a missing stream themselves; under credentials that
    is refused, and they wait for the provisioning step (`patiently`).

    An existing stream keeps its subjects and limits (an operator may have tuned limits); only its
    replica count follows HOTLINE_STREAM_REPLICAS, so that raising it on a grown cluster takes effect
    (JetStream copies the data to the new replicas).
    """
    from nats.js.api import StorageType, StreamConfig
    from nats.js.errors import NotFoundError

    for name, stream_subjects in zip(
        subjects.STREAMS, (subjects.CASES_SUBJECTS, subjects.DEADLETTER_SUBJECTS, subjects.NOTIFY_SUBJECTS), strict=True
    ):
        try:
            info = await js.stream_info(name)
        except NotFoundError:
            config = StreamConfig(
                name=name, subjects=list(stream_subjects), storage=StorageType.FILE, num_replicas=replicas
            )
            try:
                await js.add_stream(config)
            except Exception as exc:
                # Another replica of a service may have created it at the same moment. If not, this
                # user may not create streams (a denied request times out): `patiently` asks again
                # until the provisioning step has made it.
                try:
                    await js.stream_info(name)
                except NotFoundError:
                    raise exc from None
            continue
        if scale and (info.config.num_replicas or 1) != replicas:
            log.warning("stream %s: replicas %s → %d", name, info.config.num_replicas, replicas)
            info.config.num_replicas = replicas
            await js.update_stream(info.config)
