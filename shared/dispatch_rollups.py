"""The 派单准确率's rollups: per Beijing day (and week) of cases' first 主办 assignment and the unit it
went to, how many cases were first routed there and how many of them then left after a 退回 or an
改派, so that `/stats/dispatch-accuracy` adds week and day rows instead of reading every case's tasks
(issue #14: years of data).

What a case adds is a pure function of its 主办 tasks (`first_routing`): the earliest one, and the
state it is in now. Two services write those tasks: the feed inserts them and marks the earlier ones
已改派 when it projects a `routed` event, and intake marks one 已退回 in the transaction that queues
the `returned` event. So the feed refreshes a case's contribution after projecting either event
(`moves_first_routing`), by differences kept per case (shared/rollup_sums.py): a redelivered, late or
out-of-order event changes nothing the second time, and `rebuild` (from the tasks table) gives the
same rows as the incremental path.

No rows longer than a week (unlike the statistics' year rows): the card answers one row per unit and
week, so a year row would add up weeks the answer shows apart; an all-time answer costs its own rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared import rollup_sums as sums
from hotline.shared.clock import beijing
from hotline.shared.db import DispatchMemberRow, DispatchRollupRow, TaskRow
from hotline.shared.events import CaseActed, CaseEvent, CaseRouted

KEPT, RETURNED, REASSIGNED = "kept", "returned", "reassigned"  # 已退回: "not ours"; 已改派: sent elsewhere
COUNTERS = ("routed", "returned", "reassigned")  # kept = routed - returned - reassigned
DAY, WEEK = "day", "week"
KEY = ("span", "day", "unit_code", "unit_name")


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class LeadTask:
    """A 主办 task as the rollups need it."""

    id: uuid.UUID
    unit_code: str
    unit_name: str
    assigned_at: datetime
    state: str


@dataclass(frozen=True)
class FirstRouting:
    """What one case adds: the Beijing day of its first 主办 assignment, that unit, and what became of
    the task (kept, returned, reassigned)."""

    day: date
    unit_code: str
    unit_name: str
    outcome: str

    def rollup_keys(self) -> list[tuple[str, date, str, str]]:
        return [
            (DAY, self.day, self.unit_code, self.unit_name),
            (WEEK, monday_of(self.day), self.unit_code, self.unit_name),
        ]

    def counts(self) -> tuple[int, ...]:
        return (1, int(self.outcome == RETURNED), int(self.outcome == REASSIGNED))


def outcome_of(state: str) -> str:
    """Any state but 已退回 and 已改派 (pending, signed, answered, closed …) means the unit kept it."""
    return state if state in (RETURNED, REASSIGNED) else KEPT


def first_routing(tasks: Iterable[LeadTask]) -> FirstRouting | None:
    """The case's earliest 主办 task (of two assigned at the very same moment, the smaller id: any
    rule would do, but the same one everywhere), None when it has none."""
    first = min(tasks, key=lambda task: (task.assigned_at, task.id), default=None)
    if first is None:
        return None
    return FirstRouting(beijing(first.assigned_at).date(), first.unit_code, first.unit_name, outcome_of(first.state))


def moves_first_routing(event: CaseEvent) -> bool:
    """The events after which a case's 主办 tasks may say something new (see the module's docstring)."""
    return isinstance(event, CaseRouted) or (isinstance(event, CaseActed) and event.kind == "returned")


async def _lead_tasks(session: AsyncSession, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[LeadTask]]:
    rows = await session.execute(
        select(
            TaskRow.case_id, TaskRow.id, TaskRow.unit_code, TaskRow.unit_name, TaskRow.assigned_at, TaskRow.state
        ).where(TaskRow.case_id.in_(case_ids), TaskRow.role == "lead")
    )
    tasks: dict[uuid.UUID, list[LeadTask]] = {}
    for case_id, task_id, code, name, assigned_at, state in rows.all():
        tasks.setdefault(case_id, []).append(LeadTask(task_id, code, name, assigned_at, state))
    return tasks


_MEMBERS = select(
    DispatchMemberRow.case_id,
    DispatchMemberRow.day,
    DispatchMemberRow.unit_code,
    DispatchMemberRow.unit_name,
    DispatchMemberRow.outcome,
)


async def refresh(session: AsyncSession, case_ids: Iterable[uuid.UUID]) -> int:
    """Brings the rollups up to date for these cases (in the caller's transaction, after the
    statistics' refresh, which on PostgreSQL has locked the cases' rows: two feed replicas refreshing
    one case wait for each other); returns how many cases' contributions changed."""
    wanted = sorted(set(case_ids))
    if not wanted:
        return 0
    tasks = await _lead_tasks(session, wanted)
    kept = await session.execute(_MEMBERS.where(DispatchMemberRow.case_id.in_(wanted)))
    members = {row[0]: FirstRouting(*row[1:]) for row in kept.all()}
    changes = [(members.get(case_id), first_routing(tasks.get(case_id, ())), case_id) for case_id in wanted]
    changed = [(old, new, case_id) for old, new, case_id in changes if old != new]
    await sums.apply(session, changed, rollups=DispatchRollupRow, key=KEY, counters=COUNTERS, members=DispatchMemberRow)
    return len(changed)


async def rebuild(session: AsyncSession) -> int:
    """Recounts the rollups from the tasks table (in the caller's transaction); returns the cases counted."""
    return await sums.rebuild(session, (DispatchRollupRow, DispatchMemberRow), refresh)


async def missing(session: AsyncSession) -> bool:
    """主办 tasks on file and none of them counted: a database just upgraded to these rollups
    (migration 0017), or tasks restored without them."""
    any_task = (await session.execute(select(TaskRow.case_id).where(TaskRow.role == "lead").limit(1))).first()
    any_counted = (await session.execute(select(DispatchMemberRow.case_id).limit(1))).first()
    return any_task is not None and any_counted is None
