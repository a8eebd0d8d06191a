"""Classification work is linear and bounded: urgency + severity + place on hostile long texts.

A counting regex once took 76 s on a 20,000-digit 网上信访. Without timing anything (a busy machine
makes any clock lie), three deterministic facts prove the work cannot run away:

* the rule passes read at most RULE_HEAD_CHARS + RULE_TAIL_CHARS characters, whatever the text's length
  (each pass is instrumented to record the text it is given);
* on what they read, the work (Python lines run and C builtins called, counted by trace and profile
  hooks) grows linearly: four times the text gives at most about four times the steps, where a
  quadratic pass gives sixteen;
* the regular expressions, whose backtracking no call count sees, are all bounded (no ``*``/``+``, no
  nested repetition), and a count reads numbers only where they start.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import pytest

from hotline.services.classifier import classify
from hotline.services.classifier.classify import RULE_HEAD_CHARS, RULE_TAIL_CHARS, assess_rules
from hotline.services.classifier.rules_bench import stress_texts
from hotline.services.classifier.severity import (
    _count_patterns,
    _short_pattern,
    load_severity_rules,
    max_count,
)
from hotline.services.classifier.urgency import assess_urgency, check_bounded, load_urgency_rules
from hotline.services.classifier.urgency_frames import read_frames
from hotline.services.classifier.urgency_signals import rule_signals
from hotline.shared.domain.county import load_county

KINDS = ["digits", "repeated", "random_chinese", "complaint", "numerals"]
SEVERITY, URGENCY, COUNTY = load_severity_rules(), load_urgency_rules(), load_county()
READ_AT_MOST = RULE_HEAD_CHARS + RULE_TAIL_CHARS + 1  # head, a line break, tail
# Both below the cap, so the passes read all of them: the growth measured is the passes' own.
SMALL, FOUR_TIMES = 1_000, 4_000


def _assess(text: str) -> None:
    assess_rules(text, channel="petition", severity_rules=SEVERITY, county=COUNTY, urgency_rules=URGENCY)


def steps_taken(text: str, work: Callable[[str], object] = _assess) -> int:
    """Python lines run and C functions called while ``work`` (by default the rule passes) handles
    ``text`` (the same count on every run): a loop shows as its lines, a builtin (a regex search, a
    str method) as its call."""
    count = 0

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        count += event == "line"
        return trace

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal count
        count += event == "c_call"

    sys.setprofile(profile)
    sys.settrace(trace)
    try:
        work(text)
    finally:
        sys.settrace(None)
        sys.setprofile(None)
    return count


@pytest.fixture
def read_lengths(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[int]]]:
    """The length of the text each rule pass is handed, recorded per pass."""
    seen: dict[str, list[int]] = {}

    def recording(name: str, inner: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(text: str, *args: Any, **kwargs: Any) -> Any:
            seen.setdefault(name, []).append(len(text))
            return inner(text, *args, **kwargs)

        return wrapper

    for name in ("judge_urgency", "assess_severity", "extract_place"):
        monkeypatch.setattr(classify, name, recording(name, getattr(classify, name)))
    yield seen


@pytest.mark.parametrize("kind", KINDS)
def test_the_rules_read_a_bounded_part_of_any_text(kind: str, read_lengths: dict[str, list[int]]) -> None:
    for length in (20_000, 200_000):
        read_lengths.clear()
        _assess(stress_texts(length)[kind])
        assert set(read_lengths) == {"judge_urgency", "assess_severity", "extract_place"}
        assert all(n == READ_AT_MOST for lengths in read_lengths.values() for n in lengths), read_lengths


@pytest.mark.parametrize("kind", KINDS)
def test_work_grows_at_most_linearly_in_what_is_read(kind: str) -> None:
    small, large = stress_texts(SMALL)[kind], stress_texts(FOUR_TIMES)[kind]
    steps_taken(small)  # loads and caches (compiled patterns, models) are not the text's work
    assert steps_taken(small) == steps_taken(small), "the measure must be deterministic"
    ratio = steps_taken(large) / steps_taken(small)
    assert ratio <= 4.5, f"{kind}: {ratio:.2f} times the steps for 4 times the text (quadratic gives ~16)"


def _signals(text: str) -> object:
    return rule_signals(text, URGENCY, assess_urgency(text, URGENCY))


def _frames(text: str) -> object:
    return read_frames(text, URGENCY)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("read", [_signals, _frames], ids=["signals", "frames"])
def test_what_the_arbiter_reads_beside_the_text_grows_linearly(kind: str, read: Callable[[str], object]) -> None:
    # An artefact trained with the rules' signals as features computes them on every text; one with a
    # framed bar (round six) reads the frame of every text the arbiter suspects.
    small, large = stress_texts(SMALL)[kind], stress_texts(FOUR_TIMES)[kind]
    steps_taken(small, read)
    ratio = steps_taken(large, read) / steps_taken(small, read)
    assert ratio <= 4.5, f"{kind}: {ratio:.2f} times the steps for 4 times the text (quadratic gives ~16)"


def test_counting_reads_numbers_only_where_they_start() -> None:
    rule = next(c for c in SEVERITY.counts if c.name == "死亡人数")
    assert max_count("1" * 20_000 + "人死亡", rule) == 0  # 20,000 digits are no count of people
    assert max_count("事故造成3人死亡", rule) == 3


def test_every_shipped_pattern_is_bounded() -> None:
    patterns = [m for c in URGENCY.categories for m in c.matchers] + [f.pattern for f in URGENCY.frames]
    assert URGENCY.framing is not None
    patterns += [URGENCY.framing.now, *(k.pattern for k in URGENCY.framing.not_now)]
    for rule in SEVERITY.counts:
        patterns += [*_count_patterns(rule.words), *([_short_pattern(rule.short)] if rule.short else [])]
    for pattern in patterns:
        check_bounded(pattern.pattern, "shipped rules")


def test_the_bound_check_refuses_what_backtracks() -> None:
    for source in (r"\d+人", r"(?:\d{1,3}){1,5}", r"[0-9]*死亡", r"(a|b){2,}"):
        with pytest.raises(ValueError):
            check_bounded(source, "test")
