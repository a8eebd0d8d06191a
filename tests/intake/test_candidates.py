"""The repeat check's township candidates, kept between calls."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.services.intake.candidates import Candidate, TownshipCandidates
from hotline.services.intake.cases import case_from_call, find_repeat, store_case
from hotline.services.intake.schemas import CallIn
from hotline.shared.clock import FixedClock
from hotline.shared.db import CaseRow, transaction

NOON = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


def _candidate(minutes_ago: int, text: str = "村道排水沟堵塞") -> Candidate:
    return Candidate(uuid.uuid4(), text, NOON - timedelta(minutes=minutes_ago))


def test_kept_candidates_go_stale_after_fresh_s() -> None:
    now = [100.0]
    kept = TownshipCandidates(limit=3, fresh_s=10.0, clock=lambda: now[0])
    assert kept.fresh("hotline", "城厢镇") is None
    read = kept.read("hotline", "城厢镇", [_candidate(1), _candidate(2)])
    assert kept.fresh("hotline", "城厢镇") == read
    assert kept.fresh("petition", "城厢镇") is None  # each channel its own
    now[0] += 10.5
    assert kept.fresh("hotline", "城厢镇") is None


def test_a_stored_case_joins_in_order_and_the_oldest_leave_beyond_the_limit() -> None:
    kept = TownshipCandidates(limit=3, clock=lambda: 0.0)
    one, three, five = _candidate(1), _candidate(3), _candidate(5)
    kept.read("hotline", "城厢镇", [one, three, five])
    two = _candidate(2)
    kept.stored("hotline", "城厢镇", two)
    assert kept.fresh("hotline", "城厢镇") == [one, two, three]
    kept.stored("hotline", "湖头镇", _candidate(0))  # a township not kept waits for its first read
    assert kept.fresh("hotline", "湖头镇") is None
    kept.gone("hotline", "城厢镇", two.case_id)
    assert kept.fresh("hotline", "城厢镇") == [one, three]


def _call(phone: str) -> CallIn:
    return CallIn(
        phone=phone,
        content="城厢镇西街的排水沟堵塞了，污水漫到路上，请尽快疏通。",
        outcome="transfer",
        township="城厢镇",
    )


async def test_a_kept_candidate_that_closed_meanwhile_is_not_a_repeat(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FixedClock(NOON)
    kept = TownshipCandidates(limit=500, clock=lambda: 0.0)
    row, event = case_from_call(_call("13800000001"), clock)
    first = await store_case(sessions, row, event, clock)
    window = timedelta(days=30)
    again, _ = case_from_call(_call("13900000002"), clock)  # another caller, the same words
    async with sessions() as session:
        found = await find_repeat(session, again, window=window, now=NOON, candidates=kept)
    assert found.repeat_of is not None and found.repeat_of.id == first.id and found.matched_by == "text"
    assert [c.case_id for c in kept.fresh("hotline", "城厢镇") or []] == [first.id]
    async with transaction(sessions) as session:
        await session.execute(update(CaseRow).where(CaseRow.id == first.id).values(status="closed"))
    async with sessions() as session:
        found = await find_repeat(session, again, window=window, now=NOON, candidates=kept)
    assert found.repeat_of is None
    assert kept.fresh("hotline", "城厢镇") == []  # checked once, not compared again
