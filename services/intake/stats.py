"""The figures leadership reads (答复率, 按时答复率, 办结率 …), for any period, counted by the
database (GROUP BY), so the dashboard stays fast with 100,000 cases. The API, the report and the
exports all call `statistics`, so they print exactly the same numbers.

- 答复率 = answered / due; a case is due once answered or once its response clock ran out
  (信访 have no response clock: their finishing clock counts).
- 按时答复率 = answered before that clock ran out / due.
- 办结率 = finished (当场解释, or 办结) / received.
- 满意率 = (满意 + 基本满意) / 回访; 参评率 = 回访 / answered.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy import case as when
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hotline.shared.clock import SHANGHAI, beijing
from hotline.shared.db import CaseRow, DeadlineRow

COUNTS = (
    "received",
    "answered_on_spot",
    "transferred",
    "answered",
    "answered_on_time",
    "due",
    "overdue",
    "open",
    "finished",
    "visited",
    "satisfied",
)
SATISFIED = ("满意", "基本满意")
HOT_TOPIC_DAYS = 7
GROUPS = {"channel": CaseRow.channel, "unit": CaseRow.unit_name, "topic": CaseRow.topic, "township": CaseRow.township}


def period_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Beijing calendar days, both inclusive → [start 00:00, day after end 00:00)."""
    lower = datetime.combine(start, time(), tzinfo=SHANGHAI) if start else None
    upper = datetime.combine(end + timedelta(days=1), time(), tzinfo=SHANGHAI) if end else None
    return lower, upper


def period_label(start: date | None, end: date | None) -> dict[str, str | None]:
    """The period as answers state it: ISO days, None for an open end."""
    return {"from": start.isoformat() if start else None, "to": end.isoformat() if end else None}


def _rate(numerator: int, denominator: int) -> float | None:
    return round(100 * numerator / denominator, 2) if denominator else None


def with_rates(counts: dict[str, int]) -> dict[str, Any]:
    return {
        **counts,
        "response_rate": _rate(counts["answered"], counts["due"]),  # 答复率
        "on_time_rate": _rate(counts["answered_on_time"], counts["due"]),  # 按时答复率
        "finish_rate": _rate(counts["finished"], counts["received"]),  # 办结率
        "satisfaction_rate": _rate(counts["satisfied"], counts["visited"]),  # 满意率
        "participation_rate": _rate(counts["visited"], counts["answered"]),  # 参评率
        "on_spot_rate": _rate(counts["answered_on_spot"], counts["received"]),  # 当场解释率
        "transfer_rate": _rate(counts["transferred"], counts["received"]),  # 转办率
    }


class _Query:
    """The cases of a period joined with the clock each is due by, and the counting expressions."""

    def __init__(self, *, now: datetime, start: date | None, end: date | None) -> None:
        respond, finish = aliased(DeadlineRow), aliased(DeadlineRow)
        self.respond, self.finish = respond, finish
        lower, upper = period_bounds(start, end)
        self.in_period: list[ColumnElement[bool]] = []
        if lower is not None:
            self.in_period.append(CaseRow.received_at >= lower)
        if upper is not None:
            self.in_period.append(CaseRow.received_at < upper)
        due = func.coalesce(respond.due_at, finish.due_at)
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
        return (
            select(*keys, *self.columns)
            .select_from(CaseRow)
            .outerjoin(self.respond, (self.respond.case_id == CaseRow.id) & (self.respond.name == "respond"))
            .outerjoin(self.finish, (self.finish.case_id == CaseRow.id) & (self.finish.name == "finish"))
            .where(*self.in_period)
        )


def _counts(row: Any) -> dict[str, int]:
    return {name: int(getattr(row, name) or 0) for name in COUNTS}


def _add(total: dict[str, int], counts: dict[str, int]) -> None:
    for name, value in counts.items():
        total[name] += value


def beijing_day(session: AsyncSession, column: Any) -> Any:
    """The Beijing calendar day of a stored UTC time, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", column))
    return func.date(column, "+8 hours")


async def statistics(
    session: AsyncSession, *, now: datetime, start: date | None = None, end: date | None = None
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
    hot = await session.execute(
        select(CaseRow.topic, CaseRow.subtopic, func.count().label("n"))
        .where(
            CaseRow.topic.is_not(None), CaseRow.received_at >= now - timedelta(days=HOT_TOPIC_DAYS), *query.in_period
        )
        .group_by(CaseRow.topic, CaseRow.subtopic)
        .order_by(func.count().desc(), CaseRow.topic)
        .limit(10)
    )
    return {
        "generated_at": beijing(now).isoformat(),
        "period": period_label(start, end),
        "overall": with_rates(overall),
        **groups,
        "trend": [{"date": day, **counts} for day, counts in sorted(trend.items())],
        "hot_topics": [{"topic": t, "subtopic": s, "count": n} for t, s, n in hot.all()],
    }
