"""The reconciler: no half-made case stays half-made.

Delivery is at-least-once and consumers retry transient failures forever, but a message can still be
parked (dead-lettered) or its effect missed, leaving a case `received` and never classified, or
`tracked` with running clocks but no topic, unit or task. Every `interval` the reconciler looks for
cases that have not moved for a grace period in such a state and re-drives them: it publishes the
case's stored `received` event again (from the outbox, else from the event log) under its own event
id. Every stage derives its output ids from its input's, so the pipeline re-runs idempotently and
only fills in what is missing. What it did is logged and counted (`GET /api/v1/health`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.shared import subjects
from hotline.shared.clock import Clock
from hotline.shared.db import CaseEventRow, CaseRow, OutboxRow, TaskRow
from hotline.shared.tasks import stop_task

log = logging.getLogger(__name__)

# Statuses the automatic pipeline passes through, and those after tracking that still need a unit.
TRACKED_STATUSES = ("tracked", "overdue")
BATCH = 100
MAX_REDRIVES = 5  # then the case is reported (and left to a person) instead of re-driven again


@dataclass(frozen=True, slots=True)
class CaseProgress:
    case_id: uuid.UUID
    status: str
    updated_at: datetime
    topic: str | None
    unit_code: str | None
    has_task: bool
    received_pending: bool = False  # its received event is still waiting in the outbox


def stuck_reason(case: CaseProgress, *, now: datetime, grace: timedelta) -> str | None:
    """Why this case is stuck half-way, or None: it has not moved for `grace` and is
    - `received` (never classified; unless the outbox has not even published it yet),
    - `routed` (never tracked), or
    - tracked with clocks running but no topic, unit or task."""
    if now - case.updated_at < grace:
        return None
    if case.status == "received":
        return None if case.received_pending else "未分类"
    if case.status == "routed":
        return "未启动时限"
    if case.status in TRACKED_STATUSES:
        missing = [name for name, present in (("类别", case.topic), ("承办单位", case.unit_code)) if not present]
        if not case.has_task:
            missing.append("任务")
        return "已跟踪但缺少" + "、".join(missing) if missing else None
    return None


def due_for_redrive(attempts: int, last_at: datetime | None, *, now: datetime, grace: timedelta) -> bool:
    """At most MAX_REDRIVES times per case, a grace period apart (the last one had time to work)."""
    return attempts < MAX_REDRIVES and (last_at is None or now - last_at >= grace)


# (subject, payload, message id) → published and acknowledged by JetStream, or raises.
Publish = Callable[[str, bytes, str], Awaitable[Any]]


@dataclass
class ReconcileStats:
    passes: int = 0
    redriven: int = 0
    gave_up: int = 0
    missing_event: int = 0
    stuck_now: int = 0
    last_pass_at: str | None = None
    last_error: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)


class Reconciler:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        publish: Publish,
        clock: Clock,
        grace: timedelta,
        interval_s: float,
    ) -> None:
        self.sessions = sessions
        self.publish = publish
        self.clock = clock
        self.grace = grace
        self.interval_s = interval_s
        self.stats = ReconcileStats()
        self._redrives: dict[uuid.UUID, tuple[int, datetime]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="reconciler")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
            self._task = None

    def report(self) -> dict[str, Any]:
        """For the health endpoint: a failing pass is reported, never a reason to be 'down'."""
        s = self.stats
        return {
            "ok": True,
            "passes": s.passes,
            "redriven": s.redriven,
            "stuck_now": s.stuck_now,
            "gave_up": s.gave_up,
            "missing_event": s.missing_event,
            "reasons": dict(s.reasons),
            "last_pass_at": s.last_pass_at,
            "last_error": s.last_error,
            "grace_s": self.grace.total_seconds(),
        }

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.run_once()
                self.stats.last_error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database or NATS is down: the next pass tries again
                self.stats.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
                log.warning(
                    "reconciler: pass failed (%s); trying again in %.0f s", self.stats.last_error, self.interval_s
                )

    async def run_once(self) -> int:
        """One pass: find stuck cases and re-drive those due; returns how many were re-driven."""
        now = self.clock.now()
        async with self.sessions() as session:
            candidates = await self._candidates(session, now - self.grace)
            stuck = [(c, reason) for c in candidates if (reason := stuck_reason(c, now=now, grace=self.grace))]
            events = await self._received_events(session, [c.case_id for c, _ in stuck])
        self.stats.passes += 1
        self.stats.stuck_now = len(stuck)
        self.stats.last_pass_at = now.isoformat()
        redriven = 0
        for case, reason in stuck:
            attempts, last_at = self._redrives.get(case.case_id, (0, None))
            if not due_for_redrive(attempts, last_at, now=now, grace=self.grace):
                if attempts == MAX_REDRIVES:
                    self.stats.gave_up += 1
                    self._redrives[case.case_id] = (attempts + 1, now)  # counted once
                    log.error(
                        "reconciler: case %s still %s after %d re-drives; needs a person",
                        case.case_id,
                        reason,
                        attempts,
                    )
                continue
            event = events.get(case.case_id)
            if event is None:
                self.stats.missing_event += 1
                log.error("reconciler: case %s is %s but its received event is nowhere stored", case.case_id, reason)
                self._redrives[case.case_id] = (MAX_REDRIVES + 1, now)
                continue
            message_id, payload = event
            await self.publish(subjects.CASE_RECEIVED, payload.encode(), message_id)
            self._redrives[case.case_id] = (attempts + 1, now)
            self.stats.redriven += 1
            self.stats.reasons[reason] = self.stats.reasons.get(reason, 0) + 1
            redriven += 1
            log.warning(
                "reconciler: case %s was %s; re-published its received event (%d)", case.case_id, reason, attempts + 1
            )
        # Forget cases that are no longer stuck.
        still = {c.case_id for c, _ in stuck}
        self._redrives = {k: v for k, v in self._redrives.items() if k in still}
        return redriven

    async def _candidates(self, session: AsyncSession, cutoff: datetime) -> list[CaseProgress]:
        has_task = exists().where(TaskRow.case_id == CaseRow.id)
        pending = exists().where(
            OutboxRow.case_id == CaseRow.id,
            OutboxRow.subject == subjects.CASE_RECEIVED,
            OutboxRow.published_at.is_(None),
        )
        rows = (
            await session.execute(
                select(
                    CaseRow.id,
                    CaseRow.status,
                    CaseRow.updated_at,
                    CaseRow.topic,
                    CaseRow.unit_code,
                    has_task.label("has_task"),
                    pending.label("pending"),
                )
                .where(
                    CaseRow.updated_at <= cutoff,
                    or_(
                        CaseRow.status.in_(("received", "routed")),
                        CaseRow.status.in_(TRACKED_STATUSES)
                        & or_(CaseRow.topic.is_(None), CaseRow.unit_code.is_(None), ~has_task),
                    ),
                )
                .order_by(CaseRow.updated_at)
                .limit(BATCH)
            )
        ).all()
        return [
            CaseProgress(
                case_id=r.id,
                status=r.status,
                updated_at=r.updated_at,
                topic=r.topic,
                unit_code=r.unit_code,
                has_task=bool(r.has_task),
                received_pending=bool(r.pending),
            )
            for r in rows
        ]

    async def _received_events(
        self, session: AsyncSession, case_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[str, str]]:
        """(message id, payload) of each case's received event: the outbox (kept a week), else the
        event log."""
        if not case_ids:
            return {}
        found: dict[uuid.UUID, tuple[str, str]] = {}
        for row in await session.execute(
            select(OutboxRow.case_id, OutboxRow.message_id, OutboxRow.payload).where(
                OutboxRow.case_id.in_(case_ids), OutboxRow.subject == subjects.CASE_RECEIVED
            )
        ):
            if row.case_id is not None:
                found[row.case_id] = (row.message_id, row.payload)
        missing = [c for c in case_ids if c not in found]
        if missing:
            for row in await session.execute(
                select(CaseEventRow.case_id, CaseEventRow.event_id, CaseEventRow.payload).where(
                    CaseEventRow.case_id.in_(missing), CaseEventRow.kind == "received"
                )
            ):
                found[row.case_id] = (str(row.event_id), json.dumps(row.payload, ensure_ascii=False))
        return found
