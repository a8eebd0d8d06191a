"""Keyword rules over the taxonomy's terms (config: ``topic_rules.toml``).

Rules do two things:

* recognise the first-level classes that have no training data (政法, 农村农业, 国土资源, 民政,
  纪检监察, 党务政务, 经济管理, 科技与信息产业) so that such cases are never forced into the seven
  trained classes;
* name a finer topic (subtopic) under whatever first-level class was chosen.

Everything here is pure except :func:`load_topic_rules`, which reads the TOML file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.services.classifier.rule_starts import TermStarts, matches_at, starts_in

RULES_PATH = Path(__file__).with_name("topic_rules.toml")
_INT_SETTINGS = ("title_chars", "max_count")
_FLOAT_SETTINGS = ("min_score", "override_score", "max_model_confidence", "strong_weight", "title_weight")


@dataclass(frozen=True, slots=True)
class TopicRule:
    """One (topic, subtopic) with the terms that indicate it."""

    topic: str
    subtopic: str | None
    terms: tuple[str, ...]  # each occurrence scores 1
    strong: tuple[str, ...] = ()  # unambiguous phrases: each occurrence scores ``strong_weight``
    unit: str | None = None  # the unit that usually handles it (informative)
    override_score: float | None = None  # per-rule replacement of RuleSettings.override_score


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that matched a text, with its score and the terms found."""

    topic: str
    subtopic: str | None
    score: float
    terms: tuple[str, ...]
    override_score: float | None = None


@dataclass(frozen=True, slots=True)
class RuleSettings:
    min_score: float = 6.0
    override_score: float = 10.0
    max_model_confidence: float = 0.9
    strong_weight: float = 2.0
    title_chars: int = 40
    title_weight: float = 2.0
    max_count: int = 3


@dataclass(frozen=True, slots=True)
class _Matcher:
    pattern: re.Pattern[str]
    index: Mapping[str, tuple[tuple[int, float], ...]]  # term -> ((rule index, weight), ...)
    starts: TermStarts  # where its terms can begin (see :mod:`rule_starts`)


@dataclass(frozen=True, slots=True)
class TopicRules:
    """Parsed rule set with one compiled matcher for the untrained classes and one per trained class."""

    rules: tuple[TopicRule, ...]
    untrained_topics: frozenset[str]
    settings: RuleSettings = RuleSettings()
    matchers: Mapping[str, _Matcher] = field(default_factory=dict, repr=False, compare=False)

    @property
    def min_score(self) -> float:
        return self.settings.min_score

    def with_untrained(self, topics: Iterable[str]) -> TopicRules:
        """Same rules with another set of untrained topics (e.g. a county model that has 政法 data)."""
        return compile_rules(self.rules, frozenset(topics), self.settings)


UNTRAINED = "*untrained*"  # matcher key for the rules of all untrained classes


