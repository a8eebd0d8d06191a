"""Database side of the escalation service: start clocks for routed cases, move them with people's
steps (签收, 答复, 挂起, 延期, 回访) and take ladder steps when they fall due."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.services.escalation.policies import ClockPolicy, Policies, due_at, extended_due_at, load_policies
from hotline.services.escalation.rules import (
    REVIEW_CLOCKS,
    clocks_met_by,
    escalates,
    next_step_at,
    review_step,
    steps_due,
)
from hotline.shared import answer_due, subjects
from hotline.shared.clock import Clock
from hotline.shared.db import PROVISIONAL_OPEN, CaseTroubleRow, DeadlineRow, insert_ignoring_duplicates
from hotline.shared.decisions import routed_by_person
from hotline.shared.domain.calendar import (
    CalendarGapError,
    WorkCalendar,
    default_calendar,
    firm_or_provisional,
    gap_message,
)
from hotline.shared.events import (
    CaseActed,
    CaseAlert,
    CaseEscalated,
    CaseEvent,
    CaseRouted,
    CaseTracked,
    CaseUrgent,
    Channel,
    DeadlineInfo,
    DecidedBy,
    EscalationStep,
    Verdict,
    derived_event_id,
)
from hotline.shared.outbox import enqueue

OUTBOX_SOURCE = "escalation"
# People's steps that move a due moment: 恢复办理 (by the pause), an approved extension, 不满意 at 回访.
MOVES_DUE = frozenset({"resumed", "extension_decided", "visited"})
_STEP_NAMESPACE = uuid.UUID("0b8f5a52-2f5e-4c1d-8d0e-5d3e3c6a9b21")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClockRules:
    policies: Policies
    calendar: WorkCalendar


def load_clock_rules() -> ClockRules:
    return ClockRules(policies=load_policies(), calendar=default_calendar())


# A clock as the columns of its `deadlines` row: inserted as they are (an ORM object per clock, only to
# be read back into such a dict, was 8 % of the escalation service's samples at 100 calls/s).
ClockColumns = dict[str, Any]


def clocks_for_case(
    case: CaseRouted, *, clock: Clock, rules: ClockRules
) -> tuple[CaseTracked, list[ClockColumns], list[CaseAlert]]:
    """The case's clocks; a clock that needs calendar data nobody has entered yet raises an alert
    instead of being guessed."""
    rows: list[ClockColumns] = []
    alerts: list[CaseAlert] = []
    now = clock.now()
    # A clock entry's `categories` are topics (一级分类): a county may give e.g. 劳动和社会保障 its own time.
    for policy in rules.policies.clocks_for(
        channel=case.channel.value, severity=case.severity.value, category=case.topic, urgent=case.urgent
    ):
        due, gap = firm_or_provisional(partial(due_at, policy, case.received_at), rules.calendar)
        if gap is not None:
            alerts.append(
                CaseAlert(
                    event_id=derived_event_id(case.event_id, f"calendar-gap:{policy.name}"),
                    case_id=case.case_id,
                    occurred_at=now,
                    channel=case.channel,
                    received_at=case.received_at,
                    code="calendar_provisional",
                    message=f"「{policy.label}」的截止时间为暂定：{gap_message(gap)}",
                )
            )
        rows.append(
            {
                "case_id": case.case_id,
                "name": policy.name,
                "label": policy.label,
                "unit_of_time": policy.unit,
                "source": policy.source,
                "channel": case.channel.value,
                "unit_code": case.unit_code,
                "received_at": case.received_at,
                "starts_at": case.received_at,
                "due_at": due,
                "provisional": gap is not None,
                "extensions": 0,
                "state": "open",
                "step": 0,
                "next_step_at": next_step_at(case.received_at, due, 0),
                "paused_at": None,
                "paused_seconds": 0,
                "extended_by": None,
                "source_event_id": case.event_id,
            }
        )
    rows.extend(co_clocks(case, rows))
    tracked = CaseTracked(
        event_id=derived_event_id(case.event_id, "tracked"),
        case_id=case.case_id,
        occurred_at=now,
        channel=case.channel,
        received_at=case.received_at,
        unit_code=case.unit_code,
        deadlines=[
            DeadlineInfo(
                name=r["name"],
                label=r["label"],
                starts_at=r["starts_at"],
                due_at=r["due_at"],
                provisional=r["provisional"],
            )
            for r in rows
        ],
    )
    return tracked, rows, alerts


def urgent_notices(case: CaseRouted, tracked: CaseTracked) -> list[tuple[str, CaseEvent]]:
    """A routed 紧急诉求, told at once: on the feed, to leadership and to the unit.

    Published with the case's clocks (the unit and the 10-minute 签收 due time are known only once it is
    routed and tracked, ~30 ms after saving at idle). The ids derive from the case, not the routing,
    so a redelivery or a re-dispatch never tells anyone twice.
    """
    if not case.urgent:
        return []
    due = {d.name: d.due_at for d in tracked.deadlines}
    notice = CaseUrgent(
        event_id=derived_event_id(case.case_id, "urgent"),
        case_id=case.case_id,
        occurred_at=tracked.occurred_at,
        channel=case.channel,
        received_at=case.received_at,
        unit_code=case.unit_code,
        unit_name=case.unit_name,
        topic=case.topic,
        severity=case.severity,
        urgent_lines=list(case.urgent_lines),
        sign_due_at=due.get("sign"),
        respond_due_at=due.get("respond"),
    )
    return [
        (subjects.CASE_URGENT, notice),
        (
            subjects.NOTIFY_URGENT,
            notice.model_copy(update={"event_id": derived_event_id(case.case_id, "notify-urgent")}),
        ),
        (
            subjects.notify_unit_subject(case.unit_code),
            notice.model_copy(update={"event_id": derived_event_id(case.case_id, "notify-urgent-unit")}),
        ),
    ]


async def _is_redispatch(session: AsyncSession, case: CaseRouted) -> bool:
    """Not the routing that started the clocks (a redelivered first routing tells nobody again)."""
    started_by = await session.scalar(
        select(DeadlineRow.source_event_id).where(DeadlineRow.case_id == case.case_id).limit(1)
    )
    return started_by is not None and started_by != case.event_id


def urgent_redispatch_notice(case: CaseRouted, tracked: CaseTracked) -> list[tuple[str, CaseEvent]]:
    """A 紧急诉求 passed to another unit: the new unit is told at once too (once per routing)."""
    notices = urgent_notices(case, tracked)
    if not notices:
        return []
    subject, notice = notices[-1]  # the unit's copy
    return [(subject, notice.model_copy(update={"event_id": derived_event_id(case.event_id, "notify-urgent-unit")}))]


CO_CLOCK_MARK = "@"
# The clock a 协办 unit gets its own copy of: its opinion is due when the 主办 unit's answer is.
CO_CLOCK_SOURCES = ("respond", "finish")


def co_clock_name(name: str, unit_code: str) -> str:
    return f"{name}{CO_CLOCK_MARK}{unit_code}"


def co_clocks(case: CaseRouted, lead_rows: Sequence[ClockColumns]) -> list[ClockColumns]:
    """One clock per 协办 unit, a copy of the case's response clock under that unit's code, so the
    ladder reminds and urges the 协办 unit itself."""
    by_name = {row["name"]: row for row in lead_rows}
    source = next((by_name[n] for n in CO_CLOCK_SOURCES if n in by_name), None)
    if source is None:
        return []
    return [
        {**source, "name": co_clock_name(source["name"], code), "unit_code": code, "label": f"协办：{source['label']}"}
        for code in dict.fromkeys(case.co_units)
        if code != case.unit_code
    ]


TROUBLE_LIMIT = 3  # returns + redos, or units the case went through


async def count_trouble(session: AsyncSession, event: CaseEvent, *, clock: Clock) -> list[tuple[str, CaseEvent]]:
    """Count a bounce; the third makes the case a 问题工单 (once), escalated to leadership."""
    row = await session.get(CaseTroubleRow, event.case_id)
    if row is None:
        row = CaseTroubleRow(case_id=event.case_id, returns=0, redos=0, units=[], seen_events=[], flagged_at=None)
        session.add(row)
    if str(event.event_id) in row.seen_events:
        return []
    row.seen_events = [*row.seen_events, str(event.event_id)]
    unit_code = getattr(event, "unit_code", "")
    if isinstance(event, CaseRouted) and event.unit_code not in row.units:
        row.units = [*row.units, event.unit_code]
    elif isinstance(event, CaseActed) and event.kind == "returned":
        row.returns += 1
    elif isinstance(event, CaseActed) and event.kind == "visited" and event.verdict is Verdict.UNSATISFIED:
        row.redos += 1
    if row.flagged_at is not None or (row.returns + row.redos < TROUBLE_LIMIT and len(row.units) < TROUBLE_LIMIT):
        return []
    row.flagged_at = clock.now()
    problem = CaseEscalated(
        event_id=derived_event_id(event.case_id, "problem-ticket"),
        case_id=event.case_id,
        occurred_at=clock.now(),
        channel=event.channel,
        received_at=event.received_at,
        unit_code=unit_code,
        deadline="case",
        step=EscalationStep.PROBLEM,
        due_at=clock.now(),
        notify=f"县领导提级督办（退回{row.returns}次、重办{row.redos}次、经手{len(row.units)}个单位）",
    )
    return [(subjects.CASE_ESCALATED, problem), *notifications(problem)]


# Built once: asked for every batch of routed cases.
_CLOCKED = select(DeadlineRow.case_id).where(DeadlineRow.case_id.in_(bindparam("ids", expanding=True))).distinct()


async def start_clocks(session: AsyncSession, cases: Sequence[CaseRouted], *, clock: Clock, rules: ClockRules) -> None:
    """Insert each case's clocks and its `tracked` event; a redelivered case changes nothing, and a
    re-dispatched case keeps its clocks (the citizen's deadline does not restart) under its new unit."""
    events: list[tuple[str, CaseEvent]] = []
    rows: list[dict[str, object]] = []
    # A person's routing replaces the table's: a late automatic one must not move the clocks.
    by_person = await routed_by_person(session, (c.case_id for c in cases if c.decided_by is DecidedBy.SYSTEM))
    cases = [c for c in cases if c.decided_by is DecidedBy.PERSON or c.case_id not in by_person]
    # Most routed events are a case's first; only a re-dispatch needs the per-case work below.
    known = set((await session.execute(_CLOCKED, {"ids": [c.case_id for c in cases]})).scalars())
    first_routings = []
    for case in cases:
        tracked, deadline_rows, alerts = clocks_for_case(case, clock=clock, rules=rules)
        events.append((subjects.CASE_TRACKED, tracked))
        events.extend((subjects.CASE_ALERT, alert) for alert in alerts)
        rows.extend(deadline_rows)
        if case.case_id in known:
            await session.execute(
                update(DeadlineRow)
                .where(
                    DeadlineRow.case_id == case.case_id,
                    DeadlineRow.state.in_(("open", "overdue")),
                    ~DeadlineRow.name.contains(CO_CLOCK_MARK),
                )
                .values(unit_code=case.unit_code)
                .execution_options(synchronize_session=False)
            )
            # 协办 units the new routing no longer names are released from their clocks.
            kept = [co_clock_name(n, code) for code in case.co_units for n in CO_CLOCK_SOURCES]
            await session.execute(
                update(DeadlineRow)
                .where(
                    DeadlineRow.case_id == case.case_id,
                    DeadlineRow.name.contains(CO_CLOCK_MARK),
                    DeadlineRow.name.not_in(kept),
                    DeadlineRow.state.in_(("open", "overdue")),
                )
                .values(state="cancelled", next_step_at=None)
                .execution_options(synchronize_session=False)
            )
            events.extend(await count_trouble(session, case, clock=clock))
            if case.urgent and await _is_redispatch(session, case):
                events.extend(urgent_redispatch_notice(case, tracked))
        else:
            events.extend(urgent_notices(case, tracked))
            first_routings.append(
                {
                    "case_id": case.case_id,
                    "returns": 0,
                    "redos": 0,
                    "units": [case.unit_code],
                    "seen_events": [str(case.event_id)],
                    "flagged_at": None,
                }
            )
    if rows:
        await session.execute(insert_ignoring_duplicates(session, DeadlineRow), rows)
    if first_routings:
        await session.execute(insert_ignoring_duplicates(session, CaseTroubleRow), first_routings)
    await answer_due.refresh(session, (case.case_id for case in cases))
    await enqueue(session, source=OUTBOX_SOURCE, events=events, clock=clock)


def escalation_event_id(case_id: uuid.UUID, deadline: str, step_index: int, due: datetime) -> uuid.UUID:
    # The due time is part of the id: a clock restarted by 发回重办 climbs its ladder again.
    return uuid.uuid5(_STEP_NAMESPACE, f"{case_id}:{deadline}:{step_index}:{due.isoformat()}")


def due_clocks(now: datetime, limit: int) -> Select[DeadlineRow]:
    """The clocks whose next ladder step has fallen due, earliest first: a range of the `next_step_at`
    index (NULL once a clock is met, overdue or cancelled, so finished clocks are not in the range)."""
    return (
        select(DeadlineRow)
        .where(DeadlineRow.next_step_at <= now, DeadlineRow.state == "open", DeadlineRow.paused_at.is_(None))
        .order_by(DeadlineRow.next_step_at)
        .limit(limit)
    )


async def anything_due(session: AsyncSession, *, clock: Clock) -> bool:
    """Whether any ladder step has fallen due: asked on a read-only session first, so a scan that finds
    nothing (nearly every scan, twice a second) takes no turn at SQLite's one write lock."""
    return (await session.execute(due_clocks(clock.now(), 1))).first() is not None


async def take_due_steps(session: AsyncSession, *, clock: Clock, limit: int = 500) -> int:
    """Take every ladder step that has fallen due; returns how many escalations were emitted.

    The scan reads only what is due (indexed `next_step_at`), and the update is compare-and-set on the
    step counter, so two scanners (or a scan racing a restart) never emit the same step twice.
    """
    now = clock.now()
    due = (await session.execute(due_clocks(now, limit))).scalars().all()
    events: list[tuple[str, CaseEvent]] = []
    for row in due:
        steps = steps_due(starts_at=row.starts_at, due_at=row.due_at, taken=row.step, now=now)
        if not steps:
            continue
        last_index = steps[-1][0]
        overdue = steps[-1][1].step is EscalationStep.OVERDUE
        claimed = await session.execute(
            update(DeadlineRow)
            .where(DeadlineRow.case_id == row.case_id, DeadlineRow.name == row.name, DeadlineRow.step == row.step)
            .values(
                step=last_index + 1,
                next_step_at=next_step_at(row.starts_at, row.due_at, last_index + 1),
                state="overdue" if overdue else "open",
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        escalated = [
            CaseEscalated(
                event_id=escalation_event_id(row.case_id, row.name, index, row.due_at),
                case_id=row.case_id,
                occurred_at=now,
                channel=Channel(row.channel),
                received_at=row.received_at,
                unit_code=row.unit_code,
                deadline=row.name,
                step=step.step,
                due_at=row.due_at,
                notify=step.notify,
            )
            for index, step in steps
        ]
        for event in escalated:
            events.append((subjects.CASE_ESCALATED, event))
            events.extend(notifications(event))
    await enqueue(session, source=OUTBOX_SOURCE, events=events, clock=clock)
    return sum(subject == subjects.CASE_ESCALATED for subject, _ in events)


def notifications(event: CaseEscalated) -> list[tuple[str, CaseEvent]]:
    """The same step, addressed: every step to the unit, 超期 also to leadership for 督办."""
    addressed: list[tuple[str, CaseEvent]] = [
        (
            subjects.notify_unit_subject(event.unit_code),
            event.model_copy(update={"event_id": derived_event_id(event.event_id, "notify-unit")}),
        )
    ]
    if event.step is EscalationStep.OVERDUE:
        leadership = event.model_copy(update={"event_id": derived_event_id(event.event_id, "notify-leadership")})
        addressed.append((subjects.NOTIFY_LEADERSHIP, leadership))
    return addressed


async def apply_workflow(
    session: AsyncSession, events: Sequence[CaseEvent], *, rules: ClockRules, clock: Clock
) -> None:
    """People's steps that move clocks: answers meet them, 挂起 stops them, an approved extension
    moves them, and 不满意 at 回访 restarts the response clock. Returns and redos count towards a 问题工单."""
    escalations: list[tuple[str, CaseEvent]] = []
    for event in events:
        if isinstance(event, CaseActed):
            await _apply_step(session, event, rules)
            await _review_clocks(session, event, rules)
            if event.kind in ("returned", "visited"):
                escalations.extend(await count_trouble(session, event, clock=clock))
    await answer_due.refresh(session, (e.case_id for e in events if isinstance(e, CaseActed) and e.kind in MOVES_DUE))
    await enqueue(session, source=OUTBOX_SOURCE, events=escalations, clock=clock)


async def _review_clocks(session: AsyncSession, event: CaseActed, rules: ClockRules) -> None:
    """信访 复查/复核: a written reply opens the 复查 window, a request starts the 复查 clock, and so on."""
    meets, starts = review_step(event.kind, event.channel)
    if meets is not None:
        row = await session.get(DeadlineRow, (event.case_id, meets))
        if row is not None and row.state in ("open", "overdue"):
            row.state, row.next_step_at = "met", None
    if starts is None:
        return
    policy = rules.policies.clock(channel=event.channel.value, name=starts)
    due, gap = firm_or_provisional(partial(due_at, policy, event.occurred_at), rules.calendar)
    row = await session.get(DeadlineRow, (event.case_id, starts))
    if row is not None and row.source_event_id == event.event_id:
        return  # redelivered
    if row is None:
        row = DeadlineRow(case_id=event.case_id, name=starts, received_at=event.received_at, paused_seconds=0)
        session.add(row)
    row.label, row.unit_of_time, row.source = policy.label, policy.unit, policy.source
    row.channel, row.unit_code, row.source_event_id = event.channel.value, event.unit_code, event.event_id
    row.starts_at, row.due_at, row.provisional = event.occurred_at, due, gap is not None
    row.state, row.step, row.paused_at, row.extended_by, row.extensions = "open", 0, None, None, 0
    row.next_step_at = next_step_at(event.occurred_at, due, 0) if escalates(starts) else None


async def _apply_step(session: AsyncSession, event: CaseActed, rules: ClockRules) -> None:
    own_co_clocks = DeadlineRow.name.in_([co_clock_name(n, event.unit_code) for n in CO_CLOCK_SOURCES])
    lead_unit = await session.scalar(
        select(DeadlineRow.unit_code)
        .where(DeadlineRow.case_id == event.case_id, ~DeadlineRow.name.contains(CO_CLOCK_MARK))
        .limit(1)
    )
    if event.unit_code != lead_unit:
        # A 协办 unit's step: its opinion meets its own clock; the case's clocks are the 主办 unit's.
        if event.kind in ("answered", "closed"):
            await session.execute(
                update(DeadlineRow)
                .where(DeadlineRow.case_id == event.case_id, own_co_clocks, DeadlineRow.state.in_(("open", "overdue")))
                .values(state="met", next_step_at=None)
                .execution_options(synchronize_session=False)
            )
        return
    # 复查/复核 clocks follow their own steps (see _review_clocks): 办结 does not close the petitioner's window.
    every_clock = (DeadlineRow.case_id == event.case_id) & ~DeadlineRow.name.in_(REVIEW_CLOCKS)
    case_clocks = every_clock & ~DeadlineRow.name.contains(CO_CLOCK_MARK)
    met = clocks_met_by(event.kind, event.channel, event.verdict)
    if met is None or met:
        # A step that settles the whole case (办结, a satisfied 回访) settles the 协办 clocks too.
        condition = (every_clock if met is None else case_clocks) & DeadlineRow.state.in_(("open", "overdue"))
        if met is not None:
            condition = condition & DeadlineRow.name.in_(met)
        await session.execute(
            update(DeadlineRow)
            .where(condition)
            .values(state="met", next_step_at=None)
            .execution_options(synchronize_session=False)
        )
    if event.kind == "paused":
        await session.execute(
            update(DeadlineRow)
            .where(case_clocks, DeadlineRow.state == "open", DeadlineRow.paused_at.is_(None))
            .values(paused_at=event.occurred_at)
            .execution_options(synchronize_session=False)
        )
    elif event.kind == "resumed":
        for row in (
            await session.execute(select(DeadlineRow).where(case_clocks, DeadlineRow.paused_at.is_not(None)))
        ).scalars():
            paused = event.occurred_at - row.paused_at if row.paused_at else None
            if paused is None:
                continue
            row.starts_at += paused
            row.due_at += paused
            row.paused_seconds += int(paused.total_seconds())
            row.paused_at = None
            row.next_step_at = next_step_at(row.starts_at, row.due_at, row.step)
    elif event.kind == "extension_decided" and event.approved and event.extension_days:
        await _extend(session, event, rules)
    elif event.kind == "visited" and event.verdict is Verdict.UNSATISFIED:
        respond = await session.get(DeadlineRow, (event.case_id, "respond"))
        if respond is not None:
            policy = rules.policies.clock(channel=respond.channel, name="respond")
            respond.starts_at = event.occurred_at
            respond.due_at, gap = firm_or_provisional(partial(due_at, policy, event.occurred_at), rules.calendar)
            respond.provisional = gap is not None
            respond.state, respond.step = "open", 0
            respond.next_step_at = next_step_at(respond.starts_at, respond.due_at, 0)


async def _extend(session: AsyncSession, event: CaseActed, rules: ClockRules) -> None:
    """An approved extension moves the finishing clock (or the response clock where there is none), as
    many times as the clock's policy allows (`times`)."""
    rows = {
        row.name: row
        for row in (await session.execute(select(DeadlineRow).where(DeadlineRow.case_id == event.case_id))).scalars()
    }
    row = rows.get("finish") or rows.get("respond")
    if row is None:
        return
    policy = rules.policies.clock(channel=row.channel, name=row.name)
    if not extension_allowed(policy, row.extensions or 0):
        log.warning("extension of %s/%s not applied: no extension left under the policy", event.case_id, row.name)
        return
    amount = event.extension_days
    try:
        new_due, gap = firm_or_provisional(partial(extended_due_at, policy, row.due_at, amount=amount), rules.calendar)
    except ValueError as exc:
        log.warning("extension of %s/%s not applied: %s", event.case_id, row.name, exc)
        return
    row.due_at = new_due
    row.provisional = bool(row.provisional) or gap is not None
    row.extensions = (row.extensions or 0) + 1
    row.extended_by = f"{event.extension_days}{policy.extension.unit if policy.extension else 'days'}"
    if row.state == "overdue":
        row.state = "open"
    row.next_step_at = next_step_at(row.starts_at, row.due_at, row.step)


def extension_allowed(policy: ClockPolicy, taken: int) -> bool:
    """Whether one more extension may be approved: the policy has one and `times` is not used up."""
    return policy.extension is not None and taken < policy.extension.times


def recomputed_due(row: DeadlineRow, policy: ClockPolicy, calendar: WorkCalendar) -> datetime | None:
    """A provisional deadline counted again on `calendar`; None while its year is still unknown."""
    try:
        due = due_at(policy, row.starts_at, calendar)
        if row.extended_by and policy.extension is not None:
            amount = int("".join(ch for ch in row.extended_by if ch.isdigit()) or 0) or None
            due = extended_due_at(policy, due, calendar, amount=amount)
    except CalendarGapError:
        return None
    return due


async def recompute_provisional(session: AsyncSession, rules: ClockRules) -> int:
    """Count provisional deadlines again once their year is known (an administrator entered the
    year's arrangement, or the calendar package learned it); returns how many became firm."""
    firmed, firmed_cases = 0, set[uuid.UUID]()
    for row in (await session.execute(select(DeadlineRow).where(PROVISIONAL_OPEN))).scalars():
        try:  # a 协办 copy is counted like the clock it copies
            policy = rules.policies.clock(channel=row.channel, name=row.name.split(CO_CLOCK_MARK)[0])
        except KeyError:
            continue
        due = recomputed_due(row, policy, rules.calendar)
        if due is None:
            continue
        row.due_at, row.provisional = due, False
        row.next_step_at = next_step_at(row.starts_at, row.due_at, row.step)
        firmed_cases.add(row.case_id)
        firmed += 1
    await answer_due.refresh(session, firmed_cases)
    return firmed
