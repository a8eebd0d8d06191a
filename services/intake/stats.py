"""The figures leadership reads (答复率, 按时答复率, 办结率 …), for any period of whole Beijing days.
The API, the report and the exports all call `statistics`, so they print exactly the same numbers.

- 答复率 = answered / due; a case is due once answered or once its response clock ran out
  (信访 have no response clock: their finishing clock counts).
- 按时答复率 = answered before that clock ran out / due.
- 办结率 = finished (当场解释, or 办结) / received.
- 满意率 = (满意 + 基本满意) / 回访; 参评率 = 回访 / answered.

The counts come from the rollups the feed service keeps per day, month and year (shared/rollups.py),
so a period of years costs a few hundred rows, not millions of cases. What depends on the moment of asking is
counted live and stays small: the unanswered cases whose clock has run out by now (逾期; 应答复 =
answered + 逾期), and the hot topics of the last seven days. `stats_direct.direct_statistics` counts
the same figures from the cases themselves: the definition the rollups are tested against.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.clock import SHANGHAI, beijing
from hotline.shared.db import CaseRollupRow, CaseRow
from hotline.shared.rollups import ALL, ANSWERED_DAY, COUNTERS, DAY, DIMENSIONS, HOT, MONTH, YEAR, hot_topic

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
HOT_TOPIC_DAYS = 7
GROUPS = {"channel": CaseRow.channel, "unit": CaseRow.unit_name, "topic": CaseRow.topic, "township": CaseRow.township}


def period_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Beijing calendar days, both inclusive → [start 00:00, day after end 00:00)."""
    lower = datetime.combine(start, time(), tzinfo=SHANGHAI) if start else None
    upper = datetime.combine(end + timedelta(days=1), time(), tzinfo=SHANGHAI) if end else None
    return lower, upper


def received_in(start: date | None, end: date | None) -> list[ColumnElement[bool]]:
    lower, upper = period_bounds(start, end)
    bounds: list[ColumnElement[bool]] = []
    if lower is not None:
        bounds.append(CaseRow.received_at >= lower)
    if upper is not None:
        bounds.append(CaseRow.received_at < upper)
    return bounds


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


