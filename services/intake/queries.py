"""Read side of the API: one case with its clocks and history, case lists and the statistics."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.services.intake.access import visible_cases
from hotline.services.intake.auth import Principal
from hotline.services.intake.keyset import Position, ordered_page
from hotline.shared.clock import beijing
from hotline.shared.db import CaseEventRow, CaseRow, DeadlineRow

STATUS_LABELS = {
    "received": "已受理",
    "classified": "已分类",
    "routed": "已转办",
    "tracked": "办理中",
    "overdue": "已超期",
    "signed": "办理中",
    "paused": "挂起",
    "returned": "已退回待改派",
    "answered": "已答复",
    "closed": "已办结",
}
CHANNEL_LABELS = {"hotline": "热线", "petition": "信访", "media": "舆情"}


def mask_phone(phone: str | None) -> str | None:
    """138****1234: personal data is masked in every view that does not need it."""
    if not phone:
        return phone
    if len(phone) <= 7:
        return phone[:2] + "*" * (len(phone) - 2)
    return phone[:3] + "****" + phone[-4:]


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def _time(moment: datetime | None) -> str | None:
    return beijing(moment).isoformat() if moment else None


def case_summary(case: CaseRow) -> dict[str, Any]:
    return {
        "id": str(case.id),
        "query_code": case.query_code,
        "channel": case.channel,
        "channel_label": CHANNEL_LABELS.get(case.channel, case.channel),
        "status": case.status,
        "status_label": STATUS_LABELS.get(case.status, case.status),
        "topic": case.topic,
        "subtopic": case.subtopic,
        "severity": case.severity,
        "needs_review": case.needs_review,
        "repeat_count": case.repeat_count,
        "unit": case.unit_code,
        "unit_name": case.unit_name,
        "outcome": case.outcome,
        "received_at": _time(case.received_at),
        "answered_at": _time(case.answered_at),
        "title": case.title,
        "excerpt": case.content[:80],
        "urgent": bool(case.urgent),
        "urgent_reasons": list(case.urgent_reasons or []),
        "urgent_lines": list(case.urgent_lines or []),
        "handovers": list(case.handovers or []),
    }


def still_open() -> ColumnElement[bool]:
    """Not yet 办结; a call answered on the spot (当场解释) is finished when it is saved."""
    return and_(
        CaseRow.status != "closed",
        # coalesce: outcome is NULL for petitions and mentions, and NOT(NULL) would hide them.
        not_(and_(CaseRow.status == "answered", func.coalesce(CaseRow.outcome, "") == "answered_on_spot")),
    )


SAME_CALLER_SHOWN = 20
CO_CLOCK_MARK = "@"  # a 协办 clock is named "<clock>@<unit code>" (see the escalation service)


async def same_caller_cases(session: AsyncSession, case: CaseRow) -> list[dict[str, Any]]:
    """The caller's other cases (同一来电人): other matters of the same person, side by side."""
    if not case.phone:
        return []
    others = (
        await session.execute(
            select(CaseRow)
            .where(CaseRow.phone == case.phone, CaseRow.id != case.id)
            .order_by(CaseRow.received_at.desc())
            .limit(SAME_CALLER_SHOWN)
        )
    ).scalars()
    return [case_summary(other) for other in others]


async def case_detail(session: AsyncSession, case_id: uuid.UUID, *, now: datetime) -> dict[str, Any] | None:
    case = await session.get(CaseRow, case_id)
    if case is None:
        return None
    deadlines = (
        (await session.execute(select(DeadlineRow).where(DeadlineRow.case_id == case_id).order_by(DeadlineRow.due_at)))
        .scalars()
        .all()
    )
    history = (
        (await session.execute(select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.seq)))
        .scalars()
        .all()
    )
    detail = case_summary(case)
    detail["same_caller"] = await same_caller_cases(session, case)
    detail.update(
        content=case.content,
        public_answer=case.public_answer,
        township=case.township,
        details=case.details,
        deadlines=[
            {
                "name": d.name,
                "label": d.label,
                "unit_of_time": d.unit_of_time,
                "starts_at": _time(d.starts_at),
                "due_at": _time(d.due_at),
                "provisional": bool(d.provisional),  # 暂定: the year's arrangement is not known yet
                "unit": d.unit_code,
                "co_unit": CO_CLOCK_MARK in d.name,  # a 协办 unit's own copy of the response clock
                "state": "paused" if d.paused_at else d.state,
                "remaining_hours": round((d.due_at - now).total_seconds() / 3600, 1),
                # Minute-level clocks (紧急诉求) need more than a tenth of an hour to count down.
                "remaining_seconds": round((d.due_at - now).total_seconds()),
                "paused_seconds": d.paused_seconds,
                "extended_by": d.extended_by,
                "escalation_steps_taken": d.step,
                "source": d.source,
            }
            for d in deadlines
        ],
        history=[
            {
                "seq": event.seq,
                "kind": event.kind,
                "at": _time(event.occurred_at),
                "event": event.payload,
            }
            for event in history
        ],
    )
    return detail


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """What a case list asks for (every field optional) and which page."""

    channel: str | None = None
    status: str | None = None
    unit: str | None = None
    query_code: str | None = None
    urgent: bool | None = None
    open_only: bool = False
    limit: int = 50
    offset: int = 0
    after: Position | None = None  # keyset: the last case of the previous page


async def find_cases(session: AsyncSession, principal: Principal, wanted: CaseFilter) -> Sequence[CaseRow]:
    """The cases ``principal`` may see that match ``wanted``, newest first (by receipt, then id): a
    page and one case more (see keyset.page)."""
    newest = ordered_page(select(CaseRow), CaseRow.received_at, CaseRow.id, after=wanted.after, limit=wanted.limit)
    statement = visible_cases(principal, newest.offset(wanted.offset))
    if wanted.channel:
        statement = statement.where(CaseRow.channel == wanted.channel)
    if wanted.status:
        statement = statement.where(CaseRow.status == wanted.status)
    if wanted.unit:
        statement = statement.where(CaseRow.unit_code == wanted.unit)
    if wanted.query_code:
        statement = statement.where(CaseRow.query_code == wanted.query_code.upper())
    if wanted.urgent is not None:
        statement = statement.where(CaseRow.urgent.is_(wanted.urgent))
    if wanted.open_only:
        statement = statement.where(still_open())
    rows: Sequence[CaseRow] = (await session.execute(statement)).scalars().all()
    return rows


async def case_by_query_code(session: AsyncSession, query_code: str) -> CaseRow | None:
    """The case a citizen's 查询码 names (case and spaces as typed do not matter)."""
    found: CaseRow | None = await session.scalar(
        select(CaseRow).where(CaseRow.query_code == query_code.strip().upper())
    )
    return found


async def cases_received(session: AsyncSession, *, lower: datetime | None, upper: datetime | None) -> Sequence[CaseRow]:
    """The cases received in [lower, upper) (either end open when None), oldest first."""
    statement = select(CaseRow).order_by(CaseRow.received_at)
    if lower is not None:
        statement = statement.where(CaseRow.received_at >= lower)
    if upper is not None:
        statement = statement.where(CaseRow.received_at < upper)
    return (await session.execute(statement)).scalars().all()


async def recent_visible(session: AsyncSession, principal: Principal, *, limit: int) -> Sequence[CaseRow]:
    """The ``limit`` most recent cases ``principal`` may see (the same visibility as one case's read)."""
    statement = visible_cases(principal, select(CaseRow)).order_by(CaseRow.received_at.desc()).limit(limit)
    rows: Sequence[CaseRow] = (await session.execute(statement)).scalars().all()
    return rows
