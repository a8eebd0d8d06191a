"""The units' work: task inbox and steps (签收, 答复, 退回, 延期, 挂起), dispatch, 回访, contact reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ConfigDict, Field

from hotline.services.intake.access import can_see, get_or_404, task_units
from hotline.services.intake.auth import Principal, Role, deny, log_access, require
from hotline.services.intake.keyset import Position, cursor_param, page
from hotline.services.intake.queries import mask_name, mask_phone
from hotline.services.intake.responses import Contact, ContractRoute, Dispatched, Task, TaskList
from hotline.services.intake.routes_catalogue import catalogue_in_force
from hotline.services.intake.runtime import Runtime
from hotline.services.intake.schemas import Body, FreeText
from hotline.services.intake.work import (
    Step,
    dispatch_case,
    may_act_on,
    record_visit,
    settle_extension,
    take_step,
    tasks_of,
)
from hotline.services.intake.workflow import MAX_EXTENSION_DAYS, STATE_LABELS
from hotline.shared.clock import beijing
from hotline.shared.db import CaseRow, TaskRow, transaction
from hotline.shared.events import Verdict

router = APIRouter(prefix="/api/v1", route_class=ContractRoute)


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
    after: Annotated[Position | None, Depends(cursor_param)] = None,
) -> dict[str, Any]:
    async with _runtime(request).read_sessions() as session:
        found = await tasks_of(session, principal, state=state, limit=limit, after=after)
    rows, next_cursor = page(found, limit, lambda row: (row[0].assigned_at, row[0].id))
    return {"items": [task_view(task, case) for task, case in rows], "next_cursor": next_cursor}


async def _acted(request: Request, principal: Principal, task_id: str, step: Step) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.read_sessions() as session:
        found = await get_or_404(session, TaskRow, task_id)
    if not may_act_on(principal, found):
        await deny(runtime, principal, target=f"task {task_id}", detail="任务不存在")
    task, case = await runtime.write(
        lambda session: take_step(session, task_id, step, principal=principal, clock=runtime.clock)
    )
    return task_view(task, case)


UNIT_STAFF = (Role.UNIT, Role.DISPATCHER, Role.ADMIN)


@router.post("/tasks/{task_id}/sign", response_model=Task, summary="签收")
async def sign(
    task_id: str, request: Request, principal: Annotated[Principal, Depends(require(*UNIT_STAFF))]
) -> dict[str, Any]:
    now = _runtime(request).clock.now()
    return await _acted(
        request, principal, task_id, Step("sign", changes={"signed_at": now, "signed_by": principal.username})
    )


@router.post("/tasks/{task_id}/answer", response_model=Task, summary="答复")
async def answer(
    task_id: str, body: AnswerBody, request: Request, principal: Annotated[Principal, Depends(require(*UNIT_STAFF))]
) -> dict[str, Any]:
    now = _runtime(request).clock.now()
    changes = {"answered_at": now, "answer": body.answer, "attachments": body.attachments}
    return await _acted(
        request, principal, task_id, Step("answer", note=body.public_answer or body.answer, changes=changes)
    )


@router.post("/tasks/{task_id}/return", response_model=Task, summary="退回（非本单位职责）")
async def return_task(
    task_id: str, body: ReasonBody, request: Request, principal: Annotated[Principal, Depends(require(*UNIT_STAFF))]
) -> dict[str, Any]:
    step = Step("return", note=body.reason, changes={"return_reason": body.reason})
    return await _acted(request, principal, task_id, step)


@router.post("/tasks/{task_id}/extend", response_model=Task, summary="申请延期")
async def extend(
    task_id: str, body: ExtendBody, request: Request, principal: Annotated[Principal, Depends(require(*UNIT_STAFF))]
) -> dict[str, Any]:
    request_record = {"days": body.days, "reason": body.reason, "by": principal.username, "decision": None}
    step = Step(
        "extend", note=body.reason, changes={"extension_request": request_record}, extra={"extension_days": body.days}
    )
    return await _acted(request, principal, task_id, step)


@router.post("/tasks/{task_id}/pause", response_model=Task, summary="挂起（等待群众补充材料等）")
async def pause(
    task_id: str, body: ReasonBody, request: Request, principal: Annotated[Principal, Depends(require(*UNIT_STAFF))]
) -> dict[str, Any]:
    return await _acted(
        request, principal, task_id, Step("pause", note=body.reason, changes={"pause_reason": body.reason})
    )


@router.post("/tasks/{task_id}/resume", response_model=Task, summary="恢复办理")
async def resume(
    task_id: str, body: StepBody, request: Request, principal: Annotated[Principal, Depends(require(*UNIT_STAFF))]
) -> dict[str, Any]:
    return await _acted(request, principal, task_id, Step("resume", note=body.note, changes={"pause_reason": None}))


@router.post("/tasks/{task_id}/close", response_model=Task, summary="办结")
async def close(
    task_id: str, body: StepBody, request: Request, principal: Annotated[Principal, Depends(require(*UNIT_STAFF))]
) -> dict[str, Any]:
    return await _acted(request, principal, task_id, Step("close", note=body.note))


@router.post("/tasks/{task_id}/extension", response_model=Task, summary="审批延期申请（派单员、领导）")
async def decide_extension(
    task_id: str,
    body: DecisionBody,
    request: Request,
    principal: Annotated[Principal, Depends(require(Role.DISPATCHER, Role.LEADER, Role.ADMIN))],
) -> dict[str, Any]:
    runtime = _runtime(request)
    task, case = await runtime.write(
        lambda session: settle_extension(
            session, task_id, approved=body.approved, note=body.note, principal=principal, clock=runtime.clock
        )
    )
    return task_view(task, case)


@router.post("/cases/{case_id}/dispatch", response_model=Dispatched, summary="派单/改派（派单员）")
async def dispatch(
    case_id: str,
    body: DispatchBody,
    request: Request,
    principal: Annotated[Principal, Depends(require(Role.DISPATCHER, Role.ADMIN))],
) -> dict[str, Any]:
    runtime = _runtime(request)
    catalogue = await catalogue_in_force(runtime)
    event = await runtime.write(
        lambda session: dispatch_case(
            session,
            case_id,
            unit_code=body.unit,
            reason=body.reason,
            actor=principal.username,
            catalogue=catalogue,
            clock=runtime.clock,
        )
    )
    return {"case_id": case_id, "unit": event.unit_code, "unit_name": event.unit_name, "event_id": str(event.event_id)}


@router.post("/cases/{case_id}/visit", response_model=Task, summary="回访（记录群众评价）")
async def visit(
    case_id: str,
    body: VisitBody,
    request: Request,
    principal: Annotated[Principal, Depends(require(Role.OPERATOR, Role.DISPATCHER, Role.ADMIN))],
) -> dict[str, Any]:
    runtime = _runtime(request)
    task, case = await runtime.write(
        lambda session: record_visit(
            session, case_id, verdict=body.verdict, note=body.note, principal=principal, clock=runtime.clock
        )
    )
    return task_view(task, case)


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
