"""Help for operators and dispatchers: the classifier's suggestion while typing, similar earlier cases,
and the 人工分拣 queue where people decide what the model could not."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.services.intake.access import get_or_404, visible_cases
from hotline.services.intake.auth import Principal, Role, require
from hotline.services.intake.examples import record_example
from hotline.services.intake.queries import case_summary
from hotline.services.intake.responses import Classified, ContractRoute, ReviewQueue, SimilarCases, Suggestion
from hotline.services.intake.routes_catalogue import catalogue_in_force
from hotline.services.intake.routes_work import routed_by_hand
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.schemas import MAX_REACH, Body, FreeText
from hotline.services.intake.similar import most_similar
from hotline.services.intake.workflow import accused_refusal
from hotline.shared import subjects
from hotline.shared.db import CaseEventRow, CaseRow, transaction
from hotline.shared.domain.county import route
from hotline.shared.events import CaseClassified, Channel, DecidedBy, EmergencyLine, Severity
from hotline.shared.outbox import enqueue

router = APIRouter(prefix="/api/v1", route_class=ContractRoute)
DESK_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN)
SORTING_ROLES = (Role.DISPATCHER, Role.ADMIN)
OUTBOX_SOURCE = "intake"
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


@router.get("/review", response_model=ReviewQueue, summary="人工分拣队列")
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
        candidates = await routed_candidates(session, [row.id for row in rows])
    return {"items": [{**case_summary(row), "candidates": candidates.get(row.id, [])} for row in rows]}


async def routed_candidates(session: AsyncSession, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    """The units the router offered for each case it sent to 人工分拣 (from its latest `routed` event)."""
    if not case_ids:
        return {}
    statement = (
        select(CaseEventRow.case_id, CaseEventRow.payload)
        .where(CaseEventRow.case_id.in_(case_ids), CaseEventRow.kind == "routed")
        .order_by(CaseEventRow.seq)
    )
    latest: dict[uuid.UUID, list[Any]] = {}
    for case_id, payload in (await session.execute(statement)).all():
        latest[case_id] = list(payload.get("candidates") or [])
    return latest


def kept_urgency(case: CaseRow) -> dict[str, Any]:
    """The case's 紧急诉求 verdict, for an event that re-classifies it by hand."""
    return {
        "urgent": bool(case.urgent),
        "urgent_reasons": list(case.urgent_reasons or []),
        "urgent_lines": [EmergencyLine(line) for line in case.urgent_lines or []],
    }


@router.post("/cases/{case_id}/classify", response_model=Classified, summary="人工分拣：确定主题并派单")
async def classify_manually(
    case_id: str,
    body: ManualClassification,
    request: Request,
    principal: Annotated[Principal, Depends(require(*SORTING_ROLES))],
) -> dict[str, Any]:
    """Record a person's topic and unit: a `classified` and a `routed` event, both decided by a
    person (the classification can feed retraining; the table does not route it again)."""
    runtime = _runtime(request)
    catalogue = await catalogue_in_force(request.app.state.runtime)
    county = catalogue.county
    if body.unit is not None and body.unit not in county.units:
        raise HTTPException(422, detail=[{"field": "unit", "message": "单位编码无效（见 /api/v1/units）"}])
    async with transaction(runtime.sessions) as session:
        case = await get_or_404(session, CaseRow, case_id)
        details = case.details or {}
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
            is_accusation=bool(details.get("is_accusation")),
            accused_unit=details.get("accused_unit"),
            decided_by=DecidedBy.PERSON,
            # A person sorts the topic; a 紧急诉求 found before (or a 转接 recorded) stays one.
            **kept_urgency(case),
        )
        # One decision per step: the person's classification comes with its routing (the unit named,
        # or the table's choice for the topic), and the router leaves a person's decision alone.
        if body.unit is not None:
            unit = county.units[body.unit]
            refusal = accused_refusal(details, unit, county)
            if refusal is not None:
                raise HTTPException(409, detail=refusal)
            co_units: tuple[str, ...] = ()
            reason = f"人工分拣 {principal.username} 指定"
        else:
            decision = route(
                topic=body.topic,
                subtopic=body.subtopic,
                township=case.township,
                county=county,
                is_accusation=event.is_accusation,
                accused_unit=event.accused_unit,
            )
            unit, co_units = county.units[decision.unit_code], decision.co_units
            reason = f"人工分拣 {principal.username}：{decision.reason}"
        routed = routed_by_hand(
            case,
            unit,
            now,
            reason=reason,
            topic=body.topic,
            severity=event.severity,
            co_units=co_units,
            routing_version=catalogue.version,
        )
        # Every 人工分拣 decision is a labelled example for the next model and catalogue version.
        await record_example(
            session,
            case,
            unit_code=unit.code,
            topic=body.topic,
            subtopic=body.subtopic,
            sorting=True,
            actor=principal.username,
            now=now,
        )
        await enqueue(
            session,
            source=OUTBOX_SOURCE,
            events=[(subjects.CASE_CLASSIFIED, event), (subjects.CASE_ROUTED, routed)],
            clock=runtime.clock,
        )
    runtime.relay.wake()
    return {"case_id": case_id, "topic": body.topic, "subtopic": body.subtopic, "unit": unit.code}
