"""派单准确率 per unit and week: of the cases first routed to a unit (its first 主办 task), how many
stayed with it and how many went elsewhere after a 退回 or an 改派. A week is the Beijing calendar
week, Monday to Sunday, of the first assignment.

The counting (:func:`accuracy_rows`) is a plain function over tallies: first routings per unit, unit
name and week. The card reads them from the rollups the feed service keeps (:func:`rolled_up`, week
rows for the period's whole weeks and day rows around them; shared/dispatch_rollups.py), so a period
of years costs thousands of rows, not every case's tasks. :func:`first_assignments` +
:func:`dispatch_accuracy` count the same from each case's first 主办 task: the definition the
rollups are tested against, which reads every task of the period (tests and benches, not the API).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.services.intake.stats import Span, period_bounds, period_pieces, pieces_where
from hotline.shared.clock import SHANGHAI, beijing
from hotline.shared.db import DispatchRollupRow, TaskRow
from hotline.shared.dispatch_rollups import REASSIGNED, RETURNED, WEEK, monday_of, outcome_of


@dataclass(frozen=True, slots=True)
class FirstAssignment:
    """A case's first 主办 task: the unit the system (or the 人工分拣 desk) first chose."""

    unit_code: str
    unit_name: str
    assigned_at: datetime  # timezone-aware
    state: str  # the task's state now


@dataclass(frozen=True, slots=True)
class Tally:
    """First routings to one unit, under one name, in one week: how many, and how many left."""

    unit_code: str
    unit_name: str
    week: date  # its Monday
    routed: int
    returned: int
    reassigned: int


def week_of(moment: datetime) -> date:
    """The Monday of the Beijing calendar week of ``moment``."""
    return monday_of(beijing(moment).date())


def accuracy_rows(tallies: Iterable[Tally]) -> list[dict[str, Any]]:
    """One row per unit and week: first routed, kept, 退回, 改派 and the share kept (%; None: none).
    A unit renamed within a week is shown under the name most of its cases went to (of equals, the
    first in code point order)."""
    rows: dict[tuple[str, date], dict[str, Any]] = {}
    names: dict[tuple[str, date], Counter[str]] = {}
    for t in tallies:
        if not t.routed:
            continue
        row = rows.setdefault(
            (t.unit_code, t.week),
            {
                "unit_code": t.unit_code,
                "unit_name": t.unit_name,
                "week": t.week.isoformat(),
                "week_end": (t.week + timedelta(days=6)).isoformat(),
                "routed": 0,
                "kept": 0,
                "returned": 0,
                "reassigned": 0,
            },
        )
        row["routed"] += t.routed
        row["returned"] += t.returned
        row["reassigned"] += t.reassigned
        names.setdefault((t.unit_code, t.week), Counter())[t.unit_name] += t.routed
    out = []
    # Newest week first, units in code order within a week.
    for key, row in sorted(rows.items(), key=lambda item: (-item[0][1].toordinal(), item[0][0])):
        row["unit_name"] = min(names[key].items(), key=lambda named: (-named[1], named[0]))[0]
        row["kept"] = row["routed"] - row["returned"] - row["reassigned"]
        row["kept_rate"] = round(100 * row["kept"] / row["routed"], 2) if row["routed"] else None
        out.append(row)
    return out


def dispatch_accuracy(assignments: Iterable[FirstAssignment]) -> list[dict[str, Any]]:
    """The rows counted from each case's first 主办 task (the definition)."""
    return accuracy_rows(_tally(a) for a in assignments)


def _tally(a: FirstAssignment) -> Tally:
    outcome = outcome_of(a.state)
    return Tally(
        a.unit_code, a.unit_name, week_of(a.assigned_at), 1, int(outcome == RETURNED), int(outcome == REASSIGNED)
    )


WEEKS = Span(WEEK, monday_of, lambda monday: monday + timedelta(days=7))


