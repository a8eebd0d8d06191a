"""Who may see which case: units their own tasks, operators what they logged, the rest everything."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.services.intake.auth import SEES_ALL, Principal, Role
from hotline.shared.db import CaseRow, TaskRow


def can_see(principal: Principal, case: CaseRow, task_units: set[str]) -> bool:
    if principal.role in SEES_ALL:
        return True
    if principal.role is Role.UNIT:
        return principal.unit_code is not None and principal.unit_code in task_units
    return case.created_by == principal.username


async def task_units(session: AsyncSession, case: CaseRow) -> set[str]:
    """Units holding a task for the case, lead or 协办."""
    rows = (await session.execute(select(TaskRow.unit_code, TaskRow.co_units).where(TaskRow.case_id == case.id))).all()
    units = {row.unit_code for row in rows}
    for row in rows:
        units.update(row.co_units or [])
    return units


def visible_cases(principal: Principal, statement: Select[Any]) -> Select[Any]:
    if principal.role in SEES_ALL:
        return statement
    if principal.role is Role.UNIT:
        own = select(TaskRow.case_id).where(TaskRow.unit_code == principal.unit_code)
        return statement.where(or_(CaseRow.id.in_(own), CaseRow.unit_code == principal.unit_code))
    return statement.where(CaseRow.created_by == principal.username)
