"""Group commit: new cases that arrive together are stored in one write transaction.

One database allows one writer at a time (SQLite outright; on PostgreSQL every commit waits for its
WAL flush), and a write transaction at intake lasts as long as its few statements' round trips
through a busy event loop. Storing each call in its own transaction capped the front door near the
number of transactions per second; here the calls that queued while one transaction ran are
inserted together by the next (cases, their outbox events and their client keys, one statement
each), and each caller learns the outcome of its own case. A batch that hits a unique key (a query
code drawn twice, a client key sent twice) is stored again case by case, so one collision fails
only its own case.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.shared.clock import Clock
from hotline.shared.db import CaseRow, IntakeKeyRow, transaction, writes_with_commit
from hotline.shared.events import CaseEvent
from hotline.shared.outbox import enqueue

MAX_BATCH = 200  # cases in one transaction: a burst is stored in a few, none holds the lock for long


@dataclass
class NewCase:
    """One case waiting to be stored: its columns, its events, the client's key."""

    columns: dict[str, Any]
    events: Sequence[tuple[str, CaseEvent]]
    client_key: str | None
    created_at: datetime
    stored: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class CaseBatches:
    """Stores new cases in shared transactions, one transaction at a time."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, *, source: str) -> None:
        self._sessions = sessions
        self._clock = clock
        self._source = source
        self._waiting: list[NewCase] = []
        self._writer: asyncio.Task[None] | None = None
        self.transactions = 0  # for tests and the curious: how many transactions stored the cases

    async def store(self, case: NewCase) -> None:
        """Return once `case` is committed; raise what its own insert raised (IntegrityError on a
        duplicate query code or client key)."""
        self._waiting.append(case)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting(), name="intake-case-batches")
        # Shielded: a caller that goes away (client disconnect) must not cancel the others' transaction.
        await asyncio.shield(case.stored)

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                await self._write(batch)
            except IntegrityError:
                for case in batch:
                    await self._write_alone(case)
            except BaseException as exc:
                for case in batch:
                    _settle(case, exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for case in batch:
                _settle(case, None)

    async def _write_alone(self, case: NewCase) -> None:
        try:
            await self._write([case])
        except BaseException as exc:
            _settle(case, exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
        else:
            _settle(case, None)

    async def _write(self, batch: Sequence[NewCase]) -> None:
        async with transaction(self._sessions) as session:
            # Nothing is read back: the transaction is one trip, its lock held only while SQLite works.
            await writes_with_commit(session)
            await session.execute(insert(CaseRow), [case.columns for case in batch])
            events = [event for case in batch for event in case.events]
            await enqueue(session, source=self._source, events=events, clock=self._clock)
            keys = [
                {"key": case.client_key, "case_id": case.columns["id"], "created_at": case.created_at}
                for case in batch
                if case.client_key is not None
            ]
            if keys:
                await session.execute(insert(IntakeKeyRow), keys)
        self.transactions += 1


def _settle(case: NewCase, exc: BaseException | None) -> None:
    if case.stored.done():
        return
    if exc is None:
        case.stored.set_result(None)
    else:
        case.stored.set_exception(exc)
