"""派单准确率 per unit and week: of the cases first routed to a unit (its first 主办 task), how many
stayed with it and how many went elsewhere after a 退回 or an 改派.

The counting (:func:`dispatch_accuracy`) is a plain function over each case's first 主办 task; the query
(:func:`first_assignments`) reads those tasks with one GROUP BY. A week is the Beijing calendar week,
Monday to Sunday, of the first assignment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.services.intake.stats import period_bounds
from hotline.shared.clock import beijing
from hotline.shared.db import TaskRow

RETURNED = "returned"  # 已退回: the unit said "not ours"
REASSIGNED = "reassigned"  # 已改派: the 热线办 sent it elsewhere


@dataclass(frozen=True, slots=True)
class FirstAssignment:
    """A case's first 主办 task: the unit the system (or the 人工分拣 desk) first chose."""

    unit_code: str
    unit_name: str
    assigned_at: datetime  # timezone-aware
    state: str  # the task's state now


def week_of(moment: datetime) -> date:
    """The Monday of the Beijing calendar week of ``moment``."""
    day = beijing(moment).date()
    return day - timedelta(days=day.weekday())


def dispatch_accuracy(assignments: Iterable[FirstAssignment]) -> list[dict[str, Any]]:
    """One row per unit and week: first routed, kept, 退回, 改派 and the share kept (%; None: none)."""
    rows: dict[tuple[str, date], dict[str, Any]] = {}
    for a in assignments:
        week = week_of(a.assigned_at)
        row = rows.setdefault(
            (a.unit_code, week),
            {
                "unit_code": a.unit_code,
                "unit_name": a.unit_name,
                "week": week.isoformat(),
                "week_end": (week + timedelta(days=6)).isoformat(),
                "routed": 0,
                "kept": 0,
                "returned": 0,
                "reassigned": 0,
            },
        )
        row["routed"] += 1
        if a.state == RETURNED:
            row["returned"] += 1
        elif a.state == REASSIGNED:
            row["reassigned"] += 1
        else:
            row["kept"] += 1
    out = []
    # Newest week first, units in code order within a week.
    for _, row in sorted(rows.items(), key=lambda item: (-item[0][1].toordinal(), item[0][0])):
        row["kept_rate"] = round(100 * row["kept"] / row["routed"], 2) if row["routed"] else None
        out.append(row)
    return out


async def first_assignments(
    session: AsyncSession, *, start: date | None = None, end: date | None = None
) -> list[FirstAssignment]:
    """Each case's first 主办 task first assigned within the period (Beijing days, both inclusive)."""
    first = (
        select(TaskRow.case_id, func.min(TaskRow.assigned_at).label("first_at"))
        .where(TaskRow.role == "lead")
        .group_by(TaskRow.case_id)
        .subquery()
    )
    lower, upper = period_bounds(start, end)
    bounds = []
    if lower is not None:
        bounds.append(TaskRow.assigned_at >= lower)
    if upper is not None:
        bounds.append(TaskRow.assigned_at < upper)
    query = (
        select(TaskRow.case_id, TaskRow.unit_code, TaskRow.unit_name, TaskRow.assigned_at, TaskRow.state)
        .join(first, and_(TaskRow.case_id == first.c.case_id, TaskRow.assigned_at == first.c.first_at))
        .where(TaskRow.role == "lead", *bounds)
    )
    seen: set[Any] = set()
    out = []
    for case_id, code, name, at, state in (await session.execute(query)).all():
        if case_id in seen:  # two 主办 tasks at the very same moment: count the case once
            continue
        seen.add(case_id)
        out.append(FirstAssignment(code, name, at, state))
    return out