def trie_regex(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, longest first, built as a prefix trie.

    Much faster than a flat alternation of hundreds of literals with Python's ``re``.
    """
    trie: dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "(?:" + body + ")?" if "" in node else body

    return build(trie)


def _matcher(rules: tuple[TopicRule, ...], keep: Iterable[int], strong_weight: float) -> _Matcher | None:
    index: dict[str, list[tuple[int, float]]] = {}
    for i in keep:
        for t in rules[i].terms:
            index.setdefault(t, []).append((i, 1.0))
        for t in rules[i].strong:
            index.setdefault(t, []).append((i, strong_weight))
    if not index:
        return None
    return _Matcher(re.compile(trie_regex(index)), {k: tuple(v) for k, v in index.items()}, TermStarts.of(index))


def compile_rules(rules: tuple[TopicRule, ...], untrained: frozenset[str], settings: RuleSettings) -> TopicRules:
    """Compile the matchers: one for all untrained topics, one per other topic."""
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rules):
        groups.setdefault(UNTRAINED if r.topic in untrained else r.topic, []).append(i)
    matchers = {}
    for key, idx in groups.items():
        m = _matcher(rules, idx, settings.strong_weight)
        if m is not None:
            matchers[key] = m
    return TopicRules(rules, untrained, settings, matchers)


def _str_tuple(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{what} must be a list of non-empty strings")
    return tuple(value)


def parse_topic_rules(data: Mapping[str, Any]) -> TopicRules:
    """Build :class:`TopicRules` from the parsed TOML document (pure)."""
    raw_settings = dict(data.get("settings", {}))
    untrained = frozenset(_str_tuple(raw_settings.pop("untrained_topics", []), "untrained_topics"))
    unknown = set(raw_settings) - set(_INT_SETTINGS) - set(_FLOAT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    values: dict[str, Any] = {k: int(v) for k, v in raw_settings.items() if k in _INT_SETTINGS}
    values.update({k: float(v) for k, v in raw_settings.items() if k in _FLOAT_SETTINGS})
    settings = RuleSettings(**values)
    rules: list[TopicRule] = []
    for i, raw in enumerate(data.get("rule", [])):
        topic = raw.get("topic")
        if not isinstance(topic, str) or not topic:
            raise ValueError(f"rule #{i + 1}: missing topic")
        terms = _str_tuple(raw.get("terms"), f"rule #{i + 1} terms")
        strong = _str_tuple(raw.get("strong"), f"rule #{i + 1} strong")
        if not terms and not strong:
            raise ValueError(f"rule #{i + 1} ({topic}): no terms")
        ov = raw.get("override_score")
        rules.append(
            TopicRule(
                topic=topic,
                subtopic=raw.get("subtopic") or None,
                terms=terms,
                strong=strong,
                unit=raw.get("unit") or None,
                override_score=None if ov is None else float(ov),
            )
        )
    return compile_rules(tuple(rules), untrained, settings)


def load_topic_rules(path: Path | None = None) -> TopicRules:
    """Read and parse the rule file (default: ``topic_rules.toml`` next to this module)."""
    with (path or RULES_PATH).open("rb") as fh:
        return parse_topic_rules(tomllib.load(fh))


def score_rules(
    text: str, rules: TopicRules, group: str | None = None, starts: Sequence[int] | None = None
) -> list[RuleHit]:
    """Score rules on ``text``, best first.

    ``group`` selects the rules: ``UNTRAINED`` (all untrained classes), a topic name, or None for
    all. Matches in the first ``title_chars`` characters count ``title_weight`` times; a term
    counts at most ``max_count`` times. ``starts``: where the group's terms can begin in ``text``
    (:func:`term_starts`), when a batch found them already.
    """
    keys = list(rules.matchers) if group is None else [group]
    st = rules.settings
    scores: dict[int, float] = {}
    found: dict[int, list[str]] = {}
    for key in keys:
        matcher = rules.matchers.get(key)
        if matcher is None:
            continue
        counts: dict[str, float] = {}
        matches = matcher.pattern.finditer(text) if starts is None else matches_at(matcher.pattern, text, starts)
        for m in matches:
            w = st.title_weight if m.start() < st.title_chars else 1.0
            counts[m.group()] = counts.get(m.group(), 0.0) + w
        for term, c in counts.items():
            for ri, weight in matcher.index[term]:
                scores[ri] = scores.get(ri, 0.0) + weight * min(c, float(st.max_count))
                found.setdefault(ri, []).append(term)
    hits = []
    for i, score in scores.items():
        r = rules.rules[i]
        hits.append(RuleHit(r.topic, r.subtopic, score, tuple(found[i]), r.override_score))
    hits.sort(key=lambda h: (-h.score, h.topic, h.subtopic or ""))
    return hits


def best_untrained(text: str, rules: TopicRules, starts: Sequence[int] | None = None) -> RuleHit | None:
    """The best hit for an untrained first-level class, if it reaches ``min_score``."""
    hits = score_rules(text, rules, UNTRAINED, starts)
    if hits and hits[0].score >= rules.settings.min_score:
        return hits[0]
    return None


def should_override(hit: RuleHit, model_confidence: float, rules: TopicRules) -> bool:
    """Whether an untrained-class hit replaces the model's choice among the trained classes."""
    limit = rules.settings.override_score if hit.override_score is None else hit.override_score
    return hit.score >= limit or model_confidence < rules.settings.max_model_confidence


def best_subtopic(text: str, topic: str, rules: TopicRules, starts: Sequence[int] | None = None) -> str | None:
    """The best-scoring subtopic of ``topic`` named in ``text`` (None when no term matches)."""
    for h in score_rules(text, rules, topic, starts):
        if h.subtopic:
            return h.subtopic
    return None


def term_starts(texts: Sequence[str], rules: TopicRules, groups: Sequence[str]) -> list[list[int] | None]:
    """Per text, where the terms of its group (``groups[i]``: ``UNTRAINED`` or a topic) can begin; None
    where the group has no rules. One numpy pass per group over its texts."""
    out: list[list[int] | None] = [None] * len(texts)
    members: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    for group, indices in members.items():
        matcher = rules.matchers.get(group)
        if matcher is None:
            continue
        for i, found in zip(indices, starts_in([texts[i] for i in indices], matcher.starts), strict=True):
            out[i] = found
    return out
