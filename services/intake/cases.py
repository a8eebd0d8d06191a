"""Storing new cases: the case row and its `case.v1.received` event commit together (outbox)."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.services.intake.schemas import CallIn, MentionIn, PetitionIn
from hotline.services.intake.similar import most_similar
from hotline.shared import subjects
from hotline.shared.clock import Clock, as_utc
from hotline.shared.db import CaseRow, transaction
from hotline.shared.events import CallOutcome, CaseReceived, CaseRepeated, Channel
from hotline.shared.outbox import enqueue

OUTBOX_SOURCE = "intake"
# No 0/O/1/I/L: a citizen reads the code over the phone.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# Operators log calls a little after they happen; a receipt time further ahead than this is a typo.
FUTURE_TOLERANCE = timedelta(minutes=10)
# Nothing this system handles was received before this: an earlier date is a typo or a probe.
EARLIEST_RECEIPT = datetime(2000, 1, 1, tzinfo=UTC)


class InvalidCase(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def new_query_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def _receipt_time(given: datetime | None, field: str, clock: Clock) -> datetime:
    now = clock.now()
    if given is None:
        return now
    moment = as_utc(given)
    if moment > now + FUTURE_TOLERANCE:
        raise InvalidCase(field, f"{field} 不能晚于当前时间")
    if moment < EARLIEST_RECEIPT:
        raise InvalidCase(field, f"{field} 不能早于 2000-01-01")
    return moment


def case_from_call(body: CallIn, clock: Clock) -> tuple[dict[str, Any], CaseReceived]:
    received_at = _receipt_time(body.received_at, "received_at", clock)
    on_spot = body.outcome is CallOutcome.ANSWERED_ON_SPOT
    row = {
        "channel": Channel.HOTLINE,
        "received_at": received_at,
        "content": body.content,
        "person_name": body.caller_name,
        "phone": body.phone,
        "outcome": body.outcome.value,
        "township": body.township,
        "details": {"wants_secrecy": body.wants_secrecy},
        "status": "answered" if on_spot else "received",
        "answered_at": received_at if on_spot else None,
    }
    event_fields = {"outcome": body.outcome, "township": body.township}
    return row, _received(row, event_fields, clock)


def case_from_petition(body: PetitionIn, clock: Clock) -> tuple[dict[str, Any], CaseReceived]:
    received_at = _receipt_time(body.received_at, "received_at", clock)
    row = {
        "channel": Channel.PETITION,
        "received_at": received_at,
        "content": body.content,
        "person_name": body.petitioner_name,
        "phone": body.phone,
        "township": body.township,
        "details": {
            "form": body.form.value,
            "is_accusation": body.is_accusation,
            "accused_unit": body.accused_unit,
            "visitors": body.visitors,
        },
        "status": "received",
    }
    event_fields = {
        "petition_form": body.form,
        "is_accusation": body.is_accusation,
        "accused_unit": body.accused_unit,
        "township": body.township,
    }
    return row, _received(row, event_fields, clock)


def case_from_mention(body: MentionIn, clock: Clock) -> tuple[dict[str, Any], CaseReceived]:
    published_at = _receipt_time(body.published_at, "published_at", clock)
    row = {
        "channel": Channel.MEDIA,
        # The 48-hour clock of 舆情 runs from when the system learns of the post, not from its publication.
        "received_at": clock.now(),
        "content": body.content,
        "title": body.title,
        "details": {
            "url": str(body.url),
            "platform": body.platform.value,
            "outlet": body.outlet,
            "published_at": published_at.isoformat(),
            "reach": body.reach,
        },
        "status": "received",
    }
    event_fields = {"platform": body.platform, "reach": body.reach, "title": body.title}
    return row, _received(row, event_fields, clock)


def _received(row: dict[str, Any], fields: dict[str, Any], clock: Clock) -> CaseReceived:
    case_id = uuid.uuid4()
    row["id"] = case_id
    return CaseReceived(
        event_id=uuid.uuid4(),
        case_id=case_id,
        occurred_at=clock.now(),
        channel=row["channel"],
        received_at=row["received_at"],
        content=row["content"],
        **fields,
    )


async def store_case(
    sessions: async_sessionmaker[AsyncSession], row: dict[str, Any], event: CaseReceived, clock: Clock
) -> CaseRow:
    """Insert the case and its outbox event in one transaction; retry on a query-code collision."""
    for _ in range(5):
        now = clock.now()
        case = CaseRow(
            **row,
            query_code=new_query_code(),
            created_at=now,
            updated_at=now,
            needs_review=False,
        )
        try:
            async with transaction(sessions) as session:
                session.add(case)
                await session.flush()
                await enqueue(session, source=OUTBOX_SOURCE, events=[(subjects.CASE_RECEIVED, event)], clock=clock)
        except IntegrityError:
            continue
        return case
    raise RuntimeError("could not allocate a unique query code")


# Near-identical text about the same place (character-bigram Dice coefficient).
REPEAT_SIMILARITY = 0.8
_CLOSED = ("answered", "closed")


async def find_repeat(
    session: AsyncSession, row: dict[str, Any], *, window: timedelta, now: datetime
) -> tuple[CaseRow, str, float | None] | None:
    """An open case of the same channel this contact repeats: same phone, or the same matter told
    about the same township in near-identical words."""
    recent = select(CaseRow).where(
        CaseRow.channel == row["channel"], CaseRow.received_at >= now - window, CaseRow.status.not_in(_CLOSED)
    )
    if row.get("phone"):
        same_phone = await session.scalar(
            recent.where(CaseRow.phone == row["phone"]).order_by(CaseRow.received_at.desc()).limit(1)
        )
        if same_phone is not None:
            return same_phone, "phone", None
    if row.get("township"):
        candidates = (
            (await session.execute(recent.where(CaseRow.township == row["township"]).limit(500))).scalars().all()
        )
        ranked = most_similar(row["content"], [(c, c.content) for c in candidates], limit=1, floor=REPEAT_SIMILARITY)
        if ranked:
            return ranked[0][0], "text", ranked[0][1]
    return None


async def store_or_link(
    sessions: async_sessionmaker[AsyncSession],
    row: dict[str, Any],
    event: CaseReceived,
    clock: Clock,
    *,
    repeat_window: timedelta,
) -> tuple[CaseRow, bool]:
    """Store a new case, or link a repeat to its open case (returns the case and whether it was new)."""
    if row["channel"] != Channel.MEDIA and row.get("status") != "answered" and repeat_window > timedelta(0):
        async with transaction(sessions) as session:
            found = await find_repeat(session, row, window=repeat_window, now=clock.now())
            if found is not None:
                case, matched_by, similarity = found
                case.repeat_count += 1
                case.updated_at = clock.now()
                repeated = CaseRepeated(
                    event_id=uuid.uuid4(),
                    case_id=case.id,
                    occurred_at=clock.now(),
                    channel=Channel(case.channel),
                    received_at=case.received_at,
                    repeat_count=case.repeat_count,
                    matched_by=matched_by,
                    similarity=similarity,
                    content=row["content"],
                )
                await enqueue(session, source=OUTBOX_SOURCE, events=[(subjects.CASE_REPEATED, repeated)], clock=clock)
                return case, False
    return await store_case(sessions, row, event, clock), True
