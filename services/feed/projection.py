"""Case events → the `case_events` log and the current state columns of `cases`.

The log is keyed by event id, so a redelivered event is stored once. State only moves forward (a late
`classified` never turns a routed case back), so events may arrive in any order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.db import CaseEventRow, CaseRow, insert_ignoring_duplicates
from hotline.shared.events import CaseClassified, CaseEscalated, CaseEvent, CaseRouted, EscalationStep

# How far along a case is; a status is only replaced by one of higher rank.
STATUS_RANK = {"received": 0, "classified": 1, "routed": 2, "tracked": 3, "overdue": 4, "answered": 9}


def status_after(event: CaseEvent) -> str | None:
    kind = getattr(event, "kind", "")
    if kind in ("classified", "routed", "tracked"):
        return str(kind)
    if isinstance(event, CaseEscalated) and event.step is EscalationStep.OVERDUE:
        return "overdue"
    return None


def state_changes(event: CaseEvent) -> dict[str, Any]:
    if isinstance(event, CaseClassified):
        return {
            "topic": event.topic,
            "subtopic": event.subtopic,
            "severity": event.severity.value,
            "needs_review": event.needs_review,
        }
    if isinstance(event, CaseRouted):
        return {"unit_code": event.unit_code, "unit_name": event.unit_name, "topic": event.topic}
    return {}


async def project(session: AsyncSession, events: Sequence[CaseEvent], *, now: datetime) -> None:
    rows = [
        {
            "event_id": event.event_id,
            "case_id": event.case_id,
            "kind": getattr(event, "kind", "unknown"),
            "occurred_at": event.occurred_at,
            "recorded_at": now,
            "payload": event.model_dump(mode="json"),
        }
        for event in events
    ]
    await session.execute(insert_ignoring_duplicates(session, CaseEventRow), rows)
    for event in events:
        values: dict[str, Any] = dict(state_changes(event))
        status = status_after(event)
        if status is not None:
            rank = sql_case(*((CaseRow.status == name, value) for name, value in STATUS_RANK.items()), else_=0)
            values["status"] = sql_case((rank < STATUS_RANK[status], status), else_=CaseRow.status)
        if values:
            values["updated_at"] = now
            await session.execute(
                update(CaseRow)
                .where(CaseRow.id == event.case_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
