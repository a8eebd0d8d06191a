"""联动: recording a 转接 of a case to 110/119/120/122 (who, which line, when)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from hotline.services.intake.access import can_see, get_or_404, task_units
from hotline.services.intake.auth import Principal, Role, deny, require
from hotline.services.intake.linkage import HandoverRefused, existing_handover, handover_routes_now, record_handover
from hotline.services.intake.responses import ContractRoute, HandoverRecorded
from hotline.services.intake.routes_catalogue import catalogue_in_force
from hotline.services.intake.routes_work import routed_by_hand
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.schemas import HandoverIn
from hotline.shared import subjects
from hotline.shared.catalogue import Catalogue
from hotline.shared.db import CaseRow, transaction
from hotline.shared.dispatching import URGENT_ON_SPOT_NOTE
from hotline.shared.domain.county import route
from hotline.shared.events import CaseEvent, CaseRouted
from hotline.shared.outbox import enqueue

router = APIRouter(prefix="/api/v1", route_class=ContractRoute)
OUTBOX_SOURCE = "intake"
HANDOVER_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN)


def _route_on_spot(case: CaseRow, principal: Principal, catalogue: Catalogue, runtime: Runtime) -> CaseRouted:
    """The routing of a 当场解释 call that a 转接 made urgent: the table's unit for its topic (人工分拣's
    unit before it is classified), decided by the person who recorded the 转接."""
    decision = route(topic=case.topic or "", subtopic=case.subtopic, township=case.township, county=catalogue.county)
    return routed_by_hand(
        case,
        catalogue.county.units[decision.unit_code],
        runtime.clock.now(),
        reason=f"话务员 {principal.username} 转接后派单：{decision.reason}；{URGENT_ON_SPOT_NOTE}",
        co_units=decision.co_units,
        routing_version=catalogue.version,
    )


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
                    events.append((subjects.CASE_ROUTED, _route_on_spot(case, principal, catalogue, runtime)))
                await enqueue(session, source=OUTBOX_SOURCE, events=events, clock=runtime.clock)
            record = existing_handover(list(case.handovers or []), body.line)
    if not visible:
        await deny(runtime, principal, target=f"case {case_id}", detail="案件不存在")
    runtime.relay.wake()
    return {"case_id": str(case.id), "handover": record, "already_recorded": event is None, "urgent": case.urgent}
