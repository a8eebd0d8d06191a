"""The pull consumer against a real nats-server: no JetStream give-up, and pauses while unavailable."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import nats
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig

from hotline.natsserver import EmbeddedNats
from hotline.shared.consumer import ConsumerSpec, PullConsumer
from hotline.shared.messaging import declare_streams
from hotline.shared.settings import Settings


async def test_an_existing_durable_with_a_finite_max_deliver_is_made_unlimited(nats_server: EmbeddedNats) -> None:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await declare_streams(js)
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
        await nc.close()


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


async def test_the_pull_loop_holds_back_while_the_handler_asks_for_a_pause(nats_server: EmbeddedNats) -> None:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await declare_streams(js)
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
        await nc.close()
