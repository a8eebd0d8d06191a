"""Transactional outbox: an event is stored in the same transaction as the change that caused it, and
a relay publishes stored events to JetStream afterwards. A crash between commit and publish only delays
the event; the relay publishes it on the next start. Publishing carries the event id as Nats-Msg-Id,
so a relay that published but crashed before marking the row publishes a duplicate that JetStream
drops (and consumers drop again by event id).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from itertools import zip_longest
from typing import Any, cast

from nats.js.errors import APIError
from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.shared.clock import Clock
from hotline.shared.db import OutboxRow, insert_ignoring_duplicates, transaction
from hotline.shared.events import CaseEvent
from hotline.shared.faults import is_transient
from hotline.shared.messaging import MSG_ID_HEADER
from hotline.shared.publishing import AsyncPublish, publish_stored
from hotline.shared.tasks import stop_task

log = logging.getLogger(__name__)
# Published rows are kept a week for investigations, then deleted (checked hourly).
KEEP_PUBLISHED = timedelta(days=7)
PRUNE_EVERY_S = 3600.0


async def enqueue(session: AsyncSession, *, source: str, events: Sequence[tuple[str, CaseEvent]], clock: Clock) -> None:
    """Store (subject, event) pairs for publishing; an event id already stored is ignored."""
    if not events:
        return
    now = clock.now()
    rows = [
        {
            "source": source,
            "subject": subject,
            "message_id": str(event.event_id),
            "case_id": event.case_id,
            "payload": event.model_dump_json(),
            "created_at": now,
            "published_at": None,
            "attempts": 0,
        }
        for subject, event in events
    ]
    await session.execute(insert_ignoring_duplicates(session, OutboxRow), rows)


def _case_key(row: Any) -> str:
    if row.case_id is not None:
        return str(row.case_id)
    try:  # a row stored before the outbox had the column
        return str(json.loads(row.payload).get("case_id", ""))
    except ValueError:
        return ""


# Built once, on the table: the relay reads and marks a batch up to a hundred times a second at 100
# calls/s. With the case read from its column instead of the payload, intake's CPU a call at that
# rate went from 5.3-5.5 to 4.9-5.2 ms (A/B, two rounds).
_OUTBOX = cast(Table, OutboxRow.__table__)
_PENDING = (
    select(_OUTBOX.c.id, _OUTBOX.c.subject, _OUTBOX.c.message_id, _OUTBOX.c.payload, _OUTBOX.c.case_id)
    .where(_OUTBOX.c.source == bindparam("source"), _OUTBOX.c.published_at.is_(None))
    .order_by(_OUTBOX.c.id)
    .limit(bindparam("limit"))
)
_MARK_PUBLISHED = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(published_at=bindparam("at", type_=_OUTBOX.c.published_at.type), attempts=_OUTBOX.c.attempts + 1)
)


# (subject, payload, message id) → published and acknowledged by JetStream, or raises.
Publish = Callable[[str, bytes, str], Awaitable[Any]]
# The same for several messages at once: returns when JetStream has stored every one, or raises.
PublishMany = Callable[[Sequence[tuple[str, bytes, str]]], Awaitable[None]]


# JetStream's answer while another publisher's message with the same id is still being stored: with
# two relays (two intake or escalation replicas) both publishing a pending row, one of them gets it.
DUPLICATE_IN_PROCESS = 10158


async def publish_once(js: Any, subject: str, payload: bytes, message_id: str, *, attempts: int = 50) -> Any:
    """Publish with the message id as Nats-Msg-Id; while the same id is in process elsewhere, ask again
    until JetStream acknowledges it as stored (or as a duplicate of the stored one). Taking the
    409 for success would mark a row published that the other relay may still fail to store."""
    for attempt in range(attempts):
        try:
            return await js.publish(subject, payload, headers={MSG_ID_HEADER: message_id})
        except APIError as exc:
            if exc.err_code != DUPLICATE_IN_PROCESS or attempt == attempts - 1:
                raise
            await asyncio.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def jetstream_publish(js: Any) -> Publish:
    async def publish(subject: str, payload: bytes, message_id: str) -> Any:
        return await publish_once(js, subject, payload, message_id)

    return publish


def jetstream_publish_many(js: AsyncPublish) -> PublishMany:
    """Several messages sent at once, their acknowledgements awaited together (`publishing.py`; `js`
    also publishes one message alone: a `StoredPublisher` or nats-py's JetStream context).
    While another relay is storing one of them, each is settled alone as `publish_once` does."""

    async def publish(messages: Sequence[tuple[str, bytes, str]]) -> None:
        try:
            await publish_stored(js, messages)
        except APIError as exc:
            if exc.err_code != DUPLICATE_IN_PROCESS:
                raise
            for subject, payload, message_id in messages:  # those stored already answer "duplicate"
                await publish_once(js, subject, payload, message_id)

    return publish


class OutboxRelay:
    """Publishes the pending outbox rows of one source, oldest first."""

    def __init__(
        self,
        *,
        publish: PublishMany,
        sessions: async_sessionmaker[AsyncSession],
        source: str,
        clock: Clock,
        batch_size: int = 500,
        idle_poll_s: float = 1.0,
        linger_s: float = 0.0,
        read_sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.publish = publish
        self.sessions = sessions
        # Pending rows are read without a writer's turn (on SQLite a writing engine's every
        # transaction queues for the file's write lock); only the mark that follows writes.
        self.read_sessions = read_sessions or sessions
        self.source = source
        self.clock = clock
        self.batch_size = batch_size
        self.idle_poll_s = idle_poll_s
        # After a wake-up, wait this long for more rows: under load one batch (one read, one update)
        # carries the events of many requests instead of one each.
        self.linger_s = linger_s
        self._next_prune = 0.0
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Tell the relay that rows were just committed (saves waiting for the next poll)."""
        self._wakeup.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.source}")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                published = await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_transient(exc):  # database or NATS away, or the JetStream store full: no traceback
                    why = f"{type(exc).__name__}: {str(exc)[:200]}"
                    log.warning("outbox relay %s: unavailable (%s); retrying", self.source, why)
                else:
                    log.exception("outbox relay %s: publishing failed; retrying", self.source)
                published = 0
                await asyncio.sleep(self.idle_poll_s)
            if time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + PRUNE_EVERY_S
                try:
                    await self.prune_published()
                except Exception:
                    log.exception("outbox relay %s: pruning failed; trying again later", self.source)
            if published < self.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=self.idle_poll_s)
                if self.linger_s and self._wakeup.is_set():
                    await asyncio.sleep(self.linger_s)
                self._wakeup.clear()

    async def prune_published(self, keep: timedelta = KEEP_PUBLISHED) -> int:
        """Delete rows published longer ago than `keep` (JetStream and the event log have them)."""
        async with transaction(self.sessions) as session:
            result = await session.execute(
                delete(OutboxRow).where(
                    OutboxRow.source == self.source,
                    OutboxRow.published_at.is_not(None),
                    OutboxRow.published_at < self.clock.now() - keep,
                )
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def publish_pending(self) -> int:
        """Publish one batch of pending rows; returns how many were published."""
        async with self.read_sessions() as session:
            rows = (await session.execute(_PENDING, {"source": self.source, "limit": self.batch_size})).all()
        if not rows:
            return 0
        # Cases are published together, each case's events in the order they were stored (a 受理 and
        # its 转接, or a step and its 回访, can share a batch and must not overtake each other): round
        # k sends the k-th event of every case, once every event of round k - 1 is stored.
        chains: defaultdict[str, list[Any]] = defaultdict(list)
        for row in rows:
            chains[_case_key(row)].append(row)
        for round_rows in zip_longest(*chains.values()):
            await self.publish([(r.subject, r.payload.encode(), r.message_id) for r in round_rows if r is not None])
        async with transaction(self.sessions) as session:
            await session.execute(_MARK_PUBLISHED, {"ids": [row.id for row in rows], "at": self.clock.now()})
        return len(rows)
