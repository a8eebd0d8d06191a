"""Case events → the `case_events` log and the current state columns of `cases`.

The log is keyed by event id, so a redelivered event is stored once. State only moves forward (a late
`classified` never turns a routed case back), so events may arrive in any order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hotline.services.feed import case_updates
from hotline.services.feed.case_updates import CaseUpdate
from hotline.shared.catalogue import current
from hotline.shared.db import CaseEventRow, JsonText, TaskRow, insert_ignoring_duplicates, lock_case_rows
from hotline.shared.decisions import routed_by_person
from hotline.shared.dispatch_rollups import moves_first_routing
from hotline.shared.dispatch_rollups import refresh as refresh_dispatch_rollups
from hotline.shared.events import (
    CaseActed,
    CaseClassified,
    CaseEscalated,
    CaseEvent,
    CaseRouted,
    DecidedBy,
    EscalationStep,
    Verdict,
    derived_event_id,
)
from hotline.shared.rollups import refresh as refresh_rollups

ACTED_STATUS = {
    "signed": "signed",
    "answered": "answered",
    "returned": "returned",
    "paused": "paused",
    "resumed": "signed",
    "closed": "closed",
}


MANUAL_SORTING = "人工分拣"


def status_after(event: CaseEvent) -> str | None:
    kind = getattr(event, "kind", "")
    if kind in ("classified", "routed", "tracked"):
        return str(kind)
    if isinstance(event, CaseEscalated) and event.step is EscalationStep.OVERDUE:
        return "overdue"
    return None


def state_changes(event: CaseEvent) -> dict[str, Any]:
    if isinstance(event, CaseClassified):
        changes: dict[str, Any] = {
            "topic": event.topic,
            "subtopic": event.subtopic,
            "severity": event.severity.value,
            "needs_review": event.needs_review,
        }
        if event.township:  # the operator's township, or the one found in the text
            changes["township"] = event.township
        if event.urgent:  # never cleared: a later manual classification does not undo a 紧急诉求
            changes.update(
                urgent=True,
                urgent_reasons=list(event.urgent_reasons),
                urgent_lines=[line.value for line in event.urgent_lines],
            )
        return changes
    if isinstance(event, CaseRouted):
        # The router, not the model, decides whether a person sorts the case (人工分拣 queue).
        return {
            "unit_code": event.unit_code,
            "unit_name": event.unit_name,
            "topic": event.topic,
            "needs_review": event.topic == MANUAL_SORTING,
        }
    if isinstance(event, CaseActed):
        return acted_changes(event)
    return {}


def acted_changes(event: CaseActed) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if event.kind in ACTED_STATUS:
        changes["status"] = ACTED_STATUS[event.kind]
    if event.kind == "answered":
        changes.update(answered_at=event.occurred_at, public_answer=event.note)
    if event.kind == "visited":
        changes["verdict"] = event.verdict.value if event.verdict else None
        if event.verdict is Verdict.UNSATISFIED:  # 发回重办: open again, to be answered anew
            changes.update(status="signed", answered_at=None)
        else:
            changes["status"] = "closed"
    return changes


def task_rows(event: CaseRouted, now: datetime, names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The 主办 unit's task and one task per 协办 unit, each in its own unit's inbox."""
    lead = {
        "id": derived_event_id(event.event_id, "task"),
        "case_id": event.case_id,
        "unit_code": event.unit_code,
        "unit_name": event.unit_name,
        "co_units": list(event.co_units),
        "role": "lead",
        "state": "pending",
        "assigned_at": event.occurred_at,
        "attachments": [],
        "source_event_id": event.event_id,
        "updated_at": now,
    }
    co = [
        {
            **lead,
            "id": derived_event_id(event.event_id, f"co-task:{code}"),
            "unit_code": code,
            "unit_name": (names or {}).get(code, code),
            "co_units": [],
            "role": "co",
            "source_event_id": derived_event_id(event.event_id, f"co-task:{code}"),
        }
        for code in event.co_units
        if code != event.unit_code
    ]
    return [lead, *co]


