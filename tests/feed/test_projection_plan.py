"""The feed finds a batch's superseded tasks by their cases, not by reading every open task.

SQLite plans without statistics: with one index on tasks.case_id and one on tasks.state it took the
state's for "these cases' open tasks", reading every open task of the county for every batch.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.services.feed.projection import _keep_latest_tasks
from tests.sqlite_plans import migrated_copy, plan_of


async def test_superseded_tasks_are_looked_up_by_case(sqlite_template: Path, tmp_path: Path) -> None:
    batch = {uuid.uuid4() for _ in range(50)}  # a batch's cases (with two, SQLite chose well)

    async def keep_latest(session: AsyncSession) -> None:
        await _keep_latest_tasks(session, batch, datetime(2026, 11, 30, tzinfo=UTC))

    plan = await plan_of(migrated_copy(sqlite_template, tmp_path), keep_latest, "UPDATE tasks")
    assert plan[0].startswith("SEARCH tasks USING INDEX ix_tasks_case_state (case_id=?"), plan
