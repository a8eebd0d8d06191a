"""Turns received cases into classified ones: topic model + severity rules + place extraction.

No I/O: the model, rules and county are passed in, so tests call this directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.severity import SeverityRules, assess_severity
from hotline.shared.clock import Clock
from hotline.shared.domain.county import County, find_unit
from hotline.shared.domain.places import extract_place
from hotline.shared.events import CaseClassified, CaseReceived, Severity, derived_event_id


def classify_cases(
    cases: Sequence[CaseReceived],
    *,
    model: TopicModel,
    severity_rules: SeverityRules,
    county: County,
    clock: Clock,
) -> list[CaseClassified]:
    texts = [f"{case.title}\n{case.content}" if case.title else case.content for case in cases]
    topics = model.predict(texts)
    now = clock.now()
    classified = []
    for case, text, topic in zip(cases, texts, topics, strict=True):
        severity = assess_severity(text, channel=case.channel.value, reach=case.reach, rules=severity_rules)
        place = extract_place(text, county)
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
                accused_unit=accused_unit(case, text, county),
            )
        )
    return classified


def accused_unit(case: CaseReceived, text: str, county: County) -> str | None:
    """The unit a 检举/控告 accuses: as the petitioner named it, or else the unit named in the text,
    so that routing can keep the case away from it (信访工作条例 第三十条)."""
    if not case.is_accusation or case.accused_unit:
        return case.accused_unit
    found = find_unit(text, county)
    return found.name if found else None


def suggest(
    text: str,
    *,
    channel: str,
    reach: int | None,
    model: TopicModel,
    severity_rules: SeverityRules,
    county: County,
) -> dict[str, Any]:
    """Topic, severity and place of one text, as a plain dict (for request/reply)."""
    [topic] = model.predict([text])
    severity = assess_severity(text, channel=channel, reach=reach, rules=severity_rules)
    place = extract_place(text, county)
    return {
        "topic": topic.topic,
        "subtopic": topic.subtopic,
        "confidence": round(topic.confidence, 4),
        "needs_review": topic.needs_review,
        "severity": severity.level,
        "severity_reasons": list(severity.reasons),
        "place": {"township": place.township, "village": place.village},
        "model_version": model.version,
    }
