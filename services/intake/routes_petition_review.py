"""信访 复查/复核: the petitioner's request within the window after a written reply, and the organ's
opinion within its own clock (信访工作条例 第三十五、三十六条). The clocks are the escalation service's."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from hotline.services.intake.access import get_or_404
from hotline.services.intake.auth import Principal, Role, require
from hotline.services.intake.responses import ContractRoute, ReviewRecorded
from hotline.services.intake.routes_work import acted, record
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.workflow import REVIEW_STAGES, WorkflowError, check_review
from hotline.shared.db import CaseRow, DeadlineRow, TaskRow, transaction

router = APIRouter(prefix="/api/v1", route_class=ContractRoute)
PETITION_STAFF = (Role.DISPATCHER, Role.ADMIN)


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    stage: Literal["review", "recheck"] = Field(description="review 复查 | recheck 复核")
    action: Literal["request", "answer"] = Field(description="request 信访人请求 | answer 出具意见")
    note: str = Field(min_length=2, max_length=5000, description="请求理由或复查（复核）意见")


@router.post("/cases/{case_id}/review", response_model=ReviewRecorded, summary="信访复查/复核：登记请求或意见")
async def review(
    case_id: str,
    body: ReviewBody,
    request: Request,
    principal: Annotated[Principal, Depends(require(*PETITION_STAFF))],
) -> dict[str, Any]:
    runtime: Runtime = request.app.state.runtime
    label = REVIEW_STAGES[body.stage][0]
    async with transaction(runtime.sessions) as session:
        case = await get_or_404(session, CaseRow, case_id)
        if case.channel != "petition":
            raise HTTPException(409, detail=f"只有信访事项可以{label}")
        rows = (await session.execute(select(DeadlineRow).where(DeadlineRow.case_id == case.id))).scalars()
        clocks = {row.name: (row.state, row.due_at, row.label) for row in rows}
        task = await session.scalar(
            select(TaskRow)
            .where(TaskRow.case_id == case.id, TaskRow.role == "lead")
            .order_by(TaskRow.assigned_at.desc())
            .limit(1)
        )
        now = runtime.clock.now()
        try:
            kind = check_review(body.stage, body.action, clocks, now)
            if task is None:
                raise WorkflowError("该信访事项尚未交办，不能登记")
        except WorkflowError as exc:
            raise HTTPException(409, detail=str(exc)) from None
        await record(session, runtime, acted(case, task, kind, principal, now, note=body.note))
    runtime.relay.wake()
    return {"case_id": case_id, "kind": kind, "stage": label}
