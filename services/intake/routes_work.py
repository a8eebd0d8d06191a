"""The units' work: task inbox and steps (签收, 答复, 退回, 延期, 挂起), dispatch, 回访, contact reads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.services.intake.access import can_see, get_or_404, task_units
from hotline.services.intake.auth import Principal, Role, deny, log_access, require
from hotline.services.intake.examples import record_example
from hotline.services.intake.queries import mask_name, mask_phone
from hotline.services.intake.responses import Contact, ContractRoute, Dispatched, Task, TaskList
from hotline.services.intake.routes_catalogue import catalogue_in_force
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.schemas import Body, FreeText
from hotline.services.intake.workflow import (
    EVENT_KIND,
    MAX_EXTENSION_DAYS,
    STATE_LABELS,
    WorkflowError,
    accused_refusal,
    check_step,
)
from hotline.shared import subjects
from hotline.shared.calendar_table import calendar_in_force
from hotline.shared.clock import beijing
from hotline.shared.db import CaseRow, TaskRow, transaction
from hotline.shared.domain.county import Unit
from hotline.shared.events import (
    CaseActed,
    CaseEvent,
    CaseRouted,
    Channel,
    DecidedBy,
    EmergencyLine,
    Severity,
    Verdict,
)
from hotline.shared.outbox import enqueue

router = APIRouter(prefix="/api/v1", route_class=ContractRoute)
OUTBOX_SOURCE = "intake"


class StepBody(Body):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: FreeText | None = Field(default=None, max_length=5000)


class AnswerBody(Body):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    answer: FreeText = Field(min_length=1, max_length=20000)
    public_answer: FreeText | None = Field(default=None, max_length=5000)
    attachments: list[dict[str, str]] = Field(default_factory=list, max_length=20)


class ReasonBody(Body):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: FreeText = Field(min_length=2, max_length=2000)


class ExtendBody(ReasonBody):
    days: int = Field(ge=1, le=MAX_EXTENSION_DAYS)


class DecisionBody(Body):
    model_config = ConfigDict(extra="forbid")
    approved: bool
    note: str | None = Field(default=None, max_length=2000)


class DispatchBody(Body):
    model_config = ConfigDict(extra="forbid")
    unit: str
    reason: str = Field(min_length=2, max_length=2000)


class VisitBody(Body):
    model_config = ConfigDict(extra="forbid")
    verdict: Verdict
    note: str | None = Field(default=None, max_length=2000)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def task_view(task: TaskRow, case: CaseRow | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(task.id),
        "case_id": str(task.case_id),
        "unit": task.unit_code,
        "unit_name": task.unit_name,
        "co_units": task.co_units,
        "role": task.role,
        "role_label": "协办" if task.role == "co" else "主办",
        "state": task.state,
        "state_label": STATE_LABELS.get(task.state, task.state),
        "assigned_at": beijing(task.assigned_at).isoformat(),
        "signed_at": beijing(task.signed_at).isoformat() if task.signed_at else None,
        "answered_at": beijing(task.answered_at).isoformat() if task.answered_at else None,
        "answer": task.answer,
        "extension_request": task.extension_request,
    }
    if case is not None:
        view.update(
            query_code=case.query_code,
            channel=case.channel,
            topic=case.topic,
            severity=case.severity,
            excerpt=case.content[:80],
            received_at=beijing(case.received_at).isoformat(),
            urgent=bool(case.urgent),
            urgent_lines=list(case.urgent_lines or []),
        )
    return view


@router.get("/tasks", response_model=TaskList, summary="我的任务（单位收件箱）")
async def list_tasks(
    request: Request,
    principal: Annotated[Principal, Depends(require())],
    state: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    statement = (
        select(TaskRow, CaseRow).join(CaseRow, CaseRow.id == TaskRow.case_id).order_by(TaskRow.assigned_at.desc())
    )
    if principal.role is Role.UNIT:
        statement = statement.where(TaskRow.unit_code == principal.unit_code)
    elif principal.role is Role.OPERATOR:
        statement = statement.where(CaseRow.created_by == principal.username)
    if state:
        statement = statement.where(TaskRow.state == state)
    async with _runtime(request).read_sessions() as session:
        rows = (await session.execute(statement.limit(limit))).all()
    return {"items": [task_view(task, case) for task, case in rows]}


def routed_by_hand(
    case: CaseRow,
    unit: Unit,
    now: datetime,
    *,
    reason: str,
    topic: str | None = None,
    severity: Severity | None = None,
    co_units: tuple[str, ...] = (),
    routing_version: int | None = None,
) -> CaseRouted:
    """A person's routing decision (派单/改派, 人工分拣): it replaces the table's, never adds to it."""
    return CaseRouted(
        event_id=uuid.uuid4(),
        case_id=case.id,
        occurred_at=now,
        channel=Channel(case.channel),
        received_at=case.received_at,
        topic=topic or case.topic or "人工分拣",
        severity=severity or Severity(case.severity or Severity.GENERAL.value),
        unit_code=unit.code,
        unit_name=unit.name,
        co_units=list(co_units),
        reason=reason,
        # A 紧急诉求 keeps its minute-level clocks when a person routes it.
        urgent=bool(case.urgent),
        urgent_lines=[EmergencyLine(line) for line in case.urgent_lines or []],
        routing_version=routing_version,
        decided_by=DecidedBy.PERSON,
    )


def acted(case: CaseRow, task: TaskRow, kind: str, principal: Principal, now: datetime, **fields: Any) -> CaseActed:
    """The event recording a person's step on a task: who, what, when and why."""
    return CaseActed(
        event_id=uuid.uuid4(),
        case_id=case.id,
        occurred_at=now,
        channel=Channel(case.channel),
        received_at=case.received_at,
        kind=kind,
        task_id=task.id,
        unit_code=task.unit_code,
        actor=principal.username,
        actor_role=principal.role.value,
        **fields,
    )


