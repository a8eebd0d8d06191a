"""Read side of the API: one case with its clocks and history, case lists and the statistics."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
        "unit": case.unit_code,
        "unit_name": case.unit_name,
        "outcome": case.outcome,
        "received_at": _time(case.received_at),
        "answered_at": _time(case.answered_at),
        "title": case.title,
        "excerpt": case.content[:80],
    }


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
                "state": "paused" if d.paused_at else d.state,
                "remaining_hours": round((d.due_at - now).total_seconds() / 3600, 1),
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


def _rate(numerator: int, denominator: int) -> float | None:
    return round(100 * numerator / denominator, 2) if denominator else None


async def statistics(session: AsyncSession, *, now: datetime) -> dict[str, Any]:
    """Counts and rates as the period reports print them (DOMAIN.md "Metrics leadership reads").

    答复率 = answered / due, where a case is due once answered or once its response deadline passed.
    """
    cases = (
        await session.execute(
            select(
                CaseRow.id,
                CaseRow.channel,
                CaseRow.status,
                CaseRow.outcome,
                CaseRow.unit_name,
                CaseRow.answered_at,
            )
        )
    ).all()
    # The clock a case is "due" by: its response clock, or for 信访 (which has none) its finishing one.
    respond: dict[Any, Any] = {}
    for row in (
        await session.execute(
            select(DeadlineRow.case_id, DeadlineRow.name, DeadlineRow.due_at, DeadlineRow.state).where(
                DeadlineRow.name.in_(("respond", "finish"))
            )
        )
    ).all():
        if row.name == "respond" or row.case_id not in respond:
            respond[row.case_id] = row
    groups: dict[str, dict[str, dict[str, int]]] = {
        "channel": defaultdict(_counter),
        "unit": defaultdict(_counter),
    }
    overall = _counter()
    for case in cases:
        counts = [overall, groups["channel"][case.channel]]
        if case.unit_name:
            counts.append(groups["unit"][case.unit_name])
        deadline = respond.get(case.id)
        answered = case.answered_at is not None
        due = answered or (deadline is not None and deadline.due_at <= now)
        for c in counts:
            c["received"] += 1
            c["answered_on_spot"] += case.outcome == "answered_on_spot"
            c["transferred"] += case.unit_name is not None
            c["answered"] += answered
            c["due"] += due
            c["overdue"] += deadline is not None and not answered and deadline.due_at <= now
            c["open"] += not answered
    return {
        "generated_at": _time(now),
        "overall": _with_rates(overall),
        "by_channel": {k: _with_rates(v) for k, v in sorted(groups["channel"].items())},
        "by_unit": {k: _with_rates(v) for k, v in sorted(groups["unit"].items())},
    }


def _counter() -> dict[str, int]:
    return dict.fromkeys(("received", "answered_on_spot", "transferred", "answered", "due", "overdue", "open"), 0)


def _with_rates(counts: dict[str, int]) -> dict[str, Any]:
    return {
        **counts,
        "response_rate": _rate(counts["answered"], counts["due"]),  # 答复率
        "on_spot_rate": _rate(counts["answered_on_spot"], counts["received"]),  # 当场解释率
        "transfer_rate": _rate(counts["transferred"], counts["received"]),  # 转办率
    }
