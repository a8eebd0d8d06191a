"""Turns received cases into classified ones: topic model + urgency, severity and place rules.

No I/O: the model, rules and county are passed in (and the timer, for the time budget), so tests call
this directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.severity import SeverityAssessment, SeverityRules, assess_severity
from hotline.services.classifier.urgency import Urgency, UrgencyRules, bounded_text
from hotline.services.classifier.urgency_judge import judge_urgency
from hotline.services.classifier.urgency_model import UrgencyModel, load_urgency_model
from hotline.shared.clock import Clock
from hotline.shared.domain.county import County, find_unit
from hotline.shared.domain.places import Place, extract_place
from hotline.shared.events import CaseClassified, CaseReceived, Severity, derived_event_id

# The rule passes read at most the first RULE_HEAD_CHARS and last RULE_TAIL_CHARS characters: what a
# case is about and where is said at its start, the request at its end; the middle of a 20,000-character
# 网上信访 is mostly attachments and repetition, and reading it only costs time.
RULE_HEAD_CHARS = 4000
RULE_TAIL_CHARS = 1000
# One case's rule passes normally take a few milliseconds; a case beyond this budget is still classified
# (the passes are bounded, so it cannot stall the batch) but a person checks it.
RULE_BUDGET_S = 0.25
OVER_BUDGET_REASON = "识别超时: 规则识别超过时限，请人工分拣核对"

# CPU time of the classifying thread: time spent waiting for a busy CPU is not the text's fault.
Timer = Callable[[], float]


@dataclass(frozen=True, slots=True)
class RuleResult:
    urgency: Urgency
    severity: SeverityAssessment
    place: Place
    over_budget: bool


def assess_rules(
    text: str,
    *,
    channel: str,
    severity_rules: SeverityRules,
    county: County,
    urgency_rules: UrgencyRules | None = None,
    urgency_model: UrgencyModel | None = None,
    reach: int | None = None,
    reach_per_hour: float | None = None,
    repeat_count: int = 0,
    timer: Timer = time.thread_time,
    budget_s: float = RULE_BUDGET_S,
) -> RuleResult:
    """Urgency, severity (which an urgent case raises) and place of one text, on its bounded part.
    Urgency by the rules and the learned model (the shipped one unless ``urgency_model`` is given)."""
    started = timer()
    bounded = bounded_text(text, RULE_HEAD_CHARS, RULE_TAIL_CHARS)
    urgency = judge_urgency(bounded, urgency_rules, urgency_model or load_urgency_model())
    severity = assess_severity(
        bounded,
        channel=channel,
        reach=reach,
        reach_per_hour=reach_per_hour,
        repeat_count=repeat_count,
        urgent=urgency.urgent,
        rules=severity_rules,
    )
    place = extract_place(bounded, county)
    over = timer() - started > budget_s
    if over:
        severity = SeverityAssessment(severity.level, [*severity.reasons, OVER_BUDGET_REASON])
    return RuleResult(urgency, severity, place, over)


def classify_cases(
    cases: Sequence[CaseReceived],
    *,
    model: TopicModel,
    severity_rules: SeverityRules,
    county: County,
    clock: Clock,
    urgency_rules: UrgencyRules | None = None,
    urgency_model: UrgencyModel | None = None,
    timer: Timer = time.thread_time,
    budget_s: float = RULE_BUDGET_S,
) -> list[CaseClassified]:
    texts = [f"{case.title}\n{case.content}" if case.title else case.content for case in cases]
    topics = model.predict(texts)
    now = clock.now()
    classified = []
    for case, text, topic in zip(cases, texts, topics, strict=True):
        rules = assess_rules(
            text,
            channel=case.channel.value,
            severity_rules=severity_rules,
            county=county,
            urgency_rules=urgency_rules,
            urgency_model=urgency_model,
            reach=case.reach,
            reach_per_hour=case.reach_per_hour,
            repeat_count=case.repeat_count,
            timer=timer,
            budget_s=budget_s,
        )
        classified.append(
            CaseClassified(
                event_id=derived_event_id(case.event_id, "classified"),
                case_id=case.case_id,
                occurred_at=now,
                channel=case.channel,
                received_at=case.received_at,
                topic=topic.topic,
                subtopic=topic.subtopic,
                severity=Severity(rules.severity.level),
                severity_reasons=list(rules.severity.reasons),
                confidence=round(topic.confidence, 4),
                model_version=model.version,
                needs_review=topic.needs_review or rules.over_budget,
                township=case.township or rules.place.township,
                village=rules.place.village,
                outcome=case.outcome,
                is_accusation=case.is_accusation,
                accused_unit=accused_unit(case, text, county),
                urgent=rules.urgency.urgent,
                urgent_reasons=list(rules.urgency.reasons),
                urgent_lines=list(rules.urgency.lines),
            )
        )
    return classified


def accused_unit(case: CaseReceived, text: str, county: County) -> str | None:
    """The unit a 检举/控告 accuses: as the petitioner named it, or else the unit named in the text,
    so that routing can keep the case away from it (信访工作条例 第三十条)."""
    if not case.is_accusation or case.accused_unit:
        return case.accused_unit
    found = find_unit(bounded_text(text, RULE_HEAD_CHARS, RULE_TAIL_CHARS), county)
    return found.name if found else None


def suggest(
    text: str,
    *,
    channel: str,
    reach: int | None,
    model: TopicModel,
    severity_rules: SeverityRules,
    county: County,
    urgency_rules: UrgencyRules | None = None,
    urgency_model: UrgencyModel | None = None,
) -> dict[str, Any]:
    """Topic, severity, urgency and place of one text, as a plain dict (for request/reply): the
    console shows a 紧急诉求 banner with the lines to hand the call to when ``urgent`` is true."""
    [topic] = model.predict([text])
    rules = assess_rules(
        text,
        channel=channel,
        severity_rules=severity_rules,
        county=county,
        urgency_rules=urgency_rules,
        urgency_model=urgency_model,
        reach=reach,
    )
    return {
        "topic": topic.topic,
        "subtopic": topic.subtopic,
        "confidence": round(topic.confidence, 4),
        "needs_review": topic.needs_review or rules.over_budget,
        "severity": rules.severity.level,
        "severity_reasons": list(rules.severity.reasons),
        "urgent": rules.urgency.urgent,
        "urgent_reasons": list(rules.urgency.reasons),
        "urgent_lines": [line.value for line in rules.urgency.lines],
        "place": {"township": rules.place.township, "village": rules.place.village},
        "model_version": model.version,
    }
