"""Recounting provisional clocks reads them alone, not every deadline on file.

It runs at every start of the escalation service and every calendar update; without the partial
index it read the whole deadlines table (140 ms at a million clocks on SQLite). SQLite uses a partial
index only when the query repeats the index's condition literally, so this asks SQLite for the plan.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.services.escalation.tracking import load_clock_rules, recompute_provisional
from tests.sqlite_plans import migrated_copy, plan_of


async def test_provisional_clocks_are_found_through_their_partial_index(sqlite_template: Path, tmp_path: Path) -> None:
    async def recount(session: AsyncSession) -> None:
        assert await recompute_provisional(session, load_clock_rules()) == 0

    plan = await plan_of(migrated_copy(sqlite_template, tmp_path), recount, "FROM deadlines")
    assert plan == ["SCAN deadlines USING INDEX ix_deadlines_provisional_open"], plan
