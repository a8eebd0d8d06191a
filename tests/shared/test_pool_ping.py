"""A pooled connection is pinged before use only after sitting idle, and replaced when the ping fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hotline.shared.pool_ping import ping_when_idle

pytestmark = pytest.mark.unit


class Pings:
    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        self.fail_next = False
        self.connects = 0
        dialect = engine.sync_engine.dialect
        plain = dialect.do_ping

        def counted(dbapi_connection: Any) -> bool:
            self.count += 1
            if self.fail_next:
                self.fail_next = False
                raise ConnectionResetError("服务器已重启")
            return bool(plain(dbapi_connection))

        dialect.do_ping = counted  # type: ignore[method-assign]

        @event.listens_for(engine.sync_engine, "connect")
        def _connected(_dbapi_connection: Any, _record: Any) -> None:
            self.connects += 1


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, Pings, list[float]]]:
    now = [100.0]
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'ping.db'}", pool_size=1, max_overflow=0)
    pings = Pings(engine)
    ping_when_idle(engine, idle_s=1.0, monotonic=lambda: now[0])
    yield engine, pings, now
    await engine.dispose()


async def _select_one(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT 1"))).scalar_one())


async def test_a_connection_used_moments_ago_is_not_pinged_one_idle_is(
    engine: tuple[AsyncEngine, Pings, list[float]],
) -> None:
    db, pings, now = engine
    await _select_one(db)  # a new connection has just answered: no ping
    now[0] += 0.5
    await _select_one(db)
    assert pings.count == 0
    now[0] += 1.5
    await _select_one(db)
    assert pings.count == 1


async def test_a_connection_that_fails_its_ping_is_replaced_and_the_caller_never_sees_it(
    engine: tuple[AsyncEngine, Pings, list[float]],
) -> None:
    db, pings, now = engine
    await _select_one(db)
    now[0] += 60
    pings.fail_next = True
    assert await _select_one(db) == 1
    assert (pings.count, pings.connects) == (1, 2)
