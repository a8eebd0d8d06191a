"""The statistics' rollups: the figures read from them equal the figures counted from every case, on
a varied generated dataset (SQLite, and PostgreSQL when reachable); the projector keeps them
incrementally, and a redelivered or reordered event never counts twice."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select

from hotline.services.feed.projection import project
from hotline.services.intake.stats import statistics
from hotline.services.intake.stats_direct import direct_statistics
from hotline.shared import answer_due
from hotline.shared.db import CaseRollupRow, CaseRow, DeadlineRow, transaction
from hotline.shared.events import (
    CaseActed,
    CaseClassified,
    CaseEvent,
    CaseReceived,
    CaseRouted,
    Channel,
    Severity,
    Verdict,
)
from hotline.shared.rollup_sums import differences
from hotline.shared.rollups import COUNTERS, Facts, facts_of, missing, rebuild

FIRST = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)
DAYS = 60
UNITS = ("县住建局", "县城管局", "县人社局", None)
TOPICS = ("城乡建设", "交通运输", "教育文体", None)
TOWNSHIPS = ("城厢镇", "湖头镇", "蓬莱镇", None)
CHANNELS = ("hotline", "petition", "media")


def _case_row(
    chooser: random.Random, first: datetime = FIRST, days: int = DAYS
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One case of any shape received within `days` from `first`, and its clocks (respond, finish,
    both or none)."""
    case_id = uuid.uuid4()
    received = first + timedelta(minutes=chooser.randrange(days * 24 * 60))
    on_spot = chooser.random() < 0.2
    answered = received if on_spot else (received + timedelta(hours=chooser.randint(1, 120)))
    answered_at = answered if (on_spot or chooser.random() < 0.7) else None
    verdict = chooser.choice((None, "满意", "基本满意", "不满意")) if answered_at else None
    status = "answered" if answered_at else chooser.choice(("received", "routed", "tracked", "signed", "overdue"))
    if answered_at and chooser.random() < 0.3:
        status = "closed"
    case = {
        "id": case_id,
        "query_code": uuid.uuid4().hex[:12],
        "channel": chooser.choice(CHANNELS),
        "received_at": received,
        "created_at": received,
        "updated_at": received,
        "content": "路灯坏了",
        "details": {},
        "outcome": "answered_on_spot" if on_spot else chooser.choice(("transfer", None)),
        "township": chooser.choice(TOWNSHIPS),
        "status": status,
        "topic": chooser.choice(TOPICS),
        "subtopic": chooser.choice((None, "路灯", "噪声")),
        "severity": "一般",
        "unit_name": None if on_spot else chooser.choice(UNITS),
        "needs_review": False,
        "answered_at": answered_at,
        "repeat_count": 0,
        "verdict": verdict,
    }
    names = chooser.choice(((), ("respond",), ("finish",), ("respond", "finish")))
    clocks = [_clock(case, name, received + timedelta(hours=chooser.randint(12, 96))) for name in names]
    return case, clocks


def _clock(case: dict[str, Any], name: str, due: datetime) -> dict[str, Any]:
    return {
        "case_id": case["id"],
        "name": name,
        "label": name,
        "unit_of_time": "hours",
        "channel": case["channel"],
        "unit_code": "zjj",
        "received_at": case["received_at"],
        "starts_at": case["received_at"],
        "due_at": due,
        "state": "open",
        "step": 0,
        "paused_seconds": 0,
        "source_event_id": uuid.uuid4(),
    }


async def _store(sessions: Any, cases: list[dict[str, Any]], clocks: list[dict[str, Any]]) -> None:
    async with transaction(sessions) as session:
        await session.execute(insert(CaseRow), cases)
        if clocks:
            await session.execute(insert(DeadlineRow), clocks)
        await answer_due.refresh(session, [case["id"] for case in cases])  # as escalation does with its clocks


