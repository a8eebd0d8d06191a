"""Who may see which case: units their own tasks, operators what they logged, the rest everything."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from fastapi import HTTPException
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.services.intake.auth import SEES_ALL, Principal, Role
from hotline.shared.db import CaseRow, TaskRow

Row = TypeVar("Row", CaseRow, TaskRow)


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
        # Only cases the unit holds a task for, as `can_see`: a case naming the unit without its task
        # (re-dispatched away, or before the task exists) is not one it may open, so not one it may list.
        own = select(TaskRow.case_id).where(TaskRow.unit_code == principal.unit_code)
        return statement.where(CaseRow.id.in_(own))
    return statement.where(CaseRow.created_by == principal.username)


_NOT_FOUND: dict[type[Any], str] = {CaseRow: "案件不存在", TaskRow: "任务不存在"}


async def get_or_404(session: AsyncSession, model: type[Row], key: str) -> Row:
    """The case or task with this id, or a 404 that says which was not found."""
    try:
        found = await session.get(model, uuid.UUID(key))
    except ValueError:
        found = None
    if found is None:
        raise HTTPException(404, detail=_NOT_FOUND[model])
    return found
