"""Writers of one SQLite file queue for their turn instead of sleeping in SQLite's busy handler."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util.concurrency import await_

from hotline.shared import sqlite_turns
from hotline.shared.db import create_engine, session_factory, transaction


@pytest.fixture
async def two_writers(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine, list[str]]]:
    """Two writing engines on one file (each with its own lock file description, as two processes have),
    and the statements SQLite received from the second one (a BEGIN travels with the next statement,
    outside SQLAlchemy's cursor events)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}"
    first, second = create_engine(url, pool_size=3), create_engine(url, pool_size=3)
    async with first.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (n INTEGER)"))
    sent: list[str] = []

    @event.listens_for(second.sync_engine, "connect")
    def _record(dbapi_connection: Any, _record: Any) -> None:
        await_(dbapi_connection.driver_connection.set_trace_callback(sent.append))

    yield first, second, sent
    await first.dispose()
    await second.dispose()


async def test_a_writer_waits_for_the_turn_before_sending_begin(
    two_writers: tuple[AsyncEngine, AsyncEngine, list[str]],
) -> None:
    first, second, sent = two_writers
    async with first.begin() as holding:
        await holding.execute(text("INSERT INTO notes VALUES (1)"))
        waiting = await _queued(second, 2)
        # The second engine is queued in its turn, not inside SQLite's busy handler: nothing sent yet.
        assert "BEGIN IMMEDIATE" not in sent
    await asyncio.wait_for(waiting, 10)
    assert sent[0] == "BEGIN IMMEDIATE"
    async with first.connect() as reading:
        assert (await reading.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 2


async def _queued(engine: AsyncEngine, n: int) -> asyncio.Task[None]:
    """An insert through `engine` started and run until it waits (another writer holds the turn)."""
    waiting = asyncio.create_task(_insert(engine, n))
    for _ in range(50):
        await asyncio.sleep(0)
    assert not waiting.done()
    return waiting


async def _insert(engine: AsyncEngine, n: int) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO notes VALUES (:n)"), {"n": n})


async def test_connections_of_one_engine_take_turns(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}", pool_size=5)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (n INTEGER)"))
        sessions = session_factory(engine)
        inside = 0
        most_inside = 0

        async def write(n: int) -> None:
            nonlocal inside, most_inside
            async with transaction(sessions) as session:
                await session.execute(text("INSERT INTO notes VALUES (:n)"), {"n": n})  # begins here
                inside += 1
                most_inside = max(most_inside, inside)
                await asyncio.sleep(0)
                await session.execute(text("SELECT count(*) FROM notes"))
                inside -= 1

        await asyncio.gather(*(write(n) for n in range(20)))
        assert most_inside == 1
        async with engine.connect() as reading:
            assert (await reading.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 20
    finally:
        await engine.dispose()


async def test_a_failed_transaction_gives_the_turn_back(
    two_writers: tuple[AsyncEngine, AsyncEngine, list[str]],
) -> None:
    first, second, _ = two_writers
    with pytest.raises(RuntimeError):
        async with first.begin() as connection:
            await connection.execute(text("INSERT INTO notes VALUES (1)"))
            raise RuntimeError("the work failed")
    await asyncio.wait_for(_insert(second, 2), 10)
    await asyncio.wait_for(_insert(first, 3), 10)


async def test_a_turn_never_given_ends_in_sqlites_own_locked_error(tmp_path: Path) -> None:
    turns_a = sqlite_turns.WriterTurns(tmp_path / "x.writers", timeout_s=0.05)
    turns_b = sqlite_turns.WriterTurns(tmp_path / "x.writers", timeout_s=0.05)
    try:
        await turns_a.take(1)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await turns_b.take(2)
        turns_a.give(1)
        # The waiting thread may still get the abandoned lock; the next turn uses a fresh file description.
        await asyncio.wait_for(turns_b.take(3), 10)
        assert turns_b.holder == 3
        turns_b.give(3)
        await asyncio.wait_for(turns_a.take(4), 10)
        turns_a.give(4)
    finally:
        turns_a.close()
        turns_b.close()


def test_giving_a_turn_not_held_changes_nothing(tmp_path: Path) -> None:
    turns = sqlite_turns.WriterTurns(tmp_path / "x.writers")
    turns.give(7)
    assert turns.holder is None


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite+aiosqlite:////var/lib/hotline/hotline.db", Path("/var/lib/hotline/hotline.db")),
        ("sqlite+aiosqlite:///data/h.db?timeout=5", Path("data/h.db")),
        ("sqlite+aiosqlite:///:memory:", None),
        ("sqlite+aiosqlite://", None),
    ],
)
def test_the_database_file_of_a_url(url: str, path: Path | None) -> None:
    assert sqlite_turns.sqlite_file(url) == path