PERIODS: list[dict[str, date]] = [
    {},
    {"start": date(2026, 9, 10)},
    {"end": date(2026, 9, 20)},
    {"start": date(2026, 9, 5), "end": date(2026, 9, 5)},
    {"start": date(2026, 10, 1), "end": date(2026, 10, 31)},  # a whole month: its month rows
    {"start": date(2026, 9, 15), "end": date(2026, 10, 31)},  # days, then a whole month
    {"start": date(2026, 9, 1), "end": date(2026, 10, 17)},  # a whole month, then days
    {"start": date(2026, 9, 2), "end": date(2026, 9, 29)},  # within one month
    {"start": date(2026, 12, 1), "end": date(2026, 12, 31)},  # no case at all
]
# Cases of earlier years (EARLIER): periods that add up year rows.
EARLIER, EARLIER_DAYS = datetime(2024, 10, 20, tzinfo=UTC), 660  # until about 11 August 2026
YEAR_PERIODS: list[dict[str, date]] = [
    {"start": date(2025, 1, 1), "end": date(2025, 12, 31)},  # a whole year: its year rows
    {"start": date(2024, 12, 15), "end": date(2026, 10, 17)},  # days, a month, a year, months, days
    {"start": date(2025, 3, 10)},  # from mid-year to the end
    {"end": date(2025, 12, 31)},  # from the beginning to the end of a year
    {"end": date(2025, 6, 30)},  # from the beginning: a year, then months
    {"start": date(2025, 12, 20), "end": date(2026, 1, 10)},  # across New Year: days
    {"start": date(2024, 12, 1), "end": date(2026, 1, 31)},  # a month, a year, a month
]
# Moments of asking: before, amid and after the clocks run out (overdue is counted at that moment).
NOWS = [FIRST + timedelta(days=10), FIRST + timedelta(days=35, hours=7), FIRST + timedelta(days=90)]


async def _both(sessions: Any, now: datetime, period: dict[str, date]) -> tuple[dict[str, Any], dict[str, Any]]:
    async with sessions() as session:
        return (
            await statistics(session, now=now, **period),
            await direct_statistics(session, now=now, **period),
        )


async def test_rollup_figures_equal_the_figures_counted_from_every_case(sessions: Any) -> None:
    chooser = random.Random(14)
    made = [_case_row(chooser) for _ in range(600)]
    made += [_case_row(chooser, EARLIER, EARLIER_DAYS) for _ in range(300)]
    await _store(sessions, [c for c, _ in made], [clock for _, clocks in made for clock in clocks])
    async with transaction(sessions) as session:
        assert await rebuild(session) == 900
    compared = 0
    for now in NOWS:
        for period in PERIODS + YEAR_PERIODS:
            rolled, direct = await _both(sessions, now, period)
            assert rolled == direct, (now, period)
            compared += rolled["overall"]["received"]
    assert compared > 0
    # The data set reaches every figure (a comparison of zeros would prove nothing).
    rolled, _ = await _both(sessions, NOWS[1], {})
    assert all(rolled["overall"][name] > 0 for name in ("overdue", "answered_on_time", "satisfied", "finished"))
    assert rolled["overall"]["answered_on_time"] < rolled["overall"]["answered"]  # some answered late
    assert len(rolled["hot_topics"]) >= 3
    # Two years of cases: all time's trend is by month, both ways (compared above).
    assert rolled["trend_unit"] == "month" and len(rolled["trend"]) >= 20


def _facts(**overrides: Any) -> Facts:
    case = {
        "received_at": datetime(2026, 11, 1, 17, 0, tzinfo=UTC),  # 01:00 on 2 November in Beijing
        "channel": "hotline",
        "unit_name": "县住建局",
        "topic": None,
        "subtopic": None,
        "township": "城厢镇",
        "outcome": "transfer",
        "status": "answered",
        "answered_at": datetime(2026, 11, 3, 1, 0, tzinfo=UTC),
        "verdict": "基本满意",
        **overrides,
    }
    return facts_of(case, due=datetime(2026, 11, 3, 0, 0, tzinfo=UTC))