OPEN_TASK_STATES = ("pending", "signed", "paused")


def superseded_routings(events: Sequence[CaseEvent], person_routed: set[Any]) -> set[Any]:
    """Automatic routings that lose to a person's: a case a person routed (before, or in the same
    batch) keeps that person's unit, whatever the table says later."""
    by_person = set(person_routed) | {
        e.case_id for e in events if isinstance(e, CaseRouted) and e.decided_by is DecidedBy.PERSON
    }
    return {
        e.event_id
        for e in events
        if isinstance(e, CaseRouted) and e.decided_by is DecidedBy.SYSTEM and e.case_id in by_person
    }


async def _keep_latest_tasks(session: AsyncSession, case_ids: set[Any], now: datetime) -> None:
    """One routing in force per case: open tasks of an earlier routing are 已改派 (events may arrive
    in any order, so the latest assignment wins, not the last one projected). One statement for the
    whole batch: each task is compared with its own case's latest assignment."""
    latest = aliased(TaskRow)
    newest_assignment = select(func.max(latest.assigned_at)).where(latest.case_id == TaskRow.case_id).scalar_subquery()
    await session.execute(
        update(TaskRow)
        .where(
            TaskRow.case_id.in_(list(case_ids)),
            TaskRow.state.in_(OPEN_TASK_STATES),
            TaskRow.assigned_at < newest_assignment,
        )
        .values(state="reassigned", updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def project(session: AsyncSession, events: Sequence[CaseEvent], *, now: datetime) -> None:
    rows = [
        {
            "event_id": event.event_id,
            "case_id": event.case_id,
            "kind": getattr(event, "kind", "unknown"),
            "occurred_at": event.occurred_at,
            "recorded_at": now,
            "payload": JsonText(event.model_dump_json()),
        }
        for event in events
    ]
    await session.execute(insert_ignoring_duplicates(session, CaseEventRow), rows)
    # Before any case row is written: the escalation service (and another feed replica) lock the same
    # rows in the same order.
    await lock_case_rows(session, (event.case_id for event in events))
    routings = [event for event in events if isinstance(event, CaseRouted)]
    ignored: set[Any] = set()
    if routings:
        automatic = [e.case_id for e in routings if e.decided_by is DecidedBy.SYSTEM]
        ignored = superseded_routings(events, await routed_by_person(session, automatic))
        # Names only for 协办 tasks (the lead's name is in its event); most routings have none, and a
        # statement fewer is a turn at SQLite's write lock shorter.
        names = {}
        if any(e.co_units for e in routings if e.event_id not in ignored):
            names = {code: unit.name for code, unit in (await current(session)).county.units.items()}
        tasks = [row for event in routings if event.event_id not in ignored for row in task_rows(event, now, names)]
        if tasks:
            await session.execute(insert_ignoring_duplicates(session, TaskRow), tasks)
            await _keep_latest_tasks(session, {t["case_id"] for t in tasks}, now)
    updates = [case_update(event) for event in events if event.event_id not in ignored]
    await case_updates.apply(session, [u for u in updates if u.changes_anything], now=now)
    # The statistics' rollups move with the projection, in its transaction (shared/rollups.py); then
    # the 派单准确率's, for the cases whose 主办 tasks may have changed (shared/dispatch_rollups.py).
    # In this order: the first locks the cases' rows on PostgreSQL, which the second relies on.
    await refresh_rollups(session, {event.case_id for event in events})
    await refresh_dispatch_rollups(session, {event.case_id for event in events if moves_first_routing(event)})


def case_update(event: CaseEvent) -> CaseUpdate:
    """What `event` changes on its case row (nothing, for a `received` event)."""
    return CaseUpdate(
        case_id=event.case_id,
        values=state_changes(event),
        status=status_after(event),
        says_urgent=isinstance(event, CaseRouted) and event.urgent,
    )
