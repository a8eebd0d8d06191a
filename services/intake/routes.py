"""HTTP routes of the front door: intake, case reads, statistics, the live feed, health, dead letters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import select, update

from hotline.services.intake.cases import (
    InvalidCase,
    case_from_call,
    case_from_mention,
    case_from_petition,
    store_case,
)
from hotline.services.intake.health import health_report
from hotline.services.intake.queries import case_detail, case_summary, statistics
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.schemas import CallIn, MentionIn, PetitionIn
from hotline.shared.db import CaseRow, DeadLetterRow, transaction
from hotline.shared.messaging import MSG_ID_HEADER

router = APIRouter(prefix="/api/v1")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _create(request: Request, row: dict[str, Any], event: Any) -> JSONResponse:
    runtime = _runtime(request)
    case = await store_case(runtime.sessions, row, event, runtime.clock)
    runtime.relay.wake()
    return JSONResponse(
        status_code=201,
        content={"id": str(case.id), "query_code": case.query_code, "status": case.status},
        headers={"Location": f"/api/v1/cases/{case.id}"},
    )


def _invalid(exc: InvalidCase) -> HTTPException:
    return HTTPException(422, detail=[{"field": exc.field, "message": exc.message}])


@router.post("/calls", status_code=201, summary="登记热线来电")
async def create_call(body: CallIn, request: Request) -> JSONResponse:
    try:
        row, event = case_from_call(body, _runtime(request).clock)
    except InvalidCase as exc:
        raise _invalid(exc) from exc
    return await _create(request, row, event)


@router.post("/petitions", status_code=201, summary="登记信访件")
async def create_petition(body: PetitionIn, request: Request) -> JSONResponse:
    try:
        row, event = case_from_petition(body, _runtime(request).clock)
    except InvalidCase as exc:
        raise _invalid(exc) from exc
    return await _create(request, row, event)


@router.post("/mentions", status_code=201, summary="登记舆情")
async def create_mention(body: MentionIn, request: Request) -> JSONResponse:
    try:
        row, event = case_from_mention(body, _runtime(request).clock)
    except InvalidCase as exc:
        raise _invalid(exc) from exc
    return await _create(request, row, event)


@router.get("/cases/{case_id}", summary="案件详情（含时限与全部事件）")
async def get_case(case_id: str, request: Request) -> dict[str, Any]:
    try:
        parsed = uuid.UUID(case_id)
    except ValueError:
        raise HTTPException(422, detail=[{"field": "case_id", "message": "案件编号格式不正确"}]) from None
    runtime = _runtime(request)
    async with runtime.read_sessions() as session:
        detail = await case_detail(session, parsed, now=runtime.clock.now())
    if detail is None:
        raise HTTPException(404, detail="案件不存在")
    return detail


@router.get("/cases", summary="案件列表")
async def list_cases(
    request: Request,
    channel: str | None = None,
    status: str | None = None,
    unit: str | None = None,
    query_code: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    statement = select(CaseRow).order_by(CaseRow.received_at.desc()).limit(limit).offset(offset)
    if channel:
        statement = statement.where(CaseRow.channel == channel)
    if status:
        statement = statement.where(CaseRow.status == status)
    if unit:
        statement = statement.where(CaseRow.unit_code == unit)
    if query_code:
        statement = statement.where(CaseRow.query_code == query_code.upper())
    async with _runtime(request).read_sessions() as session:
        rows = (await session.execute(statement)).scalars().all()
    return {"items": [case_summary(row) for row in rows], "limit": limit, "offset": offset}


@router.get("/stats", summary="受理与答复统计")
async def get_stats(request: Request) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.read_sessions() as session:
        return await statistics(session, now=runtime.clock.now())


@router.get("/feed", summary="实时事件流（Server-Sent Events）")
async def feed(
    request: Request,
    since: Annotated[int | None, Query(ge=0, description="从该序号之后开始补发")] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    resume = since
    if resume is None and last_event_id and last_event_id.isdigit():
        resume = int(last_event_id)
    return StreamingResponse(
        _runtime(request).feed.stream(resume),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/health", summary="健康检查")
async def health(request: Request) -> JSONResponse:
    runtime = _runtime(request)
    report = await health_report(runtime.nc, runtime.sessions)
    return JSONResponse(status_code=200 if not report["down"] else 503, content=report)


@router.get("/dead-letters", summary="死信列表")
async def list_dead_letters(
    request: Request, include_replayed: bool = False, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    statement = select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(limit)
    if not include_replayed:
        statement = statement.where(DeadLetterRow.replayed_at.is_(None))
    async with _runtime(request).read_sessions() as session:
        rows = (await session.execute(statement)).scalars().all()
    return {
        "items": [
            {
                "id": row.id,
                "subject": row.subject,
                "consumer": row.consumer,
                "error": row.error,
                "payload": row.payload,
                "created_at": row.created_at.isoformat(),
                "replayed_at": row.replayed_at.isoformat() if row.replayed_at else None,
            }
            for row in rows
        ]
    }


@router.post("/dead-letters/{letter_id}/replay", summary="重放死信")
async def replay_dead_letter(letter_id: int, request: Request) -> dict[str, Any]:
    """Publish the stored message again on its original subject (after the cause was fixed)."""
    runtime = _runtime(request)
    async with runtime.read_sessions() as session:
        letter = await session.get(DeadLetterRow, letter_id)
    if letter is None:
        raise HTTPException(404, detail="死信不存在")
    replay_id = f"replay-{letter.id}-{datetime.now(UTC).timestamp():.0f}"
    await runtime.js.publish(letter.subject, letter.payload.encode(), headers={MSG_ID_HEADER: replay_id})
    async with transaction(runtime.sessions) as session:
        await session.execute(
            update(DeadLetterRow).where(DeadLetterRow.id == letter_id).values(replayed_at=runtime.clock.now())
        )
    return {"id": letter_id, "replayed_to": letter.subject, "message_id": replay_id}
