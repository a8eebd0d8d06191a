"""Classification time is linear and bounded: urgency + severity + place on hostile long texts.

A counting regex once took 76 s on a 20,000-digit 网上信访. The check compares the CPU time on
20,000 characters with that on 2,000 (a ratio, not a wall-clock limit): linear work gives about 10,
the cap on what the rules read gives less, and anything quadratic gives about 100.
"""

from __future__ import annotations

import pytest

from hotline.services.classifier.rules_bench import stress_texts, time_rules
from hotline.services.classifier.severity import load_severity_rules, max_count
from hotline.services.classifier.urgency import check_bounded, load_urgency_rules

LONG, SHORT = 20_000, 2_000


@pytest.mark.parametrize("kind", ["digits", "repeated", "random_chinese", "complaint", "numerals"])
def test_work_grows_at_most_linearly(kind: str) -> None:
    short = time_rules({kind: stress_texts(SHORT)[kind]}, repeat=5)[kind]
    long = time_rules({kind: stress_texts(LONG)[kind]}, repeat=5)[kind]
    assert long <= 15 * max(short, 0.5), f"{kind}: {short} ms at 2k, {long} ms at 20k"


def test_counting_reads_numbers_only_where_they_start() -> None:
    rule = next(c for c in load_severity_rules().counts if c.name == "死亡人数")
    assert max_count("1" * 20_000 + "人死亡", rule) == 0  # 20,000 digits are no count of people
    assert max_count("事故造成3人死亡", rule) == 3


def test_every_shipped_urgency_pattern_is_bounded() -> None:
    rules = load_urgency_rules()
    for pattern in [m for c in rules.categories for m in c.matchers] + [f.pattern for f in rules.frames]:
        check_bounded(pattern.pattern, "shipped rules")
