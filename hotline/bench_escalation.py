"""`hotline bench-escalation`: how long one deadline scan takes with many open clocks, of which a few
are due. The scan must cost what is due, not what is open (issue #14: under 1 s at 1,000,000 open
clocks). The clocks are bulk-inserted straight into `deadlines` (Core executemany, in chunks);
`plan` is the database's own account of the scan's query (it must walk the `next_step_at` index,
never the table), `idle_scan_*` time repeated scans when nothing more is due, and `start_recount_ms`
the recount of provisional clocks every start of the service runs (none of these clocks is)."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.bench_http import bench_database, load_average, machine
from hotline.bench_seed import settle
from hotline.services.escalation.rules import next_step_at
from hotline.services.escalation.tracking import due_clocks, load_clock_rules, recompute_provisional, take_due_steps
from hotline.shared.clock import FixedClock
from hotline.shared.db import Base, create_engine, session_factory, transaction
from hotline.shared.migrate import upgrade

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


CHUNK = 10_000


def _rows(first: int, count: int, due: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for index in range(first, first + count):
        # `due` clocks reach 75% one minute ago; the rest are far from any step.
        starts = NOW - timedelta(hours=36, minutes=1) if index < due else NOW - timedelta(hours=1)
        deadline = starts + timedelta(hours=48)
        rows.append(
            {
                "case_id": uuid.uuid4(),
                "name": "respond",
                "label": "48小时内答复",
                "unit_of_time": "hours",
                "source": None,
                "channel": "hotline",
                "unit_code": "zjj",
                "received_at": starts,
                "starts_at": starts,
                "due_at": deadline,
                "state": "open",
                "step": 0,
                "next_step_at": next_step_at(starts, deadline, 0),
                "paused_at": None,
                "paused_seconds": 0,
                "extended_by": None,
                "source_event_id": uuid.uuid4(),
            }
        )
    return rows


async def _plan(session: AsyncSession, clock: FixedClock) -> list[str]:
    """How the database runs the scan's query (EXPLAIN), one line per step."""
    statement = due_clocks(clock.now(), 500)
    compiled = statement.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if session.get_bind().dialect.name == "sqlite" else "EXPLAIN "
    rows = (await session.execute(text(prefix + str(compiled)))).all()
    return [str(row[-1]) for row in rows]


async def _measure(database_url: str, open_cases: int, due: int) -> dict[str, object]:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    started = time.perf_counter()
    for first in range(0, open_cases, CHUNK):
        async with transaction(sessions) as session:
            rows = _rows(first, min(CHUNK, open_cases - first), due)
            await (await session.connection()).execute(insert(Base.metadata.tables["deadlines"]), rows)
    await settle(engine)
    loaded = time.perf_counter() - started
    clock = FixedClock(NOW)
    started = time.perf_counter()
    async with transaction(sessions) as session:
        emitted = await take_due_steps(session, clock=clock, limit=max(500, due))
    scan = time.perf_counter() - started
    idle_scans, idle = [], 0
    for _ in range(20):
        started = time.perf_counter()
        async with transaction(sessions) as session:
            idle += await take_due_steps(session, clock=clock)
        idle_scans.append((time.perf_counter() - started) * 1000)
    idle_scans.sort()
    rules = load_clock_rules()
    started = time.perf_counter()
    async with transaction(sessions) as session:
        await recompute_provisional(session, rules)
    recount = time.perf_counter() - started
    async with sessions() as session:
        plan = await _plan(session, clock)
    await engine.dispose()
    return {
        "open_clocks": open_cases,
        "due": due,
        "emitted": emitted,
        "scan_ms": round(scan * 1000, 1),
        "idle_scan_p50_ms": round(idle_scans[len(idle_scans) // 2], 2),
        "idle_scan_max_ms": round(idle_scans[-1], 2),
        "idle_emitted": idle,
        "start_recount_ms": round(recount * 1000, 2),
        "plan": plan,
        "load_s": round(loaded, 1),
    }


def run_escalation_bench(
    *, open_cases: int = 100_000, due: int = 100, db: str = "sqlite", database_url: str | None = None
) -> int:
    """`db`: a fresh SQLite file or PostgreSQL database (dropped afterwards), unless `database_url`
    names an empty one to use."""
    result: dict[str, object] = {**machine(), "load_before": load_average()}
    with (
        tempfile.TemporaryDirectory(prefix="hotline-bench-esc-") as tmp,
        bench_database(db, Path(tmp)) if database_url is None else nullcontext(database_url) as url,
    ):
        upgrade(url)
        result.update(asyncio.run(_measure(url, open_cases, due)))
        result["database"] = url.split("+", 1)[0]
    result["load_after"] = load_average()
    print(json.dumps(result, ensure_ascii=False))
    return 0
