"""Turns received cases into classified ones: topic model + severity rules + place extraction.

No I/O: the model, rules and county are passed in, so tests call this directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.severity import SeverityRules, assess_severity
from hotline.shared.catalogue import Catalogue
from hotline.shared.clock import Clock
from hotline.shared.dispatching import dispatch_classified
from hotline.shared.domain.county import County, find_unit
from hotline.shared.domain.dispatch import Dispatch, is_accusation_matter
from hotline.shared.domain.matters import EMPTY, MatterCatalogue, MatterHit, identify
from hotline.shared.domain.misconduct import misconduct
from hotline.shared.domain.places import extract_place
from hotline.shared.events import (
    CaseClassified,
    CaseReceived,
    Channel,
    MatterEvidence,
    Severity,
    derived_event_id,
)


def classify_cases(
    cases: Sequence[CaseReceived],
    *,
    model: TopicModel,
    severity_rules: SeverityRules,
    county: County,
    clock: Clock,
    matters: MatterCatalogue = EMPTY,
    catalogue_version: int | None = None,
) -> list[CaseClassified]:
    texts = [f"{case.title}\n{case.content}" if case.title else case.content for case in cases]
    topics = model.predict(texts)
    now = clock.now()
    classified = []
    for case, text, topic in zip(cases, texts, topics, strict=True):
        severity = assess_severity(text, channel=case.channel.value, reach=case.reach, rules=severity_rules)
        place = extract_place(text, county)
        hits = identify(text, matters)
        accusing = misconduct(text, ticked=case.is_accusation)
        classified.append(
            CaseClassified(
                event_id=derived_event_id(case.event_id, "classified"),
                case_id=case.case_id,
                occurred_at=now,
                channel=case.channel,
                received_at=case.received_at,
                topic=topic.topic,
                subtopic=topic.subtopic,
                severity=Severity(severity.level),
                severity_reasons=list(severity.reasons),
                confidence=round(topic.confidence, 4),
                model_version=model.version,
                needs_review=topic.needs_review,
                township=case.township or place.township,
                village=place.village,
                outcome=case.outcome,
                is_accusation=case.is_accusation,
                accused_unit=accused_unit(case, text, county, bool(accusing) or accuses_officials(hits, matters)),
                matters=[MatterEvidence(code=h.code, score=h.score, words=list(h.words)) for h in hits],
                catalogue_version=catalogue_version,
                misconduct=list(accusing),
            )
        )
    return classified


def accuses_officials(hits: Sequence[MatterHit], matters: MatterCatalogue) -> bool:
    """Whether the text reads as a 检举/控告 of officials (ticked or not, the accused must not handle it)."""
    return any(is_accusation_matter(matters.by_code.get(h.code)) for h in hits)


def accused_unit(case: CaseReceived, text: str, county: County, found_in_text: bool = False) -> str | None:
    """The unit a 检举/控告 accuses: as the petitioner named it, or else the unit named in the text,
    so that routing can keep the case away from it (信访工作条例 第三十条). ``found_in_text``: the text
    accuses officials though nobody ticked the box."""
    if case.accused_unit or not (case.is_accusation or found_in_text):
        return case.accused_unit
    # "请县纪委监委核查" names where the accusation goes, not whom it accuses.
    target = county.units.get(county.accusation_unit)
    if target is not None:
        for word in sorted({target.name, *target.aliases, target.name.removeprefix("县")}, key=len, reverse=True):
            text = text.replace(word, "")
    found = find_unit(text, county)
    return found.name if found else None


@dataclass(frozen=True, slots=True)
class Request:
    """One text to classify and route outside the pipeline (desk suggestion, CLI, evaluation)."""

    text: str
    channel: str = Channel.HOTLINE.value
    reach: int | None = None
    township: str | None = None
    is_accusation: bool = False
    accused_unit: str | None = None


_NAMESPACE = uuid.UUID("2f6d8f55-0a3e-4b1f-9d7e-9d1a6c0e4b21")


def classify_and_dispatch(
    requests: Sequence[Request],
    *,
    model: TopicModel,
    severity_rules: SeverityRules,
    catalogue: Catalogue,
    clock: Clock,
) -> list[tuple[CaseClassified, Dispatch]]:
    """The production path for texts without a case: the classifier's ``classify_cases`` and the
    router's decision (:func:`dispatch_classified`), with one catalogue version."""
    now = clock.now()
    received = [
        CaseReceived(
            event_id=uuid.uuid5(_NAMESPACE, f"{i}:{r.text}"),
            case_id=uuid.uuid5(_NAMESPACE, f"case:{i}:{r.text}"),
            occurred_at=now,
            channel=Channel(r.channel) if r.channel in Channel._value2member_map_ else Channel.HOTLINE,
            received_at=now,
            content=r.text or " ",
            township=r.township,
            reach=r.reach,
            is_accusation=r.is_accusation,
            accused_unit=r.accused_unit,
        )
        for i, r in enumerate(requests)
    ]
    classified = classify_cases(
        received,
        model=model,
        severity_rules=severity_rules,
        county=catalogue.county,
        clock=clock,
        matters=catalogue.matters,
        catalogue_version=catalogue.version,
    )
    return [(case, dispatch_classified(case, catalogue)) for case in classified]


def dispatch_view(dispatch: Dispatch) -> dict[str, Any]:
    """The routing part of a suggestion or a CLI line."""
    return {
        "unit": {"code": dispatch.unit_code, "name": dispatch.unit_name},
        "co_units": list(dispatch.co_units),
        "matter": {"code": dispatch.matter_code, "name": dispatch.matter_name} if dispatch.matter_code else None,
        "reason": dispatch.reason,
        "to_person": dispatch.to_person,
        "candidates": [
            {"unit_code": c.unit_code, "unit_name": c.unit_name, "matter": c.matter, "score": c.score}
            for c in dispatch.candidates
        ],
    }


def suggest(
    text: str,
    *,
    channel: str,
    reach: int | None,
    model: TopicModel,
    severity_rules: SeverityRules,
    catalogue: Catalogue,
    clock: Clock,
    township: str | None = None,
) -> dict[str, Any]:
    """Topic, severity, place and the unit the router would choose for one text, as a plain dict."""
    [(case, dispatch)] = classify_and_dispatch(
        [Request(text, channel=channel, reach=reach, township=township)],
        model=model,
        severity_rules=severity_rules,
        catalogue=catalogue,
        clock=clock,
    )
    place = extract_place(text, catalogue.county)
    return {
        "topic": case.topic,
        "subtopic": case.subtopic,
        "confidence": case.confidence,
        "needs_review": case.needs_review,
        "severity": case.severity.value,
        "severity_reasons": list(case.severity_reasons),
        "place": {"township": place.township, "village": place.village},
        "model_version": case.model_version,
        "routing_version": catalogue.version,
        **dispatch_view(dispatch),
    }
