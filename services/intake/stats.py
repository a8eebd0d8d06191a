"""The figures leadership reads (DOMAIN.md "Metrics leadership reads"), for any period.

`aggregate` is a plain function over facts about cases, so the API, the report and the exports print
exactly the same numbers, and tests check them without a database.

- 答复率 = answered / due; a case is due once answered or once its response clock ran out
  (信访 have no response clock: their finishing clock counts).
- 按时答复率 = answered before that clock ran out / due.
- 办结率 = finished (当场解释, or 办结 after 回访) / received.
- 满意率 = (满意 + 基本满意) / 回访; 参评率 = 回访 / answered.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.clock import SHANGHAI, beijing
from hotline.shared.db import CaseEventRow, CaseRow, DeadlineRow

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
SATISFIED = frozenset({"满意", "基本满意"})
HOT_TOPIC_DAYS = 7


@dataclass(frozen=True, slots=True)
class CaseFacts:
    channel: str
    status: str
    outcome: str | None
    unit_name: str | None
    topic: str | None
    subtopic: str | None
    township: str | None
    received_at: datetime
    answered_at: datetime | None
    due_at: datetime | None
    verdict: str | None


def period_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Beijing calendar days, both inclusive → [start 00:00, day after end 00:00) in UTC."""
    lower = datetime.combine(start, time(), tzinfo=SHANGHAI) if start else None
    upper = datetime.combine(end + timedelta(days=1), time(), tzinfo=SHANGHAI) if end else None
    return lower, upper


async def load_facts(session: AsyncSession, *, start: date | None = None, end: date | None = None) -> list[CaseFacts]:
    lower, upper = period_bounds(start, end)
    statement = select(CaseRow)
    if lower is not None:
        statement = statement.where(CaseRow.received_at >= lower)
    if upper is not None:
        statement = statement.where(CaseRow.received_at < upper)
    cases = (await session.execute(statement)).scalars().all()
    ids = [case.id for case in cases]
    due: dict[Any, Any] = {}
    verdicts: dict[Any, str] = {}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for row in (
            await session.execute(
                select(DeadlineRow.case_id, DeadlineRow.name, DeadlineRow.due_at).where(
                    DeadlineRow.case_id.in_(chunk), DeadlineRow.name.in_(("respond", "finish"))
                )
            )
        ).all():
            if row.name == "respond" or row.case_id not in due:
                due[row.case_id] = row.due_at
        for row in (
            await session.execute(
                select(CaseEventRow.case_id, CaseEventRow.payload)
                .where(CaseEventRow.case_id.in_(chunk), CaseEventRow.kind == "visited")
                .order_by(CaseEventRow.seq)
            )
        ).all():
            verdicts[row.case_id] = str(row.payload.get("verdict"))  # the latest visit counts
    return [
        CaseFacts(
            channel=case.channel,
            status=case.status,
            outcome=case.outcome,
            unit_name=case.unit_name,
            topic=case.topic,
            subtopic=case.subtopic,
            township=case.township,
            received_at=case.received_at,
            answered_at=case.answered_at,
            due_at=due.get(case.id),
            verdict=verdicts.get(case.id),
        )
        for case in cases
    ]


def _count(counter: dict[str, int], case: CaseFacts, now: datetime) -> None:
    answered = case.answered_at is not None
    ran_out = case.due_at is not None and case.due_at <= now
    counter["received"] += 1
    counter["answered_on_spot"] += case.outcome == "answered_on_spot"
    counter["transferred"] += case.unit_name is not None
    counter["answered"] += answered
    counter["answered_on_time"] += case.answered_at is not None and (
        case.due_at is None or case.answered_at <= case.due_at
    )
    counter["due"] += answered or ran_out
    counter["overdue"] += ran_out and not answered
    counter["open"] += not answered
    counter["finished"] += case.outcome == "answered_on_spot" or case.status == "closed"
    counter["visited"] += case.verdict is not None
    counter["satisfied"] += case.verdict in SATISFIED


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


def aggregate(
    facts: list[CaseFacts], *, now: datetime, start: date | None = None, end: date | None = None
) -> dict[str, Any]:
    def counter() -> dict[str, int]:
        return dict.fromkeys(COUNTS, 0)

    overall = counter()
    groups: dict[str, defaultdict[str, dict[str, int]]] = {
        name: defaultdict(counter) for name in ("channel", "unit", "topic", "township")
    }
    trend: defaultdict[str, Counter[str]] = defaultdict(Counter)
    hot: Counter[tuple[str, str | None]] = Counter()
    hot_since = now - timedelta(days=HOT_TOPIC_DAYS)
    for case in facts:
        _count(overall, case, now)
        _count(groups["channel"][case.channel], case, now)
        for name, key in (("unit", case.unit_name), ("topic", case.topic), ("township", case.township)):
            if key:
                _count(groups[name][key], case, now)
        trend[beijing(case.received_at).date().isoformat()]["received"] += 1
        if case.answered_at is not None:
            trend[beijing(case.answered_at).date().isoformat()]["answered"] += 1
        if case.topic and case.received_at >= hot_since:
            hot[(case.topic, case.subtopic)] += 1
    return {
        "generated_at": beijing(now).isoformat(),
        "period": {"from": start.isoformat() if start else None, "to": end.isoformat() if end else None},
        "overall": with_rates(overall),
        **{f"by_{name}": {k: with_rates(v) for k, v in sorted(g.items())} for name, g in groups.items()},
        "trend": [
            {"date": day, "received": c["received"], "answered": c["answered"]} for day, c in sorted(trend.items())
        ],
        "hot_topics": [{"topic": t, "subtopic": s, "count": n} for (t, s), n in hot.most_common(10)],
    }


async def statistics(
    session: AsyncSession, *, now: datetime, start: date | None = None, end: date | None = None
) -> dict[str, Any]:
    return aggregate(await load_facts(session, start=start, end=end), now=now, start=start, end=end)