def test_a_case_counts_on_its_beijing_day_under_each_of_its_groupings() -> None:
    facts = _facts()
    assert facts.day == date(2026, 11, 2) and facts.answered_day == date(2026, 11, 3)
    day, month, year = date(2026, 11, 2), date(2026, 11, 1), date(2026, 1, 1)
    assert facts.rollup_keys() == [
        *(
            (span, first, name, key)
            for span, first in (("day", day), ("month", month), ("year", year))
            for name, key in (
                ("all", ""),
                ("channel", "hotline"),
                ("unit", "县住建局"),
                ("township", "城厢镇"),  # no topic: not counted under any topic
                ("answered_day", "2026-11-03"),
            )
        )
    ]
    assert ("day", day, "hot", '["城乡建设", "路灯"]') in _facts(topic="城乡建设", subtopic="路灯").rollup_keys()
    counted = {name for name, value in zip(COUNTERS, facts.counts(), strict=True) if value}
    assert counted == {"received", "transferred", "answered", "answered_late", "visited", "satisfied"}


def test_a_change_moves_counts_from_the_old_groups_to_the_new_and_a_repeat_moves_nothing() -> None:
    before, after = _facts(unit_name="县住建局"), _facts(unit_name="县城管局", status="closed")
    moved = differences([(before, after)])
    day, month, year = ("day", date(2026, 11, 2)), ("month", date(2026, 11, 1)), ("year", date(2026, 1, 1))
    for span in (day, month, year):
        assert moved[(*span, "unit", "县住建局")][COUNTERS.index("received")] == -1
        assert moved[(*span, "unit", "县城管局")][COUNTERS.index("received")] == 1
        assert moved[(*span, "channel", "hotline")] == [1 if name == "finished" else 0 for name in COUNTERS]
    assert differences([(after, after)]) == {}
    assert differences([(None, after)])[(*day, "channel", "hotline")][0] == 1


def test_the_differences_of_many_changes_equal_their_plain_sum() -> None:
    """The tallied sum (shared/rollup_sums.py) against adding every count of every key one by one."""
    chooser = random.Random(14)

    def any_facts() -> Facts | None:
        if chooser.random() < 0.15:
            return None
        return Facts(
            day=date(2026, 11, chooser.randint(1, 3)),
            channel=chooser.choice(CHANNELS),
            unit=chooser.choice(UNITS),
            topic=chooser.choice(TOPICS),
            subtopic=chooser.choice(("路灯", None)),
            township=chooser.choice(TOWNSHIPS),
            answered_day=chooser.choice((None, date(2026, 11, 4))),
            flags=chooser.randrange(1 << len(COUNTERS)),
        )

    for _ in range(50):
        changes = [(any_facts(), any_facts()) for _ in range(chooser.randint(1, 40))]
        plain: dict[Any, list[int]] = {}
        for old, new in changes:
            for facts, sign in ((old, -1), (new, 1)):
                for key in facts.rollup_keys() if facts is not None and old != new else ():
                    row = plain.setdefault(key, [0] * len(COUNTERS))
                    for index, value in enumerate(facts.counts()):
                        row[index] += sign * value
        assert differences(changes) == {key: row for key, row in plain.items() if any(row)}


# The projector keeps the rollups: events in any order, some delivered twice.


def _event(case: dict[str, Any], kind: str, at: datetime, chooser: random.Random) -> CaseEvent:
    common: dict[str, Any] = {
        "event_id": uuid.uuid4(),
        "case_id": case["id"],
        "occurred_at": at,
        "channel": Channel(case["channel"]),
        "received_at": case["received_at"],
    }
    if kind == "received":
        return CaseReceived(**common, content="路灯坏了", township=chooser.choice(TOWNSHIPS))
    if kind == "classified":
        topic = chooser.choice(TOPICS[:-1])
        return CaseClassified(**common, topic=topic, severity=Severity.GENERAL, confidence=0.9, model_version="t")
    if kind == "routed":
        unit = chooser.choice(UNITS[:-1])
        assert unit is not None
        topic = chooser.choice(TOPICS[:-1])
        return CaseRouted(**common, topic=topic, severity=Severity.GENERAL, unit_code="u", unit_name=unit, reason="t")
    verdict = chooser.choice(list(Verdict)) if kind == "visited" else None
    return CaseActed(
        **common, kind=kind, task_id=uuid.uuid4(), unit_code="u", actor="a", actor_role="unit", verdict=verdict
    )