async def record(session: AsyncSession, runtime: Runtime, event: CaseEvent, subject: str | None = None) -> None:
    """Store an event for the outbox relay, in the caller's transaction."""
    subject = subject or subjects.case_subject(str(getattr(event, "kind", "")))
    await enqueue(session, source=OUTBOX_SOURCE, events=[(subject, event)], clock=runtime.clock)


async def _acted(
    request: Request,
    principal: Principal,
    task_id: str,
    action: str,
    *,
    note: str | None,
    changes: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.read_sessions() as session:
        found = await get_or_404(session, TaskRow, task_id)
    if principal.role not in (Role.DISPATCHER, Role.ADMIN) and found.unit_code != principal.unit_code:
        await deny(runtime, principal, target=f"task {task_id}", detail="任务不存在")
    async with transaction(runtime.sessions) as session:
        task = await get_or_404(session, TaskRow, task_id)
        case = await session.get(CaseRow, task.case_id)
        assert case is not None
        returned_before = bool(
            await session.scalar(select(TaskRow.id).where(TaskRow.case_id == task.case_id, TaskRow.state == "returned"))
        )
        now = runtime.clock.now()
        calendar = await calendar_in_force(session) if action == "return" else None
        try:
            task.state = check_step(action, task, now=now, returned_before=returned_before, calendar=calendar)
        except WorkflowError as exc:
            raise HTTPException(409, detail=str(exc)) from None
        for key, value in (changes or {}).items():
            setattr(task, key, value)
        task.updated_at = now
        await record(
            session, runtime, acted(case, task, EVENT_KIND[action], principal, now, note=note, **(extra or {}))
        )
        view = task_view(task, case)
    runtime.relay.wake()
    return view


UNIT_STAFF = (Role.UNIT, Role.DISPATCHER, Role.ADMIN)


@router.post("/tasks/{task_id}/sign", response_model=Task, summary="签收")
async def sign(
    task_id: str, request: Request, principal: Annotated[Principal, Depends(require(*UNIT_STAFF))]
) -> dict[str, Any]:
    now = _runtime(request).clock.now()
    return await _acted(
        request, principal, task_id, "sign", note=None, changes={"signed_at": now, "signed_by": principal.username}
    )


@router.post("/tasks/{task_id}/answer", response_model=Task, summary="答复")
async def answer(
    task_id: str, body: AnswerBody, request: Request, principal: Annotated[Principal, Depends(require(*UNIT_STAFF))]
) -> dict[str, Any]:
    now = _runtime(request).clock.now()
    return await _acted(
        request,
        principal,
        task_id,
        "answer",
        note=body.public_answer or body.answer,
        changes={"answered_at": now, "answer": body.answer, "attachments": body.attachments},
    )


@router.post("/tasks/{task_id}/return", response_model=Task, summary="退回（非本单位职责）")
async def return_task(
    task_id: str, body: ReasonBody, request: Request, principal: Annotated[Principal, Depends(require(*UNIT_STAFF))]
) -> dict[str, Any]:
    return await _acted(request, principal, task_id, "return", note=body.reason, changes={"return_reason": body.reason})


@router.post("/tasks/{task_id}/extend", response_model=Task, summary="申请延期")
async def extend(
    task_id: str, body: ExtendBody, request: Request, principal: Annotated[Principal, Depends(require(*UNIT_STAFF))]
) -> dict[str, Any]:
    request_record = {"days": body.days, "reason": body.reason, "by": principal.username, "decision": None}
    return await _acted(
        request,
        principal,
        task_id,
        "extend",
        note=body.reason,
        changes={"extension_request": request_record},
        extra={"extension_days": body.days},
    )


@router.post("/tasks/{task_id}/pause", response_model=Task, summary="挂起（等待群众补充材料等）")
async def pause(
    task_id: str, body: ReasonBody, request: Request, principal: Annotated[Principal, Depends(require(*UNIT_STAFF))]
) -> dict[str, Any]:
    return await _acted(request, principal, task_id, "pause", note=body.reason, changes={"pause_reason": body.reason})


@router.post("/tasks/{task_id}/resume", response_model=Task, summary="恢复办理")
async def resume(
    task_id: str, body: StepBody, request: Request, principal: Annotated[Principal, Depends(require(*UNIT_STAFF))]
) -> dict[str, Any]:
    return await _acted(request, principal, task_id, "resume", note=body.note, changes={"pause_reason": None})


@router.post("/tasks/{task_id}/close", response_model=Task, summary="办结")
async def close(
    task_id: str, body: StepBody, request: Request, principal: Annotated[Principal, Depends(require(*UNIT_STAFF))]
) -> dict[str, Any]:
    return await _acted(request, principal, task_id, "close", note=body.note)


@router.post("/tasks/{task_id}/extension", response_model=Task, summary="审批延期申请（派单员、领导）")
async def decide_extension(
    task_id: str,
    body: DecisionBody,
    request: Request,
    principal: Annotated[Principal, Depends(require(Role.DISPATCHER, Role.LEADER, Role.ADMIN))],
) -> dict[str, Any]:
    runtime = _runtime(request)
    async with transaction(runtime.sessions) as session:
        task = await get_or_404(session, TaskRow, task_id)
        pending = task.extension_request
        if not pending or pending.get("decision") is not None:
            raise HTTPException(409, detail="该任务没有待审批的延期申请")
        case = await session.get(CaseRow, task.case_id)
        assert case is not None
        now = runtime.clock.now()
        task.extension_request = {
            **pending,
            "decision": "approved" if body.approved else "refused",
            "by": principal.username,
        }
        task.updated_at = now
        decided = acted(
            case,
            task,
            "extension_decided",
            principal,
            now,
            note=body.note,
            extension_days=pending["days"],
            approved=body.approved,
        )
        await record(session, runtime, decided)
        view = task_view(task, case)
    runtime.relay.wake()
    return view


@router.post("/cases/{case_id}/dispatch", response_model=Dispatched, summary="派单/改派（派单员）")
async def dispatch(
    case_id: str,
    body: DispatchBody,
    request: Request,
    principal: Annotated[Principal, Depends(require(Role.DISPATCHER, Role.ADMIN))],
) -> dict[str, Any]:
    runtime = _runtime(request)
    catalogue = await catalogue_in_force(request.app.state.runtime)
    unit = catalogue.county.units.get(body.unit)
    if unit is None:
        raise HTTPException(422, detail=[{"field": "unit", "message": "单位编码无效（见 /api/v1/units）"}])
    async with transaction(runtime.sessions) as session:
        case = await get_or_404(session, CaseRow, case_id)
        refusal = accused_refusal(case.details, unit, catalogue.county)
        if refusal is not None:
            raise HTTPException(409, detail=refusal)
        now = runtime.clock.now()
        event = routed_by_hand(
            case,
            unit,
            now,
            reason=f"派单员 {principal.username} 指定：{body.reason}",
            routing_version=catalogue.version,
        )
        await record_example(
            session,
            case,
            unit_code=unit.code,
            topic=None,
            subtopic=None,
            sorting=False,
            actor=principal.username,
            now=now,
        )
        events: list[tuple[str, CaseEvent]] = [(subjects.CASE_ROUTED, event)]
        await enqueue(session, source=OUTBOX_SOURCE, events=events, clock=runtime.clock)
    runtime.relay.wake()
    return {"case_id": case_id, "unit": unit.code, "unit_name": unit.name, "event_id": str(event.event_id)}


@router.post("/cases/{case_id}/visit", response_model=Task, summary="回访（记录群众评价）")
async def visit(
    case_id: str,
    body: VisitBody,
    request: Request,
    principal: Annotated[Principal, Depends(require(Role.OPERATOR, Role.DISPATCHER, Role.ADMIN))],
) -> dict[str, Any]:
    runtime = _runtime(request)
    async with transaction(runtime.sessions) as session:
        case = await get_or_404(session, CaseRow, case_id)
        task = await session.scalar(
            select(TaskRow)
            .where(TaskRow.case_id == case.id, TaskRow.state == "answered")
            .order_by(TaskRow.answered_at.desc())
        )
        if task is None:
            raise HTTPException(409, detail="案件尚未答复，不能回访")
        now = runtime.clock.now()
        # 不满意 sends the case back to the unit (发回重办); otherwise the task is closed (办结).
        task.state = "signed" if body.verdict is Verdict.UNSATISFIED else "closed"
        task.updated_at = now
        await record(
            session, runtime, acted(case, task, "visited", principal, now, note=body.note, verdict=body.verdict)
        )
        view = task_view(task, case)
    runtime.relay.wake()
    return view


@router.get("/cases/{case_id}/contact", response_model=Contact, summary="查看完整联系方式（记录查看人和理由）")
async def contact(
    case_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require())],
    reason: Annotated[str, Query(min_length=2, max_length=500, description="查看理由")],
) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.read_sessions() as session:
        case = await get_or_404(session, CaseRow, case_id)
        visible = can_see(principal, case, await task_units(session, case))
    if not visible:
        await deny(runtime, principal, target=f"case {case_id}", detail="案件不存在")
    if principal.role is Role.UNIT and (case.details or {}).get("wants_secrecy"):
        await deny(
            runtime,
            principal,
            target=f"contact {case_id}",
            reason=reason,
            status=403,
            detail="来电人要求保密，承办单位不能查看其姓名和电话",
        )
    async with transaction(runtime.sessions) as session:
        await log_access(
            session,
            clock=runtime.clock,
            who=principal.username,
            action="reveal_contact",
            target=f"case {case_id}",
            reason=reason,
        )
        return {"name": case.person_name, "phone": case.phone}


def masked_contact(case: CaseRow, principal: Principal) -> dict[str, str | None]:
    if principal.role is Role.UNIT and (case.details or {}).get("wants_secrecy"):
        return {"caller_name": "（保密）", "phone": "（保密）"}
    return {"caller_name": mask_name(case.person_name), "phone": mask_phone(case.phone)}