def beijing_day(session: AsyncSession, column: Any) -> Any:
    """The Beijing calendar day of a stored UTC time, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", column))
    return func.date(column, "+8 hours")


@dataclass(frozen=True)
class Span:
    """A rollup's longer span (a year, a month, a week): its name in the rollup, the first day of the
    span a day falls in, and the first day of the span after the one starting on a day."""

    name: str
    first_of: Callable[[date], date]
    following: Callable[[date], date]


def _next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


YEARS = Span(YEAR, lambda day: day.replace(month=1, day=1), lambda first: first.replace(year=first.year + 1))
MONTHS = Span(MONTH, lambda day: day.replace(day=1), _next_month)
# The rows a period of the statistics adds up: years, then months, then days.
STATISTICS_SPANS = (YEARS, MONTHS)

Piece = tuple[str, date | None, date | None]  # span, the first row's day, the day after the last (None: open)


def period_pieces(start: date | None, end: date | None, spans: Sequence[Span]) -> list[Piece]:
    """The rollup rows that add up to the period (Beijing days, both inclusive, None: open) as
    half-open ranges of the rows' `day` per span: rows of the first (longest) span for its whole spans
    within the period, then rows of the next span for its whole spans within the rest before and
    after them, …, day rows for what is left. A span straddling the edge of a longer one's range (a
    week across New Year) is taken only when wholly inside the rest. A period with no day: no piece."""
    return _pieces(start, end + timedelta(days=1) if end is not None else None, tuple(spans))


def _pieces(lower: date | None, upper: date | None, spans: tuple[Span, ...]) -> list[Piece]:
    if lower is not None and upper is not None and lower >= upper:
        return []
    if not spans:
        return [(DAY, lower, upper)]
    span, finer = spans[0], spans[1:]
    first = lower if lower is None or span.first_of(lower) == lower else span.following(span.first_of(lower))
    after = upper if upper is None or span.first_of(upper) == upper else span.first_of(upper)
    if first is not None and after is not None and first >= after:
        return _pieces(lower, upper, finer)  # no whole span
    before = _pieces(lower, first, finer) if lower is not None else []
    beyond = _pieces(after, upper, finer) if upper is not None else []
    return [*before, (span.name, first, after), *beyond]


def rollup_days(start: date | None, end: date | None, day: Any = CaseRollupRow.day) -> list[ColumnElement[bool]]:
    """Rollup rows of days within the period (both ends inclusive, None: open); `day`: the rollup's
    day column."""
    bounds: list[ColumnElement[bool]] = []
    if start is not None:
        bounds.append(day >= start)
    if end is not None:
        bounds.append(day <= end)
    return bounds


def pieces_where(table: Any, pieces: Sequence[Piece]) -> ColumnElement[bool]:
    """The rows of a rollup `table` (columns `span` and `day`) in these pieces."""
    clauses = []
    for span, first, after in pieces:
        bounds = [table.span == span]
        if first is not None:
            bounds.append(table.day >= first)
        if after is not None:
            bounds.append(table.day < after)
        clauses.append(and_(*bounds))
    return or_(false(), *clauses)


def rollups_of(start: date | None, end: date | None) -> ColumnElement[bool]:
    """The rollup rows that add up to the period: year rows for its whole years, month rows for the
    whole months outside them, day rows for the days left."""
    return pieces_where(CaseRollupRow, period_pieces(start, end, STATISTICS_SPANS))


def _order(hot: dict[tuple[str, str | None], int]) -> list[dict[str, Any]]:
    ranked = sorted(hot.items(), key=lambda item: (-item[1], item[0][0], item[0][1] or ""))
    return [{"topic": t, "subtopic": s, "count": n} for (t, s), n in ranked[:10]]


async def hot_topics(
    session: AsyncSession, *, now: datetime, start: date | None, end: date | None
) -> list[dict[str, Any]]:
    """The ten commonest topics of the cases received in the last seven days (and in the period):
    day rows for the whole days, the cases themselves for the part of the first day."""
    since = now - timedelta(days=HOT_TOPIC_DAYS)
    first_day = beijing(since).date()
    whole_days_from = datetime.combine(first_day + timedelta(days=1), time(), tzinfo=SHANGHAI)
    days = [CaseRollupRow.span == DAY, CaseRollupRow.dimension == HOT, CaseRollupRow.day > first_day]
    days += rollup_days(start, end)
    rolled = await session.execute(
        select(CaseRollupRow.key, func.sum(CaseRollupRow.received)).where(*days).group_by(CaseRollupRow.key)
    )
    hot: dict[tuple[str, str | None], int] = {}
    for key, count in rolled.all():
        if count:
            hot[hot_topic(key)] = int(count)
    first = await session.execute(
        select(CaseRow.topic, CaseRow.subtopic, func.count())
        .where(
            CaseRow.topic.is_not(None),
            CaseRow.received_at >= since,
            CaseRow.received_at < whole_days_from,
            *received_in(start, end),
        )
        .group_by(CaseRow.topic, CaseRow.subtopic)
    )
    for topic, subtopic, count in first.all():
        hot[(str(topic), subtopic)] = hot.get((str(topic), subtopic), 0) + count
    return _order(hot)


async def hot_topics_counted(
    session: AsyncSession, *, now: datetime, start: date | None, end: date | None
) -> list[dict[str, Any]]:
    """The same, counted from the cases of the last seven days (the definition, for comparisons)."""
    counted = await session.execute(
        select(CaseRow.topic, CaseRow.subtopic, func.count())
        .where(
            CaseRow.topic.is_not(None),
            CaseRow.received_at >= now - timedelta(days=HOT_TOPIC_DAYS),
            *received_in(start, end),
        )
        .group_by(CaseRow.topic, CaseRow.subtopic)
    )
    return _order({(str(topic), subtopic): count for topic, subtopic, count in counted.all()})


# A trend spanning more than this many days is given by month: ten years of days are 3,650 points that no
# chart can show and every answer would carry.
TREND_DAYS = 366


def trend_points(daily: dict[str, dict[str, int]]) -> tuple[str, list[dict[str, Any]]]:
    """The trend's unit ("day" or "month") and its points (`date`: the day, or the month's first day)
    from the counts per ISO day, oldest first."""
    days = sorted(daily)
    if not days or (date.fromisoformat(days[-1]) - date.fromisoformat(days[0])).days < TREND_DAYS:
        return "day", [{"date": day, **daily[day]} for day in days]
    months: dict[str, dict[str, int]] = {}
    for day in days:
        month = months.setdefault(f"{day[:7]}-01", {"received": 0, "answered": 0})
        for name, count in daily[day].items():
            month[name] += count
    return "month", [{"date": first, **counts} for first, counts in months.items()]


def figures(rolled: Sequence[int], overdue: int) -> dict[str, int]:
    """The statistics' counts from a rollup row's sums and the live count of overdue cases."""
    sums = dict(zip(COUNTERS, (int(value or 0) for value in rolled), strict=True))
    counts = {name: sums[name] for name in COUNTS if name in sums}
    counts["answered_on_time"] = sums["answered"] - sums["answered_late"]
    counts["overdue"] = overdue
    counts["due"] = sums["answered"] + overdue  # due: answered, or its clock ran out unanswered
    return {name: counts[name] for name in COUNTS}


async def overdue_now(
    session: AsyncSession, *, now: datetime, start: date | None, end: date | None
) -> dict[tuple[str, str], int]:
    """Unanswered cases of the period whose clock has run out by `now`, per (grouping, key) and
    ("all", ""). Read from the unanswered cases' covering index alone (each case's due moment is on
    its row, shared/answer_due.py): all of them are set apart first (MATERIALIZED) and the period
    applied after, or SQLite's planner, without statistics, would rather scan every case of the
    period, or in the order of a grouping's index."""
    unanswered = (
        select(CaseRow.received_at, CaseRow.answer_due_at, *(column.label(name) for name, column in GROUPS.items()))
        .where(CaseRow.answered_at.is_(None))
        .cte("unanswered")
        .prefix_with("MATERIALIZED")
    )
    lower, upper = period_bounds(start, end)
    in_period = [unanswered.c.received_at >= lower] if lower is not None else []
    if upper is not None:
        in_period.append(unanswered.c.received_at < upper)

    ran_out = [unanswered.c.answer_due_at <= now, *in_period]
    # One small count per grouping (and one of all), not one row per combination of the four
    # (thousands of rows to send and add up at a million cases).
    per_grouping = [
        select(literal(ALL).label("dimension"), literal("").label("key"), func.count().label("n"))
        .select_from(unanswered)
        .where(*ran_out),
        *(
            select(literal(name).label("dimension"), unanswered.c[name], func.count())
            .where(*ran_out)
            .group_by(unanswered.c[name])
            for name in GROUPS
        ),
    ]
    rows = await session.execute(union_all(*per_grouping))
    return {(dimension, key): n for dimension, key, n in rows.all() if key is not None and n}


