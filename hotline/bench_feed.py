"""`hotline bench --mode feed`: what the rollups cost the feed projector (issue #14), per case.

In one process, on a fresh database per run, N cases are stored as intake would have stored them, and
their events are projected with `project` (services/feed/projection.py) in batches of `--batch` (the
feed service's default 100), in the order they happened across cases, as the feed consumes them: each
case is received, classified, routed, signed, answered and visited; 5 % are 退回 two hours after the
routing (the task marked as intake does, untimed, before the event is projected) and routed again by
a person. Three variants, each in its own database, in turn, `--rounds` times (each round starting
with another, after one uncounted warm-up run): `none` (neither rollup refreshed), `statistics` (the
statistics' only: the projector before the 派单准确率 rollups) and `all`. It prints, per variant,
the wall time and the process's CPU time (the driver's thread included; PostgreSQL's server not)
spent in `project` per case, each round and the median.
NATS, decoding and acks are not in it: this is the projector's database work alone.
"""

from __future__ import annotations

import asyncio
import json
import statistics as stats_math
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from sqlalchemy import insert, update

from hotline.bench_http import bench_database, load_average, machine
from hotline.services.feed import projection
from hotline.shared.db import CaseRow, TaskRow, create_engine, session_factory, transaction
from hotline.shared.events import (
    CaseActed,
    CaseClassified,
    CaseEvent,
    CaseReceived,
    CaseRouted,
    Channel,
    DecidedBy,
    Severity,
    Verdict,
    derived_event_id,
)
from hotline.shared.migrate import upgrade

START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
UNITS = {"zjj": "县住建局", "cgj": "县城管局", "rsj": "县人社局", "gaj": "县公安局"}
RETURNED_EVERY = 20  # one case in 20 is 退回 and routed again
VARIANTS = ("none", "statistics", "all")
SKIPPED = {"none": ("refresh_rollups", "refresh_dispatch_rollups"), "statistics": ("refresh_dispatch_rollups",)}


async def _skip(*_: Any) -> int:
    return 0


def _common(case_id: uuid.UUID, received: datetime, minutes: float) -> dict[str, Any]:
    at = received + timedelta(minutes=minutes)
    return {
        "event_id": uuid.uuid4(),
        "case_id": case_id,
        "occurred_at": at,
        "channel": Channel.HOTLINE,
        "received_at": received,
    }


def _history(index: int) -> tuple[dict[str, Any], list[CaseEvent]]:
    """Case number `index` (one a minute) and its events."""
    case_id, received = uuid.uuid4(), START + timedelta(minutes=index)
    codes = list(UNITS)
    code = codes[index % len(codes)]

    def acted(kind: str, minutes: float, task: uuid.UUID, unit: str, **more: Any) -> CaseActed:
        common = _common(case_id, received, minutes)
        return CaseActed(**common, kind=kind, task_id=task, unit_code=unit, actor="u", actor_role="unit", **more)

    def routed_to(unit: str, minutes: float, by: DecidedBy) -> CaseRouted:
        common = _common(case_id, received, minutes)
        return CaseRouted(
            **common,
            topic="城乡建设",
            severity=Severity.GENERAL,
            unit_code=unit,
            unit_name=UNITS[unit],
            reason="b",
            decided_by=by,
        )

    routed = routed_to(code, 0.2, DecidedBy.SYSTEM)
    events: list[CaseEvent] = [
        CaseReceived(**_common(case_id, received, 0), content="路灯坏了"),
        CaseClassified(
            **_common(case_id, received, 0.1),
            topic="城乡建设",
            severity=Severity.GENERAL,
            confidence=0.9,
            model_version="b",
        ),
        routed,
    ]
    task = derived_event_id(routed.event_id, "task")
    if index % RETURNED_EVERY == 0:
        events.append(acted("returned", 120, task, code))
        code = codes[(index + 1) % len(codes)]
        again = routed_to(code, 130, DecidedBy.PERSON)
        events.append(again)
        task = derived_event_id(again.event_id, "task")
    events += [
        acted("signed", 180, task, code),
        acted("answered", 600, task, code),
        acted("visited", 2000, task, code, verdict=Verdict.SATISFIED),
    ]
    case = {
        "id": case_id,
        "query_code": case_id.hex[:16],
        "channel": "hotline",
        "received_at": received,
        "created_at": received,
        "updated_at": received,
        "content": "路灯坏了",
        "details": {},
        "status": "received",
        "needs_review": False,
        "repeat_count": 0,
    }
    return case, events


async def _project_all(
    database_url: str, cases: list[dict[str, Any]], events: list[CaseEvent], batch: int
) -> dict[str, float]:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        async with transaction(sessions) as session:
            for offset in range(0, len(cases), 1000):
                await session.execute(insert(CaseRow), cases[offset : offset + 1000])
        wall = cpu = 0.0
        for offset in range(0, len(events), batch):
            chunk = events[offset : offset + batch]
            returns = [e.task_id for e in chunk if isinstance(e, CaseActed) and e.kind == "returned"]
            if returns:  # intake's part of a 退回, before its event reaches the feed
                async with transaction(sessions) as session:
                    await session.execute(update(TaskRow).where(TaskRow.id.in_(returns)).values(state="returned"))
            began_wall, began_cpu = time.perf_counter(), time.process_time()
            async with transaction(sessions) as session:
                await projection.project(session, chunk, now=chunk[-1].occurred_at)
            wall += time.perf_counter() - began_wall
            cpu += time.process_time() - began_cpu
        return {
            "wall_ms_per_case": round(wall * 1000 / len(cases), 3),
            "cpu_ms_per_case": round(cpu * 1000 / len(cases), 3),
        }
    finally:
        await engine.dispose()


@contextmanager
def _variant(name: str) -> Iterator[None]:
    """The projector with the rollups of `name` kept, the others' refresh replaced by a no-op."""
    with ExitStack() as stack:
        for attribute in SKIPPED.get(name, ()):
            stack.enter_context(patch.object(projection, attribute, _skip))
        yield


def run_feed_bench(*, cases: int = 2000, db: str = "sqlite", batch: int = 100, rounds: int = 2) -> int:
    made = [_history(index) for index in range(cases)]
    rows = [case for case, _ in made]
    events = sorted((e for _, history in made for e in history), key=lambda e: e.occurred_at)
    result: dict[str, Any] = {"mode": "feed", "database": db, "cases": cases, "events": len(events), "batch": batch}
    result.update(machine=machine(), load_before=load_average())
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}

    def measure(name: str, wanted: list[dict[str, Any]]) -> dict[str, float]:
        known = {case["id"] for case in wanted}
        with (
            tempfile.TemporaryDirectory(prefix="hotline-bench-feed-") as tmp,
            bench_database(db, Path(tmp)) as url,
            _variant(name),
        ):
            upgrade(url)
            return asyncio.run(_project_all(url, wanted, [e for e in events if e.case_id in known], batch))

    measure("all", rows[:200])  # a warm-up, not counted: the first run pays for imports and mappers
    for turn in range(rounds):
        for name in VARIANTS[turn % len(VARIANTS) :] + VARIANTS[: turn % len(VARIANTS)]:  # each goes first in turn
            runs[name].append(measure(name, rows))
    for name, measured in runs.items():
        for key in ("wall_ms_per_case", "cpu_ms_per_case"):
            values = [run[key] for run in measured]
            result.setdefault(name, {}).update({key: values, f"median_{key}": round(stats_math.median(values), 3)})
    result["load_after"] = load_average()
    print(json.dumps(result, ensure_ascii=False))
    return 0
