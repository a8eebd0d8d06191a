"""`hotline bench-stats` (also `hotline bench --mode stats`): how long the dashboard's figures take
with years of cases on file.

It seeds N cases quickly by bulk inserts straight into the tables through the driver
(hotline/bench_seed.py: `cases`, each case's clock in `deadlines`, its 主办 tasks in `tasks`, and the
rollups `case_rollups` and `dispatch_rollups` counted in Python with the projector's own `facts_of`
and `first_routing`), not through the pipeline: the per-case members the projector keeps are not
written, since nothing here changes a case afterwards. Ids are
time-ordered (like UUIDv7) so the load appends to the indexes; PostgreSQL is VACUUM ANALYZEd after the
load, as autovacuum would. The cases spread over the years at `--per-day` a day, newest first; of the cases of
the last 30 days 10 % stay unanswered, of older ones 0.1 % (`--recent-open`, `--stuck-open`): the
overdue count is read live among the unanswered, so `unanswered` is printed with the timings.

Then it times, `--repeat` times each, on a read-only engine as the API uses: GET /stats's
`statistics` for all time, a year, a month, a week and a day, and the dashboard's two case lists
(overdue cases, open 紧急诉求), and the 派单准确率 card (hotline/bench_dispatch.py); p50/p99 in ms.
`stats_all_parts` times an all-time answer's queries one by one (rollup counts with the answered days,
the trend's day rows, the live overdue count, the hot topics).
`--check` also counts each period straight from the cases and tasks (`direct_statistics`,
`first_assignments`: slow on purpose) and says whether the figures are the same.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics as stats_math
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from hotline.bench_dispatch import count_first_routings, tasks_of, time_card
from hotline.bench_dispatch import rollup_rows as dispatch_rollup_rows
from hotline.bench_http import bench_database, load_average, machine
from hotline.bench_seed import bulk_insert, settle
from hotline.services.intake.auth import Principal, Role
from hotline.services.intake.queries import CaseFilter, find_cases
from hotline.services.intake.stats import hot_topics, overdue_now, received_days, rolled_counts, statistics
from hotline.services.intake.stats_direct import direct_statistics
from hotline.shared.clock import beijing
from hotline.shared.db import Base, create_engine, session_factory, transaction
from hotline.shared.migrate import upgrade
from hotline.shared.rollups import COUNTERS, Key, facts_of, rollup_row

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
CHUNK = 10_000
RECENT = timedelta(days=30)
UNITS = (*(f"县直单位{n:02d}" for n in range(30)), "城厢镇人民政府", "湖头镇人民政府")
TOPICS = ("城乡建设", "交通运输", "教育文体", "劳动社保", "环境保护", "农业农村", "卫生健康", "市场监管")
SUBTOPICS = (None, "路灯", "道路", "噪声", "欠薪")
TOWNSHIPS = tuple(f"第{n}镇" for n in range(1, 16))
CHANNELS = ("hotline", "hotline", "hotline", "petition", "media")
TABLES = Base.metadata.tables
LEADER = Principal(user_id=0, username="bench", role=Role.LEADER, unit_code=None)


def _open_status(received: datetime) -> str:
    return "overdue" if NOW - received > timedelta(hours=48) else "tracked"


@dataclass(frozen=True)
class Shape:
    """How the seeded cases look: how many a day, and which share stays unanswered among those of the
    last 30 days (`recent`) and among older ones (`stuck`)."""

    per_day: int = 2_700
    recent: float = 0.1
    stuck: float = 0.001


def _case(chooser: random.Random, index: int, shape: Shape) -> tuple[dict[str, Any], dict[str, Any]]:
    """Case number `index` (0 = the newest) and its clock."""
    received = NOW - timedelta(days=index / shape.per_day, seconds=chooser.randrange(60))
    channel = chooser.choice(CHANNELS)
    on_spot = channel == "hotline" and chooser.random() < 0.3
    answered: datetime | None = received
    if not on_spot:
        answered = received + timedelta(hours=chooser.randint(1, 60))
        if answered > NOW or chooser.random() < (shape.recent if NOW - received < RECENT else shape.stuck):
            answered = None
    verdict = chooser.choice((None, "满意", "基本满意", "不满意")) if answered else None
    # Time-ordered ids (like UUIDv7), so that the load appends to the indexes instead of scattering.
    case_id = uuid.UUID(int=(int(received.timestamp() * 1000) << 80) | chooser.getrandbits(80))
    case = {
        "id": case_id,
        "query_code": f"{index:016d}",
        "channel": channel,
        "received_at": received,
        "created_at": received,
        "updated_at": received,
        "content": "路灯坏了",
        "title": None,
        "person_name": None,
        "phone": None,
        "unit_code": None,
        "created_by": None,
        "public_answer": None,
        "urgent_reasons": [],
        "urgent_lines": [],
        "handovers": [],
        "details": {},
        "outcome": "answered_on_spot" if on_spot else ("transfer" if channel == "hotline" else None),
        "township": chooser.choice(TOWNSHIPS),
        "status": ("closed" if verdict else "answered") if answered else _open_status(received),
        "topic": chooser.choice(TOPICS),
        "subtopic": chooser.choice(SUBTOPICS),
        "severity": "一般",
        "unit_name": None if on_spot else chooser.choice(UNITS),
        "needs_review": False,
        "answered_at": answered,
        "repeat_count": 0,
        "verdict": verdict,
        "urgent": chooser.random() < 0.001,
    }
    respond = channel != "petition"  # 信访 are due by their finishing clock
    clock = {
        "case_id": case_id,
        "name": "respond" if respond else "finish",
        "label": "48小时内答复" if respond else "60日内办结",
        "unit_of_time": "hours" if respond else "days",
        "channel": channel,
        "unit_code": "zjj",
        "received_at": received,
        "starts_at": received,
        "due_at": received + (timedelta(hours=48) if respond else timedelta(days=60)),
        "state": "met" if answered else "open",
        "step": 0,
        "paused_seconds": 0,
        "source_event_id": case_id,
        "source": None,
        "next_step_at": None,
        "paused_at": None,
        "extended_by": None,
        "provisional": False,
        "extensions": 0,
    }
    case["answer_due_at"] = clock["due_at"]  # as the escalation service keeps it (shared/answer_due.py)
    return case, clock


async def seed(sessions: Any, count: int, shape: Shape) -> dict[str, int]:
    """Bulk inserts (hotline/bench_seed.py): the cases, their clocks, their 主办 tasks
    (hotline/bench_dispatch.py), and the rollups (the projector's own `facts_of` and `first_routing`,
    summed here per rollup row, written at the end)."""
    chooser, task_chooser = random.Random(0), random.Random(1)  # the cases as before the tasks were added
    by_flags: dict[Key, Counter[int]] = defaultdict(Counter)
    first_routings: dict[Any, list[int]] = {}
    unanswered = tasks = 0
    for offset in range(0, count, CHUNK):
        made = [_case(chooser, index, shape) for index in range(offset, min(count, offset + CHUNK))]
        made_tasks = []
        for case, clock in made:
            facts = facts_of(case, clock["due_at"])
            for key in facts.rollup_keys():
                by_flags[key][facts.flags] += 1
            unanswered += case["answered_at"] is None
            case_tasks = tasks_of(case, UNITS, task_chooser)
            count_first_routings(first_routings, case_tasks)
            made_tasks.extend(case_tasks)
        tasks += len(made_tasks)
        async with transaction(sessions) as session:
            await bulk_insert(session, TABLES["cases"], [case for case, _ in made])
            await bulk_insert(session, TABLES["deadlines"], [clock for _, clock in made])
            await bulk_insert(session, TABLES["tasks"], made_tasks)
    rows = [rollup_row(key, _counts(flags)) for key, flags in by_flags.items()]
    card_rows = dispatch_rollup_rows(first_routings)
    for table, written in (("case_rollups", rows), ("dispatch_rollups", card_rows)):
        for offset in range(0, len(written), CHUNK):
            async with transaction(sessions) as session:
                await (await session.connection()).execute(insert(TABLES[table]), written[offset : offset + CHUNK])
    return {"unanswered": unanswered, "rollup_rows": len(rows), "tasks": tasks, "dispatch_rollup_rows": len(card_rows)}


def _counts(by_flags: Counter[int]) -> list[int]:
    """Each counter's total over cases grouped by their flag pattern."""
    return [sum(n for flags, n in by_flags.items() if flags >> position & 1) for position in range(len(COUNTERS))]


