"""SQLite statements make one trip to aiosqlite's thread, and behave as through SQLAlchemy's own adapter."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.util.concurrency import await_

from hotline.shared.db import create_engine, session_factory, transaction, writes_with_commit

pytestmark = pytest.mark.unit


class Recorder:
    """What SQLite received from an engine's connections, and how many trips to their threads it took."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.trips = 0

    def watch(self, engine: AsyncEngine) -> None:
        @event.listens_for(engine.sync_engine, "connect")
        def _watch(dbapi_connection: Any, _record: Any) -> None:
            driver = dbapi_connection.driver_connection
            await_(driver.set_trace_callback(self.sent.append))
            plain = driver._execute

            async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
                self.trips += 1
                return await plain(fn, *args, **kwargs)

            driver._execute = counted

    def start(self) -> None:
        self.sent.clear()
        self.trips = 0


@pytest.fixture
async def notes(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine, Recorder]]:
    """A writing and a reading engine on one file with a `notes` table; the reader is recorded."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}"
    writer, reader = create_engine(url, pool_size=2), create_engine(url, writes=False, pool_size=2)
    async with writer.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
    recorder = Recorder()
    recorder.watch(reader)
    async with reader.connect():  # the connection exists (and its PRAGMAs ran) before recording starts
        pass
    yield writer, reader, recorder
    await writer.dispose()
    await reader.dispose()


async def test_a_read_is_one_trip_and_its_begin_travels_with_it(
    notes: tuple[AsyncEngine, AsyncEngine, Recorder],
) -> None:
    writer, reader, recorder = notes
    async with writer.begin() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('路灯不亮'), ('噪音扰民')"))
    recorder.start()
    async with session_factory(reader)() as session:
        rows = (await session.execute(text("SELECT id, body FROM notes ORDER BY id"))).all()
    assert [tuple(row) for row in rows] == [(1, "路灯不亮"), (2, "噪音扰民")]
    assert recorder.sent == ["BEGIN", "SELECT id, body FROM notes ORDER BY id", "ROLLBACK"]
    assert recorder.trips == 2  # the statement with its BEGIN; the rollback when the session closed


async def test_a_transaction_in_which_nothing_ran_sends_nothing(
    notes: tuple[AsyncEngine, AsyncEngine, Recorder],
) -> None:
    _, reader, recorder = notes
    recorder.start()
    async with reader.begin():
        pass
    async with session_factory(reader)() as session:
        await session.commit()
    assert recorder.sent == []
    assert recorder.trips == 0


async def test_counts_ids_and_many_rows_come_back_as_from_sqlite3(
    notes: tuple[AsyncEngine, AsyncEngine, Recorder],
) -> None:
    writer, _, _ = notes
    async with writer.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO notes (body) VALUES ('积水')"))
        assert (inserted.rowcount, inserted.lastrowid) == (1, 1)
        many = await connection.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": f"第{n}件"} for n in range(3)]
        )
        assert many.rowcount == 3
        updated = await connection.execute(text("UPDATE notes SET body = body || '（已办）' WHERE id > 2"))
        assert updated.rowcount == 2
        result = await connection.execute(text("SELECT id AS note, body FROM notes WHERE id = 4"))
        assert list(result.keys()) == ["note", "body"]
        assert result.one() == (4, "第2件（已办）")
        assert (await connection.execute(text("SELECT id FROM notes WHERE id > 99"))).first() is None


async def test_streamed_results_still_read_in_chunks(notes: tuple[AsyncEngine, AsyncEngine, Recorder]) -> None:
    writer, reader, _ = notes
    async with writer.begin() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES (:body)"), [{"body": str(n)} for n in range(50)])
    async with reader.connect() as connection:
        streamed = await connection.stream(text("SELECT body FROM notes ORDER BY id"))
        bodies = [row.body async for row in streamed]
    assert bodies == [str(n) for n in range(50)]


async def test_a_failed_statement_surfaces_as_sqlalchemys_error_and_the_transaction_rolls_back(
    notes: tuple[AsyncEngine, AsyncEngine, Recorder],
) -> None:
    writer, reader, _ = notes
    with pytest.raises(IntegrityError):
        async with writer.begin() as connection:
            await connection.execute(text("INSERT INTO notes (id, body) VALUES (7, '第一次')"))
            await connection.execute(text("INSERT INTO notes (id, body) VALUES (7, '重复')"))
    async with reader.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 0
    async with writer.begin() as connection:  # the connection is usable again
        await connection.execute(text("INSERT INTO notes (id, body) VALUES (7, '再次')"))


async def test_a_closed_read_session_leaves_no_snapshot_behind(
    notes: tuple[AsyncEngine, AsyncEngine, Recorder],
) -> None:
    """An open read transaction pins the WAL (a checkpoint cannot finish); a closed session's must not."""
    writer, reader, _ = notes
    database = writer.url.database
    assert database is not None

    async def checkpoint_blocked() -> bool:
        async with writer.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('x')"))
        with closing(sqlite3.connect(database)) as checkpointing:
            busy, _, _ = checkpointing.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return bool(busy)

    sessions = session_factory(reader)
    async with sessions() as session:
        await session.execute(text("SELECT count(*) FROM notes"))
        assert await checkpoint_blocked()  # the snapshot is held while the session is open
    assert not await checkpoint_blocked()


