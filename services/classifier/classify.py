"""Turns received cases into classified ones: topic model + urgency, severity, place and matter rules.

No I/O: the model, rules and 派单目录 are passed in (and the timer, for the time budget), so tests call
this directly.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hotline.services.classifier.char_grams import rows_for
from hotline.services.classifier.matter_model import MIN_PROBABILITY as LEARNED_MIN_PROBABILITY
from hotline.services.classifier.matter_model import TOP_K as LEARNED_TOP_K
from hotline.services.classifier.matter_model import MatterModel
from hotline.services.classifier.misconduct_model import (
    MisconductModel,
    learned_misconduct_batch,
    load_misconduct_model,
)
from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.severity import SeverityAssessment, SeverityRules, assess_severity
from hotline.services.classifier.unit_model import UnitModel, likeliest_units_of, load_unit_model
from hotline.services.classifier.urgency import Urgency, UrgencyRules, bounded_text, load_urgency_rules, masked
from hotline.services.classifier.urgency_judge import judge_urgency, with_handover
from hotline.services.classifier.urgency_model import UrgencyModel, gram_scores, load_urgency_model
from hotline.shared.catalogue import Catalogue
from hotline.shared.clock import Clock
from hotline.shared.dispatching import dispatch_classified
from hotline.shared.domain.county import TOWNSHIP, County, find_unit, village_named
from hotline.shared.domain.dispatch import Dispatch, is_accusation_matter
from hotline.shared.domain.matters import MatterCatalogue, MatterHit, identify
from hotline.shared.domain.misconduct import misconduct
from hotline.shared.domain.places import Place, extract_place, in_village
from hotline.shared.events import (
    CaseClassified,
    CaseReceived,
    Channel,
    MatterEvidence,
    Severity,
    UnitEvidence,
    derived_event_id,
)

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
    urgency_grams: float | None = None,
) -> RuleResult:
    """Urgency, severity (which an urgent case raises) and place of one text, on its bounded part.
    Urgency by the rules and the learned model (the shipped one unless ``urgency_model`` is given;
    ``urgency_grams``: its n-gram score of the text, when the batch read it already)."""
    started = timer()
    bounded = bounded_text(text, RULE_HEAD_CHARS, RULE_TAIL_CHARS)
    urgency = judge_urgency(bounded, urgency_rules, urgency_model or load_urgency_model(), urgency_grams)
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


@dataclass(frozen=True, slots=True)
class ClassifierParts:
    """What classification reads besides the texts, passed whole: the topic model, the rules, the
    learned urgency model (the shipped one when None) and the 派单目录 in force (county, places, matters
    and its version), with the timer and time budget of the rule passes."""

    model: TopicModel
    severity_rules: SeverityRules
    catalogue: Catalogue
    urgency_rules: UrgencyRules | None = None
    urgency_model: UrgencyModel | None = None
    # The learned reading of officials' misconduct beside the rules (the shipped one when None).
    misconduct_model: MisconductModel | None = None
    # The learned reading of who leads (when None: the model directory's, else the shipped one; none at
    # all without use_unit_model).
    unit_model: UnitModel | None = None
    use_unit_model: bool = True
    timer: Timer = time.thread_time
    budget_s: float = RULE_BUDGET_S


def urgency_scores(bounded_texts: Sequence[str], parts: ClassifierParts) -> Sequence[float | None]:
    """The learned urgency model's n-gram scores of the batch's texts as it reads them (masked), in one
    pass; judge_urgency uses one where the rules do not decide alone."""
    model = parts.urgency_model or load_urgency_model()
    if model is None:
        return [None] * len(bounded_texts)
    rules = parts.urgency_rules or load_urgency_rules()
    return gram_scores([masked(text, rules) for text in bounded_texts], model)


def classify_cases(cases: Sequence[CaseReceived], parts: ClassifierParts, *, clock: Clock) -> list[CaseClassified]:
    model, county, matters = parts.model, parts.catalogue.county, parts.catalogue.matters
    texts = [f"{case.title}\n{case.content}" if case.title else case.content for case in cases]
    tokens = model.tokenize(texts)
    learned = model.matters.probabilities(tokens) if model.matters is not None and texts else None
    topics = model.predict(texts, tokens, learned)
    now = clock.now()
    unit_model = (parts.unit_model or model.units or load_unit_model()) if parts.use_unit_model else None
    bounded_texts = [bounded_text(text, RULE_HEAD_CHARS, RULE_TAIL_CHARS) for text in texts]
    misconduct_model = parts.misconduct_model or load_misconduct_model()
    # The learned readings read the batch's char n-grams in one shared pass.
    misconduct_rows, unit_rows = rows_for(
        bounded_texts, misconduct_model.table if misconduct_model is not None else None, unit_model
    )
    misconduct_found = learned_misconduct_batch(
        bounded_texts,
        [misconduct(bounded, ticked=case.is_accusation) for bounded, case in zip(bounded_texts, cases, strict=True)],
        ticked=[case.is_accusation for case in cases],
        model=misconduct_model,
        rows=misconduct_rows,
    )
    leads = (
        likeliest_units_of(bounded_texts, unit_model, rows=unit_rows) if unit_model is not None else [[] for _ in texts]
    )
    urgency_grams = urgency_scores(bounded_texts, parts)
    classified = []
    for i, (case, text, topic) in enumerate(zip(cases, texts, topics, strict=True)):
        rules = assess_rules(
            text,
            channel=case.channel.value,
            severity_rules=parts.severity_rules,
            county=county,
            urgency_rules=parts.urgency_rules,
            urgency_model=parts.urgency_model,
            reach=case.reach,
            reach_per_hour=case.reach_per_hour,
            repeat_count=case.repeat_count,
            timer=parts.timer,
            budget_s=parts.budget_s,
            urgency_grams=urgency_grams[i],
        )
        urgency = with_handover(rules.urgency, case.handed_over_to)
        bounded, accusing = bounded_texts[i], misconduct_found[i]
        hits = identify(bounded, matters)
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
                rural=in_village(bounded, rules.place),
                outcome=case.outcome,
                is_accusation=case.is_accusation,
                accused_unit=accused_unit(case, bounded, county, bool(accusing) or accuses_officials(hits, matters)),
                urgent=urgency.urgent,
                urgent_reasons=list(urgency.reasons),
                urgent_lines=list(urgency.lines),
                matters=matter_evidence(hits, model.matters, learned[i] if learned is not None and tokens[i] else None),
                catalogue_version=parts.catalogue.version,
                misconduct=list(accusing),
                units=[UnitEvidence(code=c, probability=p) for c, p in leads[i]],
                units_threshold=unit_model.threshold if unit_model is not None else None,
            )
        )
    return classified


def matter_evidence(
    hits: Sequence[MatterHit], learned: MatterModel | None, row: npt.NDArray[np.float32] | None
) -> list[MatterEvidence]:
    """The catalogue's hits (with the learned model's probability of each) and the model's own likeliest
    matters the terms missed, so the router weighs both without running a model itself."""
    if learned is None or row is None:
        return [MatterEvidence(code=h.code, score=h.score, words=list(h.words)) for h in hits]
    column = learned.column
    out = [
        MatterEvidence(
            code=h.code,
            score=h.score,
            words=list(h.words),
            probability=round(float(row[column[h.code]]), 4) if h.code in column else None,
        )
        for h in hits
    ]
    named = {h.code for h in hits}
    for i in np.argsort(-row)[:LEARNED_TOP_K]:
        code = learned.codes[int(i)]
        if row[i] >= LEARNED_MIN_PROBABILITY and code not in named:
            out.append(MatterEvidence(code=code, score=0.0, probability=round(float(row[i]), 4)))
    return out


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
    if found is None:
        return None
    # A township named only as where it happened ("地点：城厢镇经兜村") is not the accused: the village
    # is named instead, which the shield keeps apart from its township.
    return (village_named(text, found) if found.kind == TOWNSHIP else None) or found.name


@dataclass(frozen=True, slots=True)
class Request:
    """One text to classify and route outside the pipeline (desk suggestion, CLI, evaluation)."""

    text: str
    channel: str = Channel.HOTLINE.value
    reach: int | None = None
    township: str | None = None
    is_accusation: bool = False
    accused_unit: str | None = None
    repeat_count: int = 0
    reach_per_hour: float | None = None


_NAMESPACE = uuid.UUID("2f6d8f55-0a3e-4b1f-9d7e-9d1a6c0e4b21")


def classify_and_dispatch(
    requests: Sequence[Request], parts: ClassifierParts, *, clock: Clock
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
            repeat_count=r.repeat_count,
            reach_per_hour=r.reach_per_hour,
        )
        for i, r in enumerate(requests)
    ]
    classified = classify_cases(received, parts, clock=clock)
    return [(case, dispatch_classified(case, parts.catalogue)) for case in classified]


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
    parts: ClassifierParts,
    *,
    clock: Clock,
    channel: str = Channel.HOTLINE.value,
    reach: int | None = None,
    township: str | None = None,
) -> dict[str, Any]:
    """Topic, severity, urgency, place and the unit the router would choose for one text, as a plain
    dict (for request/reply): the console shows a 紧急诉求 banner with the lines to hand the call to
    when ``urgent`` is true."""
    [(case, dispatch)] = classify_and_dispatch(
        [Request(text, channel=channel, reach=reach, township=township)], parts, clock=clock
    )
    place = extract_place(bounded_text(text, RULE_HEAD_CHARS, RULE_TAIL_CHARS), parts.catalogue.county)
    return {
        "topic": case.topic,
        "subtopic": case.subtopic,
        "confidence": case.confidence,
        "needs_review": case.needs_review,
        "severity": case.severity.value,
        "severity_reasons": list(case.severity_reasons),
        "urgent": case.urgent,
        "urgent_reasons": list(case.urgent_reasons),
        "urgent_lines": [line.value for line in case.urgent_lines],
        "place": {"township": place.township, "village": place.village},
        "model_version": case.model_version,
        "routing_version": parts.catalogue.version,
        **dispatch_view(dispatch),
    }
