"""The live feed: one poller reads new rows of `case_events` and fans them out to every SSE client.

Reading the projected log (not NATS) means a client can resume with `Last-Event-ID` after a
disconnect and sees exactly what the API shows. With no client connected the poller reads nothing
(at 300 calls a second it would otherwise parse some 1,500 events a second for nobody); the first
client to connect starts from the newest event.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.shared.clock import beijing
from hotline.shared.db import CaseEventRow
from hotline.shared.faults import is_transient
from hotline.shared.tasks import stop_task

log = logging.getLogger(__name__)
HEARTBEAT_S = 15.0


def sse_message(event: dict[str, Any]) -> str:
    data = json.dumps(event, ensure_ascii=False)
    return f"id: {event['seq']}\nevent: {event['kind']}\ndata: {data}\n\n"


_SINCE = (
    select(CaseEventRow.seq, CaseEventRow.kind, CaseEventRow.case_id, CaseEventRow.occurred_at, CaseEventRow.payload)
    .where(CaseEventRow.seq > bindparam("seq"))
    .order_by(CaseEventRow.seq)
    .limit(bindparam("limit"))
)
_NEWEST = select(func.max(CaseEventRow.seq))


def _as_feed_item(row: Any) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "kind": row.kind,
        "case_id": str(row.case_id),
        "at": beijing(row.occurred_at).isoformat(),
        "event": row.payload,
    }


class FeedBroadcaster:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, poll_s: float = 0.25) -> None:
        self.sessions = sessions
        self.poll_s = poll_s
        self.last_seq = 0
        self._clients: set[asyncio.Queue[dict[str, Any]]] = set()
        self._task: asyncio.Task[None] | None = None
        self._store_down = False

    async def start(self) -> None:
        self.last_seq = await self._newest_seq()
        self._task = asyncio.create_task(self._poll(), name="feed-poller")

    async def stop(self) -> None:
        if self._task:
            await stop_task(self._task)

    async def _newest_seq(self) -> int:
        async with self.sessions() as session:
            return (await session.scalar(_NEWEST)) or 0

    async def read_since(self, seq: int, limit: int = 500) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            rows = (await session.execute(_SINCE, {"seq": seq, "limit": limit})).all()
        return [_as_feed_item(row) for row in rows]

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            if not self._clients:
                continue
            try:
                items = await self.read_since(self.last_seq)
            except Exception as exc:
                # An outage is one line when it starts (not a traceback four times a second); a bug is logged in full.
                if not is_transient(exc):
                    log.exception("feed poll failed")
                elif not self._store_down:
                    log.warning("live feed: database unavailable (%s); polling on until it is back", type(exc).__name__)
                self._store_down = is_transient(exc)
                continue
            if self._store_down:
                log.info("live feed: database back")
                self._store_down = False
            for item in items:
                self.last_seq = item["seq"]
                for queue in list(self._clients):
                    if queue.qsize() < 10_000:  # a stuck client must not grow memory without bound
                        queue.put_nowait(item)

    async def stream(self, since: int | None) -> AsyncIterator[str]:
        if not self._clients:  # the poller idled: what came meanwhile is not this client's news
            try:
                self.last_seq = await self._newest_seq()
            except Exception as exc:
                if not is_transient(exc):
                    raise  # (in an outage the poller catches up from where it was once the store is back)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._clients.add(queue)
        try:
            yield "retry: 2000\n\n"
            sent = since if since is not None else self.last_seq
            if since is not None:
                while batch := await self.read_since(sent):
                    for item in batch:
                        yield sse_message(item)
                        sent = item["seq"]
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if item["seq"] > sent:
                    sent = item["seq"]
                    yield sse_message(item)
        finally:
            self._clients.discard(queue)
