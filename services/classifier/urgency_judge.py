"""紧急诉求: the rules and the learned model together (pure).

The stated rule: a text is urgent when the rules find an emergency, or when the model's probability
(on the text with the rules' figurative phrases masked) is at least its threshold (chosen by
cross-validation on the training data, see ``hotline train-urgency``) and the sentence that weighs
most for the model carries no strong gating cue (a procedural question, advice, a drill or story,
compensation, or the past or a hypothesis with no word of the present after it), nor does the text
say after it that it is over, a false alarm or a rumour. Recall comes first: a missed emergency costs
a life, a false alarm costs an operator a second.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hotline.services.classifier.urgency import (
    Category,
    Urgency,
    UrgencyRules,
    assess_urgency,
    load_urgency_rules,
    masked,
    resolved_after,
    sentence_is_gated,
)
from hotline.services.classifier.urgency_model import UrgencyModel, predicted_lines, top_ngrams, urgent_probability
from hotline.shared.events import EmergencyLine

MODEL_REASON = "模型判断"
_SENTENCE_RE = re.compile(r"[^。！？!?；;\n—]+")  # a dash ("——") turns to another matter
_LINE_ORDER = {line: i for i, line in enumerate(EmergencyLine)}


def _sentence_around(text: str, at: int) -> str:
    for m in _SENTENCE_RE.finditer(text):
        if m.start() <= at < m.end():
            return m.group()
    return text


def model_gated(text: str, words: list[str], rules: UrgencyRules) -> bool:
    """Does the sentence holding the model's strongest n-gram carry a strong gating cue, or does the
    text later say it is over, a false alarm or a rumour ("虚惊一场", "谣言", "已经救上来了")?"""
    anchor = max(text.find(words[0]) if words else 0, 0)
    return sentence_is_gated(_sentence_around(text, anchor), rules) or resolved_after(
        masked(text, rules), anchor, rules
    )


def model_lines(text: str, model: UrgencyModel) -> list[EmergencyLine]:
    """The lines the artefact's line models give a case flagged by the model alone (where the rules
    name no danger, their lines would be a guess; measured across suites, see the README)."""
    known = {line.value for line in EmergencyLine}
    lines = {EmergencyLine(line) for line in predicted_lines(text, model) if line in known}
    return sorted(lines, key=_LINE_ORDER.__getitem__)


def danger_lines(text: str, rules: UrgencyRules) -> list[EmergencyLine]:
    """For a case only the model flagged: the lines of the danger named first (the category whose
    words appear earliest, gating ignored) with the lines its additions give ("有人受伤" adds 120);
    110 when no category's words appear (the police take what no one else does)."""
    first: tuple[int, Category] | None = None
    for cat in rules.categories:
        for matcher in cat.matchers:
            if (m := matcher.search(text)) is not None and (first is None or m.start() < first[0]):
                first = (m.start(), cat)
    if first is None:
        return [EmergencyLine("110")]
    cat = first[1]
    lines = set(cat.lines)
    for add in rules.additions:
        if cat.name in add.to and add.pattern.search(text):
            lines.update(add.lines)
    return sorted(lines, key=_LINE_ORDER.__getitem__)


def judge_urgency(text: str, rules: UrgencyRules | None = None, model: UrgencyModel | None = None) -> Urgency:
    """Rules first; the model adds what they missed (see the module docstring)."""
    r = rules or load_urgency_rules()
    verdict = assess_urgency(text, r)
    if verdict.urgent or model is None or not text.strip():
        return verdict
    seen = masked(text, r)  # the model reads what the rules read: figurative phrases blotted out
    p = urgent_probability(seen, model)
    if p < model.threshold:
        return verdict
    words = top_ngrams(seen, model)
    if model_gated(seen, words, r):
        return verdict
    reason = f"{MODEL_REASON}（{p:.0%}）：{'、'.join(words)}" if words else f"{MODEL_REASON}（{p:.0%}）"
    return Urgency(True, [reason], model_lines(seen, model) or danger_lines(seen, r))


HANDOVER_REASON = "话务员已转接"


def with_handover(verdict: Urgency, handed_over_to: Sequence[EmergencyLine]) -> Urgency:
    """An operator who handed the case to an emergency line (转接) has judged it a 紧急诉求: it is one,
    whatever the rules make of the text, with those lines first."""
    if not handed_over_to:
        return verdict
    lines = sorted({*handed_over_to, *verdict.lines}, key=_LINE_ORDER.__getitem__)
    reason = (
        f"{HANDOVER_REASON}：{'、'.join(line.value for line in sorted(handed_over_to, key=_LINE_ORDER.__getitem__))}"
    )
    return Urgency(True, [reason, *verdict.reasons], lines)
