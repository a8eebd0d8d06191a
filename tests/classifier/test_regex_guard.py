"""The first-character guard changes how fast a pattern fails, never what it matches."""

from __future__ import annotations

import random
import re

import pytest

from hotline.services.classifier.regex_guard import first_chars, guarded
from hotline.services.classifier.severity import _count_patterns, _short_pattern, load_severity_rules
from hotline.services.classifier.urgency import load_urgency_rules


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("着火|起火", {"着", "起"}),
        ("(?:好大的|很大的)?火", {"好", "很", "火"}),
        ("(?<!不)(?:着火|失火)", {"着", "失"}),
        (r"(?:死|伤){0,2}亡", {"死", "伤", "亡"}),
        (r"\d{1,3}人", {r"\d"}),
        (r"[一二三]个", {"一", "二", "三"}),
        (r"^\s?救命", {r"\s", "救"}),
    ],
)
def test_first_chars_are_those_a_match_can_start_with(source: str, expected: set[str]) -> None:
    assert first_chars(source) == frozenset(expected)


@pytest.mark.parametrize(
    "source",
    [
        ".{0,3}火",  # any character first
        "[^火]灾",  # a negated set
        r"\w火",  # a wide category
        "火?",  # may match the empty string: at every position
        "(?:火){0,2}",
        "(?i)fire",  # case folding: the set would need every case
    ],
)
def test_unknown_starts_leave_the_pattern_unguarded(source: str) -> None:
    assert first_chars(source) is None
    assert guarded(source) == source


def test_patterns_the_engine_already_skips_through_are_left_alone() -> None:
    # a first character, a set, or alternatives that each start with a character
    for source in ("救命", "[救呼]命", "喊救命|呼救|求救"):
        assert guarded(source) == source
    # alternatives that start with a group of their own are the rule files' usual shape: guarded
    assert guarded("(?:(?:孩子|老人).{0,4}走丢)|(?:(?:小孩|娃).{0,2}丢了)").startswith("(?=[娃孩小老])")


def _rule_patterns() -> list[re.Pattern[str]]:
    urgency = load_urgency_rules()
    patterns = [m for c in urgency.categories for m in c.matchers]
    patterns += [f.pattern for f in urgency.frames] + [urgency.present, urgency.negation_before]
    for rule in load_severity_rules().counts:
        patterns += list(_count_patterns(rule.words))
        if rule.short:
            patterns.append(_short_pattern(rule.short))
    return patterns


def _unguarded(pattern: re.Pattern[str]) -> re.Pattern[str]:
    source = pattern.pattern
    match = re.fullmatch(r"\(\?=\[[^\]]*\]\)\(\?:(.*)\)", source, re.DOTALL)
    return re.compile(match.group(1) if match else source, pattern.flags)


def test_guarded_rule_patterns_find_the_same_matches_as_unguarded() -> None:
    """The shipped urgency and severity patterns (guarded when compiled) against their plain form on
    texts built from their own characters, so that matches, near misses and overlaps occur."""
    chooser = random.Random(20261130)
    guarded_count = 0
    for pattern in _rule_patterns():
        plain = _unguarded(pattern)
        guarded_count += plain.pattern != pattern.pattern
        alphabet = sorted({ch for ch in plain.pattern if "\u4e00" <= ch <= "\u9fff"}) + list("，。 1２3")
        for _ in range(60):
            text = "".join(chooser.choice(alphabet) for _ in range(chooser.randint(0, 60)))
            assert [(m.span(), m.groups()) for m in pattern.finditer(text)] == [
                (m.span(), m.groups()) for m in plain.finditer(text)
            ], (plain.pattern[:60], text)
    assert guarded_count >= 20  # the guard is in use, not silently skipped


def test_guarding_a_pattern_keeps_its_groups() -> None:
    source = r"(?<![\d一二三])(\d{1,3}|[一二三]{1,3})(?:名|个)?人(死亡|受伤)"
    guard = re.compile(guarded(source))
    assert guard.pattern != source
    assert guard.groups == re.compile(source).groups
    assert guard.search("事故造成3人死亡").groups() == ("3", "死亡")


def test_characters_special_inside_a_class_are_escaped_in_the_guard() -> None:
    source = r"(?:\]|-|\^)a|(?:\\|\[)b|(?:x\d)c"
    guard = re.compile(guarded(source))
    assert guard.pattern != source
    text = r"]a -a ^a \b [b x1c za"
    assert [m.span() for m in guard.finditer(text)] == [m.span() for m in re.finditer(source, text)]