async def rolled_counts(session: AsyncSession, *, start: date | None, end: date | None) -> list[Any]:
    """(grouping, key, the counters' sums) of the period, from the rollups (answered days included)."""
    sums = [func.sum(getattr(CaseRollupRow, name)) for name in COUNTERS]
    grouped = await session.execute(
        select(CaseRollupRow.dimension, CaseRollupRow.key, *sums)
        .where(rollups_of(start, end), CaseRollupRow.dimension.in_((ALL, ANSWERED_DAY, *DIMENSIONS)))
        .group_by(CaseRollupRow.dimension, CaseRollupRow.key)
    )
    return list(grouped.all())


async def received_days(session: AsyncSession, *, start: date | None, end: date | None) -> list[Any]:
    """(day, received) for each day of the period on which cases came in (the trend's day rows)."""
    days = [CaseRollupRow.span == DAY, CaseRollupRow.dimension == ALL, CaseRollupRow.received > 0]
    days += rollup_days(start, end)
    return list((await session.execute(select(CaseRollupRow.day, CaseRollupRow.received).where(*days))).all())


async def statistics(
    session: AsyncSession, *, now: datetime, start: date | None = None, end: date | None = None
) -> dict[str, Any]:
    grouped = await rolled_counts(session, start=start, end=end)
    overdue = await overdue_now(session, now=now, start=start, end=end)
    overall: Sequence[int] = [0] * len(COUNTERS)
    groups: dict[str, dict[str, Any]] = {f"by_{name}": {} for name in DIMENSIONS}
    answered_on: dict[str, int] = {}
    for dimension, key, *rolled in sorted(grouped, key=lambda r: (r[0], r[1])):
        if dimension == ANSWERED_DAY:
            answered = int(rolled[COUNTERS.index("answered")] or 0)
            if answered:
                answered_on[key] = answered
        elif dimension == ALL:
            overall = rolled
        elif rolled[COUNTERS.index("received")]:  # not a group whose cases all moved elsewhere
            groups[f"by_{dimension}"][key] = with_rates(figures(rolled, overdue.get((dimension, key), 0)))
    trend: dict[str, dict[str, int]] = {}
    for day, received in await received_days(session, start=start, end=end):
        trend[day.isoformat()] = {"received": int(received), "answered": 0}
    for day_text, answered in answered_on.items():
        trend.setdefault(day_text, {"received": 0, "answered": 0})["answered"] = answered
    unit, points = trend_points(trend)
    return {
        "generated_at": beijing(now).isoformat(),
        "period": period_label(start, end),
        "overall": with_rates(figures(overall, overdue.get((ALL, ""), 0))),
        **groups,
        "trend_unit": unit,
        "trend": points,
        "hot_topics": await hot_topics(session, now=now, start=start, end=end),
    }
