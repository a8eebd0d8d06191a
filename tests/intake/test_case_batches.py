"""Group commit at intake: calls arriving together share a transaction, each learns its own outcome."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.services.intake import cases
from hotline.services.intake.case_batches import CaseBatches, RepeatLink
from hotline.services.intake.cases import case_from_call, store_case
from hotline.services.intake.schemas import CallIn
from hotline.shared import subjects
from hotline.shared.clock import FixedClock
from hotline.shared.db import CaseRow, IntakeKeyRow, OutboxRow
from hotline.shared.events import CaseEvent, CaseRepeated, Channel

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


def _repeat_of(case_id: uuid.UUID, key: str | None = None) -> RepeatLink:
    def events_of(case: CaseRow) -> list[tuple[str, CaseEvent]]:
        repeated = CaseRepeated(
            event_id=uuid.uuid4(),
            case_id=case.id,
            occurred_at=CLOCK.now(),
            channel=Channel(case.channel),
            received_at=case.received_at,
            repeat_count=case.repeat_count,
            matched_by="phone",
            content="路灯还是不亮，又打来了。",
        )
        return [(subjects.CASE_REPEATED, repeated)]

    return RepeatLink(case_id, events_of, key, CLOCK.now())


async def test_repeats_are_counted_in_the_new_cases_transactions_each_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    row, event = _call(1)
    original = await store_case(sessions, row, event, CLOCK)
    batches = CaseBatches(sessions, CLOCK, source="intake")
    calls = [_call(n) for n in range(2, 22)]
    results = await asyncio.gather(
        *(store_case(sessions, row, event, CLOCK, batches=batches) for row, event in calls),
        batches.link(_repeat_of(original.id, key="again-1")),
        batches.link(_repeat_of(original.id, key="again-2")),
    )
    counted = [r for r in results[-2:] if r is not None]
    assert sorted(case.repeat_count for case in counted) == [1, 2]  # one count each, not one for both
    assert {case.query_code for case in counted} == {original.query_code}
    assert batches.transactions < 22
    async with sessions() as session:
        assert (await session.get(CaseRow, original.id)).repeat_count == 2  # type: ignore[union-attr]
        payloads = (
            await session.execute(select(OutboxRow.payload).where(OutboxRow.subject == subjects.CASE_REPEATED))
        ).scalars()
        assert sorted(json.loads(p)["repeat_count"] for p in payloads) == [1, 2]
        keys = (await session.execute(select(IntakeKeyRow.key).where(IntakeKeyRow.case_id == original.id))).scalars()
        assert sorted(keys) == ["again-1", "again-2"]
    assert await _count(sessions, CaseRow) == 21


async def test_a_repeat_of_a_case_gone_meanwhile_counts_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    batches = CaseBatches(sessions, CLOCK, source="intake")
    row, event = _call(1)
    gone, stored = await asyncio.gather(
        batches.link(_repeat_of(uuid.uuid4(), key="k")), store_case(sessions, row, event, CLOCK, batches=batches)
    )
    assert gone is None and stored.id is not None
    assert await _count(sessions, IntakeKeyRow) == 0
    assert await _count(sessions, CaseRow) == 1