async def rolled_up(session: AsyncSession, *, start: date | None = None, end: date | None = None) -> list[Tally]:
    """The tallies of the first routings within the period (Beijing days, both inclusive), from the
    rollups."""
    rollups = pieces_where(DispatchRollupRow, period_pieces(start, end, (WEEKS,)))
    rows = await session.execute(
        select(
            DispatchRollupRow.day,
            DispatchRollupRow.unit_code,
            DispatchRollupRow.unit_name,
            DispatchRollupRow.routed,
            DispatchRollupRow.returned,
            DispatchRollupRow.reassigned,
        ).where(rollups, DispatchRollupRow.routed > 0)
    )
    return [
        Tally(code, name, monday_of(day), routed, returned, reassigned)
        for day, code, name, routed, returned, reassigned in rows.all()
    ]


@dataclass(frozen=True, slots=True)
class After:
    """The last row of a page: its week (Monday) and unit."""

    week: date
    unit_code: str


async def _weeks_newest_first(session: AsyncSession, start: date | None, end: date | None) -> list[tuple[date, int]]:
    """The Mondays of the weeks with first routings that the period touches, newest first, with their
    week rows (about one per unit): how far back a page must read."""
    bounds = [DispatchRollupRow.span == WEEK]
    if start is not None:
        bounds.append(DispatchRollupRow.day >= monday_of(start))
    if end is not None:
        bounds.append(DispatchRollupRow.day <= end)
    rows = await session.execute(
        select(DispatchRollupRow.day, func.count())
        .where(*bounds)
        .group_by(DispatchRollupRow.day)
        .order_by(DispatchRollupRow.day.desc())
    )
    return [(monday, int(count)) for monday, count in rows.all()]


def week_position(row: dict[str, Any]) -> tuple[datetime, str]:
    """A card row's place in the card's order, for its keyset cursor: the week's first moment and the unit."""
    return datetime.combine(date.fromisoformat(row["week"]), time(), tzinfo=SHANGHAI), row["unit_code"]


def _comes_after(row: dict[str, Any], after: After) -> bool:
    week = date.fromisoformat(row["week"])
    return week < after.week or (week == after.week and row["unit_code"] > after.unit_code)


async def accuracy_page(
    session: AsyncSession, *, start: date | None = None, end: date | None = None, after: After | None, limit: int
) -> list[dict[str, Any]]:
    """The card's rows in its order (newest week first, units in code order) from just after `after`:
    `limit` of them and one more when another page follows. Only as many of the newest weeks are read
    as the page needs, so an all-time page after years of cases costs what a month's does."""
    if after is not None:
        cursor_week_end = after.week + timedelta(days=6)
        end = cursor_week_end if end is None else min(end, cursor_week_end)
    if start is not None and end is not None and end < start:
        return []
    weeks = await _weeks_newest_first(session, start, end)
    rows: list[dict[str, Any]] = []
    taken = 0  # weeks read so far, newest first
    while taken < len(weeks) and len(rows) <= limit:
        window_end = end if taken == 0 else weeks[taken - 1][0] - timedelta(days=1)
        expected = 0
        while taken < len(weeks) and expected <= limit - len(rows):
            expected += weeks[taken][1]
            taken += 1
        oldest = weeks[taken - 1][0]
        window_start = oldest if start is None else max(start, oldest)
        read = accuracy_rows(await rolled_up(session, start=window_start, end=window_end))
        rows.extend(row for row in read if after is None or _comes_after(row, after))
    return rows[: limit + 1]


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
        select(TaskRow.case_id, TaskRow.id, TaskRow.unit_code, TaskRow.unit_name, TaskRow.assigned_at, TaskRow.state)
        .join(first, and_(TaskRow.case_id == first.c.case_id, TaskRow.assigned_at == first.c.first_at))
        .where(TaskRow.role == "lead", *bounds)
    )
    # Two 主办 tasks at the very same moment: the case counts once, with the smaller task id (the
    # rollups' rule, shared/dispatch_rollups.first_routing).
    chosen: dict[Any, tuple[Any, FirstAssignment]] = {}
    for case_id, task_id, code, name, at, state in (await session.execute(query)).all():
        if case_id not in chosen or task_id < chosen[case_id][0]:
            chosen[case_id] = (task_id, FirstAssignment(code, name, at, state))
    return [assignment for _, assignment in chosen.values()]
