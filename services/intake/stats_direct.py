"""The statistics counted straight from the cases (GROUP BY over every case of the period): the
definition that the rollup-based `stats.statistics` must reproduce number for number. It reads
every case of the period, so it is for tests, checks and benchmarks, not for the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy import case as when
from sqlalchemy.orm import aliased

from hotline.services.intake.stats import (
    COUNTS,
    GROUPS,
    beijing_day,
    hot_topics_counted,
    period_label,
    received_in,
    trend_points,
    with_rates,
)
from hotline.shared.clock import beijing
from hotline.shared.db import CaseRow, DeadlineRow
from hotline.shared.rollups import SATISFIED


def due_by_clock() -> tuple[Any, Any, Any]:
    """The two clocks a case may be due by, and the time it is due: its response clock, else (信访)
    its finishing clock."""
    respond, finish = aliased(DeadlineRow), aliased(DeadlineRow)
    return respond, finish, func.coalesce(respond.due_at, finish.due_at)


def with_clocks(statement: Any, respond: Any, finish: Any) -> Any:
    return statement.outerjoin(respond, (respond.case_id == CaseRow.id) & (respond.name == "respond")).outerjoin(
        finish, (finish.case_id == CaseRow.id) & (finish.name == "finish")
    )


class _Query:
    """The cases of a period joined with the clock each is due by, and the counting expressions."""

    def __init__(self, *, now: datetime, start: date | None, end: date | None) -> None:
        self.respond, self.finish, due = due_by_clock()
        self.in_period = received_in(start, end)
        answered = CaseRow.answered_at.is_not(None)
        ran_out = and_(due.is_not(None), due <= now)
        flags = {
            "answered_on_spot": CaseRow.outcome == "answered_on_spot",
            "transferred": CaseRow.unit_name.is_not(None),
            "answered": answered,
            "answered_on_time": and_(answered, or_(due.is_(None), CaseRow.answered_at <= due)),
            "due": or_(answered, ran_out),
            "overdue": and_(ran_out, CaseRow.answered_at.is_(None)),
            "open": CaseRow.answered_at.is_(None),
            "finished": or_(CaseRow.outcome == "answered_on_spot", CaseRow.status == "closed"),
            "visited": CaseRow.verdict.is_not(None),
            "satisfied": CaseRow.verdict.in_(SATISFIED),
        }
        self.columns = [func.count().label("received")] + [
            func.sum(when((condition, 1), else_=0)).label(name) for name, condition in flags.items()
        ]

    def select(self, *keys: Any) -> Select[Any]:
        statement = with_clocks(select(*keys, *self.columns).select_from(CaseRow), self.respond, self.finish)
        return statement.where(*self.in_period)  # type: ignore[no-any-return]


def _counts(row: Any) -> dict[str, int]:
    return {name: int(getattr(row, name) or 0) for name in COUNTS}


async def direct_statistics(
    session: Any, *, now: datetime, start: date | None = None, end: date | None = None
) -> dict[str, Any]:
    query = _Query(now=now, start=start, end=end)
    overall = _counts((await session.execute(query.select())).one())
    groups: dict[str, dict[str, Any]] = {}
    for name, column in GROUPS.items():
        rows = (
            await session.execute(query.select(column.label("key")).where(column.is_not(None)).group_by(column))
        ).all()
        groups[f"by_{name}"] = {row.key: with_rates(_counts(row)) for row in sorted(rows, key=lambda r: r.key)}
    received_day = beijing_day(session, CaseRow.received_at)
    answered_day = beijing_day(session, CaseRow.answered_at)
    received = await session.execute(select(received_day, func.count()).where(*query.in_period).group_by(received_day))
    answered = await session.execute(
        select(answered_day, func.count())
        .where(CaseRow.answered_at.is_not(None), *query.in_period)
        .group_by(answered_day)
    )
    trend: dict[str, dict[str, int]] = {}
    for kind, rows in (("received", received.all()), ("answered", answered.all())):
        for day, count in rows:
            trend.setdefault(str(day), {"received": 0, "answered": 0})[kind] = count
    unit, points = trend_points(trend)
    return {
        "generated_at": beijing(now).isoformat(),
        "period": period_label(start, end),
        "overall": with_rates(overall),
        **groups,
        "trend_unit": unit,
        "trend": points,
        "hot_topics": await hot_topics_counted(session, now=now, start=start, end=end),
    }
