"""The working-day calendar in force: `chinese_calendar` plus the newest override table an admin saved.
Every service that counts working days reads it here, so the 退回 window and the clocks agree."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.db import CalendarTableRow
from hotline.shared.domain.calendar import WorkCalendar, default_calendar, parse_overrides


async def calendar_in_force(session: AsyncSession) -> WorkCalendar:
    row = await session.scalar(select(CalendarTableRow).order_by(CalendarTableRow.version.desc()).limit(1))
    return parse_overrides(row.content) if row is not None else default_calendar()