def periods() -> dict[str, tuple[date | None, date | None]]:
    today = beijing(NOW).date()
    return {
        "all": (None, None),
        "year": (today - timedelta(days=364), today),
        "month": (today.replace(day=1), today),
        "week": (today - timedelta(days=6), today),
        "day": (today, today),
    }


async def _timed(repeat: int, call: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(stats_math.median(samples), 1),
        "p99_ms": round(samples[min(len(samples) - 1, int(0.99 * len(samples)))], 1),
    }


async def _measure(database_url: str, count: int, shape: Shape, repeat: int, check: bool) -> dict[str, Any]:
    engine = create_engine(database_url)
    read_engine = create_engine(database_url, writes=False)
    sessions, reads = session_factory(engine), session_factory(read_engine)
    started = time.perf_counter()
    result: dict[str, Any] = {"cases": count, **vars(shape), **await seed(sessions, count, shape)}
    await settle(engine)
    result["seed_s"] = round(time.perf_counter() - started, 1)

    async def stats_of(start: date | None, end: date | None) -> dict[str, Any]:
        async with reads() as session:
            return await statistics(session, now=NOW, start=start, end=end)

    async def listed(wanted: CaseFilter) -> None:
        async with reads() as session:
            await find_cases(session, LEADER, wanted)

    for name, (start, end) in periods().items():
        figures = await stats_of(start, end)
        timed = await _timed(repeat, partial(stats_of, start, end))
        result[f"stats_{name}"] = {"cases": figures["overall"]["received"], **timed}
        if check:
            began = time.perf_counter()
            async with reads() as session:
                direct = await direct_statistics(session, now=NOW, start=start, end=end)
            direct_ms = round((time.perf_counter() - began) * 1000, 1)
            result[f"stats_{name}"].update(same_as_direct=direct == figures, direct_ms=direct_ms)
    result["stats_all_parts"] = await _time_parts(reads, repeat)
    result.update(await time_card(reads, periods(), repeat, check, _timed))
    overdue, urgent = CaseFilter(status="overdue", limit=200), CaseFilter(urgent=True, open_only=True, limit=100)
    result["list_overdue"] = await _timed(repeat, partial(listed, overdue))
    result["list_urgent_open"] = await _timed(repeat, partial(listed, urgent))
    await engine.dispose()
    await read_engine.dispose()
    return result


