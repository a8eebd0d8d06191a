"""Rule terms matched only where they can begin find exactly what scanning every character finds."""

from __future__ import annotations

import json
from pathlib import Path

from hotline.services.classifier.rule_starts import TermStarts, matches_at, starts_in
from hotline.services.classifier.rules import load_topic_rules, term_starts

SUITE = Path(__file__).resolve().parents[1] / "data" / "routing-round11" / "dev.jsonl"
EDGES = ["", "低", "低保", "x低保", "低保低保低保", "环境\x00低保", "APP闪退了app", "噪音噪声", "a" * 30]


def _texts() -> list[str]:
    rows = [json.loads(line) for line in SUITE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["text"] for row in rows] + EDGES


def test_every_group_finds_the_same_matches_at_the_starts_alone() -> None:
    rules = load_topic_rules()
    texts = _texts()
    for group, matcher in rules.matchers.items():
        for text, starts in zip(texts, starts_in(texts, matcher.starts), strict=True):
            scanned = [(m.start(), m.group()) for m in matcher.pattern.finditer(text)]
            assert [(m.start(), m.group()) for m in matches_at(matcher.pattern, text, starts)] == scanned, (group, text)


def test_one_character_terms_and_texts_of_one_character_have_starts() -> None:
    starts = TermStarts.of(["噪", "低保"])
    assert starts_in(["噪", "低", "", "a低保噪"], starts) == [[0], [], [], [1, 3]]


def test_a_group_without_rules_gets_none() -> None:
    rules = load_topic_rules()
    assert term_starts(["低保"], rules, ["no such group"]) == [None]
