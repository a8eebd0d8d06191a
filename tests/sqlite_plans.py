"""Asking SQLite how it runs what a piece of code sends: the plan tests' common part.

SQLite plans without statistics (nobody runs ANALYZE), so an index that fits is not always the one
it takes; these helpers run the code on a migrated copy, catch its statements and EXPLAIN them."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.shared.db import create_engine, session_factory, transaction


def migrated_copy(template: Path, directory: Path) -> Path:
    """A copy of the session's migrated SQLite template for one test to change."""
    path = directory / "hotline.db"
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(path)) as target:
        source.backup(target)
    return path


async def plan_of(database: Path, run: Callable[[AsyncSession], Awaitable[object]], statement: str) -> list[str]:
    """SQLite's plan, one line a step, for the one statement containing `statement` that `run` sends
    (in a transaction on `database`)."""

    async def in_a_transaction(sessions: async_sessionmaker[AsyncSession]) -> None:
        async with transaction(sessions) as session:
            await run(session)

    return await plan_of_sessions(database, in_a_transaction, statement)


async def plan_of_sessions(
    database: Path, run: Callable[[async_sessionmaker[AsyncSession]], Awaitable[object]], statement: str
) -> list[str]:
    """As `plan_of`, for code that opens its own sessions from the factory it is given."""
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    sent: list[tuple[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def capture(_conn: Any, _cursor: Any, sql: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((sql, parameters))

    try:
        await run(session_factory(engine))
    finally:
        await engine.dispose()
    [(sql, parameters)] = [(s, p) for s, p in sent if statement in s]
    with closing(sqlite3.connect(database)) as connection:
        return [row[-1] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)]
