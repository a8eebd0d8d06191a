"""A read-only session that asks for one snapshot sees none of what commits while it reads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from hotline.shared.db import CaseRow, create_engine, read_one_snapshot, session_factory, transaction


async def _store_a_case(writes: object) -> None:
    now = datetime.now(UTC)
    case_id = uuid.uuid4()
    row = {
        "id": case_id,
        "query_code": case_id.hex[:16],
        "channel": "hotline",
        "received_at": now,
        "created_at": now,
        "content": "村道排水沟堵塞了两个多月",
        "status": "received",
        "updated_at": now,
    }
    async with transaction(writes) as session:  # type: ignore[arg-type]
        await session.execute(insert(CaseRow), [row])


async def test_reads_after_asking_for_one_snapshot_do_not_see_later_commits(database_url: str) -> None:
    write_engine, read_engine = create_engine(database_url), create_engine(database_url, writes=False)
    writes, reads = session_factory(write_engine), session_factory(read_engine)
    count = select(func.count()).select_from(CaseRow)
    try:
        async with reads() as session:
            await read_one_snapshot(session)
            before = await session.scalar(count)
            await _store_a_case(writes)
            assert await session.scalar(count) == before  # the case page's statements agree with each other
        async with reads() as session:
            await read_one_snapshot(session)
            assert await session.scalar(count) == (before or 0) + 1  # a new session sees it
    finally:
        await write_engine.dispose()
        await read_engine.dispose()
