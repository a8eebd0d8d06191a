"""SQLite through aiosqlite with fewer hand-offs to its thread: BEGIN in one, and no pool ROLLBACK
after a transaction that already ended. A connection never goes back to the pool holding a lock."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.pool import PoolResetState

from hotline.shared.db import (
    CaseRow,
    _rollback_if_open,
    create_engine,
    session_factory,
    transaction,
)

NOW = datetime(2026, 11, 29, tzinfo=UTC)


class FakeDriver:
    def __init__(self, in_transaction: bool) -> None:
        self.in_transaction = in_transaction


class FakeAdapted:
    def __init__(self, driver: object | None) -> None:
        self._connection = driver
        self.rollbacks = 0

    def rollback(self) -> None:
        self.rollbacks += 1


def _reset(connection: FakeAdapted, *, terminate_only: bool = False) -> int:
    state = PoolResetState(transaction_was_reset=False, terminate_only=terminate_only, asyncio_safe=True)
    _rollback_if_open(connection, None, state)
    return connection.rollbacks


def test_the_pool_rolls_back_only_a_connection_still_in_a_transaction() -> None:
    assert _reset(FakeAdapted(FakeDriver(in_transaction=True))) == 1
    assert _reset(FakeAdapted(FakeDriver(in_transaction=False))) == 0
    assert _reset(FakeAdapted(None)) == 1  # state unknown: roll back anyway
    assert _reset(FakeAdapted(FakeDriver(in_transaction=True)), terminate_only=True) == 0


def _row() -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "query_code": uuid.uuid4().hex[:12],
        "channel": "hotline",
        "received_at": NOW,
        "created_at": NOW,
        "updated_at": NOW,
        "content": "路灯坏了",
        "status": "received",
    }


def _lock_is_free(path: Path) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


async def test_commits_and_failed_writes_leave_the_write_lock_free_and_the_rows_right(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "hotline.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url, pool_size=1)  # one connection: every transaction reuses it
    sessions = session_factory(engine)
    try:
        kept = _row()
        async with transaction(sessions) as session:
            await session.execute(insert(CaseRow), [kept])
        assert _lock_is_free(path)
        with pytest.raises(RuntimeError):
            async with transaction(sessions) as session:
                await session.execute(insert(CaseRow), [_row()])
                raise RuntimeError("the handler failed")
        assert _lock_is_free(path)
        async with sessions() as session:
            assert (await session.execute(select(CaseRow.id))).scalars().all() == [kept["id"]]
        assert _lock_is_free(path)  # a read session ends its transaction too
    finally:
        await engine.dispose()
