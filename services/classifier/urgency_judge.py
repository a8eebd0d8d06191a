"""紧急诉求: the rules' hard guards, then the learned arbiter (pure).

The stated rule: a text is urgent when a rule category marked ``guard = true`` in
``urgency_rules.toml`` finds an emergency (for categories nearly never wrong: a county marks them and
they act at once; the shipped file marks none); otherwise when the arbiter's probability is at least
its ``threshold``, or at least the lower ``rules_threshold`` where the rules found an emergency, or,
where the text tells its danger only as not now (past, over, drill, fiction, rumour, correction,
memorial, forecast, ad: :mod:`urgency_frames`), at least the higher ``framed_threshold``. The
arbiter is a logistic regression over the text's char n-grams (figurative phrases masked, as the rules
read it; optionally the rules' signals too, :mod:`urgency_signals`), trained on many writers' texts
with both thresholds chosen, leaving each writer out in turn, for recall first (``hotline
train-urgency``). The rules thus lower the bar without deciding alone: on writers they were not
written against they were the main source of false alarms. Without a model the rules judge alone.

Reasons name the words that decided: the rules' (``火灾：着火``) where they found the danger, with their
lines; else the arbiter's strongest words (``模型判断（93%）：烧炭、窗户``), with the line models' lines.
A framed text that still passes its higher bar says so last (``非此刻说法：演练``), for the operator
to weigh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hotline.services.classifier.text import jieba_cut
from hotline.services.classifier.urgency import (
    Category,
    Urgency,
    UrgencyRules,
    assess_urgency,
    load_urgency_rules,
    masked,
)
from hotline.services.classifier.urgency_frames import (
    FRAME_PREFIX,
    NOT_FRAMED,
    FrameReading,
    frame_signals,
    read_frames,
)
from hotline.services.classifier.urgency_model import UrgencyModel, predicted_lines, top_ngrams, urgent_probability
from hotline.services.classifier.urgency_signals import rule_signals
from hotline.shared.events import EmergencyLine

MODEL_REASON = "模型判断"
FRAMED_REASON = "非此刻说法"  # the danger is told as past, drill, fiction...; the bar was higher
_LINE_ORDER = {line: i for i, line in enumerate(EmergencyLine)}


def is_guarded(verdict: Urgency, rules: UrgencyRules) -> bool:
    """Did a hard-guard category (``guard = true``) find the emergency?"""
    guards = {c.name for c in rules.categories if c.guard}
    return verdict.urgent and any(reason.split("：", 1)[0] in guards for reason in verdict.reasons)


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


NOT_URGENT = Urgency(False, [], [])


def arbiter_bar(
    threshold: float, rules_threshold: float | None, framed_threshold: float | None, *, rule_hit: bool, framed: bool
) -> float:
    """The probability the arbiter must reach: higher where the danger is told only as not now (that
    wins over a rule hit: the rules' cues do not know every frame), lower where the rules found it."""
    if framed and framed_threshold is not None:
        return framed_threshold
    if rule_hit and rules_threshold is not None:
        return min(threshold, rules_threshold)
    return threshold


def arbiter_signals(
    text: str, rules: UrgencyRules, verdict: Urgency, reading: FrameReading, model: UrgencyModel
) -> dict[str, float] | None:
    """The features beside the n-grams that ``model`` was trained with: the rules' signals, the frame."""
    if not model.signals:
        return None
    signals: dict[str, float] = {}
    if any(not name.startswith(FRAME_PREFIX) for name in model.signals):
        signals |= rule_signals(text, rules, verdict)
    if any(name.startswith(FRAME_PREFIX) for name in model.signals):
        signals |= frame_signals(reading)
    return signals


def judge_urgency(
    text: str, rules: UrgencyRules | None = None, model: UrgencyModel | None = None, grams: float | None = None
) -> Urgency:
    """The guards first; the arbiter decides the rest, at a lower bar where the rules found an
    emergency and a higher one where the danger is told as not now (see the module docstring).
    ``grams``: the model's :func:`gram_scores` of ``masked(text)``, when a batch read them already."""
    r = rules or load_urgency_rules()
    verdict = assess_urgency(text, r)
    if model is None or not text.strip() or is_guarded(verdict, r):
        return verdict
    seen = masked(text, r)  # the arbiter reads what the rules read: figurative phrases blotted out
    as_features = any(name.startswith(FRAME_PREFIX) for name in model.signals)
    reading = read_frames(text, r) if as_features else NOT_FRAMED
    p = urgent_probability(seen, model, arbiter_signals(text, r, verdict, reading, model), grams)
    thresholds = (model.threshold, model.rules_threshold, model.framed_threshold)
    lowest = min(arbiter_bar(*thresholds, rule_hit=verdict.urgent, framed=f) for f in (False, True))
    if p < lowest:
        return NOT_URGENT  # under every bar: the frame need not be read (most texts; it costs a rule pass)
    if model.framed_threshold is not None and not as_features:
        reading = read_frames(text, r)
    framed = reading.framed and model.framed_threshold is not None
    if p < arbiter_bar(*thresholds, rule_hit=verdict.urgent, framed=framed):
        return NOT_URGENT
    note = [f"{FRAMED_REASON}：{'、'.join(reading.kinds)}"] if framed and reading.kinds else []
    if verdict.urgent:
        return Urgency(True, [*verdict.reasons, *note], verdict.lines)  # the rules named the danger
    words = whole_words(seen, top_ngrams(seen, model), jieba_cut())
    reason = f"{MODEL_REASON}（{p:.0%}）：{'、'.join(words)}" if words else f"{MODEL_REASON}（{p:.0%}）"
    return Urgency(True, [reason, *note], model_lines(seen, model) or danger_lines(seen, r))


WORD_WINDOW = 8  # characters segmented on each side of an n-gram: enough for a word, bounded in cost


def whole_words(text: str, grams: Sequence[str], cut: Callable[[str], list[str]]) -> list[str]:
    """Each of the model's n-grams widened to the whole words it touches where it first occurs
    (segmented by `cut` in a small window), so a reason reads "蓬莱镇" rather than "莱镇" and "说一声"
    rather than "说一"; a phrase inside another is named once."""
    phrases: list[str] = []
    for gram in grams:
        at = text.find(gram)
        phrase = gram
        if at >= 0:
            left = max(0, at - WORD_WINDOW)
            window = text[left : at + len(gram) + WORD_WINDOW]
            start = end = first = 0
            for word in cut(window):
                start, end = end, end + len(word)
                if start <= at - left < end:
                    first = start
                if end >= at - left + len(gram):
                    phrase = window[first:end]
                    break
        if not any(phrase in named for named in phrases):  # "个人" adds nothing beside "有个人"
            phrases = [named for named in phrases if named not in phrase] + [phrase]
    return phrases


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