async def _time_parts(reads: Any, repeat: int) -> dict[str, dict[str, float]]:
    """An all-time answer's queries timed one by one (p50/p99 ms), to show where its time goes."""
    parts: dict[str, Callable[[Any], Awaitable[Any]]] = {
        "rollup_counts": lambda s: rolled_counts(s, start=None, end=None),  # answered days included
        "trend_days": lambda s: received_days(s, start=None, end=None),
        "overdue_now": lambda s: overdue_now(s, now=NOW, start=None, end=None),
        "hot_topics": lambda s: hot_topics(s, now=NOW, start=None, end=None),
    }

    async def one(query: Callable[[Any], Awaitable[Any]]) -> None:
        async with reads() as session:
            await query(session)

    return {name: await _timed(repeat, partial(one, query)) for name, query in parts.items()}


def run_stats_bench(
    *,
    cases: int = 100_000,
    db: str = "sqlite",
    database_url: str | None = None,
    shape: Shape = Shape(),
    repeat: int = 20,
    check: bool = False,
) -> int:
    """`db`: a fresh SQLite file or PostgreSQL database (dropped afterwards), unless `database_url`
    names an empty one to use."""
    result: dict[str, Any] = {"mode": "stats", **machine(), "load_before": load_average()}
    with (
        tempfile.TemporaryDirectory(prefix="hotline-bench-stats-") as tmp,
        bench_database(db, Path(tmp)) if database_url is None else nullcontext(database_url) as url,
    ):
        upgrade(url)
        result.update(asyncio.run(_measure(url, cases, shape, repeat, check)))
        result["database"] = url.split("+", 1)[0]
    result["load_after"] = load_average()
    print(json.dumps(result, ensure_ascii=False))
    return 0
