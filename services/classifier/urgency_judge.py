"""紧急诉求: the rules and the learned model together (pure).

The stated rule: a text is urgent when the rules find an emergency, or when the model's probability
is at least its threshold (chosen by cross-validation on the training data, see ``hotline
train-urgency``) and the sentence that weighs most for the model carries no strong gating cue (a
procedural question, advice, a drill or story, compensation, or the past or a hypothesis with no word
of the present after it). Recall comes first: a missed emergency costs a life, a false alarm costs an
operator a second.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hotline.services.classifier.urgency import (
    Urgency,
    UrgencyRules,
    assess_urgency,
    load_urgency_rules,
    sentence_is_gated,
)
from hotline.services.classifier.urgency_model import UrgencyModel, top_ngrams, urgent_probability
from hotline.shared.events import EmergencyLine

MODEL_REASON = "模型判断"
_SENTENCE_RE = re.compile(r"[^。！？!?；;\n]+")
_LINE_ORDER = {line: i for i, line in enumerate(EmergencyLine)}


def _sentence_around(text: str, at: int) -> str:
    for m in _SENTENCE_RE.finditer(text):
        if m.start() <= at < m.end():
            return m.group()
    return text


def model_gated(text: str, words: list[str], rules: UrgencyRules) -> bool:
    """Does the sentence holding the model's strongest n-gram carry a strong gating cue?"""
    anchor = text.find(words[0]) if words else 0
    return sentence_is_gated(_sentence_around(text, max(anchor, 0)), rules)


def danger_lines(text: str, rules: UrgencyRules) -> list[EmergencyLine]:
    """The lines of every category whose words appear, gating ignored: for a case only the model
    flagged. 110 when no category's words appear (the police take what no one else does)."""
    lines: set[EmergencyLine] = set()
    for cat in rules.categories:
        if any(matcher.search(text) for matcher in cat.matchers):
            lines.update(cat.lines)
    return sorted(lines or {EmergencyLine("110")}, key=_LINE_ORDER.__getitem__)


def judge_urgency(text: str, rules: UrgencyRules | None = None, model: UrgencyModel | None = None) -> Urgency:
    """Rules first; the model adds what they missed (see the module docstring)."""
    r = rules or load_urgency_rules()
    verdict = assess_urgency(text, r)
    if verdict.urgent or model is None or not text.strip():
        return verdict
    p = urgent_probability(text, model)
    if p < model.threshold:
        return verdict
    words = top_ngrams(text, model)
    if model_gated(text, words, r):
        return verdict
    reason = f"{MODEL_REASON}（{p:.0%}）：{'、'.join(words)}" if words else f"{MODEL_REASON}（{p:.0%}）"
    return Urgency(True, [reason], danger_lines(text, r))


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
