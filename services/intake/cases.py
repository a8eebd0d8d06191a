"""Storing new cases: the case row and its `case.v1.received` event commit together (outbox)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from hotline.services.intake.candidates import Candidate, TownshipCandidates
from hotline.services.intake.case_batches import CaseBatches, NewCase, RepeatLink
from hotline.services.intake.limits import receipt_time_problem, window_text
from hotline.services.intake.linkage import reach_per_hour, record_handover
from hotline.services.intake.schemas import FIELD_LABELS, CallIn, MentionIn, PetitionIn
from hotline.services.intake.similar import same_matter
from hotline.shared import subjects
from hotline.shared.clock import Clock, as_utc
from hotline.shared.db import CaseRow, IntakeKeyRow, transaction
from hotline.shared.events import CallOutcome, CaseEvent, CaseReceived, CaseRepeated, Channel, EmergencyLine
from hotline.shared.outbox import enqueue

OUTBOX_SOURCE = "intake"
# No 0/O/1/I/L: a citizen reads the code over the phone.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


@dataclass(frozen=True)
class Handover:
    """A 转接 the operator recorded while logging the case (`handover_line` in the body)."""

    line: EmergencyLine
    actor: str
    role: str


def _handover_events(case: CaseRow, handover: Handover | None, clock: Clock) -> list[tuple[str, CaseEvent]]:
    if handover is None:
        return []
    event = record_handover(case, handover.line, actor=handover.actor, role=handover.role, now=clock.now())
    return [] if event is None else [(subjects.CASE_HANDED_OVER, event)]


class InvalidCase(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def new_query_code() -> str:
    # One draw from the system's randomness for all 8 characters (not one per character).
    number = secrets.randbelow(len(_CODE_ALPHABET) ** 8)
    code = []
    for _ in range(8):
        number, digit = divmod(number, len(_CODE_ALPHABET))
        code.append(_CODE_ALPHABET[digit])
    return "".join(code)


def _receipt_time(given: datetime | None, field: str, clock: Clock) -> datetime:
    now = clock.now()
    if given is None:
        return now
    moment = as_utc(given)
    problem = receipt_time_problem(moment, now)
    if problem is not None:
        raise InvalidCase(field, f"{FIELD_LABELS[field]}（{field}）{problem}：{window_text()}")
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
    event_fields = {"outcome": body.outcome, "township": body.township, **_handed_over(body.handover_line)}
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
        **_handed_over(body.handover_line),
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
    event_fields = {
        "platform": body.platform,
        "reach": body.reach,
        "title": body.title,
        **_handed_over(body.handover_line),
    }
    return row, _received(row, event_fields, clock)


def _handed_over(line: EmergencyLine | None) -> dict[str, Any]:
    return {"handed_over_to": [line]} if line is not None else {}


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
    sessions: async_sessionmaker[AsyncSession],
    row: dict[str, Any],
    event: CaseReceived,
    clock: Clock,
    handover: Handover | None = None,
    client_key: str | None = None,
    *,
    batches: CaseBatches | None = None,
) -> CaseRow:
    """Insert the case and its outbox event (and the client's key) in one transaction; retry on a
    query-code collision. A key stored meanwhile by another request raises IntegrityError.

    With `batches`, the case shares a transaction with the others arriving at the same time (group
    commit, see case_batches.py); after a collision it is stored alone. The row goes in as one Core
    INSERT (no unit of work on the hot path); the returned CaseRow is transient, carrying what was
    stored."""
    if batches is not None:
        case = _new_case(row, clock.now())
        events = [(subjects.CASE_RECEIVED, event), *_handover_events(case, handover, clock)]
        try:
            await batches.store(NewCase(_set_columns(case), events, client_key, case.created_at))
            return case
        except IntegrityError:
            if client_key is not None and await cases_of_keys(sessions, [client_key]):
                raise
    for _ in range(5):
        now = clock.now()
        case = _new_case(row, now)
        events = [(subjects.CASE_RECEIVED, event), *_handover_events(case, handover, clock)]
        try:
            async with transaction(sessions) as session:
                await session.execute(insert(CaseRow), [_set_columns(case)])
                await enqueue(session, source=OUTBOX_SOURCE, events=events, clock=clock)
                await remember_key(session, client_key, case.id, now)
        except IntegrityError:
            if client_key is not None and await cases_of_keys(sessions, [client_key]):
                raise
            continue
        return case
    raise RuntimeError("could not allocate a unique query code")


def _new_case(row: dict[str, Any], now: datetime) -> CaseRow:
    return CaseRow(**row, query_code=new_query_code(), created_at=now, updated_at=now, needs_review=False)


_CASE_COLUMNS = frozenset(column.key for column in CaseRow.__table__.columns)


def _set_columns(case: CaseRow) -> dict[str, Any]:
    """The column values set on a transient row (the table's defaults fill the rest)."""
    return {key: value for key, value in inspect(case).dict.items() if key in _CASE_COLUMNS}


@dataclass(frozen=True, slots=True)
class CaseRef:
    id: uuid.UUID
    query_code: str
    status: str


async def remember_key(session: AsyncSession, key: str | None, case_id: uuid.UUID, now: datetime) -> None:
    """Record a client's key with the case it made (or was linked to), in the caller's transaction."""
    if key is not None:
        await session.execute(insert(IntakeKeyRow), [{"key": key, "case_id": case_id, "created_at": now}])


async def cases_of_keys(sessions: async_sessionmaker[AsyncSession], keys: Sequence[str]) -> dict[str, CaseRef]:
    """The case each already used key stands for."""
    if not keys:
        return {}
    async with sessions() as session:
        rows = await session.execute(
            select(IntakeKeyRow.key, CaseRow.id, CaseRow.query_code, CaseRow.status)
            .join(CaseRow, CaseRow.id == IntakeKeyRow.case_id)
            .where(IntakeKeyRow.key.in_(list(keys)))
        )
        return {row.key: CaseRef(row.id, row.query_code, row.status) for row in rows}


# The repeat check's reads run on a connection of the read engine (intake) or in a session (tests,
# tools): both execute these column selects alike, and a bare connection costs less to open and close.
Reader = AsyncSession | AsyncConnection
Readers = Callable[[], AbstractAsyncContextManager[Reader]]

# Near-identical text about the same place (character-bigram Dice coefficient), whoever reports it.
REPEAT_SIMILARITY = 0.8
_CLOSED = ("answered", "closed")
_SAME_CALLER_LIMIT = 50  # open cases of one phone looked at; more is a case for the operator, not a loop


# Built once: constructing the statement and its cache key on every call cost more than running it.
# Columns, not mapped rows: a contact's checks need only these (the ORM's row loading showed as 8 % of
# intake's samples in a py-spy profile at 300 calls/s; reading columns saved 3-4 % of its CPU a call).
_SAME_PHONE = (
    select(CaseRow.id, CaseRow.query_code, CaseRow.status, CaseRow.content)
    .where(
        CaseRow.channel == bindparam("channel"),
        CaseRow.received_at >= bindparam("since"),
        CaseRow.status.not_in(_CLOSED),
        CaseRow.phone == bindparam("phone"),
    )
    .order_by(CaseRow.received_at.desc())
    .limit(_SAME_CALLER_LIMIT)
)
# A township's newest open cases: ids and texts only, so the cost of a call does not grow with the
# cases on file.
_TOWNSHIP_OPEN = (
    select(CaseRow.id, CaseRow.content, CaseRow.received_at)
    .where(
        CaseRow.channel == bindparam("channel"),
        CaseRow.received_at >= bindparam("since"),
        CaseRow.status.not_in(_CLOSED),
        CaseRow.township == bindparam("township"),
    )
    .order_by(CaseRow.received_at.desc())
    .limit(bindparam("limit"))
)
_STILL_OPEN = select(CaseRow.id, CaseRow.query_code, CaseRow.status).where(
    CaseRow.id == bindparam("id"), CaseRow.channel == bindparam("channel"), CaseRow.status.not_in(_CLOSED)
)


@dataclass(frozen=True)
class RepeatCheck:
    """What an incoming contact repeats (an open case, how it matched, how sure), and the other open
    cases of the same caller that are about different matters (同一来电人)."""

    repeat_of: CaseRef | None = None
    matched_by: str = ""
    similarity: float | None = None
    same_caller: tuple[CaseRef, ...] = ()


async def find_repeat(
    session: Reader,
    row: dict[str, Any],
    *,
    window: timedelta,
    now: datetime,
    candidates: TownshipCandidates,
    places: Sequence[str] = (),
) -> RepeatCheck:
    """The open case of the same channel this contact repeats: the same caller about the same matter,
    or the same matter told about the same township in near-identical words."""
    others: list[CaseRef] = []
    if row.get("phone"):
        same_phone = await session.execute(
            _SAME_PHONE, {"channel": row["channel"], "since": now - window, "phone": row["phone"]}
        )
        for case_id, query_code, status, content in same_phone:
            case = CaseRef(case_id, query_code, status)
            same, score = same_matter(row["content"], content, places=places)
            if same:
                return RepeatCheck(case, "phone", score)
            others.append(case)
    if row.get("township"):
        in_words = await _same_words_in_township(session, row, window=window, now=now, kept=candidates)
        if in_words is not None:
            return in_words
    return RepeatCheck(same_caller=tuple(others))


async def _read_township_candidates(
    session: Reader, row: dict[str, Any], since: datetime, kept: TownshipCandidates
) -> None:
    """Read the township's newest open cases into `kept` unless what it holds is fresh."""
    channel, township = str(row["channel"]), row["township"]
    if kept.fresh(channel, township) is not None:
        return
    found = await session.execute(
        _TOWNSHIP_OPEN, {"channel": channel, "since": since, "township": township, "limit": kept.limit}
    )
    kept.read(channel, township, (Candidate(id_, content, as_utc(at)) for id_, content, at in found.all()))


async def _same_words_in_township(
    session: Reader,
    row: dict[str, Any],
    *,
    window: timedelta,
    now: datetime,
    kept: TownshipCandidates,
) -> RepeatCheck | None:
    """The township's open case told in near-identical words, checked against the database (a kept
    candidate may have closed since it was read)."""
    since = as_utc(now - window)
    await _read_township_candidates(session, row, since, kept)
    channel, township = str(row["channel"]), row["township"]
    ranked = kept.most_similar(channel, township, row["content"], since=since, limit=3, floor=REPEAT_SIMILARITY)
    for case_id, similarity in ranked:
        matched = (await session.execute(_STILL_OPEN, {"id": case_id, "channel": channel})).first()
        if matched is not None:
            return RepeatCheck(CaseRef(*matched), "text", similarity)
        kept.gone(channel, township, case_id)
    return None


async def store_or_link(
    sessions: async_sessionmaker[AsyncSession],
    row: dict[str, Any],
    event: CaseReceived,
    clock: Clock,
    *,
    repeat_window: timedelta,
    candidates: TownshipCandidates,
    handover: Handover | None = None,
    places: Sequence[str] = (),
    client_key: str | None = None,
    readers: Readers | None = None,
    batches: CaseBatches | None = None,
) -> tuple[CaseRow, bool, list[CaseRef]]:
    """Store a new case, or link a repeat to its open case. Returns the case, whether it is new, and
    the same caller's other open cases (a new matter is a new case, shown beside them). A client
    key is stored with whichever case the contact ended in."""
    same_caller: list[CaseRef] = []
    # The searches read without taking SQLite's write lock (the read engine's connections); only the
    # write that follows does.
    reads: Readers = readers or sessions
    if row["channel"] == Channel.MEDIA:
        async with reads() as session:
            event = await with_media_velocity(session, row, event, window=MEDIA_REPORT_WINDOW)
    if row["channel"] != Channel.MEDIA and row.get("status") != "answered" and repeat_window > timedelta(0):
        async with reads() as session:
            found = await find_repeat(
                session, row, window=repeat_window, now=clock.now(), places=places, candidates=candidates
            )
        if found.repeat_of is not None:
            linked = await _link_repeat(sessions, found, row, clock, handover, client_key, batches)
            if linked is not None:
                return linked, False, []
        same_caller = list(found.same_caller)
    if same_caller:
        row["details"] = {**(row.get("details") or {}), "same_caller": [str(c.id) for c in same_caller]}
    case = await store_case(sessions, row, event, clock, handover, client_key, batches=batches)
    if case.township and case.status not in _CLOSED:
        candidates.stored(case.channel, case.township, Candidate(case.id, case.content, as_utc(case.received_at)))
    return case, True, same_caller


def _repeated(case: CaseRow, found: RepeatCheck, row: dict[str, Any], now: datetime) -> CaseRepeated:
    return CaseRepeated(
        event_id=uuid.uuid4(),
        case_id=case.id,
        occurred_at=now,
        channel=Channel(case.channel),
        received_at=case.received_at,
        repeat_count=case.repeat_count,
        matched_by="phone" if found.matched_by == "phone" else "text",
        similarity=found.similarity,
        content=row["content"],
    )


async def _link_repeat(
    sessions: async_sessionmaker[AsyncSession],
    found: RepeatCheck,
    row: dict[str, Any],
    clock: Clock,
    handover: Handover | None,
    client_key: str | None,
    batches: CaseBatches | None = None,
) -> CaseRow | None:
    """Count the repeat on the open case found (re-read under lock); None if it went away meanwhile."""
    assert found.repeat_of is not None
    if handover is None:
        return await _count_repeat(sessions, found, row, clock, client_key, batches)
    async with transaction(sessions) as session:
        case = await session.get(CaseRow, found.repeat_of.id, with_for_update=True, populate_existing=True)
        if case is None:
            return None
        case.repeat_count += 1
        case.updated_at = clock.now()
        events = [
            (subjects.CASE_REPEATED, _repeated(case, found, row, clock.now())),
            *_handover_events(case, handover, clock),
        ]
        await enqueue(session, source=OUTBOX_SOURCE, events=events, clock=clock)
        await remember_key(session, client_key, case.id, clock.now())
    return case


async def _count_repeat(
    sessions: async_sessionmaker[AsyncSession],
    found: RepeatCheck,
    row: dict[str, Any],
    clock: Clock,
    client_key: str | None,
    batches: CaseBatches | None,
) -> CaseRow | None:
    """The common repeat, with no 转接 to record on the case: counted in the group commit (one
    `UPDATE … RETURNING`; its event and key go with the COMMIT)."""
    assert found.repeat_of is not None
    now = clock.now()
    repeat = RepeatLink(
        found.repeat_of.id,
        lambda case: [(subjects.CASE_REPEATED, _repeated(case, found, row, now))],
        client_key,
        now,
    )
    return await (batches or CaseBatches(sessions, clock, source=OUTBOX_SOURCE)).link(repeat)


# How far back an earlier report of the same URL counts for the reach velocity.
MEDIA_REPORT_WINDOW = timedelta(days=7)


async def with_media_velocity(
    session: Reader, row: dict[str, Any], event: CaseReceived, *, window: timedelta
) -> CaseReceived:
    """A mention of a URL reported before (successive monitoring reports) carries how fast its reach
    grows (reach_per_hour, from the latest earlier report) and how often it was reported
    (repeat_count), for the severity rules. Media reports are not linked as repeats: each report
    keeps its own case (see store_or_link)."""
    url = row["details"]["url"]
    # The URL is compared in the database (JSON field), so only this post's earlier reports come back.
    earlier = (
        await session.execute(
            select(CaseRow.id, CaseRow.details, CaseRow.received_at)
            .where(
                CaseRow.channel == Channel.MEDIA,
                CaseRow.received_at >= row["received_at"] - window,
                CaseRow.received_at <= row["received_at"],
                CaseRow.details["url"].as_string() == url,
            )
            .order_by(CaseRow.received_at.desc())
            .limit(500)
        )
    ).all()
    if not earlier:
        return event
    latest = earlier[0]
    velocity = reach_per_hour((latest.details or {}).get("reach"), latest.received_at, event.reach, row["received_at"])
    row["details"] = {
        **row["details"],
        "earlier_report": str(latest.id),
        "reports": len(earlier) + 1,
        "reach_per_hour": velocity,
    }
    return event.model_copy(update={"repeat_count": len(earlier), "reach_per_hour": velocity})
