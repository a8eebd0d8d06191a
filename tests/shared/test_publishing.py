"""Publishing a batch's events against a real nats-server: stored, once, or an error to retry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import nats
import pytest
from nats.errors import TimeoutError as NatsTimeoutError

from hotline.natsserver import EmbeddedNats
from hotline.shared import subjects
from hotline.shared.events import CaseTracked
from hotline.shared.faults import is_transient
from hotline.shared.messaging import MSG_ID_HEADER, declare_streams
from hotline.shared.publishing import EventPublisher, publish_stored


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


async def test_nothing_to_publish_returns_at_once(nats_server: EmbeddedNats) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        await publish_stored(nc.jetstream(), [])
    finally:
        await nc.close()


async def test_an_unacknowledged_publish_raises_a_transient_error(nats_server: EmbeddedNats) -> None:
    """No stream takes the subject: JetStream never stores it, and the caller must not ack its batch."""
    nc = await nats.connect(nats_server.url)
    try:
        await declare_streams(nc.jetstream())
        with pytest.raises(Exception) as raised:  # which error nats reports varies with the server
            await publish_stored(nc.jetstream(), [("nowhere.v1.x", b"{}", "m-1")], timeout_s=0.5)
        assert is_transient(raised.value)
    finally:
        await nc.close()


async def test_a_broker_that_does_not_answer_in_time_is_a_nats_timeout(nats_server: EmbeddedNats) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await declare_streams(js)
        nats_server.stop()  # the publish is buffered for the reconnect; no acknowledgement comes
        with pytest.raises(NatsTimeoutError) as raised:
            await publish_stored(js, [(subjects.CASE_TRACKED, b"{}", "m-2")], timeout_s=0.3)
        assert is_transient(raised.value)
    finally:
        await nc.close()
