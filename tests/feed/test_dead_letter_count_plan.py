"""The metrics' count of dead letters still to replay reads their partial index, not the table
(a flood of malformed messages would otherwise make every sampler round read every payload)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared import metrics
from tests.sqlite_plans import migrated_copy, plan_of


async def test_pending_dead_letters_are_counted_from_their_index(sqlite_template: Path, tmp_path: Path) -> None:
    async def count(session: AsyncSession) -> None:
        await metrics.dead_letters(lambda: _Borrowed(session))()  # type: ignore[arg-type]

    plan = await plan_of(migrated_copy(sqlite_template, tmp_path), count, "FROM dead_letters")
    assert plan == ["SCAN dead_letters USING COVERING INDEX ix_dead_letters_pending"], plan


class _Borrowed:
    """The sample's `async with sessions() as session`, lent the plan's session (left open)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def __aenter__(self) -> AsyncSession:
        return self.session

    async def __aexit__(self, *_: object) -> None:
        return None
