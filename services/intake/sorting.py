"""人工分拣 as service functions: the sorting queue, and a person's class with its routing.

A person names the class (and may name the unit). Without a unit, the unit is the matter dispatch of
the 派单目录 in force (:func:`hotline.shared.dispatching.dispatch_classified`, the router's own
function) with the person's class as certain evidence; the routed event names the matter and the
catalogue version like an automatic one, and is decided by a person so the router leaves it alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.services.intake.access import get_or_404
from hotline.services.intake.examples import record_example
from hotline.services.intake.keyset import Position, ordered_page
from hotline.services.intake.work import routed_by_hand
from hotline.services.intake.workflow import accused_refusal
from hotline.shared import subjects
from hotline.shared.catalogue import Catalogue
from hotline.shared.clock import Clock
from hotline.shared.db import CaseEventRow, CaseRow
from hotline.shared.dispatching import URGENT_ON_SPOT_NOTE, dispatch_classified, text_evidence
from hotline.shared.domain.dispatch import Dispatch
from hotline.shared.domain.places import extract_place, in_village
from hotline.shared.events import CaseClassified, CaseRouted, Channel, DecidedBy, EmergencyLine, Severity
from hotline.shared.outbox import enqueue

OUTBOX_SOURCE = "intake"
UNIT_REFUSED = "单位编码无效（见 /api/v1/units）"


@dataclass(frozen=True, slots=True)
class Sorting:
    """What a person decided in 人工分拣."""

    topic: str
    subtopic: str | None = None
    severity: Severity | None = None
    unit: str | None = None  # None: the 派单目录 decides


@dataclass(frozen=True, slots=True)
class Sorted:
    case_id: uuid.UUID
    classified: CaseClassified
    routed: CaseRouted


async def waiting(
    session: AsyncSession, *, limit: int, after: Position | None = None
) -> list[tuple[CaseRow, list[Any]]]:
    """The open cases waiting for a person, oldest first, each with the units the router offered (a
    page and one more, see keyset.page)."""
    statement = ordered_page(
        select(CaseRow).where(CaseRow.needs_review.is_(True), CaseRow.status.not_in(("answered", "closed"))),
        CaseRow.received_at,
        CaseRow.id,
        after=after,
        limit=limit,
        newest_first=False,
    )
    rows = (await session.execute(statement)).scalars().all()
    candidates = await routed_candidates(session, [row.id for row in rows])
    return [(row, candidates.get(row.id, [])) for row in rows]


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


async def _classified_payloads(session: AsyncSession, case_id: uuid.UUID) -> Sequence[dict[str, Any]]:
    statement = (
        select(CaseEventRow.payload)
        .where(CaseEventRow.case_id == case_id, CaseEventRow.kind == "classified")
        .order_by(CaseEventRow.seq)
    )
    return list((await session.execute(statement)).scalars())


def classified_by_hand(
    case: CaseRow,
    sorting: Sorting,
    *,
    actor: str,
    catalogue: Catalogue,
    clock: Clock,
    classified_before: Sequence[dict[str, Any]] = (),
) -> CaseClassified:
    """The person's classification, with the matter evidence the 派单目录 in force decides by."""
    details = case.details or {}
    is_accusation = bool(details.get("is_accusation"))
    text = f"{case.title}\n{case.content}" if case.title else case.content
    matters, accusing = text_evidence(text, catalogue, is_accusation=is_accusation, classified=classified_before)
    return CaseClassified(
        event_id=uuid.uuid4(),
        case_id=case.id,
        occurred_at=clock.now(),
        channel=Channel(case.channel),
        received_at=case.received_at,
        topic=sorting.topic,
        subtopic=sorting.subtopic,
        severity=sorting.severity or Severity(case.severity or Severity.GENERAL.value),
        severity_reasons=[f"人工分拣：{actor}"],
        confidence=1.0,
        model_version=f"manual:{actor}",
        needs_review=False,
        township=case.township,
        rural=in_village(text, extract_place(text, catalogue.county)),
        outcome=None,
        is_accusation=is_accusation,
        accused_unit=details.get("accused_unit"),
        decided_by=DecidedBy.PERSON,
        matters=matters,
        catalogue_version=catalogue.version,
        misconduct=accusing,
        # A person sorts the topic; a 紧急诉求 found before (or a 转接 recorded) stays one.
        **kept_urgency(case),
    )


