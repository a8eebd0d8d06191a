"""The 派单准确率's rollups: the card read from them equals the card counted from every case's first
主办 task, on generated tasks with 退回 and 改派 (SQLite, and PostgreSQL when reachable); the projector
keeps them incrementally, and a redelivered or reordered event never counts twice."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from hotline.services.feed.projection import project
from hotline.services.intake.dispatch_accuracy import (
    After,
    Tally,
    accuracy_page,
    accuracy_rows,
    dispatch_accuracy,
    first_assignments,
    rolled_up,
)
from hotline.shared import rollups
from hotline.shared.db import CaseRow, DispatchRollupRow, TaskRow, create_engine, session_factory, transaction
from hotline.shared.dispatch_rollups import (
    COUNTERS,
    KEPT,
    REASSIGNED,
    RETURNED,
    FirstRouting,
    LeadTask,
    first_routing,
    missing,
    rebuild,
)
from hotline.shared.events import CaseActed, CaseEvent, CaseRouted, Channel, DecidedBy, Severity
from hotline.shared.recount import described, rebuild_database

FIRST = datetime(2026, 9, 7, 0, 0, tzinfo=UTC)  # Monday 08:00 in Beijing
DAYS = 56
UNITS = {"zjj": "县住建局", "cgj": "县城管局", "rsj": "县人社局", "gaj": "县公安局"}
RENAMED = ("zjj", "县建设局")  # the same unit under its old name: the card shows one row
STATES = ("pending", "signed", "paused", "answered", "closed")


def _case(case_id: uuid.UUID, received: datetime) -> dict[str, Any]:
    return {
        "id": case_id,
        "query_code": case_id.hex[:12],
        "channel": "hotline",
        "received_at": received,
        "created_at": received,
        "updated_at": received,
        "content": "路灯坏了",
        "details": {},
        "status": "routed",
        "needs_review": False,
        "repeat_count": 0,
    }


def _task(case_id: uuid.UUID, code: str, at: datetime, state: str, role: str = "lead") -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "case_id": case_id,
        "unit_code": code,
        "unit_name": UNITS[code],
        "co_units": [],
        "state": state,
        "role": role,
        "assigned_at": at,
        "attachments": [],
        "source_event_id": uuid.uuid4(),
        "updated_at": at,
    }


def _tasks_of(chooser: random.Random, case_id: uuid.UUID, received: datetime) -> list[dict[str, Any]]:
    """A case's tasks: the first 主办 kept, returned or reassigned (then a second one), at times
    that fall on either side of Beijing midnight; sometimes a 协办 task first, or two at one moment."""
    first_at = received + timedelta(minutes=chooser.randrange(30, 600))
    fate = chooser.choice((*STATES, RETURNED, REASSIGNED))
    first = _task(case_id, chooser.choice(list(UNITS)), first_at, fate)
    if first["unit_code"] == RENAMED[0] and chooser.random() < 0.3:
        first["unit_name"] = RENAMED[1]
    tasks = [first]
    if fate in (RETURNED, REASSIGNED):
        later = first_at + timedelta(hours=chooser.randint(1, 72))
        tasks.append(_task(case_id, chooser.choice(list(UNITS)), later, chooser.choice(STATES)))
    if chooser.random() < 0.1:  # a 协办 task earlier than any 主办: never a first routing
        tasks.append(_task(case_id, "gaj", first_at - timedelta(minutes=5), "signed", role="co"))
    if chooser.random() < 0.05:  # two 主办 tasks at the very same moment: the case counts once
        tasks.append(_task(case_id, chooser.choice(list(UNITS)), first_at, chooser.choice(STATES)))
    return tasks


async def _store(sessions: Any, count: int, seed: int) -> None:
    chooser = random.Random(seed)
    cases, tasks = [], []
    for _ in range(count):
        case_id = uuid.uuid4()
        received = FIRST + timedelta(minutes=chooser.randrange(DAYS * 24 * 60))
        cases.append(_case(case_id, received))
        if chooser.random() < 0.9:  # some cases were answered on the spot: no task
            tasks.extend(_tasks_of(chooser, case_id, received))
    async with transaction(sessions) as session:
        await session.execute(insert(CaseRow), cases)
        await session.execute(insert(TaskRow), tasks)


PERIODS: list[dict[str, date]] = [
    {},
    {"start": date(2026, 9, 16)},  # from a Wednesday
    {"end": date(2026, 10, 8)},  # until a Thursday
    {"start": date(2026, 9, 14), "end": date(2026, 10, 4)},  # three whole weeks: week rows only
    {"start": date(2026, 9, 15), "end": date(2026, 10, 13)},  # days, whole weeks, days
    {"start": date(2026, 9, 9), "end": date(2026, 9, 11)},  # within one week: day rows only
    {"start": date(2026, 9, 20), "end": date(2026, 9, 20)},  # a Sunday
    {"start": date(2026, 9, 21), "end": date(2026, 9, 21)},  # a Monday
    {"start": date(2026, 12, 1), "end": date(2026, 12, 31)},  # nothing routed
]


async def _both(sessions: Any, period: dict[str, date]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    async with sessions() as session:
        return (
            accuracy_rows(await rolled_up(session, **period)),
            dispatch_accuracy(await first_assignments(session, **period)),
        )


async def _rollup_rows(sessions: Any) -> set[tuple[Any, ...]]:
    async with sessions() as session:
        rows = (await session.execute(select(DispatchRollupRow))).scalars().all()
    return {
        (r.span, r.day, r.unit_code, r.unit_name, *(getattr(r, c) for c in COUNTERS))
        for r in rows
        if any(getattr(r, c) for c in COUNTERS)
    }


async def test_the_card_from_the_rollups_equals_the_card_counted_from_every_first_task(sessions: Any) -> None:
    await _store(sessions, 500, seed=14)
    async with sessions() as session:
        assert await missing(session)  # tasks on file, nothing counted yet
    async with transaction(sessions) as session:
        counted = await rebuild(session)
    assert 400 < counted < 500
    async with sessions() as session:
        assert not await missing(session)
    for period in PERIODS:
        rolled, direct = await _both(sessions, period)
        assert rolled == direct, period
    # The data reaches every figure, every kind of period and the renamed unit.
    rolled, _ = await _both(sessions, {})
    assert sum(row["routed"] for row in rolled) == counted
    assert all(sum(row[name] for row in rolled) > 20 for name in ("kept", "returned", "reassigned"))
    async with sessions() as session:
        names = {tally.unit_name for tally in await rolled_up(session)}
    assert names == {*UNITS.values(), RENAMED[1]}
    assert all([(await _both(sessions, period))[0] for period in PERIODS[:-1]])
    assert (await _both(sessions, PERIODS[-1]))[0] == []


async def test_the_card_read_page_by_page_is_the_whole_card(sessions: Any) -> None:
    await _store(sessions, 300, seed=21)
    async with transaction(sessions) as session:
        await rebuild(session)
    for period in PERIODS:
        async with sessions() as session:
            whole = accuracy_rows(await rolled_up(session, **period))
            for limit in (1, 3, 4, 5, 9, 1000):
                pages: list[list[dict[str, Any]]] = []
                after = None
                while True:
                    read = await accuracy_page(session, **period, after=after, limit=limit)
                    pages.append(read[:limit])
                    if len(read) <= limit:
                        break
                    after = After(date.fromisoformat(read[limit - 1]["week"]), read[limit - 1]["unit_code"])
                assert [row for page in pages for row in page] == whole, (period, limit)
                assert all(len(page) == limit for page in pages[:-1]), (period, limit)  # none short but the last
    assert whole == [] and len(accuracy_rows(await _rolled(sessions))) > 30  # the last period: nothing routed


async def _rolled(sessions: Any) -> list[Tally]:
    async with sessions() as session:
        return await rolled_up(session)


async def test_a_start_recounts_only_the_rollups_that_have_data_and_no_counts(database_url: str) -> None:
    # A database at 0016 after its upgrade to 0017: the statistics counted, the card's rollups empty.
    engine = create_engine(database_url)
    try:
        await _store(session_factory(engine), 40, seed=3)
        async with transaction(session_factory(engine)) as session:
            await rollups.rebuild(session)
    finally:
        await engine.dispose()
    recounted = await rebuild_database(database_url, only_if_missing=True)
    assert list(recounted) == ["first_routings"] and recounted["first_routings"] > 30
    assert await rebuild_database(database_url, only_if_missing=True) == {}  # the next start: nothing
    assert described(recounted, "补算") == f"派单准确率已按任务表补算：{recounted['first_routings']} 件案件的首次派单"


# The projector keeps them: routings, 退回 and 改派 in any order, some delivered twice.


def _routed(case_id: uuid.UUID, code: str, at: datetime, by: DecidedBy) -> CaseRouted:
    return CaseRouted(
        event_id=uuid.uuid4(),
        case_id=case_id,
        occurred_at=at,
        channel=Channel.HOTLINE,
        received_at=at - timedelta(minutes=30),
        topic="城乡建设",
        severity=Severity.GENERAL,
        unit_code=code,
        unit_name=UNITS[code],
        reason="test",
        decided_by=by,
    )


def _acted(case_id: uuid.UUID, kind: str, task_id: uuid.UUID, code: str, at: datetime) -> CaseActed:
    return CaseActed(
        event_id=uuid.uuid4(),
        case_id=case_id,
        occurred_at=at,
        channel=Channel.HOTLINE,
        received_at=at,
        kind=kind,
        task_id=task_id,
        unit_code=code,
        actor="unit-user",
        actor_role="unit",
    )


async def _project_shuffled(sessions: Any, events: list[CaseEvent], chooser: random.Random) -> None:
    deliveries = events + chooser.sample(events, len(events) // 3)  # a third delivered twice
    chooser.shuffle(deliveries)
    for start in range(0, len(deliveries), 13):
        async with transaction(sessions) as session:
            await project(session, deliveries[start : start + 13], now=FIRST + timedelta(days=DAYS))


async def _return_first_tasks(sessions: Any, cases: list[uuid.UUID]) -> list[CaseEvent]:
    """What intake does on a 退回: the task marked in its transaction, the event queued with it."""
    events: list[CaseEvent] = []
    async with transaction(sessions) as session:
        for case_id in cases:
            task = await session.scalar(
                select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.role == "lead").order_by(TaskRow.assigned_at)
            )
            assert task is not None
            await session.execute(update(TaskRow).where(TaskRow.id == task.id).values(state=RETURNED))
            events.append(_acted(case_id, "returned", task.id, task.unit_code, task.assigned_at + timedelta(hours=1)))
    return events


async def test_the_projector_keeps_the_rollups_whatever_the_order_and_redeliveries(sessions: Any) -> None:
    chooser = random.Random(7)
    ids = [uuid.uuid4() for _ in range(90)]
    starts = {case_id: FIRST + timedelta(minutes=chooser.randrange(DAYS * 24 * 60)) for case_id in ids}
    async with transaction(sessions) as session:
        await session.execute(
            insert(CaseRow), [_case(case_id, at - timedelta(minutes=30)) for case_id, at in starts.items()]
        )
    returned, early, late = ids[:25], ids[25:40], ids[40:55]  # the rest: kept by the first unit

    def rerouted(case_id: uuid.UUID, hours: int) -> CaseRouted:
        return _routed(case_id, chooser.choice(list(UNITS)), starts[case_id] + timedelta(hours=hours), DecidedBy.PERSON)

    # The routings, and for some cases a person's 改派 that arrives before the routing it replaces.
    firsts = [_routed(case_id, chooser.choice(list(UNITS)), at, DecidedBy.SYSTEM) for case_id, at in starts.items()]
    await _project_shuffled(sessions, [*firsts, *(rerouted(case_id, 3) for case_id in early)], chooser)
    # Then 退回 (most followed by the 热线办's 改派, some not yet), later 改派, and the first routings again.
    returns = await _return_first_tasks(sessions, returned)
    again = [*returns, *(rerouted(case_id, 5) for case_id in [*returned[10:], *late]), *chooser.sample(firsts, 30)]
    await _project_shuffled(sessions, again, chooser)
    kept = await _rollup_rows(sessions)
    for period in PERIODS:
        rolled, direct = await _both(sessions, period)
        assert rolled == direct, period
    rolled, _ = await _both(sessions, {})
    assert sum(row["routed"] for row in rolled) == len(ids)
    assert sum(row["returned"] for row in rolled) == len(returned)
    # A 改派 projected before the routing it replaces wins at once (that routing makes no task);
    # projected after it, it leaves the first task 已改派.
    assert len(late) <= sum(row["reassigned"] for row in rolled) <= len(late) + len(early)
    async with transaction(sessions) as session:
        assert await rebuild(session) == len(ids)
    assert await _rollup_rows(sessions) == kept  # the incremental path and a recount agree


# The pure parts.

MON = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing


def _lead(at: datetime, state: str = "signed", code: str = "zjj", task_id: int = 1) -> LeadTask:
    return LeadTask(uuid.UUID(int=task_id), code, UNITS[code], at, state)


def test_the_first_routing_is_the_earliest_lead_task_on_its_beijing_day() -> None:
    late_evening = datetime(2026, 11, 8, 16, 30, tzinfo=UTC)  # Monday 00:30 in Beijing
    found = first_routing([_lead(MON + timedelta(days=9)), _lead(late_evening, RETURNED, "cgj")])
    assert found == FirstRouting(date(2026, 11, 9), "cgj", "县城管局", RETURNED)
    assert found.rollup_keys() == [
        ("day", date(2026, 11, 9), "cgj", "县城管局"),
        ("week", date(2026, 11, 9), "cgj", "县城管局"),
    ]
    assert found.counts() == (1, 1, 0)
    tie = first_routing([_lead(MON, "answered", "gaj", task_id=9), _lead(MON, REASSIGNED, "rsj", task_id=2)])
    assert tie is not None and (tie.unit_code, tie.outcome) == ("rsj", REASSIGNED)  # the smaller id
    assert first_routing([_lead(MON, "closed")]) == FirstRouting(date(2026, 11, 2), "zjj", "县住建局", KEPT)
    assert first_routing([]) is None


def test_a_renamed_unit_is_shown_under_the_name_most_of_its_cases_went_to() -> None:
    week = date(2026, 11, 2)
    rows = accuracy_rows(
        [
            Tally("zjj", "县建设局", week, 2, 1, 0),
            Tally("zjj", "县住建局", week, 3, 0, 1),
            Tally("cgj", "x", week, 0, 0, 0),
        ]
    )
    assert [(r["unit_name"], r["routed"], r["kept"], r["returned"], r["reassigned"]) for r in rows] == [
        ("县住建局", 5, 3, 1, 1)
    ]