@pytest.fixture
async def recorded_writer(
    notes: tuple[AsyncEngine, AsyncEngine, Recorder],
) -> AsyncIterator[tuple[AsyncEngine, Recorder]]:
    """The writing engine of `notes`, recorded from its next connection on."""
    writer, _, _ = notes
    await writer.dispose()  # its connections so far are not recorded
    recorder = Recorder()
    recorder.watch(writer)
    async with writer.connect():
        pass
    recorder.start()
    yield writer, recorder


@asynccontextmanager
async def _deferring(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A transaction on `engine` that defers its inserts."""
    async with transaction(session_factory(engine)) as session:
        await writes_with_commit(session)
        yield session


async def _notes(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one())


async def test_deferred_writes_travel_with_the_commit_in_one_trip(
    recorded_writer: tuple[AsyncEngine, Recorder],
) -> None:
    writer, recorder = recorded_writer
    async with _deferring(writer) as session:
        await session.execute(text("INSERT INTO notes (body) VALUES (:body)"), [{"body": "积水"}, {"body": "噪音"}])
        await session.execute(text("INSERT INTO notes (body) VALUES ('路灯不亮')"))
        assert recorder.trips == 0  # nothing sent yet
    assert recorder.trips == 1
    assert recorder.sent == [
        "BEGIN IMMEDIATE",
        "INSERT INTO notes (body) VALUES ('积水')",
        "INSERT INTO notes (body) VALUES ('噪音')",
        "INSERT INTO notes (body) VALUES ('路灯不亮')",
        "COMMIT",
    ]
    async with writer.connect() as connection:
        bodies = (await connection.execute(text("SELECT body FROM notes ORDER BY id"))).scalars().all()
    assert bodies == ["积水", "噪音", "路灯不亮"]


async def test_updates_are_never_deferred_their_counts_are_read(recorded_writer: tuple[AsyncEngine, Recorder]) -> None:
    writer, recorder = recorded_writer
    async with _deferring(writer) as session:
        await session.execute(text("INSERT INTO notes (id, body) VALUES (1, '积水'), (2, '噪音')"))
        updated = await session.execute(text("UPDATE notes SET body = body || '（已办）' WHERE id > 0"))
        assert updated.rowcount == 2  # type: ignore[attr-defined]
        assert recorder.trips == 1  # the UPDATE, with the BEGIN and the INSERT before it


async def test_a_statement_returning_rows_sends_the_deferred_writes_first(
    recorded_writer: tuple[AsyncEngine, Recorder],
) -> None:
    writer, recorder = recorded_writer
    async with _deferring(writer) as session:
        await session.execute(text("INSERT INTO notes (id, body) VALUES (1, '路灯不亮')"))
        counted = await session.execute(text("UPDATE notes SET body = body || '！' WHERE id = 1 RETURNING body"))
        assert counted.scalar_one() == "路灯不亮！"
        assert (await session.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 1
    assert recorder.trips == 3  # the RETURNING with the BEGIN and the INSERT; the count; the COMMIT


async def test_a_deferred_write_that_fails_fails_the_commit_and_nothing_is_kept(
    recorded_writer: tuple[AsyncEngine, Recorder],
) -> None:
    writer, recorder = recorded_writer
    with pytest.raises(IntegrityError):
        async with _deferring(writer) as session:
            await session.execute(text("INSERT INTO notes (id, body) VALUES (7, '第一次')"))
            await session.execute(text("INSERT INTO notes (id, body) VALUES (7, '重复')"))
    assert recorder.sent[-1] == "ROLLBACK"
    async with writer.begin() as connection:  # nothing kept, and the connection is usable again
        assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 0
        await connection.execute(text("INSERT INTO notes (id, body) VALUES (7, '再次')"))


async def test_a_transaction_rolled_back_sends_none_of_its_deferred_writes(
    recorded_writer: tuple[AsyncEngine, Recorder],
) -> None:
    writer, recorder = recorded_writer
    with pytest.raises(RuntimeError):
        async with _deferring(writer) as session:
            await session.execute(text("INSERT INTO notes (body) VALUES ('不该存')"))
            raise RuntimeError("操作员取消")
    assert recorder.sent == []
    assert await _notes(writer) == 0


async def test_inserts_deferred_on_a_connection_closed_meanwhile_fail_the_commit(
    recorded_writer: tuple[AsyncEngine, Recorder],
) -> None:
    writer, _ = recorded_writer
    with pytest.raises(OperationalError):
        async with _deferring(writer) as session:
            await session.execute(text("INSERT INTO notes (body) VALUES ('未送出')"))
            raw = await (await session.connection()).get_raw_connection()
            await raw.driver_connection.close()  # type: ignore[union-attr]
    assert await _notes(writer) == 0
