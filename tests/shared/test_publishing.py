"""Publishing a batch's events against a real nats-server: stored, once, or an error to retry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import nats
import pytest
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import APIError

from hotline.natsserver import EmbeddedNats
from hotline.shared import subjects
from hotline.shared.events import CaseTracked
from hotline.shared.faults import is_transient
from hotline.shared.messaging import MSG_ID_HEADER, declare_streams
from hotline.shared.publishing import EventPublisher, StoredPublisher, publish_stored


def _both(nc: nats.NATS, which: str) -> StoredPublisher | JetStreamContext:
    return StoredPublisher(nc) if which == "own" else nc.jetstream()


BOTH = pytest.mark.parametrize("which", ["own", "nats-py"])


def _tracked(n: int) -> list[CaseTracked]:
    now = datetime(2026, 11, 30, 8, tzinfo=UTC)
    return [
        CaseTracked(
            event_id=uuid.uuid4(),
            case_id=uuid.uuid4(),
            occurred_at=now,
            channel="hotline",
            received_at=now,
            unit_code="zjj",
            deadlines=[],
        )
        for _ in range(n)
    ]


async def test_every_event_is_stored_once_with_its_event_id(nats_server: EmbeddedNats) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await declare_streams(js)
        publisher = EventPublisher(lambda: nc, subjects.CASE_TRACKED)
        events = _tracked(250)
        await publisher.publish(events)
        await publisher.publish(events[:100])  # a batch published again after a failure
        info = await js.stream_info(subjects.CASES_STREAM)
        assert info.state.messages == 250
        sub = await js.pull_subscribe(subjects.CASE_TRACKED, durable="check")
        got = []
        while len(got) < 250:
            got += await sub.fetch(batch=250 - len(got), timeout=5)
        assert [m.headers[MSG_ID_HEADER] for m in got] == [str(e.event_id) for e in events]  # in order
        assert [CaseTracked.model_validate_json(m.data) for m in got] == events
    finally:
        await nc.close()


@BOTH
async def test_nothing_to_publish_returns_at_once(nats_server: EmbeddedNats, which: str) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        await publish_stored(_both(nc, which), [])
    finally:
        await nc.close()


@BOTH
async def test_an_unacknowledged_publish_raises_a_transient_error(nats_server: EmbeddedNats, which: str) -> None:
    """No stream takes the subject: JetStream never stores it, and the caller must not ack its batch."""
    nc = await nats.connect(nats_server.url)
    try:
        await declare_streams(nc.jetstream())
        with pytest.raises(Exception) as raised:  # which error nats reports varies with the server
            await publish_stored(_both(nc, which), [("nowhere.v1.x", b"{}", "m-1")], timeout_s=0.5)
        assert is_transient(raised.value)
    finally:
        await nc.close()


@BOTH
async def test_a_broker_that_does_not_answer_in_time_is_a_nats_timeout(nats_server: EmbeddedNats, which: str) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        js = _both(nc, which)
        await declare_streams(nc.jetstream())
        await publish_stored(js, [(subjects.CASE_TRACKED, b"{}", "m-1")])  # subscribed for its answers
        nats_server.stop()  # the publish is buffered for the reconnect; no acknowledgement comes
        with pytest.raises(NatsTimeoutError) as raised:
            await publish_stored(js, [(subjects.CASE_TRACKED, b"{}", "m-2")], timeout_s=0.3)
        assert is_transient(raised.value)
        if isinstance(js, StoredPublisher):
            assert js._waiting == {}  # nothing is kept for an answer that never came
    finally:
        await nc.close()


async def test_a_stream_refusing_a_message_raises_its_error(nats_server: EmbeddedNats) -> None:
    """JetStream's own refusal (here: the message names another stream) comes back as nats-py's APIError,
    with the code the outbox relay looks at (another relay storing the same id answers 10158)."""
    nc = await nats.connect(nats_server.url)
    try:
        await declare_streams(nc.jetstream())
        publisher = StoredPublisher(nc)
        with pytest.raises(APIError) as raised:
            await publisher.publish(subjects.CASE_TRACKED, b"{}", headers={"Nats-Expected-Stream": "ELSEWHERE"})
        assert raised.value.err_code == 10060
        await publisher.publish(subjects.CASE_TRACKED, b"{}", headers={MSG_ID_HEADER: "m-3"})
        info = await nc.jetstream().stream_info(subjects.CASES_STREAM)
        assert info.state.messages == 1
    finally:
        await nc.close()
