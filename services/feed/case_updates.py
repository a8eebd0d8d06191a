"""The case rows' new state, written a batch at a time: one UPDATE statement per kind of change,
executed with many parameter sets, instead of one statement per event.

Why: the feed projects every event of every case (classified, routed, tracked, ...). One UPDATE
per event cost a database round trip each (on SQLite, several hand-offs to aiosqlite's thread); a
batch of events now costs a few executemany calls.

Order still holds where it matters: two events of the same case in one batch land in different
*waves*, applied in the order the events came, so a later change of the same case is never
overwritten by an earlier one. Within a wave each case appears at most once, so the grouping of a
wave by statement shape cannot reorder anything about one case.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, Update, and_, bindparam, func, null, or_, true, update
from sqlalchemy import case as sql_case
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.db import CaseRow

CASES = cast(Table, CaseRow.__table__)

# How far along the automatic pipeline a case is: a pipeline status only replaces a lower one, so
# events may arrive in any order. People's steps (签收, 答复, ...) set the status outright, and the
# pipeline never overrides them.
STATUS_RANK = {"received": 0, "classified": 1, "routed": 2, "tracked": 3, "overdue": 4}
# Pipeline steps that take an urgent call saved as 当场解释 out of "answered": it is routed and tracked.
URGENT_REOPENING = ("routed", "tracked", "overdue")


@dataclass(frozen=True, slots=True)
class CaseUpdate:
    """What one event changes on its case row: plain column values, the pipeline status it moves
    the case towards (forward only), and whether the event itself says the case is urgent (a
    `routed` event may be projected before the classification that marked the row)."""

    case_id: uuid.UUID
    values: Mapping[str, Any]
    status: str | None = None
    says_urgent: bool = False

    @property
    def changes_anything(self) -> bool:
        return bool(self.values) or self.status is not None

    def shape(self) -> tuple[tuple[str, ...], str | None, bool]:
        """Updates of one shape share one SQL statement."""
        return (tuple(sorted(self.values)), self.status, self.says_urgent)


def waves(updates: Sequence[CaseUpdate]) -> list[list[CaseUpdate]]:
    """Split updates into ordered waves in which each case appears at most once: the n-th update of
    a case in the batch goes to wave n."""
    seen: dict[uuid.UUID, int] = {}
    result: list[list[CaseUpdate]] = []
    for item in updates:
        n = seen.get(item.case_id, 0)
        seen[item.case_id] = n + 1
        if n == len(result):
            result.append([])
        result[n].append(item)
    return result


def by_shape(wave: Sequence[CaseUpdate]) -> list[list[CaseUpdate]]:
    """A wave's updates grouped by statement shape, groups in order of first appearance."""
    groups: dict[Hashable, list[CaseUpdate]] = {}
    for item in wave:
        groups.setdefault(item.shape(), []).append(item)
    return list(groups.values())


def urgent_on_spot_reopened(says_urgent: bool) -> ColumnElement[bool]:
    """The case row is an urgent call saved as 当场解释 (status "answered") that the pipeline now
    routes and tracks: it is open again, under its unit and urgent clocks. The row is urgent when a
    classification or a 转接 said so, or the event says so itself. Only the answer given on the spot
    (answered when received) is undone, never a unit's later 答复."""
    urgent = true() if says_urgent else CASES.c.urgent.is_(True)
    return and_(
        CASES.c.status == "answered",
        func.coalesce(CASES.c.outcome, "") == "answered_on_spot",
        CASES.c.answered_at == CASES.c.received_at,
        urgent,
    )


def _param(column: str) -> str:
    # Bind names may not equal column names in an UPDATE's SET clause.
    return f"p_{column}"


def statement(example: CaseUpdate) -> Update:
    """The UPDATE for every update of `example`'s shape; parameters from :func:`parameters`."""
    return _statement(*example.shape())


@lru_cache(maxsize=256)
def _statement(columns: tuple[str, ...], status: str | None, says_urgent: bool) -> Update:
    # Built once per shape (a few dozen occur): building it and its cache key on every batch was 5 %
    # of the feed's samples in a py-spy profile at 100 calls/s. A statement is immutable, so one
    # serves every execution.
    values: dict[str, Any] = {key: bindparam(_param(key), type_=CASES.c[key].type) for key in (*columns, "updated_at")}
    if status is not None:
        rank = sql_case(*((CASES.c.status == name, value) for name, value in STATUS_RANK.items()), else_=0)
        # Not `in_`: its expanding parameter cannot go into an executemany.
        pipeline_status: ColumnElement[bool] = or_(*(CASES.c.status == name for name in STATUS_RANK))
        if status in URGENT_REOPENING:
            reopened = urgent_on_spot_reopened(says_urgent)
            pipeline_status = pipeline_status | reopened
            values["answered_at"] = sql_case((reopened, null()), else_=CASES.c.answered_at)
        values["status"] = sql_case((pipeline_status & (rank < STATUS_RANK[status]), status), else_=CASES.c.status)
    return update(CASES).where(CASES.c.id == bindparam("p_case_id", type_=CASES.c.id.type)).values(values)


def parameters(item: CaseUpdate, now: datetime) -> dict[str, Any]:
    return {
        "p_case_id": item.case_id,
        _param("updated_at"): now,
        **{_param(key): value for key, value in item.values.items()},
    }


async def apply(session: AsyncSession, updates: Sequence[CaseUpdate], *, now: datetime) -> None:
    """Write `updates` in the session's transaction, a statement per wave and shape."""
    connection = await session.connection()
    for wave in waves(updates):
        for group in by_shape(wave):
            await connection.execute(statement(group[0]), [parameters(item, now) for item in group])
