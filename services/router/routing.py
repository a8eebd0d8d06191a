"""Classified case → routed case (pure: the 派单目录 in force is passed in).

The decision itself is :func:`hotline.shared.dispatching.dispatch_classified`, the same function the
desk suggestion and `hotline classify` call, so all three agree for the same catalogue version.
"""

from __future__ import annotations

from dataclasses import replace

from hotline.shared.catalogue import Catalogue, packaged
from hotline.shared.clock import Clock
from hotline.shared.dispatching import URGENT_ON_SPOT_NOTE, dispatch_classified
from hotline.shared.domain.county import County
from hotline.shared.events import (
    CallOutcome,
    CaseClassified,
    CaseRouted,
    DecidedBy,
    RoutingCandidate,
    derived_event_id,
)

MANUAL_SORTING_TOPIC = "人工分拣"


def urgent_despite_on_spot(case: CaseClassified) -> bool:
    """An urgent case never stops at the operator: a call saved as 当场解释 that is a 紧急诉求 (the
    classifier's judgement, or a 转接 the operator recorded, which makes it urgent) is still routed."""
    return case.urgent and case.outcome is CallOutcome.ANSWERED_ON_SPOT


def needs_routing(case: CaseClassified, *, routed_by_person: bool = False) -> bool:
    """A call answered on the spot (当场解释) is closed at once: no unit, no deadline, unless it is
    urgent (:func:`urgent_despite_on_spot`). A person's classification comes with that person's
    routing (one decision per step), and a case a person has routed is never routed again by the table."""
    if case.decided_by is DecidedBy.PERSON or routed_by_person:
        return False
    return case.outcome is not CallOutcome.ANSWERED_ON_SPOT or urgent_despite_on_spot(case)


def route_case(
    case: CaseClassified,
    *,
    clock: Clock,
    catalogue: Catalogue | None = None,
    county: County | None = None,
    version: int | None = None,
) -> CaseRouted:
    """Route with ``catalogue`` (default: the packaged one); ``county`` alone swaps its county (tests)."""
    in_force = catalogue or packaged()
    if county is not None:
        in_force = replace(in_force, county=county, version=version)
    decision = dispatch_classified(case, in_force)
    reason = f"{decision.reason}；{URGENT_ON_SPOT_NOTE}" if urgent_despite_on_spot(case) else decision.reason
    return CaseRouted(
        event_id=derived_event_id(case.event_id, "routed"),
        case_id=case.case_id,
        occurred_at=clock.now(),
        channel=case.channel,
        received_at=case.received_at,
        topic=decision.topic,
        severity=case.severity,
        unit_code=decision.unit_code,
        unit_name=decision.unit_name,
        co_units=list(decision.co_units),
        reason=reason,
        routing_version=in_force.version,
        matter_code=decision.matter_code,
        matter_name=decision.matter_name,
        candidates=[
            RoutingCandidate(unit_code=c.unit_code, unit_name=c.unit_name, matter=c.matter, score=c.score)
            for c in decision.candidates
        ],
        urgent=case.urgent,
        urgent_lines=list(case.urgent_lines),
    )
