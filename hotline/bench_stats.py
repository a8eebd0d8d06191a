"""`hotline bench-stats`: how long GET /api/v1/stats takes to compute with many cases on file, for
all time, one month and one week."""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from hotline.services.intake.stats import statistics
from hotline.shared.db import CaseRow, DeadlineRow, create_engine, session_factory, transaction
from hotline.shared.migrate import upgrade

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
UNITS = ("县住建局", "县城管局", "县人社局", "县教育局", "县公安局", "城厢镇人民政府")


def _cases(count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    chooser = random.Random(0)
    cases, clocks = [], []
    for index in range(count):
        case_id, received = uuid.uuid4(), NOW - timedelta(minutes=3 * index)
        answered = received + timedelta(hours=chooser.randint(1, 60)) if chooser.random() < 0.8 else None
        cases.append(
            {
                "id": case_id,
                "query_code": uuid.uuid4().hex[:12],
                "channel": chooser.choice(("hotline", "petition", "media")),
                "received_at": received,
                "created_at": received,
                "updated_at": received,
                "content": "城厢镇经兜村村道旁的路灯坏了两个多月",
                "details": {},
                "outcome": "transfer",
                "township": "城厢镇",
                "status": "answered" if answered else "tracked",
                "topic": chooser.choice(("城乡建设", "交通运输", "教育文体")),
                "severity": "一般",
                "unit_code": "zjj",
                "unit_name": chooser.choice(UNITS),
                "needs_review": False,
                "answered_at": answered,
                "repeat_count": 0,
                "verdict": chooser.choice((None, "满意", "基本满意", "不满意")) if answered else None,
            }
        )
        clocks.append(
            {
                "case_id": case_id,
                "name": "respond",
                "label": "48小时内答复",
                "unit_of_time": "hours",
                "channel": "hotline",
                "unit_code": "zjj",
                "received_at": received,
                "starts_at": received,
                "due_at": received + timedelta(hours=48),
                "state": "open",
                "step": 0,
                "paused_seconds": 0,
                "source_event_id": uuid.uuid4(),
            }
        )
    return cases, clocks


async def _measure(database_url: str, count: int) -> dict[str, Any]:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    cases, clocks = _cases(count)
    for offset in range(0, count, 5000):
        async with transaction(sessions) as session:
            await session.execute(insert(CaseRow), cases[offset : offset + 5000])
            await session.execute(insert(DeadlineRow), clocks[offset : offset + 5000])
    today = date(2026, 11, 24)
    periods: dict[str, tuple[date | None, date | None]] = {
        "all": (None, None),
        "month": (today.replace(day=1), today),
        "week": (today - timedelta(days=6), today),
    }
    result: dict[str, Any] = {"cases": count}
    for name, (start, end) in periods.items():
        started = time.perf_counter()
        async with sessions() as session:
            stats = await statistics(session, now=NOW, start=start, end=end)
        result[f"{name}_ms"] = round((time.perf_counter() - started) * 1000, 1)
        result[f"{name}_cases"] = stats["overall"]["received"]
    await engine.dispose()
    return result


def run_stats_bench(*, cases: int = 100_000, database_url: str | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-stats-") as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        result = asyncio.run(_measure(url, cases))
    result["database"] = url.split("+", 1)[0]
    print(json.dumps(result, ensure_ascii=False))
    return 0
