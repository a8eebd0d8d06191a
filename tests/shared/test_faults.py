"""Which failures are retried forever and which are dead-lettered, and how the batch settles them."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import nats.errors
import pytest
from faststream.nats import NatsBroker
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from hotline.shared.faults import Pause, UnknownCaseError, backoff_s, is_permanent, is_transient
from hotline.shared.messaging import BatchProcessor, Delivery
from hotline.shared.settings import Settings


class Event(BaseModel):
    n: int


def validation_error() -> ValidationError:
    try:
        Event.model_validate({"n": "x"})
    except ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


def wrapped(inner: BaseException) -> BaseException:
    """An error raised while handling another, as drivers chain them."""
    try:
        try:
            raise inner
        except BaseException as cause:
            raise RuntimeError("while processing the batch") from cause
    except RuntimeError as exc:
        return exc


TRANSIENT = [
    OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked")),
    OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "Connect call failed")),
    DBAPIError("SELECT 1", {}, Exception("connection was closed"), connection_invalidated=True),
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    ConnectionRefusedError(111, "refused"),
    ConnectionResetError(104, "reset"),
    TimeoutError(),
    nats.errors.TimeoutError(),
    nats.errors.NoRespondersError(),
    nats.errors.ConnectionClosedError(),
    wrapped(ConnectionResetError(104, "reset")),
]
PERMANENT = [validation_error(), UnknownCaseError("case 42 is not in the store"), wrapped(UnknownCaseError("x"))]
NEITHER = [
    OperationalError("SELECT x", {}, sqlite3.OperationalError("no such table: cases")),
    IntegrityError("INSERT", {}, Exception("NOT NULL constraint failed")),
    ZeroDivisionError(),
    RuntimeError("a bug"),
]


@pytest.mark.parametrize("exc", TRANSIENT, ids=lambda e: type(e).__name__)
def test_unavailable_store_or_broker_is_transient(exc: BaseException) -> None:
    assert is_transient(exc) and not is_permanent(exc)


@pytest.mark.parametrize("exc", PERMANENT, ids=lambda e: type(e).__name__)
def test_bad_input_is_permanent(exc: BaseException) -> None:
    assert is_permanent(exc) and not is_transient(exc)


@pytest.mark.parametrize("exc", NEITHER, ids=lambda e: type(e).__name__)
def test_bugs_and_schema_errors_are_neither(exc: BaseException) -> None:
    assert not is_transient(exc) and not is_permanent(exc)


def test_backoff_doubles_from_one_second_and_is_capped() -> None:
    assert [backoff_s(n) for n in (0, 1, 2, 3, 4, 6, 7, 8, 100, 10**6)] == [1, 1, 2, 4, 8, 32, 60, 60, 60, 60]
    assert backoff_s(3, base_s=0.5, cap_s=1.5) == 1.5


def test_pause_doubles_while_failing_and_clears_on_success() -> None:
    now = [100.0]
    pause = Pause(base_s=1, cap_s=4, monotonic=lambda: now[0])
    assert pause.remaining_s() == 0
    assert [pause.failed() for _ in range(4)] == [1, 2, 4, 4]
    assert pause.remaining_s() == 4
    now[0] += 3
    assert pause.remaining_s() == 1
    pause.succeeded()
    assert pause.remaining_s() == 0 and pause.failures == 0


@dataclass
class FakeMsg:
    data: bytes
    delivered: int = 1
    subject: str = "case.v1.received"
    reply: str = ""
    headers: dict[str, str] | None = None
    settled: list[tuple[str, float | None]] = field(default_factory=list)

    @property
    def metadata(self) -> Any:
        return SimpleNamespace(num_delivered=self.delivered, sequence=SimpleNamespace(stream=7))

    async def ack(self) -> None:
        self.settled.append(("ack", None))

    async def nak(self, delay: float | None = None) -> None:
        self.settled.append(("nak", delay))


@dataclass
class FakeBroker:
    published: list[dict[str, Any]] = field(default_factory=list)

    async def publish(self, data: bytes, subject: str, **kwargs: Any) -> None:
        self.published.append({"subject": subject, **kwargs})


def batch_processor(
    broker: FakeBroker, process: Callable[[Any], Awaitable[None]], *, max_deliver: int = 8
) -> BatchProcessor[Event]:
    settings = Settings(HOTLINE_MAX_DELIVER=max_deliver, HOTLINE_NAK_DELAY=1.0, HOTLINE_BACKOFF_MAX=60.0)  # type: ignore[call-arg]
    return BatchProcessor(
        broker=cast(NatsBroker, broker),
        decode=Event.model_validate_json,
        consumer="test",
        process=process,
        settings=settings,
    )


def processor(
    broker: FakeBroker, failure: BaseException | None, *, max_deliver: int = 8
) -> tuple[BatchProcessor[Event], list[int]]:
    seen: list[int] = []

    async def process(deliveries: Any) -> None:
        seen.extend(d.event.n for d in cast(list[Delivery[Event]], deliveries))
        if failure is not None:
            raise failure

    return batch_processor(broker, process, max_deliver=max_deliver), seen


async def test_an_unavailable_database_naks_with_backoff_and_never_dead_letters() -> None:
    broker = FakeBroker()
    batch, seen = processor(broker, TRANSIENT[0])
    messages = [FakeMsg(b'{"n": 1}', delivered=1), FakeMsg(b'{"n": 2}', delivered=50)]
    await batch(cast(Any, messages))
    assert seen == [1, 2]  # tried once as a batch, not one by one against a dead database
    assert [m.settled for m in messages] == [[("nak", 1.0)], [("nak", 60.0)]]
    assert broker.published == []
    assert batch.pause_s() > 0  # the pull loop holds back
    ok, _ = processor(broker, None)
    await ok(cast(Any, [msg := FakeMsg(b'{"n": 3}', delivered=1000)]))
    assert msg.settled == [("ack", None)] and ok.pause_s() == 0


async def test_a_permanent_failure_is_dead_lettered_at_once_with_its_reason() -> None:
    broker = FakeBroker()
    batch, _ = processor(broker, UnknownCaseError("case 42 is not in the store"))
    await batch(cast(Any, [msg := FakeMsg(b'{"n": 1}')]))
    assert msg.settled == [("ack", None)]
    [letter] = broker.published
    assert letter["subject"] == "deadletter.v1.case.v1.received"
    assert "permanent" in letter["headers"]["Hotline-Error"] and "case 42" in letter["headers"]["Hotline-Error"]


async def test_malformed_messages_are_dead_lettered_and_their_neighbours_processed() -> None:
    broker = FakeBroker()
    batch, seen = processor(broker, None)
    good, bad = FakeMsg(b'{"n": 1}'), FakeMsg("这不是 JSON".encode())
    await batch(cast(Any, [good, bad]))
    assert seen == [1] and good.settled == [("ack", None)] and bad.settled == [("ack", None)]
    assert "malformed" in broker.published[0]["headers"]["Hotline-Error"]


async def test_a_bug_is_retried_with_backoff_then_dead_lettered_after_max_deliver() -> None:
    broker = FakeBroker()
    batch, _ = processor(broker, ZeroDivisionError("bug"), max_deliver=4)
    early = FakeMsg(b'{"n": 1}', delivered=3)
    await batch(cast(Any, [early]))
    assert early.settled == [("nak", 4.0)] and broker.published == []
    last = FakeMsg(b'{"n": 1}', delivered=4)
    await batch(cast(Any, [last]))
    assert last.settled == [("ack", None)]
    assert "failed 4 times" in broker.published[0]["headers"]["Hotline-Error"]


def poisoned_processor(
    broker: FakeBroker, poison: set[int], failure: Exception
) -> tuple[BatchProcessor[Event], list[list[int]]]:
    """A processor whose every batch holding one of the `poison` events fails with `failure`."""
    attempts: list[list[int]] = []

    async def process(deliveries: Any) -> None:
        numbers = [d.event.n for d in cast(list[Delivery[Event]], deliveries)]
        attempts.append(numbers)
        if poison.intersection(numbers):
            raise failure

    return batch_processor(broker, process), attempts


async def test_a_poison_message_in_a_full_batch_is_found_by_halving_and_its_neighbours_go_on() -> None:
    broker = FakeBroker()
    batch, attempts = poisoned_processor(broker, {37}, UnknownCaseError("case 37 is not in the store"))
    messages = [FakeMsg(f'{{"n": {n}}}'.encode()) for n in range(500)]
    await batch(cast(Any, messages))
    # The batch, then two halves at each of nine levels (500, 250, ... 2): not 501 attempts one by one.
    assert len(attempts) <= 1 + 2 * 9
    assert [m.settled for m in messages] == [[("ack", None)]] * 500
    [letter] = broker.published  # the poison is dead-lettered (acked from the stream), the rest processed once
    assert "case 37" in letter["headers"]["Hotline-Error"]
    processed = [n for numbers in attempts if 37 not in numbers for n in numbers]
    assert sorted(processed) == [n for n in range(500) if n != 37]  # each neighbour once, in the batch's order
    assert processed == sorted(processed)


async def test_a_store_lost_while_halving_puts_back_all_that_was_not_yet_settled() -> None:
    broker = FakeBroker()
    failures: list[Exception] = [ZeroDivisionError("bug"), TRANSIENT[0]]
    attempts: list[list[int]] = []

    async def process(deliveries: Any) -> None:
        attempts.append([d.event.n for d in cast(list[Delivery[Event]], deliveries)])
        if len(attempts) <= len(failures):
            raise failures[len(attempts) - 1]

    batch = batch_processor(broker, process)
    messages = [FakeMsg(f'{{"n": {n}}}'.encode()) for n in range(4)]
    await batch(cast(Any, messages))
    assert attempts == [[0, 1, 2, 3], [0, 1]]  # the whole batch (a bug), then its first half (store gone)
    assert [m.settled for m in messages] == [[("nak", 1.0)]] * 4 and broker.published == []
    assert batch.pause_s() > 0
