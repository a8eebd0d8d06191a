"""The chaos suite's faults on the NATS side: filling the JetStream store (disk full) and forging
messages. Both talk to the suite's own loopback nats-server, as its admin or as a service user."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import nats

from hotline.bench import sample_received_events
from hotline.shared import subjects
from hotline.shared.events import CaseRouted, Channel, Severity
from hotline.shared.messaging import MSG_ID_HEADER

# The JetStream file store the chaos system runs with: small enough to fill in a moment, far larger
# than what the suite's cases take (a few MB in the long run).
STORE_LIMIT_BYTES = 64 * 1024 * 1024
BALLAST_STREAM = "CHAOS_BALLAST"
BALLAST_SUBJECT = "chaos.ballast"
_CHUNK = 512 * 1024
# nats-server's JSInsufficientResourcesErr: what a publish gets once the store is full.
INSUFFICIENT_RESOURCES = 10023


async def _fill(url: str) -> int:
    """Write ballast until the store refuses more (nats-server's "insufficient resources"); returns
    the bytes written."""
    from nats.js.api import StreamConfig
    from nats.js.errors import ServiceUnavailableError

    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name=BALLAST_STREAM, subjects=[BALLAST_SUBJECT]))
        written = 0
        while written <= 2 * STORE_LIMIT_BYTES:
            try:
                await js.publish(BALLAST_SUBJECT, b"\0" * _CHUNK)
            except ServiceUnavailableError as exc:
                if exc.err_code != INSUFFICIENT_RESOURCES:
                    raise
                return written
            written += _CHUNK
        raise RuntimeError("the JetStream store never filled up: is max_file_store set?")
    finally:
        await nc.close()


async def _free(url: str) -> None:
    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_stream(BALLAST_STREAM)
    finally:
        await nc.close()


def fill_store(url: str) -> int:
    return asyncio.run(_fill(url))


def free_store(url: str) -> None:
    asyncio.run(_free(url))


# -- forged messages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forged:
    """What was forged: the CASES stream sequence of each message and the (made-up) cases named."""

    seqs: frozenset[int]
    case_ids: frozenset[uuid.UUID]


def forged_routed() -> CaseRouted:
    """A well-formed `routed` event about a case that does not exist."""
    now = datetime.now(UTC)
    return CaseRouted(
        event_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        occurred_at=now,
        channel=Channel.HOTLINE,
        received_at=now,
        topic="城市管理",
        severity=Severity.MAJOR,
        unit_code="cgj",
        unit_name="城管局",
        reason="伪造",
    )


def forged_messages() -> list[tuple[str, bytes]]:
    """(subject, payload) of every forgery: well-formed events about cases that do not exist,
    malformed JSON, and JSON that is not the event's schema."""
    received = [(subjects.CASE_RECEIVED, e.model_dump_json().encode()) for e in sample_received_events(2)]
    routed = forged_routed()
    wrong_schema = json.dumps({"event_id": str(uuid.uuid4()), "case_id": str(uuid.uuid4()), "kind": "x"}).encode()
    return [
        *received,
        (subjects.CASE_ROUTED, routed.model_dump_json().encode()),
        (subjects.CASE_RECEIVED, b'{"case_id": "not json'),
        (subjects.CASE_ROUTED, b"\xff\xfe garbage"),
        (subjects.CASE_RECEIVED, wrong_schema),
        (subjects.CASE_CLASSIFIED, wrong_schema),
    ]


def case_id_in(payload: bytes | str) -> uuid.UUID | None:
    """The case a message names, if it parses and names one."""
    try:
        value = json.loads(payload)
        return uuid.UUID(str(value["case_id"]))
    except (ValueError, TypeError, KeyError):
        return None


async def _forge(url: str) -> Forged:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        seqs: set[int] = set()
        cases: set[uuid.UUID] = set()
        for subject, payload in forged_messages():
            ack = await js.publish(subject, payload, headers={MSG_ID_HEADER: f"forged-{uuid.uuid4()}"})
            seqs.add(ack.seq)
            if (case_id := case_id_in(payload)) is not None:
                cases.add(case_id)
        return Forged(frozenset(seqs), frozenset(cases))
    finally:
        await nc.close()


def forge(url: str) -> Forged:
    """Publish every forgery to the CASES stream (as whoever `url` authenticates)."""
    return asyncio.run(_forge(url))
