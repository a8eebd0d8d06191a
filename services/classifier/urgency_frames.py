"""紧急诉求: is the danger a text tells happening now, or told as not now (pure)?

Round six. The remaining false alarms on new writers were texts that tell of a danger in earnest but
not as happening now: a past event told with a word of today ("今天想说一下上个月那场火"), a rescue
already over ("已脱离危险", "火已扑灭"), a drill, a TV plot or a game, a rumour or its denial, a
correction, a memorial, a forecast, an ad. The rule file's ``[framing]`` section names the words of
now and the kinds of not now; :func:`read_frames` reads them sentence by sentence:

* a sentence is *now* when its last marker is a word of now ("去年那场火以后，现在又着火了"), *not
  now* when its last marker is a not-now word, *plain* when it holds neither;
* a text is *framed* when every sentence that tells of danger (a rule category's words, gating
  ignored) is not now, or plain while the text holds a not-now kind of ``scope = "text"`` (a drill
  notice's title frames the "3号楼起火" that follows); a kind of ``scope = "after"`` (over: "火已扑灭")
  frames only the danger told before it ("火已经灭了，但是三楼还有人被困" stays plain); a kind of
  ``scope = "sentence"`` (the past) frames its own sentence only, so "去年" in one sentence never
  frames the emergency in the next;
* a text with no danger sentence is framed when some sentence is not now and none is now.

A framed text needs a higher bar from the arbiter (:mod:`urgency_judge`); the frame never decides
alone. Linear time: one pass per pattern over the bounded text the rules read.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.services.classifier.urgency import Framing, UrgencyRules, bounded_text, masked, sentences

FRAME_PREFIX = "notnow:"  # the arbiter's feature names for what this module reads


@dataclass(frozen=True, slots=True)
class FrameReading:
    framed: bool  # every danger sentence is told as not now: the arbiter's higher bar applies
    kinds: tuple[str, ...]  # the not-now kinds that frame it, in the rule file's order
    now: bool  # some sentence ends on a word of now
    danger_sentences: int


NOT_FRAMED = FrameReading(False, (), False, 0)


def _danger_end(sentence: str, rules: UrgencyRules) -> int:
    """Where the last danger a rule category names ends in ``sentence`` (gating ignored); -1: none."""
    return max((m.end() for c in rules.categories for p in c.matchers for m in p.finditer(sentence)), default=-1)


def sentence_frame(sentence: str, framing: Framing, danger_end: int = -1) -> tuple[frozenset[str], bool]:
    """(the not-now kinds at or after the sentence's last word of now, is the sentence now?): the last
    marker wins, and a not-now word where a word of now starts wins ("正在演练"). A kind of scope
    ``"after"`` counts only after the sentence's danger (``danger_end``)."""
    last_now = max((m.start() for m in framing.now.finditer(sentence)), default=-1)
    kinds = set()
    for kind in framing.not_now:
        since = max(last_now, danger_end if kind.scope == "after" else -1)
        if any(m.start() >= since for m in kind.pattern.finditer(sentence)):
            kinds.add(kind.name)
    return frozenset(kinds), not kinds and last_now >= 0


def read_frames(text: str, rules: UrgencyRules) -> FrameReading:
    """How ``text`` frames the danger it tells (see the module docstring)."""
    framing = rules.framing
    if framing is None:
        return NOT_FRAMED
    scanned = masked(bounded_text(text, rules.head_chars, rules.tail_chars), rules)
    order = [k.name for k in framing.not_now]
    read = []  # per sentence: (where its danger ends in the text or -1, its not-now kinds, is it now?)
    for offset, sentence in sentences(scanned):
        end = _danger_end(sentence, rules)
        kinds, now = sentence_frame(sentence, framing, end)
        read.append((offset + end if end >= 0 else -1, kinds, now))
    now = any(is_now for _, _, is_now in read)
    danger = [(end, kinds, is_now) for end, kinds, is_now in read if end >= 0]
    if not danger:  # nothing the rules call a danger: the text as a whole
        kinds = frozenset().union(*(k for _, k, _ in read))
        return FrameReading(bool(kinds) and not now, tuple(k for k in order if k in kinds), now, 0)
    # Where each kind that reaches beyond its sentence last stands ("text": anywhere; "after": later).
    last = {
        k.name: max(m.start() for m in k.pattern.finditer(scanned))
        for k in framing.not_now
        if k.scope != "sentence" and k.pattern.search(scanned)
    }
    after = {k.name for k in framing.not_now if k.scope == "after"}
    found: set[str] = set()
    for end, kinds, is_now in danger:
        if not kinds and not is_now:  # a plain danger sentence: framed from elsewhere, or not at all
            kinds = frozenset(name for name, at in last.items() if name not in after or at >= end)
        if not kinds:
            return FrameReading(False, (), now, len(danger))
        found |= kinds
    return FrameReading(True, tuple(k for k in order if k in found), now, len(danger))


def frame_signal_names(rules: UrgencyRules) -> list[str]:
    """The arbiter's features from the frame (see :func:`frame_signals`)."""
    kinds = [k.name for k in rules.framing.not_now] if rules.framing is not None else []
    return [f"{FRAME_PREFIX}framed", f"{FRAME_PREFIX}now", *(f"{FRAME_PREFIX}{k}" for k in kinds)]


def frame_signals(reading: FrameReading) -> dict[str, float]:
    """The frame as features (value 1.0; absent ones left out): framed, now, and each kind."""
    names = [*(["framed"] if reading.framed else []), *(["now"] if reading.now else []), *reading.kinds]
    return {f"{FRAME_PREFIX}{name}": 1.0 for name in names}
