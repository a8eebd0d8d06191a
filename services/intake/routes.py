"""HTTP routes of the front door: intake, case reads, statistics, the live feed, health, dead letters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from hotline.services.intake.access import can_see, task_units
from hotline.services.intake.admin import dead_letter, dead_letters, mark_replayed
from hotline.services.intake.auth import Principal, Role, bearer_token, deny, require
from hotline.services.intake.cases import (
    Handover,
    InvalidCase,
    case_from_call,
    case_from_mention,
    case_from_petition,
    store_or_link,
)
from hotline.services.intake.dispatch_accuracy import After, accuracy_page, week_position
from hotline.services.intake.health import health_report
from hotline.services.intake.keyset import Position, cursor_param, page
from hotline.services.intake.limits import MAX_ID, MAX_OFFSET, Period, period
from hotline.services.intake.queries import (
    CHANNEL_LABELS,
    STATUS_LABELS,
    CaseFilter,
    case_by_query_code,
    case_detail,
    case_summary,
    find_cases,
)
from hotline.services.intake.ratelimit import RateLimiter
from hotline.services.intake.responses import (
    CaseDetail,
    CasePage,
    ContractRoute,
    Created,
    DeadLetters,
    DispatchAccuracy,
    Health,
    PublicProgress,
    Replayed,
    Stats,
)
from hotline.services.intake.routes_catalogue import place_names_in_force
from hotline.services.intake.routes_work import masked_contact
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.schemas import CallIn, MentionIn, PetitionIn
from hotline.services.intake.stats import period_label, statistics
from hotline.shared import subjects
from hotline.shared.clock import beijing
from hotline.shared.db import CaseRow, read_one_snapshot, transaction
from hotline.shared.dispatch_rollups import monday_of
from hotline.shared.events import EmergencyLine
from hotline.shared.messaging import MSG_ID_HEADER

router = APIRouter(prefix="/api/v1", route_class=ContractRoute)
INTAKE_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN)
OVERVIEW_ROLES = (Role.DISPATCHER, Role.LEADER, Role.ADMIN)
lookup_limiter = RateLimiter(per_minute=30)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _create(
    request: Request, row: dict[str, Any], event: Any, principal: Principal | None, line: EmergencyLine | None = None
) -> JSONResponse:
    body = await intake_one(_runtime(request), row, event, principal, line)
    _runtime(request).relay.wake()
    # Validated against the declared model: a JSONResponse would bypass the response contract.
    content = Created.model_validate(body).model_dump(mode="json", exclude_unset=True)
    return JSONResponse(status_code=201, content=content, headers={"Location": f"/api/v1/cases/{body['id']}"})


async def intake_one(
    runtime: Runtime,
    row: dict[str, Any],
    event: Any,
    principal: Principal | None,
    line: EmergencyLine | None = None,
    client_key: str | None = None,
) -> dict[str, Any]:
    """Store one contact (or link it as a repeat) and say what became of it (the `Created` body);
    the caller wakes the outbox relay."""
    row["created_by"] = principal.username if principal else None
    window = timedelta(days=runtime.settings.repeat_window_days)
    handover = None
    if line is not None:
        # 网上信访 has no operator: a citizen cannot record a 转接.
        if principal is None:
            raise HTTPException(403, detail="转接须由话务员登记")
        handover = Handover(line=line, actor=principal.username, role=principal.role.value)
    places = await place_names_in_force(runtime)
    case, new, same_caller = await store_or_link(
        runtime.sessions,
        row,
        event,
        runtime.clock,
        repeat_window=window,
        handover=handover,
        places=places,
        client_key=client_key,
        readers=runtime.read_engine.connect,
        batches=runtime.case_batches,
        candidates=runtime.candidates,
    )
    body: dict[str, Any] = {"id": str(case.id), "query_code": case.query_code, "status": case.status}
    if not new:  # 重复来电: the same caller about the same matter, linked to the open case, no new task
        body.update(repeat_of=str(case.id), repeat_count=case.repeat_count)
    elif same_caller:  # 同一来电人, another matter: a case of its own, shown beside the others
        body["same_caller"] = [{"id": str(c.id), "query_code": c.query_code} for c in same_caller]
    return body


def _invalid(exc: InvalidCase) -> HTTPException:
    return HTTPException(422, detail=[{"field": exc.field, "message": exc.message}])


@router.post("/calls", response_model=Created, status_code=201, summary="登记热线来电（话务员）")
async def create_call(
    body: CallIn, request: Request, principal: Annotated[Principal, Depends(require(*INTAKE_ROLES))]
) -> JSONResponse:
    try:
        row, event = case_from_call(body, _runtime(request).clock)
    except InvalidCase as exc:
        raise _invalid(exc) from exc
    return await _create(request, row, event, principal, body.handover_line)


@router.post("/petitions", response_model=Created, status_code=201, summary="登记信访件（网上信访无需登录）")
async def create_petition(body: PetitionIn, request: Request) -> JSONResponse:
    # 网上信访 is the public channel: citizens submit without an account. Every other form is logged
    # by staff and needs a login.
    principal = None
    if body.form.value != "web" or bearer_token(request):
        principal = await require(*INTAKE_ROLES)(request)
    try:
        row, event = case_from_petition(body, _runtime(request).clock)
    except InvalidCase as exc:
        raise _invalid(exc) from exc
    return await _create(request, row, event, principal, body.handover_line)


@router.post("/mentions", response_model=Created, status_code=201, summary="登记舆情（舆情监测）")
async def create_mention(
    body: MentionIn, request: Request, principal: Annotated[Principal, Depends(require(*INTAKE_ROLES))]
) -> JSONResponse:
    try:
        row, event = case_from_mention(body, _runtime(request).clock)
    except InvalidCase as exc:
        raise _invalid(exc) from exc
    return await _create(request, row, event, principal, body.handover_line)


@router.get("/cases/{case_id}", response_model=CaseDetail, summary="案件详情（含时限与全部事件）")
async def get_case(
    case_id: str, request: Request, principal: Annotated[Principal, Depends(require())]
) -> dict[str, Any]:
    try:
        parsed = uuid.UUID(case_id)
    except ValueError:
        raise HTTPException(422, detail=[{"field": "case_id", "message": "案件编号格式不正确"}]) from None
    runtime = _runtime(request)
    async with runtime.read_sessions() as session:
        await read_one_snapshot(session)  # the case, its clocks and its history as of one moment
        case = await session.get(CaseRow, parsed)
        visible = case is not None and can_see(principal, case, await task_units(session, case))
        detail = await case_detail(session, parsed, now=runtime.clock.now()) if visible else None
    if case is None or detail is None:
        if case is not None:  # exists but is not this caller's: say 404, log the attempt
            await deny(runtime, principal, target=f"case {case_id}", detail="案件不存在")
        raise HTTPException(404, detail="案件不存在")
    detail.update(masked_contact(case, principal))
    if principal.role is Role.UNIT:  # a unit sees its own tasks, not the caller's other matters
        detail["same_caller"] = []
    return detail


@router.get("/cases", response_model=CasePage, summary="案件列表")
async def list_cases(
    request: Request,
    principal: Annotated[Principal, Depends(require())],
    channel: str | None = None,
    status: str | None = None,
    unit: str | None = None,
    query_code: str | None = None,
    urgent: Annotated[bool | None, Query(description="只看紧急诉求")] = None,
    open_only: Annotated[bool, Query(alias="open", description="只看未办结的")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="兼容旧客户端；翻页请用 cursor")] = 0,
    after: Annotated[Position | None, Depends(cursor_param)] = None,
) -> dict[str, Any]:
    wanted = CaseFilter(channel, status, unit, query_code, urgent, open_only, limit, offset, after)
    async with _runtime(request).read_sessions() as session:
        rows, next_cursor = page(await find_cases(session, principal, wanted), limit, lambda c: (c.received_at, c.id))
    return {"items": [case_summary(row) for row in rows], "limit": limit, "offset": offset, "next_cursor": next_cursor}


Overview = Annotated[Principal, Depends(require(*OVERVIEW_ROLES))]  # leadership figures: who may read them
Days = Annotated[Period, Depends(period)]


@router.get("/stats", response_model=Stats, summary="受理与答复统计")
async def get_stats(request: Request, _: Overview, days: Days) -> dict[str, Any]:
    start, end = days
    runtime = _runtime(request)
    async with runtime.read_sessions() as session:
        await read_one_snapshot(session)  # the figures of one moment: their parts add up to their totals
        return await statistics(session, now=runtime.clock.now(), start=start, end=end)


@router.get("/stats/dispatch-accuracy", response_model=DispatchAccuracy, summary="各单位派单准确率（按周）")
async def get_dispatch_accuracy(
    request: Request,
    _: Overview,
    days: Days,
    limit: Annotated[int, Query(ge=1, le=2000, description="每页行数（每单位每周一行，最新的周在前）")] = 500,
    after: Annotated[Position | None, Depends(cursor_param)] = None,
) -> dict[str, Any]:
    start, end = days
    last = None if after is None else After(monday_of(beijing(after.at).date()), after.id)
    async with _runtime(request).read_sessions() as session:
        read = await accuracy_page(session, start=start, end=end, after=last, limit=limit)
    items, next_cursor = page(read, limit, week_position)
    return {"period": period_label(start, end), "items": items, "limit": limit, "next_cursor": next_cursor}


@router.get("/feed", summary="实时事件流（Server-Sent Events）")
async def feed(
    request: Request,
    _: Annotated[Principal, Depends(require(*OVERVIEW_ROLES))],
    since: Annotated[int | None, Query(ge=0, le=MAX_ID, description="从该序号之后开始补发")] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    resume = since
    # A resuming browser sends the last id it saw; anything else (not ASCII digits, beyond any id) is
    # ignored rather than failing the stream after it started.
    if resume is None and last_event_id and last_event_id.isascii() and last_event_id.isdigit():
        resume = int(last_event_id) if int(last_event_id) <= MAX_ID else None
    return StreamingResponse(
        _runtime(request).feed.stream(resume),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "有组件不可用"}},
    summary="健康检查",
)
async def health(request: Request) -> JSONResponse:
    runtime = _runtime(request)
    report = await health_report(
        runtime.nc,
        runtime.sessions,
        supervisor=runtime.settings.supervisor_status_path(),
        extra={"reconciler": runtime.reconciler.report()},
    )
    return JSONResponse(status_code=200 if not report["down"] else 503, content=report)


@router.get("/dead-letters", response_model=DeadLetters, summary="死信列表")
async def list_dead_letters(
    request: Request,
    _: Annotated[Principal, Depends(require(Role.ADMIN))],
    include_replayed: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[Position | None, Depends(cursor_param)] = None,
) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.read_sessions() as session:
        found = await dead_letters(session, include_replayed=include_replayed, limit=limit, after=after)
    rows, next_cursor = page(found, limit, lambda letter: (letter.created_at, letter.id))
    return {
        "next_cursor": next_cursor,
        "pending": await dead_letters_pending(runtime),
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
        ],
    }


async def dead_letters_pending(runtime: Runtime) -> int | None:
    """Dead letters still in their stream, not yet copied into the table (e.g. while the database
    was down); None when NATS cannot say."""
    try:
        info = await runtime.js.consumer_info(subjects.DEADLETTER_STREAM, subjects.FEED_DEADLETTER_DURABLE, timeout=1.0)
    except Exception:
        return None
    return int((info.num_pending or 0) + (info.num_ack_pending or 0))


@router.post("/dead-letters/{letter_id}/replay", response_model=Replayed, summary="重放死信")
async def replay_dead_letter(
    letter_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    request: Request,
    _: Annotated[Principal, Depends(require(Role.ADMIN))],
) -> dict[str, Any]:
    """Publish the stored message again on its original subject (after the cause was fixed)."""
    runtime = _runtime(request)
    async with runtime.read_sessions() as session:
        letter = await dead_letter(session, letter_id)
    replay_id = f"replay-{letter.id}-{datetime.now(UTC).timestamp():.0f}"
    await runtime.js.publish(letter.subject, letter.payload.encode(), headers={MSG_ID_HEADER: replay_id})
    async with transaction(runtime.sessions) as session:
        await mark_replayed(session, letter_id, clock=runtime.clock)
    return {"id": letter_id, "replayed_to": letter.subject, "message_id": replay_id}


@router.get("/lookup/{query_code}", response_model=PublicProgress, summary="群众凭查询码查询办理进度（无需登录）")
async def lookup(query_code: str, request: Request) -> dict[str, Any]:
    client = request.client.host if request.client else "?"
    if not lookup_limiter.allow(client):
        raise HTTPException(429, detail="查询过于频繁，请稍后再试")
    async with _runtime(request).read_sessions() as session:
        case = await case_by_query_code(session, query_code)
    if case is None:
        raise HTTPException(404, detail="查询码不存在，请核对后重试")
    return {
        "query_code": case.query_code,
        "channel": CHANNEL_LABELS.get(case.channel, case.channel),
        "status": STATUS_LABELS.get(case.status, case.status),
        "received_at": case_summary(case)["received_at"],
        "unit": case.unit_name,
        "answered_at": case_summary(case)["answered_at"],
        "answer": case.public_answer,
    }
