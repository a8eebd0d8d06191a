"""The metrics' count of dead letters still to replay reads their partial index, not the table
(a flood of malformed messages would otherwise make every sampler round read every payload)."""

from __future__ import annotations

from pathlib import Path

from hotline.shared import metrics
from tests.sqlite_plans import migrated_copy, plan_of_sessions


async def test_pending_dead_letters_are_counted_from_their_index(sqlite_template: Path, tmp_path: Path) -> None:
    database = migrated_copy(sqlite_template, tmp_path)
    plan = await plan_of_sessions(database, lambda sessions: metrics.dead_letters(sessions)(), "FROM dead_letters")
    assert plan == ["SCAN dead_letters USING COVERING INDEX ix_dead_letters_pending"], plan
