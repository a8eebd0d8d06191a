"""Severity (一般/较大/重大/特别重大) of a case, with human-readable reasons.

Rules live in ``severity_rules.toml`` (supervisor-editable). :func:`assess_severity` is pure;
:func:`load_severity_rules` is the only function that reads a file. Negation ("没有人受伤") is out of
scope: such texts are over- rather than under-rated, and an operator reviews them.

Time is linear in the text: numbers are read with bounded repetitions that start only where a number
starts (a 20,000-digit text once took 76 s with an unbounded digit run retried at every digit), and at
most the first ``HEAD_CHARS`` and last ``TAIL_CHARS`` characters are read.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from hotline.services.classifier.regex_guard import guarded

RULES_PATH = Path(__file__).with_name("severity_rules.toml")
LEVELS: tuple[str, ...] = ("一般", "较大", "重大", "特别重大")


@dataclass(frozen=True, slots=True)
class SeverityAssessment:
    level: str  # "一般" | "较大" | "重大" | "特别重大"
    reasons: list[str]  # Chinese, human readable, e.g. ["涉及人员伤亡: 死亡", "群体性事件: 上访"]


@dataclass(frozen=True, slots=True)
class Signal:
    """Keyword signal: any term present sets at least ``level`` (or bumps by ``bump`` levels).

    With ``with_terms``, a term counts only in a sentence that also holds one of them ("爆炸" with
    "受伤")."""

    name: str
    level: int
    terms: tuple[str, ...]
    bump: int = 0
    with_terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CountRule:
    """A number of people next to one of ``words`` (optionally in a sentence with ``context``)."""

    name: str
    words: tuple[str, ...]
    thresholds: tuple[tuple[int, int], ...]  # (min count, level index), ascending
    context: tuple[str, ...] = ()
    short: str = ""  # the one character of the spoken short form "三死五伤" ("死" or "伤")


@dataclass(frozen=True, slots=True)
class SeverityRules:
    levels: tuple[str, ...]
    signals: tuple[Signal, ...]
    counts: tuple[CountRule, ...]
    media_reach: tuple[tuple[int, int], ...]
    repeat: tuple[tuple[int, int], ...]
    media_velocity: tuple[tuple[int, int], ...] = ()  # reach gained per hour
    urgent_level: int = 1  # a 紧急诉求 is at least this level (较大)


# ───────────────────────── parsing ─────────────────────────


def _level(name: Any, levels: Sequence[str], where: str) -> int:
    if name not in levels:
        raise ValueError(f"{where}: unknown level {name!r} (use one of {', '.join(levels)})")
    return list(levels).index(name)


def _terms(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(t, str) and t for t in value):
        raise ValueError(f"{where}: expected a list of non-empty strings")
    return tuple(value)


def _thresholds(value: Any, levels: Sequence[str], where: str) -> tuple[tuple[int, int], ...]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: thresholds must be a list of {{min, level}} tables")
    out = sorted((int(t["min"]), _level(t["level"], levels, where)) for t in value)
    return tuple(out)


def parse_severity_rules(data: Mapping[str, Any]) -> SeverityRules:
    """Build :class:`SeverityRules` from the parsed TOML document (pure)."""
    levels = tuple(data.get("levels", LEVELS))
    signals = tuple(
        Signal(
            name=str(s["name"]),
            level=_level(s.get("level", levels[0]), levels, f"signal {s.get('name')}"),
            terms=_terms(s.get("terms"), f"signal {s.get('name')}"),
            bump=int(s.get("bump", 0)),
            with_terms=_terms(s["with"], f"signal {s.get('name')}") if s.get("with") else (),
        )
        for s in data.get("signal", [])
    )
    counts = tuple(
        CountRule(
            name=str(c["name"]),
            words=_terms(c.get("words"), f"count {c.get('name')}"),
            thresholds=_thresholds(c.get("thresholds"), levels, f"count {c.get('name')}"),
            context=_terms(c.get("context", []), f"count {c.get('name')}") if c.get("context") else (),
            short=str(c.get("short", "")),
        )
        for c in data.get("count", [])
    )
    media = _thresholds(data.get("media", {}).get("reach_thresholds", []), levels, "media")
    velocity = _thresholds(data.get("media", {}).get("velocity_thresholds", []), levels, "media velocity")
    repeat = _thresholds(data.get("repeat", {}).get("thresholds", []), levels, "repeat")
    urgent = _level(data.get("urgent", {}).get("level", levels[1]), levels, "urgent")
    return SeverityRules(levels, signals, counts, media, repeat, velocity, urgent)


@lru_cache(maxsize=8)
def _load_cached(path: Path, mtime_ns: int) -> SeverityRules:
    with path.open("rb") as fh:
        return parse_severity_rules(tomllib.load(fh))


def load_severity_rules(path: Path | None = None) -> SeverityRules:
    """Read the rule file (default ``severity_rules.toml`` beside this module); cached per mtime."""
    p = path or RULES_PATH
    return _load_cached(p, p.stat().st_mtime_ns)


# ───────────────────────── numbers ─────────────────────────

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
HEAD_CHARS, TAIL_CHARS = 4000, 1000
_CN_NUM_CHARS = "零一二两三四五六七八九十百千万数几"
# A number starts only where no digit precedes it, and is at most 7 characters long: each position of
# the text then starts at most one attempt of bounded length (linear time, even on 20,000 digits).
_NUM = rf"(?<![\d{_CN_NUM_CHARS}上])(\d{{1,7}}|上[百千万]|[{_CN_NUM_CHARS}]{{1,7}})"
_FILL = r"[^\d，。,；;！!？?、\s月年天日岁次元万米点号楼栋层时分秒]{0,4}?"
_UNIT = r"(?:余|多|几)?(?:名|个|位|口)?(?:人)?"
_SENTENCE_RE = re.compile(r"[^。！？!?；;\n]+")


def cn_number(s: str) -> int:
    """Parse ``12``, ``十二``, ``二十三``, ``两百``; vague ``数十``/``几十`` → 20, ``十几`` → 11, ``上百`` → 100."""
    if s.isdigit():
        return int(s)
    total, section, digit = 0, 0, -1
    for ch in s:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in "数几":
            digit = 2 if digit < 0 and section == 0 and total == 0 else 1
        elif ch == "上":
            digit = 1
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if unit == 10000:
                total = (total + section + max(digit, 0)) * unit
                section, digit = 0, -1
            else:
                section += (1 if digit < 0 else digit) * unit
                digit = -1
    return total + section + max(digit, 0)


@lru_cache(maxsize=64)
def _count_patterns(words: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    alt = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    before = re.compile(guarded(_NUM + _UNIT + _FILL + f"(?:{alt})"))  # "3人死亡", "数十名村民"
    after = re.compile(f"(?:{alt})" + _NUM + r"(?:余|多)?(?:名|个|位)?人")  # "死亡3人"
    return before, after


@lru_cache(maxsize=8)
def _short_pattern(short: str) -> re.Pattern[str]:
    # "三死五伤", "1死3伤", "造成两死": the number before the character, which must be followed by a
    # number, 伤/亡, punctuation or the end (not "一死了之").
    return re.compile(guarded(_NUM + re.escape(short) + rf"(?=[\d{_CN_NUM_CHARS}伤亡，。,；;、）)\s]|$)"))


def max_count(text: str, rule: CountRule) -> int:
    """Largest number of people the text states for ``rule`` (0 if none)."""
    # Every pattern needs one of the rule's words (or its short form) as it is: most texts have none.
    if not any(word in text for word in rule.words) and not (rule.short and rule.short in text):
        return 0
    before, after = _count_patterns(rule.words)
    patterns = (before, after, _short_pattern(rule.short)) if rule.short else (before, after)
    best = 0
    for sentence in _SENTENCE_RE.findall(text):
        if rule.context and not any(c in sentence for c in rule.context):
            continue
        for pat in patterns:
            for m in pat.finditer(sentence):
                best = max(best, cn_number(m.group(1)))
    return best


def _signal_terms(text: str, sig: Signal) -> list[str]:
    found = [t for t in sig.terms if t in text]
    if not found or not sig.with_terms:
        return found
    hits: list[str] = []
    for sentence in _SENTENCE_RE.findall(text):
        if any(w in sentence for w in sig.with_terms):
            hits.extend(t for t in found if t in sentence and t not in hits)
    return hits


def _threshold_level(value: int, thresholds: Sequence[tuple[int, int]]) -> int:
    level = -1
    for minimum, lvl in thresholds:
        if value >= minimum:
            level = max(level, lvl)
    return level


# ───────────────────────── assessment ─────────────────────────


def assess_severity(
    text: str,
    *,
    channel: str = "hotline",
    reach: int | None = None,
    reach_per_hour: float | None = None,
    repeat_count: int = 0,
    urgent: bool = False,
    rules: SeverityRules | None = None,
) -> SeverityAssessment:
    """Rate a case. ``reach`` and ``reach_per_hour`` (how fast a mention spreads) count only for
    channel ``"media"``; ``repeat_count`` is the number of earlier complaints from the same caller or
    about the same place; an ``urgent`` case (紧急诉求) is at least the rules' ``[urgent] level``."""
    r = rules or load_severity_rules()
    if len(text) > HEAD_CHARS + TAIL_CHARS:
        text = text[:HEAD_CHARS] + "\n" + text[len(text) - TAIL_CHARS :]
    level = 0
    bump = 0
    reasons: list[str] = []
    for sig in r.signals:
        found = _signal_terms(text, sig)
        if not found:
            continue
        reasons.append(f"{sig.name}: {'、'.join(found[:3])}")
        if sig.bump:
            bump = max(bump, sig.bump)
        level = max(level, sig.level)
    for cr in r.counts:
        n = max_count(text, cr)
        lvl = _threshold_level(n, cr.thresholds) if n else -1
        if lvl > 0:
            reasons.append(f"{cr.name}: {n}人")
            level = max(level, lvl)
    if channel == "media" and reach is not None:
        lvl = _threshold_level(reach, r.media_reach)
        if lvl > 0:
            reasons.append(f"舆情传播量: {reach}")
            level = max(level, lvl)
    if channel == "media" and reach_per_hour is not None:
        lvl = _threshold_level(round(reach_per_hour), r.media_velocity)
        if lvl > 0:
            reasons.append(f"舆情传播速度: 每小时{round(reach_per_hour)}")
            level = max(level, lvl)
    lvl = _threshold_level(repeat_count, r.repeat)
    if lvl > 0:
        reasons.append(f"重复投诉: {repeat_count}次")
        level = max(level, lvl)
    if urgent and level < r.urgent_level:
        reasons.append("紧急诉求: 危及生命或人身安全")
        level = r.urgent_level
    if bump and level > 0:  # a modifier (e.g. minors) raises an existing concern only
        level = min(level + bump, len(r.levels) - 1)
    return SeverityAssessment(r.levels[level], reasons)
