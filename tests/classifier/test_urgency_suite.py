"""The 紧急诉求 rules on the labelled suite (tests/data/urgency, written by someone who had not seen
the rules). The rules were tuned on the dev half only, so dev is held to the targets and the test half
to loose bounds that catch a regression without inviting tuning to it."""

from __future__ import annotations

import pytest

from hotline.services.classifier.urgency import load_urgency_rules
from hotline.services.classifier.urgency_eval import SUITE_DIR, Evaluation, evaluate, main, read_suite


def _run(half: str) -> Evaluation:
    return evaluate(read_suite(SUITE_DIR / f"{half}.jsonl"), load_urgency_rules())


def test_dev_half_meets_the_targets() -> None:
    ev = _run("dev")
    figures = ev.overall.figures()
    assert ev.overall.urgent >= 60 and ev.overall.calm >= 60
    missed = [m["id"] for m in ev.misses if m["expected"] and not m["got"]]
    assert figures["recall"] == 1.0, f"missed emergencies: {missed}"
    assert figures["false_alarm_rate"] <= 0.03
    assert figures["lines_cover"] >= 0.85


def test_test_half_stays_within_loose_bounds() -> None:
    # Measured 67.5 % recall and 9.2 % false alarms (README): far from the targets, so these bounds
    # only catch a regression; raising them needs better rules, not rules fitted to this half.
    figures = _run("test").overall.figures()
    assert figures["recall"] >= 0.60
    assert figures["false_alarm_rate"] <= 0.12


def test_every_channel_and_category_is_counted() -> None:
    ev = _run("dev")
    assert set(ev.by_channel) == {"hotline", "petition", "media"}
    assert sum(t.urgent + t.calm for t in ev.by_category.values()) == ev.overall.urgent + ev.overall.calm


def test_the_command_refuses_to_show_test_misses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--half", "test", "--misses"]) == 2
    assert "测试集" in capsys.readouterr().err
    assert main(["--half", "dev", "--json"]) == 0
    assert '"recall": 1.0' in capsys.readouterr().out
