"""`fetch_available` against a real nats-server: what the consumer has, no more than asked, nothing lost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from hotline.natsserver import EmbeddedNats
from hotline.shared.pull import fetch_available


@pytest.fixture
async def pull(nats_server: EmbeddedNats) -> AsyncIterator[tuple[JetStreamContext, JetStreamContext.PullSubscription]]:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="PULLTEST", subjects=["pulltest.>"]))
    psub = await js.pull_subscribe(
        "pulltest.in", durable="pulltest", config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=30)
    )
    try:
        yield js, psub
    finally:
        await js.delete_stream("PULLTEST")
        await nc.close()


async def _publish(js: JetStreamContext, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        await js.publish("pulltest.in", str(i).encode())


async def _pull_until_some(psub: JetStreamContext.PullSubscription, room: int) -> list[Msg]:
    """Pull again (up to 50 times) until the consumer hands something over."""
    for _ in range(50):
        if got := await fetch_available(psub, room, 1.0):
            return got
    return []


async def test_takes_what_is_there_up_to_the_room_and_the_rest_next_time(
    pull: tuple[JetStreamContext, JetStreamContext.PullSubscription],
) -> None:
    js, psub = pull
    await _publish(js, 25)
    first = await fetch_available(psub, 10, 2.0)
    rest = await fetch_available(psub, 100, 2.0)
    assert [m.data for m in first] == [str(i).encode() for i in range(10)]
    assert [m.data for m in rest] == [str(i).encode() for i in range(10, 25)]
    for m in first + rest:
        await m.ack_sync()
    assert (await js.consumer_info("PULLTEST", "pulltest")).num_ack_pending == 0


async def test_an_empty_consumer_answers_at_once_with_nothing(
    pull: tuple[JetStreamContext, JetStreamContext.PullSubscription],
) -> None:
    _, psub = pull
    started = time.monotonic()
    assert await fetch_available(psub, 50, 5.0) == []
    # The server says "no messages" to a no-wait pull: nobody waits out the 5 s.
    assert time.monotonic() - started < 2.0
    assert await fetch_available(psub, 0, 5.0) == []


async def test_messages_arriving_after_a_short_wait_are_not_lost(
    pull: tuple[JetStreamContext, JetStreamContext.PullSubscription],
) -> None:
    js, psub = pull
    await _publish(js, 3)
    # A wait too short for the answer: whatever arrives later is taken by the next call.
    got = await fetch_available(psub, 3, 0.000001)
    await asyncio.sleep(0)
    for _ in range(50):
        if len(got) == 3:
            break
        got += await fetch_available(psub, 3 - len(got), 1.0)
    assert sorted(m.data for m in got) == [b"0", b"1", b"2"]
    # Taken messages leave the subscription's byte count balanced (a slow consumer is judged by it);
    # what may wait in its inbox are the server's "no messages" answers, read past next time.
    assert psub._sub._pending_size == 0
    assert await fetch_available(psub, 3, 1.0) == []


async def test_a_message_not_acked_comes_back_like_any_pull(
    pull: tuple[JetStreamContext, JetStreamContext.PullSubscription],
) -> None:
    js, psub = pull
    await _publish(js, 1)
    # On a busy machine a no-wait pull sent right after the publish is answered "no messages" now and
    # then (6 of 300 tries under two CPU hogs): the consumer had not yet counted the message. The next
    # pull takes it, as the pull loop's next round does in service.
    (msg,) = await _pull_until_some(psub, 5)
    await msg.nak()
    again = await _pull_until_some(psub, 5)
    assert [m.data for m in again] == [b"0"]
    assert again[0].metadata.num_delivered == 2


async def test_a_pull_the_server_holds_back_delivers_later_and_loses_nothing(nats_server: EmbeddedNats) -> None:
    # With max_ack_pending reached the server sends a no-wait pull nothing, at most a status (which
    # may end an earlier request): the call ends at that or at its timeout, a request may stay waiting
    # there, and what the server sends once acks free room arrives in the inbox for the next call.
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="HELDBACK", subjects=["heldback.>"]))
    try:
        psub = await js.pull_subscribe(
            "heldback.in",
            durable="heldback",
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=30, max_ack_pending=3),
        )
        for i in range(6):
            await js.publish("heldback.in", str(i).encode())
        first = await fetch_available(psub, 10, 1.0)
        assert [m.data for m in first] == [b"0", b"1", b"2"]
        assert await fetch_available(psub, 10, 0.3) == []  # held back
        for m in first:
            await m.ack_sync()
        later: list[Msg] = []
        for _ in range(50):
            later += await fetch_available(psub, 10, 0.2)
            if len(later) >= 3:
                break
        assert sorted(m.data for m in later) == [b"3", b"4", b"5"]
        for m in later:
            await m.ack_sync()
        assert (await js.consumer_info("HELDBACK", "heldback")).num_ack_pending == 0
    finally:
        await js.delete_stream("HELDBACK")
        await nc.close()
