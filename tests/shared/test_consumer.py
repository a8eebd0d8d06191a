"""The pull consumer against a real nats-server: no JetStream give-up, and pauses while unavailable."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import nats
import nats.errors
import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from hotline.natsserver import EmbeddedNats
from hotline.shared.consumer import ConsumerSpec, PullConsumer
from hotline.shared.messaging import declare_streams
from hotline.shared.settings import Settings


@pytest.fixture
async def js(nats_server: EmbeddedNats) -> AsyncIterator[JetStreamContext]:
    """A JetStream context on the test's nats-server, the streams declared; closed after the test."""
    nc = await nats.connect(nats_server.url)
    try:
        context = nc.jetstream()
        await declare_streams(context)
        yield context
    finally:
        await nc.close()


async def test_an_existing_durable_with_a_finite_max_deliver_is_made_unlimited(js: JetStreamContext) -> None:
    old = ConsumerConfig(
        durable_name="old-v1", ack_policy=AckPolicy.EXPLICIT, max_deliver=8, filter_subject="case.v1.received"
    )
    await js.add_consumer("CASES", config=old)
    got: list[bytes] = []

    async def handle(messages: Sequence[Msg]) -> None:
        for m in messages:
            got.append(m.data)
            await m.ack()

    consumer = PullConsumer(js, ConsumerSpec("CASES", "case.v1.received", "old-v1", handle), Settings())
    await consumer.start()
    try:
        assert (await js.consumer_info("CASES", "old-v1")).config.max_deliver == -1
        await js.publish("case.v1.received", b"x")
        for _ in range(200):
            if got:
                break
            await asyncio.sleep(0.05)
        assert got == [b"x"]
    finally:
        await consumer.stop()


class Paused:
    def __init__(self) -> None:
        self.calls = 0
        self.remaining = 3600.0

    def pause_s(self) -> float:
        return self.remaining

    async def __call__(self, messages: Sequence[Msg]) -> None:
        self.calls += 1
        for m in messages:
            await m.ack()


async def test_the_pull_loop_holds_back_while_the_handler_asks_for_a_pause(js: JetStreamContext) -> None:
    handler = Paused()
    consumer = PullConsumer(js, ConsumerSpec("CASES", "case.v1.received", "paused-v1", handler), Settings())
    await consumer.start()
    try:
        await js.publish("case.v1.received", b"x")
        await asyncio.sleep(0.5)  # would be a fetch within milliseconds without the pause
        assert handler.calls == 0
        handler.remaining = 0.0
        for _ in range(600):  # the loop rechecks the pause at least every second
            if handler.calls:
                break
            await asyncio.sleep(0.05)
        assert handler.calls == 1
    finally:
        await consumer.stop()


class Batches:
    def __init__(self) -> None:
        self.sizes: list[int] = []

    async def __call__(self, messages: Sequence[Msg]) -> None:
        self.sizes.append(len(messages))
        for m in messages:
            await m.ack()


