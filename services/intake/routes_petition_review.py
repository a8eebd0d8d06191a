"""信访 复查/复核: the petitioner's request within the window after a written reply, and the organ's
opinion within its own clock (信访工作条例 第三十五、三十六条). The clocks are the escalation service's."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from hotline.services.intake.auth import Principal, Role, require
from hotline.services.intake.responses import ContractRoute, ReviewRecorded
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.work import record_review
from hotline.services.intake.workflow import REVIEW_STAGES

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
    kind = await runtime.write(
        lambda session: record_review(
            session,
            case_id,
            stage=body.stage,
            action=body.action,
            note=body.note,
            principal=principal,
            clock=runtime.clock,
        )
    )
    return {"case_id": case_id, "kind": kind, "stage": REVIEW_STAGES[body.stage][0]}