async def test_read_only_engines_take_no_turn(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}"
    writer, reader = create_engine(url), create_engine(url, writes=False)
    try:
        async with writer.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (n INTEGER)"))
        async with writer.begin() as connection:
            await connection.execute(text("INSERT INTO notes VALUES (1)"))
            # A reader is never queued behind a writer (WAL): it sees the last commit at once.
            async with reader.connect() as reading:
                assert (await reading.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 0
    finally:
        await writer.dispose()
        await reader.dispose()


async def test_a_writer_cancelled_while_waiting_stops_and_leaves_no_turn_behind(tmp_path: Path) -> None:
    same_process = sqlite_turns.WriterTurns(tmp_path / "x.writers")
    other_process = sqlite_turns.WriterTurns(tmp_path / "x.writers")
    try:
        await same_process.take(1)
        for turns, key in ((same_process, 2), (other_process, 3)):  # queued on the lock, on the file
            waiting = asyncio.create_task(turns.take(key))
            for _ in range(20):
                await asyncio.sleep(0)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
        same_process.give(1)
        await asyncio.wait_for(other_process.take(4), 10)
        assert other_process.holder == 4
        other_process.give(4)
        await asyncio.wait_for(same_process.take(5), 10)
        same_process.give(5)
    finally:
        same_process.close()
        other_process.close()


async def test_a_connection_back_in_the_pool_holds_no_turn(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}", pool_size=2)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("CREATE TABLE notes (n INTEGER)"))
            await connection.commit()
            await connection.execute(text("INSERT INTO notes VALUES (1)"))
            # Leaving without commit or rollback: the pool's reset ends the transaction and the turn.
        async with engine.begin() as connection:
            await asyncio.wait_for(connection.execute(text("INSERT INTO notes VALUES (2)")), 10)
    finally:
        await engine.dispose()


async def test_the_file_is_passed_on_by_the_connections_thread_as_soon_as_it_commits(tmp_path: Path) -> None:
    """Other processes' writers get the file when SQLite has committed, not when this busy event loop
    gets round to ending the turn."""
    database = tmp_path / "turns.db"
    engine = create_engine(f"sqlite+aiosqlite:///{database}", pool_size=1)
    probe = os.open(f"{database}.writers", os.O_RDWR | os.O_CREAT, 0o600)
    seen: list[tuple[bool, bool, int]] = []  # (held before, free after, thread)

    def free() -> bool:
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(probe, fcntl.LOCK_UN)
        return True

    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (n INTEGER)"))
            adapted = (await connection.get_raw_connection()).dbapi_connection
            pass_on = adapted.when_ended

            def watched() -> None:
                held = not free()
                pass_on()
                seen.append((held, free(), threading.get_ident()))

            adapted.when_ended = watched
            await connection.execute(text("INSERT INTO notes VALUES (1)"))
        assert seen == [(True, True, seen[0][2])]
        assert seen[0][2] != threading.get_ident()  # the connection's thread, not the event loop's
    finally:
        os.close(probe)
        await engine.dispose()


async def test_the_wait_for_the_turn_and_the_time_it_is_held_are_measured(
    two_writers: tuple[AsyncEngine, AsyncEngine, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the engineer on call reads to see whether SQLite's one writer is the bottleneck."""
    first, second, _ = two_writers
    now = [1000.0]
    monkeypatch.setattr(sqlite_turns, "_now", lambda: now[0])

    def sample(name: str) -> float:
        return REGISTRY.get_sample_value(name) or 0.0

    async with second.connect():  # its connection is open: its next transaction goes straight to the queue
        pass
    waits, waited, held = (
        sample("hotline_sqlite_writer_wait_seconds_count"),
        sample("hotline_sqlite_writer_wait_seconds_sum"),
        sample("hotline_sqlite_writer_held_seconds_total"),
    )
    async with first.begin() as holding:
        await holding.execute(text("INSERT INTO notes VALUES (1)"))
        waiting = await _queued(second, 2)
        now[0] += 2.0  # the first writer holds the turn two (virtual) seconds
    await asyncio.wait_for(waiting, 10)
    assert sample("hotline_sqlite_writer_wait_seconds_count") - waits == 2
    assert sample("hotline_sqlite_writer_wait_seconds_sum") - waited == pytest.approx(2.0)
    assert sample("hotline_sqlite_writer_held_seconds_total") - held == pytest.approx(2.0)
