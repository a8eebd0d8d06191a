"""`hotline bench-escalation`: how long one deadline scan takes with many open cases, of which a few
are due. The scan must cost what is due, not what is open (issue: fire within 1 s at 100,000)."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from hotline.services.escalation.rules import next_step_at
from hotline.services.escalation.tracking import take_due_steps
from hotline.shared.clock import FixedClock
from hotline.shared.db import DeadlineRow, create_engine, session_factory, transaction
from hotline.shared.migrate import upgrade

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def _rows(open_cases: int, due: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for index in range(open_cases):
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


async def _measure(database_url: str, open_cases: int, due: int) -> dict[str, object]:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    rows = _rows(open_cases, due)
    started = time.perf_counter()
    for start in range(0, len(rows), 10_000):
        async with transaction(sessions) as session:
            await session.execute(insert(DeadlineRow), rows[start : start + 10_000])
    loaded = time.perf_counter() - started
    clock = FixedClock(NOW)
    started = time.perf_counter()
    async with transaction(sessions) as session:
        emitted = await take_due_steps(session, clock=clock, limit=max(500, due))
    scan = time.perf_counter() - started
    started = time.perf_counter()
    async with transaction(sessions) as session:
        idle = await take_due_steps(session, clock=clock)
    idle_scan = time.perf_counter() - started
    await engine.dispose()
    return {
        "open_clocks": open_cases,
        "due": due,
        "emitted": emitted,
        "scan_ms": round(scan * 1000, 1),
        "idle_scan_ms": round(idle_scan * 1000, 2),
        "idle_emitted": idle,
        "load_s": round(loaded, 1),
    }


def run_escalation_bench(*, open_cases: int = 100_000, due: int = 100, database_url: str | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-esc-") as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        result = asyncio.run(_measure(url, open_cases, due))
    result["database"] = url.split("+", 1)[0]
    print(json.dumps(result, ensure_ascii=False))
    return 0
