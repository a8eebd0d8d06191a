"""联动: recording a 转接 of a case to 110/119/120/122 (who, which line, when)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from hotline.services.intake.access import can_see, get_or_404, task_units
from hotline.services.intake.auth import Principal, Role, deny, require
from hotline.services.intake.linkage import HandoverRefused, existing_handover, handover_routes_now, record_handover
from hotline.services.intake.responses import ContractRoute, HandoverRecorded
from hotline.services.intake.routes_catalogue import catalogue_in_force
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.schemas import HandoverIn
from hotline.services.intake.sorting import routed_after_handover
from hotline.shared import subjects
from hotline.shared.db import CaseRow, transaction
from hotline.shared.events import CaseEvent
from hotline.shared.outbox import enqueue

router = APIRouter(prefix="/api/v1", route_class=ContractRoute)
OUTBOX_SOURCE = "intake"
HANDOVER_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN)


@router.post("/cases/{case_id}/handover", response_model=HandoverRecorded, summary="记录转接（110/119/120/122 联动）")
async def handover(
    case_id: str,
    body: HandoverIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(*HANDOVER_ROLES))],
) -> dict[str, Any]:
    """Records the 转接 on the case (its history and the feed); the same line twice records nothing new."""
    runtime: Runtime = request.app.state.runtime
    catalogue = await catalogue_in_force(runtime)
    async with transaction(runtime.sessions) as session:
        case = await get_or_404(session, CaseRow, case_id)
        visible = can_see(principal, case, await task_units(session, case))
        if visible:
            try:
                event = record_handover(
                    case,
                    body.line,
                    actor=principal.username,
                    role=principal.role.value,
                    now=runtime.clock.now(),
                    note=body.note,
                )
            except HandoverRefused as exc:
                raise HTTPException(exc.status, detail=exc.message) from exc
            if event is not None:
                case.updated_at = runtime.clock.now()
                events: list[tuple[str, CaseEvent]] = [(subjects.CASE_HANDED_OVER, event)]
                if handover_routes_now(case.status, case.outcome, case.unit_code):
                    routed = await routed_after_handover(
                        session, case, actor=principal.username, catalogue=catalogue, clock=runtime.clock
                    )
                    events.append((subjects.CASE_ROUTED, routed))
                await enqueue(session, source=OUTBOX_SOURCE, events=events, clock=runtime.clock)
            record = existing_handover(list(case.handovers or []), body.line)
    if not visible:
        await deny(runtime, principal, target=f"case {case_id}", detail="案件不存在")
    runtime.relay.wake()
    return {"case_id": str(case.id), "handover": record, "already_recorded": event is None, "urgent": case.urgent}
