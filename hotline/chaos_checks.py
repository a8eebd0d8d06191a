"""What the chaos suite checks and prints: every case sent, counted in the database (read directly,
never through the proxy the suite cuts), and one table of the results."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from hotline.chaos_nats import Forged, case_id_in
from hotline.services.intake.reconcile import TRACKED_STATUSES
from hotline.shared.answer_due import due_by_clocks
from hotline.shared.db import (
    CaseEventRow,
    CaseRow,
    DeadLetterRow,
    DeadlineRow,
    OutboxRow,
    TaskRow,
    create_engine,
    session_factory,
)

PIPELINE_KINDS = ("received", "classified", "routed", "tracked")


@dataclass
class ChaosResult:
    fault: str
    database: str
    sent: int
    stored: int
    fully_processed: int
    lost: int
    doubled: int
    half_made: int
    http_5xx: int
    http_503: int  # of the 5xx: "unavailable, retry" (with Retry-After), the answer an outage should give
    dead_letters: int  # during this fault, forgeries' own excepted
    fault_s: float
    # From the fault's end until every case sent before it ended is fully processed; None: some case
    # (of all sent) was never fully processed.
    recover_s: float | None
    healthy: bool = False  # GET /api/v1/health answered 200 afterwards, without anyone's help
    nats_restarts: int | None = None  # as the health endpoint reports them
    # store-full: events waiting in intake's outbox when space came back (the fault did strike).
    held_in_outbox: int | None = None
    # forged: messages forged, how many of them were dead-lettered with a reason, and the rows
    # (cases, tasks, clocks, case events) they made.
    forged: int = 0
    forged_dead_lettered: int = 0
    forged_rows: int = 0

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.doubled == 0
            and self.half_made == 0
            and self.fully_processed == self.sent
            and self.dead_letters == 0
            and self.recover_s is not None
            and self.healthy
            and (self.fault != "nats-kill" or (self.nats_restarts or 0) >= 1)
            and (self.fault != "store-full" or (self.held_in_outbox or 0) >= 1)
            and self.forged_dead_lettered == self.forged
            and self.forged_rows == 0
            and (self.fault != "forged" or self.forged > 0)
        )


HEADERS = (
    "fault",
    "database",
    "sent",
    "stored",
    "fully processed",
    "lost",
    "doubled",
    "half-made",
    "5xx",
    "dead letters",
    "fault s",
    "time to recover s",
    "outbox held",
    "forged",
    "forged DL",
    "forged rows",
)


def table(results: list[ChaosResult]) -> str:
    """One plain-text table, one row per scenario ("-": not measured by that fault)."""
    rows = [list(HEADERS)]
    for r in results:
        recover = "never" if r.recover_s is None else f"{r.recover_s:.1f}"
        values = (r.fault, r.database, r.sent, r.stored, r.fully_processed, r.lost, r.doubled, r.half_made)
        errors = f"{r.http_5xx} ({r.http_503}×503)" if r.http_5xx else "0"
        held = "-" if r.held_in_outbox is None else str(r.held_in_outbox)
        forged = [str(r.forged), str(r.forged_dead_lettered), str(r.forged_rows)] if r.forged else ["-"] * 3
        rows.append([*map(str, values), errors, str(r.dead_letters), f"{r.fault_s:.1f}", recover, held, *forged])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def missing_step(
    status: str, topic: str | None, unit_code: str | None, lead_tasks: int, clocked: bool, due_copied: bool = True
) -> str:
    """The first thing a case lacks to be fully processed (tracked with a topic, a unit, one 主办 task in
    force, its clocks and their due moment on its row); "" when it lacks nothing. A case whose clock ran
    out (`overdue`: an urgent case's minute clocks run out within a soak) is tracked all the same."""
    if status not in TRACKED_STATUSES:
        return f"status {status}"
    if not topic:
        return "no topic"
    if not unit_code:
        return "no unit"
    if lead_tasks != 1:
        return f"{lead_tasks} lead tasks"
    if not clocked:
        return "no clocks"
    return "" if due_copied else "due moment not on the case row"


@dataclass(frozen=True)
class Census:
    stored: int
    fully_processed: int
    doubled: int
    dead_letters: int  # after `dead_letters_after`, forgeries' own excepted
    forged_dead_lettered: int = 0
    forged_rows: int = 0
    # Why the cases sent but not fully processed are not: the first missing step of each, counted.
    unfinished: dict[str, int] = field(default_factory=dict)


async def _census(
    database_url: str,
    sent: set[uuid.UUID],
    every: set[uuid.UUID],
    dead_letters_after: int,
    forged: Forged | None,
) -> Census:
    engine = create_engine(database_url, writes=False)
    try:
        async with session_factory(engine)() as session:
            cases = (await session.execute(select(CaseRow.id, CaseRow.status, CaseRow.topic, CaseRow.unit_code))).all()
            # The 主办 task in force: 协办 units have tasks of their own, and a re-dispatch leaves 已改派 ones.
            lead = select(TaskRow.case_id, func.count()).where(TaskRow.role == "lead", TaskRow.state != "reassigned")
            tasks = dict((await session.execute(lead.group_by(TaskRow.case_id))).all())
            clocks = set((await session.scalars(select(DeadlineRow.case_id).distinct())).all())
            stale_due = set(
                await session.scalars(select(CaseRow.id).where(CaseRow.answer_due_at.is_distinct_from(due_by_clocks())))
            )
            repeated = (
                await session.execute(
                    select(CaseEventRow.case_id)
                    .where(CaseEventRow.kind.in_(PIPELINE_KINDS))
                    .group_by(CaseEventRow.case_id, CaseEventRow.kind)
                    .having(func.count() > 1)
                )
            ).all()
            letters = (
                await session.execute(
                    select(DeadLetterRow.stream_seq, DeadLetterRow.error, DeadLetterRow.payload).where(
                        DeadLetterRow.id > dead_letters_after
                    )
                )
            ).all()
            forged_rows = 0
            if forged is not None and forged.case_ids:
                for key in (CaseRow.id, TaskRow.case_id, DeadlineRow.case_id, CaseEventRow.case_id):
                    forged_rows += await session.scalar(select(func.count()).where(key.in_(forged.case_ids))) or 0
    finally:
        await engine.dispose()
    steps = {
        c.id: missing_step(c.status, c.topic, c.unit_code, tasks.get(c.id, 0), c.id in clocks, c.id not in stale_due)
        for c in cases
    }
    full = {case_id for case_id, step in steps.items() if not step}
    missing = Counter(step for case_id, step in steps.items() if step and case_id in sent)
    if lost := len(sent - {c.id for c in cases}):
        missing["not stored"] = lost
    doubled = ({r.case_id for r in repeated} | {case_id for case_id, n in tasks.items() if n > 1}) & sent
    # A case stored that the client never got an answer for was posted twice (a retried POST).
    extra = len([c for c in cases if c.id not in every])
    seqs, case_ids = (forged.seqs, forged.case_ids) if forged is not None else (frozenset(), frozenset())
    # A forgery's own dead letters: the message itself, or what a service made of it (the classifier
    # reads no store, so a forged `received` comes back as a `classified` the router refuses).
    ours = [letter for letter in letters if letter.stream_seq in seqs or case_id_in(letter.payload) in case_ids]
    return Census(
        stored=len({c.id for c in cases} & sent),
        fully_processed=len(full & sent),
        doubled=len(doubled) + extra,
        dead_letters=len(letters) - len(ours),
        forged_dead_lettered=len({letter.stream_seq for letter in ours if letter.error} & seqs),
        forged_rows=forged_rows,
        unfinished=dict(missing),
    )


def census(
    database_url: str,
    sent: set[uuid.UUID],
    every: set[uuid.UUID] | None = None,
    *,
    dead_letters_after: int = 0,
    forged: Forged | None = None,
) -> Census:
    return asyncio.run(_census(database_url, sent, every if every is not None else sent, dead_letters_after, forged))


async def _scalar(database_url: str, query: Any) -> int:
    engine = create_engine(database_url, writes=False)
    try:
        async with session_factory(engine)() as session:
            return int(await session.scalar(query) or 0)
    finally:
        await engine.dispose()


def last_dead_letter_id(database_url: str) -> int:
    """Where this fault's dead letters begin."""
    return asyncio.run(_scalar(database_url, select(func.max(DeadLetterRow.id))))


def outbox_pending(database_url: str) -> int:
    """Events stored but not yet published to JetStream (every source)."""
    query = select(func.count()).select_from(OutboxRow).where(OutboxRow.published_at.is_(None))
    return asyncio.run(_scalar(database_url, query))
