"""Writers of one SQLite file take turns instead of polling for its lock.

SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps 1, 2, 5, 10,
15, 20, 25, … up to 100 ms between tries and serves nobody in order. With intake, the feed, the
router and escalation all writing to one file, a call could lose the race many times and wait
seconds (p99 1.3–1.5 s at 100 calls/s on a quiet 2-core machine, 12 s of busy-handler sleep in 6 s
of load, measured with strace). Here each writing engine queues its transactions on an asyncio lock
(one connection of the process at a time) and the processes queue on an advisory `flock` of a file
beside the database, which the kernel hands to the next waiter as soon as it is released. SQLite's
busy timeout stays as the fallback for writers outside this queue (migrations, sync tools).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import os
import queue
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from .sqlite_driver import OneTripConnection

try:  # SQLAlchemy 2.1
    from sqlalchemy.util.concurrency import await_ as _await
except ImportError:  # pragma: no cover - SQLAlchemy 2.0
    from sqlalchemy.util.concurrency import await_only as _await

TURN_TIMEOUT_S = 30.0  # as long as SQLite's busy timeout: a writer waits no less than before
_now = time.monotonic  # the clock of the metrics below (a test replaces it)

# One writer at a time: how long writers queue, and how much of the time each process holds the turn
# (the rate of the counters summed over processes is the share of time SQLite's one write slot is busy).
TURN_WAIT_SECONDS = Histogram(
    "hotline_sqlite_writer_wait_seconds",
    "Time a SQLite write transaction waited for the writers' turn (behind this process's and others')",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
TURN_HELD_SECONDS = Counter(
    "hotline_sqlite_writer_held_seconds", "Seconds this process held SQLite's writers' turn (its write transactions)"
)


class WriterTurns:
    """One engine's place in the queue of writers to one SQLite file."""

    def __init__(self, lock_path: Path, *, timeout_s: float = TURN_TIMEOUT_S) -> None:
        self.lock_path = lock_path
        self.timeout_s = timeout_s
        self._fd: int | None = None
        self._holder: int | None = None
        self._holder_lock: asyncio.Lock | None = None
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
        self._waits: queue.SimpleQueue[_Wait] | None = None
        self._closing: weakref.finalize[Any, Any] | None = None
        self._file_taken_at: float | None = None  # while this process holds the file: since when

    @property
    def holder(self) -> int | None:
        """The key of the connection whose turn it is, if any."""
        return self._holder

    async def take(self, key: int) -> None:
        """Wait for this connection's turn to write; raises SQLite's own 'database is locked' after the timeout."""
        loop = asyncio.get_running_loop()
        lock = self._locks.setdefault(loop, asyncio.Lock())
        asked_at = _now()
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can return a lock acquired just as its
        # caller was cancelled, swallowing the cancellation (a stopped relay then never stopped).
        try:
            async with asyncio.timeout(self.timeout_s):
                await lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked (waited for this process's writer)") from None
        try:
            await self._take_file(loop)
        except BaseException:
            lock.release()
            raise
        self._holder, self._holder_lock = key, lock
        self._file_taken_at = _now()
        TURN_WAIT_SECONDS.observe(self._file_taken_at - asked_at)

    def give(self, key: int) -> None:
        """End `key`'s turn; a no-op for a connection whose turn it is not (a reset outside a write)."""
        if self._holder != key:
            return
        lock, self._holder, self._holder_lock = self._holder_lock, None, None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._count_held()
        if lock is not None:
            lock.release()

    def pass_file_on(self, key: int) -> None:
        """On a connection's own thread, as soon as its COMMIT or ROLLBACK is done: let the other
        processes' writers in at once, not when this event loop gets round to `give` (at 300 calls/s
        the intake's loop took 0.5 ms at the median and up to 2 at p99, while the file was locked
        four fifths of the time). `give` still ends the turn in this process; unlocking a file no
        longer held is a no-op."""
        fd = self._fd
        if self._holder == key and fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            self._count_held()

    def _count_held(self) -> None:
        # Once a turn: by the connection's thread when it passed the file on, else by `give`.
        taken_at, self._file_taken_at = self._file_taken_at, None
        if taken_at is not None:
            TURN_HELD_SECONDS.inc(_now() - taken_at)

    async def _take_file(self, loop: asyncio.AbstractEventLoop) -> None:
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        # The kernel wakes a blocked flock as soon as the file is free; the wait runs in a thread.
        waiting: asyncio.Future[None] = loop.create_future()
        self._waiter().put((fd, waiting, loop))
        try:
            async with asyncio.timeout(self.timeout_s):
                await asyncio.shield(waiting)
        except BaseException as exc:
            # Given up (timeout or cancelled): the thread may still get the lock on this file
            # description; it is closed then (freeing the lock), and the next turn opens a new one.
            self._fd = None
            if self._closing is not None:
                self._closing.detach()
                self._closing = None
            waiting.add_done_callback(functools.partial(_close_when_done, fd))
            if isinstance(exc, TimeoutError):
                raise sqlite3.OperationalError("database is locked (waited for another process's writer)") from None
            raise

    def _waiter(self) -> queue.SimpleQueue[_Wait]:
        if self._waits is None:
            self._waits = queue.SimpleQueue()
            # A daemon: a process that exits while waiting for another's write must not hang on it.
            threading.Thread(target=_wait_for_files, args=(self._waits,), name="sqlite-turn", daemon=True).start()
        return self._waits

    def _open(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._closing = weakref.finalize(self, os.close, self._fd)
        return self._fd

    def close(self) -> None:
        """Close the lock file and stop the waiting thread (the engine was disposed)."""
        if self._closing is not None:
            self._closing()
            self._closing = None
        self._fd = None
        if self._waits is not None:
            self._waits.put(None)
            self._waits = None


_Wait = tuple[int, "asyncio.Future[None]", asyncio.AbstractEventLoop] | None


def _wait_for_files(waits: queue.SimpleQueue[_Wait]) -> None:
    while (wait := waits.get()) is not None:
        fd, waiting, loop = wait
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            outcome: BaseException | None = exc
        else:
            outcome = None
        try:
            loop.call_soon_threadsafe(_settle, waiting, outcome)
        except RuntimeError:  # the loop closed meanwhile (shutdown): nobody will use the lock
            if outcome is None:
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_UN)


def _close_when_done(fd: int, _waiting: asyncio.Future[None]) -> None:
    os.close(fd)


def _settle(waiting: asyncio.Future[None], exc: BaseException | None) -> None:
    if waiting.done():
        return
    if exc is None:
        waiting.set_result(None)
    else:
        waiting.set_exception(exc)


def sqlite_file(database_url: str) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory database."""
    _, _, rest = database_url.partition(":///")
    path = rest.split("?", 1)[0]
    if not path or path == ":memory:" or "mode=memory" in database_url:
        return None
    return Path(path)


def _key(connection: Any) -> int:
    """The same key for a pooled connection's proxy (what the dialect gets) and its driver connection."""
    return id(getattr(connection, "dbapi_connection", connection))


def install(engine: AsyncEngine, database_file: Path) -> WriterTurns:
    """Make every transaction of a writing SQLite engine wait for its turn before BEGIN IMMEDIATE."""
    turns = WriterTurns(database_file.with_name(database_file.name + ".writers"))
    sync_engine = engine.sync_engine
    dialect: Any = sync_engine.dialect
    plain_commit, plain_rollback = dialect.do_commit, dialect.do_rollback

    def commit_then_give(dbapi_connection: Any) -> None:
        try:
            plain_commit(dbapi_connection)
        finally:
            turns.give(_key(dbapi_connection))

    def rollback_then_give(dbapi_connection: Any) -> None:
        try:
            plain_rollback(dbapi_connection)
        finally:
            turns.give(_key(dbapi_connection))

    dialect.do_commit = commit_then_give
    dialect.do_rollback = rollback_then_give

    @event.listens_for(sync_engine, "connect")
    def _pass_on_when_ended(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, OneTripConnection):
            dbapi_connection.when_ended = functools.partial(turns.pass_file_on, _key(dbapi_connection))

    # Listeners run in the order they were added: install() comes before the one sending BEGIN IMMEDIATE.
    @event.listens_for(sync_engine, "begin")
    def _take_turn(connection: Any) -> None:
        _await(turns.take(_key(connection.connection)))

    @event.listens_for(sync_engine.pool, "close")
    def _closed(dbapi_connection: Any, _record: Any) -> None:
        turns.give(_key(dbapi_connection))

    @event.listens_for(sync_engine, "engine_disposed")
    def _disposed(_engine: Any) -> None:
        turns.close()

    # A connection back in the pool (or thrown away) holds no transaction: whatever ended it (a reset,
    # a cancelled task's terminated connection), its turn ends too rather than stall every writer.
    @event.listens_for(sync_engine.pool, "checkin")
    def _checked_in(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            turns.give(_key(dbapi_connection))

    @event.listens_for(sync_engine.pool, "close_detached")
    def _closed_detached(dbapi_connection: Any) -> None:
        turns.give(_key(dbapi_connection))

    @event.listens_for(sync_engine.pool, "invalidate")
    def _invalidated(dbapi_connection: Any, _record: Any, _exc: Any) -> None:
        turns.give(_key(dbapi_connection))

    return turns
