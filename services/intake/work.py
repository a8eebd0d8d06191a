"""The units' work as service functions: task steps (签收, 答复, 退回, 延期, 挂起, 办结), 延期 decisions,
派单/改派 and 回访. Each takes the caller's session (one transaction) and typed arguments, changes
the rows, queues the events for the outbox relay and returns what it changed; HTTP stays in routes_work."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.services.intake.access import get_or_404
from hotline.services.intake.auth import Principal, Role
from hotline.services.intake.examples import record_example
from hotline.services.intake.keyset import Position, ordered_page
from hotline.services.intake.workflow import (
    EVENT_KIND,
    REVIEW_STAGES,
    WorkflowError,
    accused_refusal,
    check_review,
    check_step,
)
from hotline.shared import subjects
from hotline.shared.calendar_table import calendar_in_force
from hotline.shared.catalogue import Catalogue
from hotline.shared.clock import Clock
from hotline.shared.db import CaseRow, DeadlineRow, TaskRow
from hotline.shared.domain.county import Unit
from hotline.shared.events import CaseActed, CaseEvent, CaseRouted, Channel, DecidedBy, EmergencyLine, Severity, Verdict
from hotline.shared.outbox import enqueue

OUTBOX_SOURCE = "intake"
UNIT_REFUSED = "单位编码无效（见 /api/v1/units）"


@dataclass(frozen=True, slots=True)
class Step:
    """A unit's step on its task: the action, its note, and the task fields it sets."""

    action: str  # a key of workflow.ACTIONS
    note: str | None = None
    changes: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)  # more fields of the `acted` event


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
    matter: tuple[str | None, str | None] = (None, None),
) -> CaseRouted:
    """A person's routing decision (派单/改派, 人工分拣): it replaces the table's, never adds to it.
    ``matter``: (code, name) of the 事项 that decided, when the 派单目录 decided for the person."""
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
        matter_code=matter[0],
        matter_name=matter[1],
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


async def record(session: AsyncSession, clock: Clock, event: CaseEvent, subject: str | None = None) -> None:
    """Store an event for the outbox relay, in the caller's transaction."""
    subject = subject or subjects.case_subject(str(getattr(event, "kind", "")))
    await enqueue(session, source=OUTBOX_SOURCE, events=[(subject, event)], clock=clock)


async def tasks_of(
    session: AsyncSession, principal: Principal, *, state: str | None, limit: int, after: Position | None = None
) -> list[tuple[TaskRow, CaseRow]]:
    """The tasks a person may list, newest first: a unit its own, an operator those of its cases (a
    page and one more, see keyset.page)."""
    statement = ordered_page(
        select(TaskRow, CaseRow).join(CaseRow, CaseRow.id == TaskRow.case_id),
        TaskRow.assigned_at,
        TaskRow.id,
        after=after,
        limit=limit,
    )
    if principal.role is Role.UNIT:
        statement = statement.where(TaskRow.unit_code == principal.unit_code)
    elif principal.role is Role.OPERATOR:
        statement = statement.where(CaseRow.created_by == principal.username)
    if state:
        statement = statement.where(TaskRow.state == state)
    return [(task, case) for task, case in (await session.execute(statement)).all()]


def may_act_on(principal: Principal, task: TaskRow) -> bool:
    """Dispatchers and admins act on any task; a unit on its own."""
    return principal.role in (Role.DISPATCHER, Role.ADMIN) or task.unit_code == principal.unit_code


async def _task_and_case(session: AsyncSession, task_id: str) -> tuple[TaskRow, CaseRow]:
    task = await get_or_404(session, TaskRow, task_id)
    case = await session.get(CaseRow, task.case_id)
    assert case is not None
    return task, case


async def take_step(
    session: AsyncSession, task_id: str, step: Step, *, principal: Principal, clock: Clock
) -> tuple[TaskRow, CaseRow]:
    """Move the task by ``step`` (409 with the rule's reason when it may not) and record who did it."""
    task, case = await _task_and_case(session, task_id)
    returned_before = bool(
        await session.scalar(select(TaskRow.id).where(TaskRow.case_id == task.case_id, TaskRow.state == "returned"))
    )
    now = clock.now()
    calendar = await calendar_in_force(session) if step.action == "return" else None
    try:
        task.state = check_step(step.action, task, now=now, returned_before=returned_before, calendar=calendar)
    except WorkflowError as exc:
        raise HTTPException(409, detail=str(exc)) from None
    for key, value in step.changes.items():
        setattr(task, key, value)
    task.updated_at = now
    await record(
        session, clock, acted(case, task, EVENT_KIND[step.action], principal, now, note=step.note, **step.extra)
    )
    return task, case


