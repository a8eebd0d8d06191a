"""Help for operators and dispatchers: the classifier's suggestion while typing, similar earlier cases,
and the 人工分拣 queue where people decide what the model could not."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from hotline.services.intake.access import get_or_404, visible_cases
from hotline.services.intake.auth import Principal, Role, require
from hotline.services.intake.queries import case_summary
from hotline.services.intake.routes_catalogue import catalogue_in_force
from hotline.services.intake.routes_work import routed_by_hand
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.similar import most_similar
from hotline.shared import subjects
from hotline.shared.db import CaseRow, TaskRow, transaction
from hotline.shared.domain.county import route
from hotline.shared.events import CaseClassified, Channel, EmergencyLine, Severity
from hotline.shared.outbox import enqueue

router = APIRouter(prefix="/api/v1")
DESK_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN)
SORTING_ROLES = (Role.DISPATCHER, Role.ADMIN)
OUTBOX_SOURCE = "intake"
SIMILAR_WINDOW = 3000  # the most recent cases searched for similar ones


class SuggestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: str = Field(min_length=1, max_length=20000)
    channel: Channel = Channel.HOTLINE
    township: str | None = Field(default=None, max_length=64)
    reach: int | None = Field(default=None, ge=0)


class ManualClassification(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    topic: str = Field(min_length=1, max_length=32)
    subtopic: str | None = Field(default=None, max_length=32)
    severity: Severity | None = None
    unit: str | None = Field(default=None, description="承办单位编码；不填则按派单目录")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.post("/suggest", summary="分类建议（话务员录入时）")
async def suggest(
    body: SuggestBody, request: Request, _: Annotated[Principal, Depends(require(*DESK_ROLES))]
) -> dict[str, Any]:
    runtime = _runtime(request)
    payload = {"text": body.text, "channel": body.channel.value, "reach": body.reach}
    try:
        reply = await runtime.nc.request(
            subjects.CLASSIFY_REQUEST,
            json.dumps(payload, ensure_ascii=False).encode(),
            timeout=3,
            headers={"content-type": "application/json"},
        )
    except Exception:
        raise HTTPException(503, detail="分类服务暂不可用，请稍后再试") from None
    result: dict[str, Any] = json.loads(reply.data)
    county = (await catalogue_in_force(request.app.state.runtime)).county
    township = body.township or result["place"]["township"]
    decision = route(
        topic="人工分拣" if result["needs_review"] else result["topic"],
        subtopic=result["subtopic"],
        township=township,
        county=county,
    )
    result["unit"] = {"code": decision.unit_code, "name": decision.unit_name, "reason": decision.reason}
    return result


@router.get("/cases/similar", summary="相似的历史案件")
async def similar(
    request: Request,
    principal: Annotated[Principal, Depends(require(*DESK_ROLES))],
    text: Annotated[str, Query(min_length=2, max_length=5000)],
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> dict[str, Any]:
    # The same visibility as GET /cases/{id}: an operator finds only the cases they logged.
    statement = visible_cases(principal, select(CaseRow)).order_by(CaseRow.received_at.desc()).limit(SIMILAR_WINDOW)
    async with _runtime(request).read_sessions() as session:
        recent = (await session.execute(statement)).scalars().all()
    ranked = most_similar(text, [(case, case.content) for case in recent], limit=limit)
    return {
        "items": [
            {**case_summary(case), "similarity": round(score, 3), "public_answer": case.public_answer}
            for case, score in ranked
        ]
    }


@router.get("/review", summary="人工分拣队列")
async def review_queue(
    request: Request,
    _: Annotated[Principal, Depends(require(*SORTING_ROLES))],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    statement = (
        select(CaseRow)
        .where(CaseRow.needs_review.is_(True), CaseRow.status.not_in(("answered", "closed")))
        .order_by(CaseRow.received_at)
        .limit(limit)
    )
    async with _runtime(request).read_sessions() as session:
        rows = (await session.execute(statement)).scalars().all()
    return {"items": [case_summary(row) for row in rows]}


def kept_urgency(case: CaseRow) -> dict[str, Any]:
    """The case's 紧急诉求 verdict, for an event that re-classifies it by hand."""
    return {
        "urgent": bool(case.urgent),
        "urgent_reasons": list(case.urgent_reasons or []),
        "urgent_lines": [EmergencyLine(line) for line in case.urgent_lines or []],
    }


@router.post("/cases/{case_id}/classify", summary="人工分拣：确定主题并派单")
async def classify_manually(
    case_id: str,
    body: ManualClassification,
    request: Request,
    principal: Annotated[Principal, Depends(require(*SORTING_ROLES))],
) -> dict[str, Any]:
    """Record a person's topic (it becomes a `classified` event, so routing, clocks and the feed
    follow as for the model's, and the choice can feed retraining)."""
    runtime = _runtime(request)
    county = (await catalogue_in_force(request.app.state.runtime)).county
    if body.unit is not None and body.unit not in county.units:
        raise HTTPException(422, detail=[{"field": "unit", "message": "单位编码无效（见 /api/v1/units）"}])
    async with transaction(runtime.sessions) as session:
        case = await get_or_404(session, CaseRow, case_id)
        now = runtime.clock.now()
        event = CaseClassified(
            event_id=uuid.uuid4(),
            case_id=case.id,
            occurred_at=now,
            channel=Channel(case.channel),
            received_at=case.received_at,
            topic=body.topic,
            subtopic=body.subtopic,
            severity=body.severity or Severity(case.severity or Severity.GENERAL.value),
            severity_reasons=[f"人工分拣：{principal.username}"],
            confidence=1.0,
            model_version=f"manual:{principal.username}",
            needs_review=False,
            township=case.township,
            outcome=None,
            is_accusation=bool((case.details or {}).get("is_accusation")),
            accused_unit=(case.details or {}).get("accused_unit"),
            # A person sorts the topic; a 紧急诉求 found before (or a 转接 recorded) stays one.
            **kept_urgency(case),
        )
        # The sorting desk's own pending task is done once the case has its real unit.
        for task in (
            await session.execute(select(TaskRow).where(TaskRow.case_id == case.id, TaskRow.state == "pending"))
        ).scalars():
            task.state, task.updated_at = "closed", now
        await enqueue(session, source=OUTBOX_SOURCE, events=[(subjects.CASE_CLASSIFIED, event)], clock=runtime.clock)
        if body.unit is not None:
            unit = county.units[body.unit]
            routed = routed_by_hand(
                case, unit, now, reason=f"人工分拣 {principal.username} 指定", topic=body.topic, severity=event.severity
            )
            await enqueue(session, source=OUTBOX_SOURCE, events=[(subjects.CASE_ROUTED, routed)], clock=runtime.clock)
    runtime.relay.wake()
    return {"case_id": case_id, "topic": body.topic, "subtopic": body.subtopic, "unit": body.unit}
