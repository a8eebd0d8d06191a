"""Group commit: new cases that arrive together are stored in one write transaction.

One database allows one writer at a time (SQLite outright; on PostgreSQL every commit waits for its
WAL flush), and a write transaction at intake lasts as long as its few statements' round trips
through a busy event loop. Storing each call in its own transaction capped the front door near the
number of transactions per second; here the calls that queued while one transaction ran are
inserted together by the next (cases, their outbox events and their client keys, one statement
each), and each caller learns the outcome of its own case. A batch that hits a unique key (a query
code drawn twice, a client key sent twice) is stored again case by case, so one collision fails
only its own case. A repeat (重复来电) is counted on its open case in the same transactions, by one
`UPDATE … RETURNING` each: at 300 calls/s a sixth of the calls were repeats, and each was a write
transaction of its own, queueing for SQLite's one writer like a batch of new cases.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.shared.clock import Clock
from hotline.shared.db import CaseRow, IntakeKeyRow, transaction, writes_with_commit
from hotline.shared.events import CaseEvent
from hotline.shared.outbox import enqueue

MAX_BATCH = 200  # cases in one transaction: a burst is stored in a few, none holds the lock for long

# One statement counts a repeat and reads back what its event and the caller's answer need.
COUNT_REPEAT = (
    update(CaseRow)
    .where(CaseRow.id == bindparam("case_id"))
    .values(repeat_count=CaseRow.repeat_count + 1, updated_at=bindparam("now"))
    .returning(
        CaseRow.id, CaseRow.query_code, CaseRow.status, CaseRow.channel, CaseRow.received_at, CaseRow.repeat_count
    )
)


@dataclass
class NewCase:
    """One case waiting to be stored: its columns, its events, the client's key."""

    columns: dict[str, Any]
    events: Sequence[tuple[str, CaseEvent]]
    client_key: str | None
    created_at: datetime
    stored: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass
class RepeatLink:
    """A repeat waiting to be counted on its open case; `events_of` makes its events from the counted
    case. Resolves to the counted case, or None if the case is gone."""

    case_id: uuid.UUID
    events_of: Callable[[CaseRow], Sequence[tuple[str, CaseEvent]]]
    client_key: str | None
    created_at: datetime
    counted: asyncio.Future[CaseRow | None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


Waiting = NewCase | RepeatLink


class CaseBatches:
    """Stores new cases in shared transactions, one transaction at a time."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, *, source: str) -> None:
        self._sessions = sessions
        self._clock = clock
        self._source = source
        self._waiting: list[Waiting] = []
        self._writer: asyncio.Task[None] | None = None
        self.transactions = 0  # for tests and the curious: how many transactions stored the cases

    async def store(self, case: NewCase) -> None:
        """Return once `case` is committed; raise what its own insert raised (IntegrityError on a
        duplicate query code or client key)."""
        self._enqueue(case)
        # Shielded: a caller that goes away (client disconnect) must not cancel the others' transaction.
        await asyncio.shield(case.stored)

    async def link(self, repeat: RepeatLink) -> CaseRow | None:
        """Count `repeat` on its case once committed: the counted case, or None if it is gone. Raises
        what its own writes raised (IntegrityError on a client key sent twice)."""
        self._enqueue(repeat)
        return await asyncio.shield(repeat.counted)

    def _enqueue(self, item: Waiting) -> None:
        self._waiting.append(item)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting(), name="intake-case-batches")

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                counted = await self._write(batch)
            except IntegrityError:
                for item in batch:
                    await self._write_alone(item)
            except BaseException as exc:
                for item in batch:
                    _settle(item, exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            else:
                for item in batch:
                    _settle(item, None, counted)

    async def _write_alone(self, item: Waiting) -> None:
        try:
            counted = await self._write([item])
        except BaseException as exc:
            _settle(item, exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
        else:
            _settle(item, None, counted)

    async def _write(self, batch: Sequence[Waiting]) -> dict[int, CaseRow | None]:
        """Store the batch in one transaction; the case each repeat was counted on, by the repeat's id()."""
        new = [item for item in batch if isinstance(item, NewCase)]
        counted: dict[int, CaseRow | None] = {}
        async with transaction(self._sessions) as session:
            # Only a repeat's count is read back: the rest goes with the COMMIT, in the same trip.
            await writes_with_commit(session)
            events = [event for case in new for event in case.events]
            keys = [(case.client_key, case.columns["id"], case.created_at) for case in new]
            for repeat in (item for item in batch if isinstance(item, RepeatLink)):
                row = (
                    await session.execute(COUNT_REPEAT, {"case_id": repeat.case_id, "now": repeat.created_at})
                ).first()
                case = counted[id(repeat)] = CaseRow(**row._asdict()) if row is not None else None
                if case is not None:
                    events.extend(repeat.events_of(case))
                    keys.append((repeat.client_key, case.id, repeat.created_at))
            if new:
                await session.execute(insert(CaseRow), [case.columns for case in new])
            await enqueue(session, source=self._source, events=events, clock=self._clock)
            rows = [{"key": key, "case_id": case_id, "created_at": at} for key, case_id, at in keys if key is not None]
            if rows:
                await session.execute(insert(IntakeKeyRow), rows)
        self.transactions += 1
        return counted


def _settle(item: Waiting, exc: BaseException | None, counted: dict[int, CaseRow | None] | None = None) -> None:
    future: asyncio.Future[Any] = item.stored if isinstance(item, NewCase) else item.counted
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    elif isinstance(item, NewCase):
        future.set_result(None)
    else:
        future.set_result((counted or {}).get(id(item)))
