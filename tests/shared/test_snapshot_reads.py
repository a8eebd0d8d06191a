"""A read-only session that asks for one snapshot sees none of what commits while it reads."""

from __future__ import annotations

from sqlalchemy import func, select

from hotline.bench import sample_received_events, store_cases
from hotline.shared.db import CaseRow, create_engine, read_one_snapshot, session_factory


async def test_reads_after_asking_for_one_snapshot_do_not_see_later_commits(database_url: str) -> None:
    engine = create_engine(database_url, writes=False)
    reads = session_factory(engine)
    count = select(func.count()).select_from(CaseRow)
    try:
        async with reads() as session:
            await read_one_snapshot(session)
            before = await session.scalar(count)
            await store_cases(database_url, sample_received_events(1))  # committed by another engine
            assert await session.scalar(count) == before  # the case page's statements agree with each other
        async with reads() as session:
            await read_one_snapshot(session)
            assert await session.scalar(count) == (before or 0) + 1  # a new session sees it
    finally:
        await engine.dispose()