async def settle_extension(
    session: AsyncSession, task_id: str, *, approved: bool, note: str | None, principal: Principal, clock: Clock
) -> tuple[TaskRow, CaseRow]:
    """Approve or refuse the task's pending 延期 request (409 when there is none)."""
    task, case = await _task_and_case(session, task_id)
    pending = task.extension_request
    if not pending or pending.get("decision") is not None:
        raise HTTPException(409, detail="该任务没有待审批的延期申请")
    now = clock.now()
    task.extension_request = {**pending, "decision": "approved" if approved else "refused", "by": principal.username}
    task.updated_at = now
    decided = acted(
        case,
        task,
        "extension_decided",
        principal,
        now,
        note=note,
        extension_days=pending["days"],
        approved=approved,
    )
    await record(session, clock, decided)
    return task, case


async def dispatch_case(
    session: AsyncSession,
    case_id: str,
    *,
    unit_code: str,
    reason: str,
    actor: str,
    catalogue: Catalogue,
    clock: Clock,
) -> CaseRouted:
    """派单/改派 by a dispatcher: 422 for an unknown unit, 409 for the accused unit of a 检举/控告."""
    unit = catalogue.county.units.get(unit_code)
    if unit is None:
        raise HTTPException(422, detail=[{"field": "unit", "message": UNIT_REFUSED}])
    case = await get_or_404(session, CaseRow, case_id)
    refusal = accused_refusal(case.details, unit, catalogue.county)
    if refusal is not None:
        raise HTTPException(409, detail=refusal)
    now = clock.now()
    event = routed_by_hand(case, unit, now, reason=f"派单员 {actor} 指定：{reason}", routing_version=catalogue.version)
    await record_example(
        session, case, unit_code=unit.code, topic=None, subtopic=None, sorting=False, actor=actor, now=now
    )
    await record(session, clock, event, subjects.CASE_ROUTED)
    return event


async def record_visit(
    session: AsyncSession, case_id: str, *, verdict: Verdict, note: str | None, principal: Principal, clock: Clock
) -> tuple[TaskRow, CaseRow]:
    """回访: 不满意 sends the case back to the unit (发回重办); otherwise the task is closed (办结)."""
    case = await get_or_404(session, CaseRow, case_id)
    task = await session.scalar(
        select(TaskRow)
        .where(TaskRow.case_id == case.id, TaskRow.state == "answered")
        .order_by(TaskRow.answered_at.desc())
    )
    if task is None:
        raise HTTPException(409, detail="案件尚未答复，不能回访")
    now = clock.now()
    task.state = "signed" if verdict is Verdict.UNSATISFIED else "closed"
    task.updated_at = now
    await record(session, clock, acted(case, task, "visited", principal, now, note=note, verdict=verdict))
    return task, case


async def record_review(
    session: AsyncSession, case_id: str, *, stage: str, action: str, note: str, principal: Principal, clock: Clock
) -> str:
    """信访 复查/复核: the petitioner's request or the organ's opinion, on the case's 主办 task, within
    the escalation service's clocks; returns the event kind (409 with the reason when not allowed)."""
    case = await get_or_404(session, CaseRow, case_id)
    if case.channel != "petition":
        raise HTTPException(409, detail=f"只有信访事项可以{REVIEW_STAGES[stage][0]}")
    rows = (await session.execute(select(DeadlineRow).where(DeadlineRow.case_id == case.id))).scalars()
    clocks = {row.name: (row.state, row.due_at, row.label) for row in rows}
    task = await session.scalar(
        select(TaskRow)
        .where(TaskRow.case_id == case.id, TaskRow.role == "lead")
        .order_by(TaskRow.assigned_at.desc())
        .limit(1)
    )
    now = clock.now()
    try:
        kind = check_review(stage, action, clocks, now)
        if task is None:
            raise WorkflowError("该信访事项尚未交办，不能登记")
    except WorkflowError as exc:
        raise HTTPException(409, detail=str(exc)) from None
    await record(session, clock, acted(case, task, kind, principal, now, note=note))
    return kind
