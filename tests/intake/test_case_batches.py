"""Group commit at intake: calls arriving together share a transaction, each learns its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.services.intake import cases
from hotline.services.intake.case_batches import CaseBatches
from hotline.services.intake.cases import case_from_call, store_case
from hotline.services.intake.schemas import CallIn
from hotline.shared.clock import FixedClock
from hotline.shared.db import CaseRow, IntakeKeyRow, OutboxRow

CLOCK = FixedClock(datetime(2026, 11, 29, 2, 0, tzinfo=UTC))


def _call(n: int) -> tuple[dict[str, Any], Any]:
    body = CallIn(phone=f"1385961{n:04d}", content=f"第{n}号路灯不亮了，请派人修一下。", outcome="transfer")
    return case_from_call(body, CLOCK)


async def _count(sessions: async_sessionmaker[AsyncSession], table: Any) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def test_calls_arriving_together_share_transactions(sessions: async_sessionmaker[AsyncSession]) -> None:
    batches = CaseBatches(sessions, CLOCK, source="intake")
    calls = [_call(n) for n in range(40)]
    stored = await asyncio.gather(
        *(
            store_case(sessions, row, event, CLOCK, client_key=f"k{n}", batches=batches)
            for n, (row, event) in enumerate(calls)
        )
    )
    assert len({case.id for case in stored}) == 40
    assert await _count(sessions, CaseRow) == 40
    assert await _count(sessions, OutboxRow) == 40
    assert await _count(sessions, IntakeKeyRow) == 40
    assert batches.transactions < 40  # the first call's transaction, then the rest together


async def test_a_key_sent_twice_at_once_fails_only_its_second_case(sessions: async_sessionmaker[AsyncSession]) -> None:
    batches = CaseBatches(sessions, CLOCK, source="intake")
    (row_a, event_a), (row_b, event_b), (row_c, event_c) = _call(1), _call(2), _call(3)
    results = await asyncio.gather(
        store_case(sessions, row_a, event_a, CLOCK, client_key="same", batches=batches),
        store_case(sessions, row_b, event_b, CLOCK, client_key="same", batches=batches),
        store_case(sessions, row_c, event_c, CLOCK, client_key="other", batches=batches),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1 and isinstance(failures[0], IntegrityError)
    assert await _count(sessions, CaseRow) == 2
    assert await _count(sessions, OutboxRow) == 2


@pytest.fixture
def codes_drawn_twice(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    drawn = iter(["SAME2345", "SAME2345", "OTHER234", "THIRD234"])
    monkeypatch.setattr(cases, "new_query_code", lambda: next(drawn))
    yield


async def test_a_query_code_drawn_twice_is_drawn_again(
    sessions: async_sessionmaker[AsyncSession], codes_drawn_twice: None
) -> None:
    batches = CaseBatches(sessions, CLOCK, source="intake")
    (row_a, event_a), (row_b, event_b) = _call(1), _call(2)
    first, second = await asyncio.gather(
        store_case(sessions, row_a, event_a, CLOCK, batches=batches),
        store_case(sessions, row_b, event_b, CLOCK, batches=batches),
    )
    assert {first.query_code, second.query_code} == {"SAME2345", "OTHER234"}
    assert await _count(sessions, CaseRow) == 2
