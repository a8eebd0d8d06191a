"""联动 rules (pure, no I/O): recording a 转接 to 110/119/120/122, and the reach velocity of a media
report seen again."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from hotline.shared.clock import beijing
from hotline.shared.db import CaseRow
from hotline.shared.events import CallOutcome, CaseHandedOver, Channel, EmergencyLine, derived_event_id

LINE_LABELS: dict[EmergencyLine, str] = {
    EmergencyLine.POLICE: "110 报警",
    EmergencyLine.FIRE: "119 火警",
    EmergencyLine.AMBULANCE: "120 急救",
    EmergencyLine.TRAFFIC: "122 交通事故",
}


class HandoverRefused(ValueError):
    """A 转接 that cannot be recorded; `status` is the HTTP status, the message is Chinese."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def handover_event_id(case_id: uuid.UUID, line: EmergencyLine) -> uuid.UUID:
    # One 转接 per case and line: a double click or a retried request records nothing twice.
    return derived_event_id(case_id, f"handover:{line.value}")


def existing_handover(handovers: list[dict[str, Any]], line: EmergencyLine) -> dict[str, Any] | None:
    return next((h for h in handovers if h.get("line") == line.value), None)


def check_handover(case_status: str, note: str | None) -> None:
    """A 转接 belongs to a live case; a note is a short free text."""
    if case_status == "closed":
        raise HandoverRefused(409, "案件已办结，不能再记录转接")
    if note is not None and len(note) > 500:
        raise HandoverRefused(422, "转接备注（note）过长，最多 500 个字符")


def record_handover(
    case: CaseRow, line: EmergencyLine, *, actor: str, role: str, now: datetime, note: str | None = None
) -> CaseHandedOver | None:
    """Add the 转接 to the case row and return its event; None if this line was already recorded.

    The operator's 转接 is their judgement that the case is a 紧急诉求, so the case is marked urgent
    even where the classifier did not say so (it shows on the leadership's urgent list).
    """
    check_handover(case.status, note)
    handovers = list(case.handovers or [])
    if existing_handover(handovers, line) is not None:
        return None
    handovers.append(
        {"line": line.value, "at": beijing(now).isoformat(), "by": actor, "role": role, "note": note or None}
    )
    case.handovers = handovers
    if not case.urgent:
        case.urgent = True
        case.urgent_reasons = [*(case.urgent_reasons or []), f"话务员已转接{LINE_LABELS[line]}"]
    lines = list(case.urgent_lines or [])
    if line.value not in lines:
        case.urgent_lines = [*lines, line.value]
    return CaseHandedOver(
        event_id=handover_event_id(case.id, line),
        case_id=case.id,
        occurred_at=now,
        channel=Channel(case.channel),
        received_at=case.received_at,
        line=line,
        actor=actor,
        actor_role=role,
        note=note or None,
    )


def handover_routes_now(case_status: str, outcome: str | None, unit_code: str | None) -> bool:
    """A 转接 recorded after a call was saved as 当场解释 (closed on the spot, never routed): the 转接
    makes it a 紧急诉求, and an urgent case never stops at the operator, so it is routed now, by the
    person who recorded the 转接, and tracked with the urgent clocks."""
    return case_status == "answered" and outcome == CallOutcome.ANSWERED_ON_SPOT.value and not unit_code


def reach_per_hour(earlier_reach: int | None, earlier_at: datetime, reach: int | None, at: datetime) -> float | None:
    """Reposts per hour between two reports of the same URL (the growth of its reach over the time
    between them); None when either reach is unknown or no time passed. A shrinking count (a post
    deleted in part) is no growth: 0."""
    if earlier_reach is None or reach is None:
        return None
    hours = (at - earlier_at).total_seconds() / 3600
    if hours <= 0:
        return None
    return round(max(0, reach - earlier_reach) / hours, 1)
