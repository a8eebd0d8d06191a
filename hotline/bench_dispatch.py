"""The 派单准确率 card in `hotline bench --mode stats` (issue #14).

Each seeded case that went to a unit gets its 主办 tasks: most are kept by the first unit, `RETURNED`
of them are 退回 and `REASSIGNED` 改派 (the first task so marked, a second one, to the case's unit,
hours later). The card's rollups are counted with the projector's own `first_routing` and written
with the cases. The card is then timed from the rollups: its first page (`accuracy_page`, what
GET /stats/dispatch-accuracy answers by default: 500 rows, newest week first) as `p50_ms`/`p99_ms`,
and the whole card (`accuracy_rows(rolled_up(...))`, every unit and week of the period) as
`whole_p50_ms`; with `--check` the whole card is counted once from every case's first 主办 task as
well (`first_assignments`: what the endpoint did before the rollups) and compared.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from functools import partial
from typing import Any

from hotline.services.intake.dispatch_accuracy import (
    accuracy_page,
    accuracy_rows,
    dispatch_accuracy,
    first_assignments,
    rolled_up,
)
from hotline.shared import dispatch_rollups
from hotline.shared.dispatch_rollups import LeadTask, first_routing
from hotline.shared.rollup_sums import rollup_row

RETURNED, REASSIGNED = 0.03, 0.02
PAGE = 500  # GET /stats/dispatch-accuracy without `limit`
Timer = Callable[[int, Callable[[], Awaitable[Any]]], Awaitable[dict[str, float]]]


def _task(
    case: dict[str, Any], code: str, name: str, minutes: int, state: str, chooser: random.Random
) -> dict[str, Any]:
    at = case["received_at"] + timedelta(minutes=minutes)
    return {
        "id": uuid.UUID(int=(case["id"].int & ~(2**80 - 1)) | chooser.getrandbits(80)),  # time-ordered, like the case's
        "case_id": case["id"],
        "unit_code": code,
        "unit_name": name,
        "co_units": [],
        "state": state,
        "assigned_at": at,
        "signed_at": None,
        "signed_by": None,
        "answered_at": case["answered_at"] if state in ("answered", "closed") else None,
        "answer": None,
        "attachments": [],
        "return_reason": None,
        "extension_request": None,
        "pause_reason": None,
        "role": "lead",
        "source_event_id": uuid.uuid4(),
        "updated_at": at,
    }


def tasks_of(case: dict[str, Any], units: Sequence[str], chooser: random.Random) -> list[dict[str, Any]]:
    """The 主办 tasks of a seeded case (none when it went to no unit)."""
    name = case["unit_name"]
    if name is None:
        return []
    code = f"u{units.index(name):02d}"
    state = ("closed" if case["verdict"] else "answered") if case["answered_at"] else "signed"
    draw = chooser.random()
    if draw >= RETURNED + REASSIGNED:
        return [_task(case, code, name, chooser.randint(5, 120), state, chooser)]
    other = chooser.choice([unit for unit in units if unit != name])
    first = _task(
        case, f"u{units.index(other):02d}", other, 10, "returned" if draw < RETURNED else "reassigned", chooser
    )
    return [first, _task(case, code, name, chooser.randint(60, 48 * 60), state, chooser)]


def count_first_routings(totals: dict[Any, list[int]], tasks: Sequence[dict[str, Any]]) -> None:
    """Adds a case's first routing to the card's rollup `totals` (key → counts)."""
    found = first_routing(
        LeadTask(t["id"], t["unit_code"], t["unit_name"], t["assigned_at"], t["state"]) for t in tasks
    )
    if found is None:
        return
    for key in found.rollup_keys():
        row = totals.setdefault(key, [0] * len(dispatch_rollups.COUNTERS))
        for index, value in enumerate(found.counts()):
            row[index] += value


def rollup_rows(totals: dict[Any, list[int]]) -> list[dict[str, Any]]:
    return [rollup_row(dispatch_rollups.KEY, dispatch_rollups.COUNTERS, key, counts) for key, counts in totals.items()]


async def time_card(
    reads: Any, periods: dict[str, tuple[date | None, date | None]], repeat: int, check: bool, timed: Timer
) -> dict[str, Any]:
    """The card per period: rows, routed, p50/p99 ms from the rollups; with `check`, the same counted
    from every first task once (`direct_ms`, `same_as_direct`)."""

    async def from_rollups(start: date | None, end: date | None) -> list[dict[str, Any]]:
        async with reads() as session:
            return accuracy_rows(await rolled_up(session, start=start, end=end))

    async def first_page(start: date | None, end: date | None) -> list[dict[str, Any]]:
        async with reads() as session:
            return await accuracy_page(session, start=start, end=end, after=None, limit=PAGE)

    result: dict[str, Any] = {}
    for name, (start, end) in periods.items():
        rows = await from_rollups(start, end)
        figures: dict[str, Any] = {"rows": len(rows), "routed": sum(row["routed"] for row in rows)}
        figures.update(await timed(repeat, partial(first_page, start, end)))
        whole = await timed(repeat, partial(from_rollups, start, end))
        figures.update(whole_p50_ms=whole["p50_ms"], whole_p99_ms=whole["p99_ms"])
        if check:
            began = time.perf_counter()
            async with reads() as session:
                direct = dispatch_accuracy(await first_assignments(session, start=start, end=end))
            figures.update(direct_ms=round((time.perf_counter() - began) * 1000, 1), same_as_direct=direct == rows)
        result[f"dispatch_{name}"] = figures
    return result