def _history(case: dict[str, Any], chooser: random.Random) -> list[CaseEvent]:
    at = case["received_at"]
    kinds = ["received", "classified", "routed", "signed", "answered", "visited", "answered", "closed"]
    steps = kinds[: chooser.randint(1, len(kinds))]
    return [_event(case, kind, at + timedelta(hours=5 * index), chooser) for index, kind in enumerate(steps)]


async def _rollup_rows(sessions: Any) -> set[tuple[Any, ...]]:
    async with sessions() as session:
        rows = (await session.execute(select(CaseRollupRow))).scalars().all()
    return {
        (r.span, r.day, r.dimension, r.key, *(getattr(r, c) for c in COUNTERS))
        for r in rows
        if any(getattr(r, c) for c in COUNTERS)
    }


async def test_the_projector_keeps_the_rollups_whatever_the_order_and_redeliveries(sessions: Any) -> None:
    chooser = random.Random(7)
    made = [_case_row(chooser) for _ in range(120)]
    made += [_case_row(chooser, EARLIER, EARLIER_DAYS) for _ in range(60)]
    cases = [{**c, "status": "received", "answered_at": None, "verdict": None, "unit_name": None} for c, _ in made]
    for case in cases:
        case["outcome"] = None if case["outcome"] == "answered_on_spot" else case["outcome"]
    await _store(sessions, cases, [clock for _, clocks in made for clock in clocks])
    events = [event for case in cases for event in _history(case, chooser)]
    deliveries = events + chooser.sample(events, len(events) // 3)  # a third delivered twice
    chooser.shuffle(deliveries)
    for start in range(0, len(deliveries), 17):
        async with transaction(sessions) as session:
            await project(session, deliveries[start : start + 17], now=FIRST + timedelta(days=DAYS))
    kept = await _rollup_rows(sessions)
    for now in NOWS:
        for period in PERIODS[:5] + YEAR_PERIODS[:3]:
            rolled, direct = await _both(sessions, now, period)
            assert rolled == direct, (now, period)
    async with transaction(sessions) as session:
        assert await rebuild(session) == len(cases)
    assert await _rollup_rows(sessions) == kept  # the incremental path and a recount agree
    rolled, _ = await _both(sessions, NOWS[-1], {})
    assert rolled["overall"]["received"] == len(cases)
    assert rolled["overall"]["answered"] > 0 and rolled["overall"]["satisfied"] > 0


async def test_a_database_with_cases_and_no_counts_is_recounted_once(sessions: Any) -> None:
    # What a database from before the rollups looks like after its upgrade: cases, no counts.
    chooser = random.Random(15)
    made = [_case_row(chooser) for _ in range(40)]
    await _store(sessions, [c for c, _ in made], [clock for _, clocks in made for clock in clocks])
    async with sessions() as session:
        assert await missing(session)
    async with transaction(sessions) as session:
        assert await rebuild(session) == 40
    async with sessions() as session:
        assert not await missing(session)  # so the next start leaves them alone


async def test_a_database_counted_before_the_year_rows_is_recounted_once(sessions: Any) -> None:
    # What a database counted before the year rows were kept looks like: day and month rows, no year rows.
    chooser = random.Random(16)
    made = [_case_row(chooser, EARLIER, EARLIER_DAYS) for _ in range(40)]
    await _store(sessions, [c for c, _ in made], [clock for _, clocks in made for clock in clocks])
    async with transaction(sessions) as session:
        assert await rebuild(session) == 40
    counted = await _rollup_rows(sessions)
    assert {row[0] for row in counted} == {"day", "month", "year"}
    async with transaction(sessions) as session:
        await session.execute(delete(CaseRollupRow).where(CaseRollupRow.span == "year"))
    async with sessions() as session:
        assert await missing(session)
    async with transaction(sessions) as session:
        assert await rebuild(session) == 40
    async with sessions() as session:
        assert not await missing(session)
    assert await _rollup_rows(sessions) == counted
