"""The statistics' rollups: per Beijing receiving day (and per month, and per calendar year) and
grouping, how many cases were received, answered, answered late, finished, visited, satisfied ... so
that the dashboard and `/stats` add up year rows for the whole years of a period, month rows for the
whole months outside them and day rows for the remaining days, instead of reading every case (issue
#14: years of data).

What a case adds is a pure function of its row (and, once answered, of the clock it was due by):
`facts_of`. `case_rollup_members` keeps, per case, the facts it adds now; `refresh` recomputes the
facts of some cases and applies only the difference (shared/rollup_sums.py). So an event projected
twice, or late, or out of order, changes nothing the second time, and `rebuild` (from the cases
table, itself the projection of the event log) gives the same rows as the incremental path.

Two figures depend on the moment they are asked and are not rolled up: whether an unanswered case's
clock has run out by now (逾期, hence 应答复), counted live among the unanswered cases only, from the
due moment on their rows (shared/answer_due.py); and the hot topics of the last seven days.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared import answer_due
from hotline.shared import rollup_sums as sums
from hotline.shared.clock import beijing
from hotline.shared.db import CaseRollupRow, CaseRow, DeadlineRow, RollupMemberRow

COUNTERS = (
    "received",
    "answered_on_spot",
    "transferred",
    "answered",
    "answered_late",
    "open",
    "finished",
    "visited",
    "satisfied",
)
SATISFIED = ("满意", "基本满意")
# The groupings of the statistics (by_channel …); every case (overall); the day each answer was given
# (the trend); topic and subtopic together (the hot topics of the last seven days: day rows only).
DIMENSIONS = ("channel", "unit", "topic", "township")
ALL = "all"
ANSWERED_DAY = "answered_day"
HOT = "hot"
DAY, MONTH, YEAR = "day", "month", "year"

Key = tuple[str, date, str, str]  # span, its first day, dimension, key


@lru_cache(maxsize=4096)  # a county's topics and subtopics: a few hundred pairs
def hot_key(topic: str, subtopic: str | None) -> str:
    return json.dumps([topic, subtopic], ensure_ascii=False)


def hot_topic(key: str) -> tuple[str, str | None]:
    topic, subtopic = json.loads(key)
    return topic, subtopic


@dataclass(frozen=True)
class Facts:
    """What one case adds to the rollups."""

    day: date
    channel: str
    unit: str | None
    topic: str | None
    subtopic: str | None
    township: str | None
    answered_day: date | None
    flags: int  # bit i set: the case counts in COUNTERS[i]

    def rollup_keys(self) -> list[Key]:
        groups: dict[str, str | None] = {
            ALL: "",
            "channel": self.channel,
            "unit": self.unit,
            "topic": self.topic,
            "township": self.township,
            ANSWERED_DAY: self.answered_day.isoformat() if self.answered_day is not None else None,
        }
        keys = [
            (span, first, name, value)
            for span, first in (
                (DAY, self.day),
                (MONTH, self.day.replace(day=1)),
                (YEAR, self.day.replace(month=1, day=1)),
            )
            for name, value in groups.items()
            if value is not None
        ]
        if self.topic is not None:
            keys.append((DAY, self.day, HOT, hot_key(self.topic, self.subtopic)))
        return keys

    def counts(self) -> tuple[int, ...]:
        return _counts_of(self.flags)


@lru_cache(maxsize=1 << len(COUNTERS))
def _counts_of(flags: int) -> tuple[int, ...]:
    return tuple((flags >> index) & 1 for index in range(len(COUNTERS)))


def _flags(**counted: bool) -> int:
    return sum(1 << COUNTERS.index(name) for name, yes in counted.items() if yes)


def facts_of(case: Mapping[str, Any], due: datetime | None) -> Facts:
    """The same definitions as the statistics (services/intake/stats.py): `due` is the clock the case
    is due by, None when it has none."""
    answered_at: datetime | None = case["answered_at"]
    on_spot = case["outcome"] == "answered_on_spot"
    flags = _flags(
        received=True,
        answered_on_spot=on_spot,
        transferred=case["unit_name"] is not None,
        answered=answered_at is not None,
        answered_late=answered_at is not None and due is not None and answered_at > due,
        open=answered_at is None,
        finished=on_spot or case["status"] == "closed",
        visited=case["verdict"] is not None,
        satisfied=case["verdict"] in SATISFIED,
    )
    return Facts(
        day=beijing(case["received_at"]).date(),
        channel=case["channel"],
        unit=case["unit_name"],
        topic=case["topic"],
        subtopic=case["subtopic"],
        township=case["township"],
        answered_day=beijing(answered_at).date() if answered_at is not None else None,
        flags=flags,
    )


ROLLUP_KEY = ("span", "day", "dimension", "key")


def rollup_row(key: Key, counts: Sequence[int]) -> dict[str, Any]:
    return sums.rollup_row(ROLLUP_KEY, COUNTERS, key, counts)


async def _case_rows(session: AsyncSession, case_ids: Sequence[uuid.UUID]) -> list[Any]:
    statement = select(
        CaseRow.id,
        CaseRow.received_at,
        CaseRow.channel,
        CaseRow.unit_name,
        CaseRow.topic,
        CaseRow.subtopic,
        CaseRow.township,
        CaseRow.outcome,
        CaseRow.status,
        CaseRow.answered_at,
        CaseRow.verdict,
    ).where(CaseRow.id.in_(case_ids))
    if session.get_bind().dialect.name == "postgresql":
        # Two feed replicas refreshing one case wait for each other, so neither reads stale members.
        statement = statement.order_by(CaseRow.id).with_for_update()
    return list((await session.execute(statement)).all())


async def _due_times(session: AsyncSession, case_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    if not case_ids:
        return {}
    rows = await session.execute(
        select(DeadlineRow.case_id, DeadlineRow.name, DeadlineRow.due_at).where(
            DeadlineRow.case_id.in_(case_ids), DeadlineRow.name.in_(answer_due.DUE_CLOCKS)
        )
    )
    clocks = {(case_id, name): due for case_id, name, due in rows.all()}
    due: dict[uuid.UUID, datetime] = {}
    for case_id in case_ids:
        first = next((clocks[(case_id, n)] for n in answer_due.DUE_CLOCKS if (case_id, n) in clocks), None)
        if first is not None:
            due[case_id] = first
    return due


_MEMBERS = select(
    RollupMemberRow.case_id,
    RollupMemberRow.day,
    RollupMemberRow.channel,
    RollupMemberRow.unit,
    RollupMemberRow.topic,
    RollupMemberRow.subtopic,
    RollupMemberRow.township,
    RollupMemberRow.answered_day,
    RollupMemberRow.flags,
)


async def _members(session: AsyncSession, case_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Facts]:
    """The facts each case adds now; plain rows, not ORM objects (nothing here is changed through them)."""
    rows = await session.execute(_MEMBERS.where(RollupMemberRow.case_id.in_(case_ids)))
    return {row[0]: Facts(*row[1:]) for row in rows.all()}


async def refresh(session: AsyncSession, case_ids: Iterable[uuid.UUID]) -> int:
    """Brings the rollups up to date for these cases (in the caller's transaction); returns how many
    cases' facts changed."""
    wanted = sorted(set(case_ids))
    if not wanted:
        return 0
    cases = await _case_rows(session, wanted)
    due = await _due_times(session, [c.id for c in cases if c.answered_at is not None])
    members = await _members(session, wanted)
    changes = [(members.get(c.id), facts_of(c._mapping, due.get(c.id)), c.id) for c in cases]
    changed = [(old, new, case_id) for old, new, case_id in changes if old != new]
    await sums.apply(
        session, changed, rollups=CaseRollupRow, key=ROLLUP_KEY, counters=COUNTERS, members=RollupMemberRow
    )
    return len(changed)


async def rebuild(session: AsyncSession) -> int:
    """Recounts the rollups from the cases table, and copies the unanswered cases' due moments from
    their clocks (the live overdue count reads them), in the caller's transaction; returns the cases
    counted."""
    await answer_due.refresh_unanswered(session)
    return await sums.rebuild(session, (CaseRollupRow, RollupMemberRow), refresh)


async def _any_row(session: AsyncSession, span: str) -> bool:
    statement = select(CaseRollupRow.day).where(CaseRollupRow.span == span).limit(1)
    return (await session.execute(statement)).first() is not None


async def missing(session: AsyncSession) -> bool:
    """Cases on file and none of them counted: a database just upgraded to the rollups (migration
    0016), or cases restored without them; or month rows and no year rows: counted before the year
    rows were kept (no schema change: the recount adds them)."""
    any_case = (await session.execute(select(CaseRow.id).limit(1))).first()
    if any_case is None:
        return False
    any_counted = (await session.execute(select(RollupMemberRow.case_id).limit(1))).first()
    if any_counted is None:
        return True
    return await _any_row(session, MONTH) and not await _any_row(session, YEAR)
