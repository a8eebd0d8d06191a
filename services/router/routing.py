"""Classified case → routed case (pure: the county table is passed in)."""

from __future__ import annotations

from hotline.shared.clock import Clock
from hotline.shared.domain.county import County, route
from hotline.shared.events import CallOutcome, CaseClassified, CaseRouted, DecidedBy, derived_event_id

MANUAL_SORTING_TOPIC = "人工分拣"


def needs_routing(case: CaseClassified, *, routed_by_person: bool = False) -> bool:
    """A call answered on the spot (当场解释) is closed at once: no unit, no deadline. A person's
    classification comes with that person's routing (one decision per step), and a case a person has
    routed is never routed again by the table."""
    if case.decided_by is DecidedBy.PERSON or routed_by_person:
        return False
    return case.outcome is not CallOutcome.ANSWERED_ON_SPOT


def route_case(case: CaseClassified, *, county: County, clock: Clock, version: int | None = None) -> CaseRouted:
    topic = MANUAL_SORTING_TOPIC if case.needs_review else case.topic
    decision = route(
        topic=topic,
        subtopic=None if case.needs_review else case.subtopic,
        township=case.township,
        county=county,
        is_accusation=case.is_accusation,
        accused_unit=case.accused_unit,
    )
    return CaseRouted(
        event_id=derived_event_id(case.event_id, "routed"),
        case_id=case.case_id,
        occurred_at=clock.now(),
        channel=case.channel,
        received_at=case.received_at,
        topic=topic,
        severity=case.severity,
        unit_code=decision.unit_code,
        unit_name=decision.unit_name,
        co_units=list(decision.co_units),
        reason=decision.reason,
        routing_version=version,
        urgent=case.urgent,
        urgent_lines=list(case.urgent_lines),
    )
