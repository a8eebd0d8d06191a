"""The feed finds a batch's superseded tasks by their cases, not by reading every open task.

SQLite plans without statistics: with one index on tasks.case_id and one on tasks.state it took the
state's for "these cases' open tasks", reading every open task of the county for every batch.
"""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from hotline.services.feed.projection import _keep_latest_tasks
from hotline.shared.db import create_engine, session_factory, transaction


async def test_superseded_tasks_are_looked_up_by_case(sqlite_template: Path, tmp_path: Path) -> None:
    database = tmp_path / "hotline.db"
    with closing(sqlite3.connect(sqlite_template)) as source, closing(sqlite3.connect(database)) as target:
        source.backup(target)
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    sent: list[tuple[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def capture(_conn: Any, _cursor: Any, sql: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((sql, parameters))

    try:
        async with transaction(session_factory(engine)) as session:
            batch = {uuid.uuid4() for _ in range(50)}  # a batch's cases (with two, SQLite chose well)
            await _keep_latest_tasks(session, batch, datetime(2026, 11, 30, tzinfo=UTC))
    finally:
        await engine.dispose()
    [(sql, parameters)] = [(s, p) for s, p in sent if s.lstrip().upper().startswith("UPDATE TASKS")]
    with closing(sqlite3.connect(database)) as connection:
        plan = [row[-1] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)]
    assert plan[0].startswith("SEARCH tasks USING INDEX ix_tasks_case_state (case_id=?"), plan