async def _until(condition: Callable[[], bool], seconds: float) -> None:
    """Wait on progress: until `condition()` holds, or fail after `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "no progress"
        await asyncio.sleep(0.01)


async def test_a_lingering_consumer_gathers_what_comes_meanwhile_and_a_stop_settles_it(
    js: JetStreamContext,
) -> None:
    handler = Batches()
    spec = ConsumerSpec("CASES", "case.v1.received", "linger-v1", handler, linger_s=30.0)
    # A top-up that may wait 5 s for what is there: with the default 10 ms a busy machine's fetch
    # returned after two of the five (the rest are redelivered, not lost, but this test is about the
    # batch in hand). The fetch returns as soon as the stream has nothing more, so nothing waits 5 s.
    consumer = PullConsumer(js, spec, Settings(HOTLINE_BATCH_TIMEOUT=5.0))
    await consumer.start()
    try:
        await js.publish("case.v1.received", b"first")
        await _until(lambda: consumer._handling, 10)  # the first is in hand; the consumer lingers
        for n in range(4):
            await js.publish("case.v1.received", f"later {n}".encode())
        assert handler.sizes == []
        await consumer.stop()  # long before the linger ends: the batch in hand is handled, not dropped
        assert handler.sizes == [5]
        # Acked, not left for redelivery: the server counts the acks within moments (ack_wait is 10 s).
        await _until_async(lambda: _no_ack_pending(js, "linger-v1"), 5)
    finally:
        await consumer.stop()


async def test_a_backlog_drains_in_full_batches_without_lingering(js: JetStreamContext) -> None:
    for n in range(30):
        await js.publish("case.v1.received", f"{n}".encode())
    handler = Batches()
    spec = ConsumerSpec("CASES", "case.v1.received", "backlog-v1", handler, linger_s=30.0)
    # The top-up may wait 5 s for the server's answer: with the default 10 ms a busy CI machine's top-up
    # returned with part of a batch, which then lingered (in service a linger of 10 ms, here 30 s). The
    # answer to a backlog ends as soon as the batch is full, so nothing waits the 5 s.
    consumer = PullConsumer(js, spec, Settings(HOTLINE_BATCH_SIZE=10, HOTLINE_BATCH_TIMEOUT=5.0))
    await consumer.start()
    try:
        # Three full batches, long before a single linger could end.
        await _until(lambda: sum(handler.sizes) == 30, 20)
        assert handler.sizes == [10, 10, 10]
    finally:
        await consumer.stop()


class Held:
    """Takes one batch and holds it until released, then acks it."""

    def __init__(self) -> None:
        self.batches: list[list[bytes]] = []
        self.release = asyncio.Event()

    async def __call__(self, messages: Sequence[Msg]) -> None:
        self.batches.append([m.data for m in messages])
        await self.release.wait()
        for m in messages:
            await m.ack()


async def test_a_batch_held_past_ack_wait_is_not_redelivered_meanwhile(js: JetStreamContext) -> None:
    for n in range(3):
        await js.publish("case.v1.received", f"{n}".encode())
    handler = Held()
    spec = ConsumerSpec("CASES", "case.v1.received", "held-v1", handler)
    consumer = PullConsumer(js, spec, Settings(HOTLINE_BATCH_TIMEOUT=5.0), ack_wait_s=2.0)
    await consumer.start()
    other = await js.pull_subscribe_bind("held-v1", "CASES")
    try:
        await _until(lambda: len(handler.batches) == 1, 20)
        # Two and a half ack_waits with the batch in hand: without word that it is being worked on,
        # the server would hand its messages to the next pull, here another subscriber's.
        await asyncio.sleep(5.0)
        with pytest.raises((TimeoutError, nats.errors.TimeoutError)):
            await other.fetch(1, timeout=1.0)
        handler.release.set()
        await _until(lambda: consumer._handling is False, 20)
        assert handler.batches == [[b"0", b"1", b"2"]]
        await _until_async(lambda: _no_ack_pending(js, "held-v1"), 20)
    finally:
        handler.release.set()
        await other.unsubscribe()
        await consumer.stop()


async def _no_ack_pending(js: JetStreamContext, durable: str) -> bool:
    return (await js.consumer_info("CASES", durable)).num_ack_pending == 0


async def _until_async(condition: Callable[[], Awaitable[bool]], seconds: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await condition():
        assert loop.time() < deadline, "no progress"
        await asyncio.sleep(0.05)


async def test_a_hung_batch_is_kept_only_so_long_then_goes_back_to_the_stream(
    js: JetStreamContext, caplog: pytest.LogCaptureFixture
) -> None:
    await js.publish("case.v1.received", b"stuck")
    handler = Held()  # never released: a handler hung on a connection that does not answer
    spec = ConsumerSpec("CASES", "case.v1.received", "hung-v1", handler)
    consumer = PullConsumer(js, spec, Settings(), ack_wait_s=1.0, keep_in_progress_s=2.0)
    await consumer.start()
    other = await js.pull_subscribe_bind("hung-v1", "CASES")
    try:
        await _until(lambda: len(handler.batches) == 1, 20)
        taken: list[Msg] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not taken:  # another replica gets it once the keeping stops and ack_wait passes
            assert loop.time() < deadline, "the hung batch was never handed to anyone else"
            with contextlib.suppress(TimeoutError, nats.errors.TimeoutError):
                taken = await other.fetch(1, timeout=1.0)
        assert [m.data for m in taken] == [b"stuck"] and taken[0].metadata.num_delivered == 2
        assert any("has been in hand for 2 s" in r.getMessage() for r in caplog.records)
        assert consumer.stuck_s() > 2.0  # the health check names it
        handler.release.set()
        await _until(lambda: not consumer._handling, 20)
        assert consumer.stuck_s() == 0.0
    finally:
        handler.release.set()
        await other.unsubscribe()
        await consumer.stop()
