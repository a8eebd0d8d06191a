"""What the rules see in a text, as features for the learned 紧急诉求 arbiter (pure).

The arbiter (:mod:`urgency_judge`) does not take the rules' verdict as final: it weighs, beside the
text's char n-grams, which danger categories the rules found (gated and ungated), which gating cues
stand in the text (past, hypothesis, procedure, advice, drill or story, compensation, negation near a
danger word, resolution after it, a figure of speech masked), who speaks (first or third person) and
whether the text speaks of now (正在, 现在, 马上, 还在). Every signal is derived from
``urgency_rules.toml``, so a county's edit to a word list reaches the arbiter without retraining.

Linear time: one pass per pattern over the bounded text the rules read.
"""

from __future__ import annotations

import re

from hotline.services.classifier.urgency import Urgency, UrgencyRules, bounded_text, masked

# Generic cues the rule file does not hold (they are language, not county knowledge).
_FIRST_PERSON = re.compile(r"我|俺|咱|阿拉|偶")
_THIRD_PERSON = re.compile(r"他|她|有人|有个人|邻居|对面|楼上|楼下|隔壁")
_QUESTION = re.compile(r"[?？]|吗|请问|怎么办|如何|能不能|可不可以|是否")
_NOW = re.compile(r"正在|现在|马上|还在|快(?:不行|要|来|点)|赶紧|刚刚|刚才|此刻|眼看")
_NEGATION = re.compile(r"没有?|不是|并非|并未|未|不会|别|唔系|冇")
_NEGATION_WINDOW = 6  # characters before a danger word that a negation must fall within


def signal_names(rules: UrgencyRules) -> list[str]:
    """Every signal :func:`rule_signals` can give under ``rules`` (the arbiter's feature order)."""
    names = ["rules:urgent", "raw:any", "cue:present", "cue:resolved", "cue:negated_harm", "cue:masked"]
    names += ["cue:negation_near", "cue:first_person", "cue:third_person", "cue:question", "cue:now"]
    names += [f"frame:{f.name}" for f in rules.frames]
    names += [f"hit:{c.name}" for c in rules.categories]
    names += [f"hit:{a.name}" for a in rules.additions]
    names += [f"raw:{c.name}" for c in rules.categories]
    return names


def rule_signals(text: str, rules: UrgencyRules, verdict: Urgency) -> dict[str, float]:
    """The signals present in ``text`` (value 1.0; absent ones are left out). ``verdict`` is the
    rules' own judgement of the same text (:func:`urgency.assess_urgency`)."""
    bounded = bounded_text(text, rules.head_chars, rules.tail_chars)
    seen = masked(bounded, rules)
    found: set[str] = set()
    if verdict.urgent:
        found.add("rules:urgent")
        found |= {f"hit:{reason.split('：', 1)[0]}" for reason in verdict.reasons}
    first_hit = len(seen)
    resolutions = [rules.resolved_all]
    for cat in rules.categories:
        starts = [m.start() for matcher in cat.matchers if (m := matcher.search(seen)) is not None]
        if starts:
            found |= {f"raw:{cat.name}", "raw:any"}
            first_hit = min(first_hit, *starts)
            resolutions.append(cat.resolved)
            if any(_NEGATION.search(seen[max(0, at - _NEGATION_WINDOW) : at]) for at in starts):
                found.add("cue:negation_near")
    found |= {f"frame:{f.name}" for f in rules.frames if f.pattern.search(seen)}
    cues = (
        ("cue:present", rules.present, seen),
        ("cue:negated_harm", rules.negated_harm, seen),
        ("cue:first_person", _FIRST_PERSON, seen),
        ("cue:third_person", _THIRD_PERSON, seen),
        ("cue:question", _QUESTION, seen),
        ("cue:now", _NOW, seen),
        ("cue:masked", rules.mask, bounded),
    )
    found |= {name for name, pattern, where in cues if pattern is not None and pattern.search(where)}
    if any(m.end() > first_hit for pattern in resolutions if pattern is not None for m in pattern.finditer(seen)):
        found.add("cue:resolved")  # "火已经扑灭了" after the danger (the last match suffices; linear)
    return dict.fromkeys(sorted(found), 1.0)