def _routing(case: CaseRow, event: CaseClassified, sorting: Sorting, actor: str, catalogue: Catalogue) -> CaseRouted:
    county = catalogue.county
    now = event.occurred_at
    if sorting.unit is not None:
        unit = county.units[sorting.unit]
        refusal = accused_refusal(case.details, unit, county)
        if refusal is not None:
            raise HTTPException(409, detail=refusal)
        return routed_by_hand(
            case,
            unit,
            now,
            reason=f"人工分拣 {actor} 指定",
            topic=sorting.topic,
            severity=event.severity,
            routing_version=catalogue.version,
        )
    decision: Dispatch = dispatch_classified(event, catalogue)
    if decision.to_person:
        message = f"派单目录不能确定承办单位（{decision.reason}），请指定承办单位"
        raise HTTPException(422, detail=[{"field": "unit", "message": message}])
    return routed_by_hand(
        case,
        county.units[decision.unit_code],
        now,
        reason=f"人工分拣 {actor}：{decision.reason}",
        topic=sorting.topic,
        severity=event.severity,
        co_units=decision.co_units,
        routing_version=catalogue.version,
        matter=(decision.matter_code, decision.matter_name),
    )


async def sort_by_hand(
    session: AsyncSession, case_id: str, sorting: Sorting, *, actor: str, catalogue: Catalogue, clock: Clock
) -> Sorted:
    """Record a person's class and its routing: a `classified` and a `routed` event, both decided by a
    person (one decision per step: the router never routes this classification again), and a labelled
    example for the next model and catalogue version. In the caller's transaction."""
    if sorting.unit is not None and sorting.unit not in catalogue.county.units:
        raise HTTPException(422, detail=[{"field": "unit", "message": UNIT_REFUSED}])
    case = await get_or_404(session, CaseRow, case_id)
    before = await _classified_payloads(session, case.id) if sorting.unit is None else ()
    event = classified_by_hand(case, sorting, actor=actor, catalogue=catalogue, clock=clock, classified_before=before)
    routed = _routing(case, event, sorting, actor, catalogue)
    await record_example(
        session,
        case,
        unit_code=routed.unit_code,
        topic=sorting.topic,
        subtopic=sorting.subtopic,
        sorting=True,
        actor=actor,
        now=event.occurred_at,
    )
    await enqueue(
        session,
        source=OUTBOX_SOURCE,
        events=[(subjects.CASE_CLASSIFIED, event), (subjects.CASE_ROUTED, routed)],
        clock=clock,
    )
    return Sorted(case.id, event, routed)


async def routed_after_handover(
    session: AsyncSession, case: CaseRow, *, actor: str, catalogue: Catalogue, clock: Clock
) -> CaseRouted:
    """The routing of a 当场解释 call that a 转接 made urgent: the matter dispatch of its latest
    classification (the router's own function), or the 人工分拣 unit before it is classified; decided by
    the person who recorded the 转接, so the router leaves it alone."""
    classified = await _classified_payloads(session, case.id)
    county = catalogue.county
    if classified:
        decision = dispatch_classified(CaseClassified.model_validate(classified[-1]), catalogue)
        unit, reason, co_units = county.units[decision.unit_code], decision.reason, decision.co_units
        matter = (decision.matter_code, decision.matter_name)
    else:
        unit, reason, co_units, matter = county.units[county.default_unit], "尚未分类，先交人工分拣", (), (None, None)
    return routed_by_hand(
        case,
        unit,
        clock.now(),
        reason=f"话务员 {actor} 转接后派单：{reason}；{URGENT_ON_SPOT_NOTE}",
        co_units=co_units,
        routing_version=catalogue.version,
        matter=matter,
    )
