"""Help for operators and dispatchers: the classifier's suggestion while typing, similar earlier cases,
and the 人工分拣 queue where people decide what the model could not."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import ConfigDict, Field

from hotline.services.intake.auth import Principal, Role, require
from hotline.services.intake.keyset import Position, cursor_param, page
from hotline.services.intake.queries import case_summary, recent_visible
from hotline.services.intake.responses import Classified, ContractRoute, ReviewQueue, SimilarCases, Suggestion
from hotline.services.intake.routes_catalogue import catalogue_in_force
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.schemas import MAX_REACH, Body, FreeText
from hotline.services.intake.similar import most_similar
from hotline.services.intake.sorting import Sorting, sort_by_hand, waiting
from hotline.shared import subjects
from hotline.shared.events import Channel, Severity

router = APIRouter(prefix="/api/v1", route_class=ContractRoute)
DESK_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN)
SORTING_ROLES = (Role.DISPATCHER, Role.ADMIN)
SIMILAR_WINDOW = 3000  # the most recent cases searched for similar ones


class SuggestBody(Body):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: FreeText = Field(min_length=1, max_length=20000)
    channel: Channel = Channel.HOTLINE
    township: str | None = Field(default=None, max_length=64)
    reach: int | None = Field(default=None, ge=0, le=MAX_REACH)


class ManualClassification(Body):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    topic: str = Field(min_length=1, max_length=32)
    subtopic: str | None = Field(default=None, max_length=32)
    severity: Severity | None = None
    unit: str | None = Field(default=None, description="承办单位编码；不填则按派单目录")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.post("/suggest", response_model=Suggestion, summary="分类建议（话务员录入时）")
async def suggest(
    body: SuggestBody, request: Request, _: Annotated[Principal, Depends(require(*DESK_ROLES))]
) -> dict[str, Any]:
    runtime = _runtime(request)
    # The classifier decides the unit too, with the same function and 派单目录 version as the router.
    payload = {"text": body.text, "channel": body.channel.value, "reach": body.reach, "township": body.township}
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
    if isinstance(result.get("unit"), dict):
        result["unit"]["reason"] = result.get("reason")
    return result


@router.get("/cases/similar", response_model=SimilarCases, summary="相似的历史案件")
async def similar(
    request: Request,
    principal: Annotated[Principal, Depends(require(*DESK_ROLES))],
    text: Annotated[str, Query(min_length=2, max_length=5000)],
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> dict[str, Any]:
    # The same visibility as GET /cases/{id}: an operator finds only the cases they logged.
    async with _runtime(request).read_sessions() as session:
        recent = await recent_visible(session, principal, limit=SIMILAR_WINDOW)
    ranked = most_similar(text, [(case, case.content) for case in recent], limit=limit)
    return {
        "items": [
            {**case_summary(case), "similarity": round(score, 3), "public_answer": case.public_answer}
            for case, score in ranked
        ]
    }


@router.get("/review", response_model=ReviewQueue, summary="人工分拣队列")
async def review_queue(
    request: Request,
    _: Annotated[Principal, Depends(require(*SORTING_ROLES))],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[Position | None, Depends(cursor_param)] = None,
) -> dict[str, Any]:
    async with _runtime(request).read_sessions() as session:
        found = await waiting(session, limit=limit, after=after)
    queued, next_cursor = page(found, limit, lambda row: (row[0].received_at, row[0].id))
    return {
        "items": [{**case_summary(row), "candidates": candidates} for row, candidates in queued],
        "next_cursor": next_cursor,
    }


@router.post("/cases/{case_id}/classify", response_model=Classified, summary="人工分拣：确定主题并派单")
async def classify_manually(
    case_id: str,
    body: ManualClassification,
    request: Request,
    principal: Annotated[Principal, Depends(require(*SORTING_ROLES))],
) -> dict[str, Any]:
    """A person's topic, and the unit named or else the one the 派单目录's matter dispatch decides."""
    runtime = _runtime(request)
    catalogue = await catalogue_in_force(runtime)
    sorting = Sorting(topic=body.topic, subtopic=body.subtopic, severity=body.severity, unit=body.unit)
    done = await runtime.write(
        lambda session: sort_by_hand(
            session, case_id, sorting, actor=principal.username, catalogue=catalogue, clock=runtime.clock
        )
    )
    routed = done.routed
    return {
        "case_id": case_id,
        "topic": body.topic,
        "subtopic": body.subtopic,
        "unit": routed.unit_code,
        "matter_code": routed.matter_code,
        "reason": routed.reason,
        "routing_version": routed.routing_version,
    }
