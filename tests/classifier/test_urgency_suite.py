"""The 紧急诉求 judgement (rules + learned model) on the labelled suites. The dev half was tuned on
and is part of the model's training data, so it is held to the targets; the test half and the held-out
suite (written by others, never read) to loose bounds around the measured figures that catch a
regression without inviting tuning to them."""

from __future__ import annotations

import pytest

from hotline.services.classifier.urgency import load_urgency_rules
from hotline.services.classifier.urgency_eval import HALVES, Evaluation, evaluate, main, read_suite
from hotline.services.classifier.urgency_model import load_urgency_model


def _run(half: str, *, with_model: bool = True) -> Evaluation:
    model = load_urgency_model() if with_model else None
    return evaluate(read_suite(HALVES[half]), load_urgency_rules(), model)


@pytest.mark.parametrize("with_model", [True, False])
def test_dev_half_meets_the_targets(with_model: bool) -> None:
    ev = _run("dev", with_model=with_model)
    figures = ev.overall.figures()
    assert ev.overall.urgent >= 60 and ev.overall.calm >= 60
    missed = [m["id"] for m in ev.misses if m["expected"] and not m["got"]]
    assert figures["recall"] == 1.0, f"missed emergencies: {missed}"
    assert figures["false_alarm_rate"] <= 0.03
    assert figures["lines_cover"] >= 0.85


def test_test_half_stays_within_loose_bounds() -> None:
    # Measured once in round two: 96.1 % recall, 4.6 % false alarms (round one: 67.5 %, 9.2 %).
    figures = _run("test").overall.figures()
    assert figures["recall"] >= 0.90
    assert figures["false_alarm_rate"] <= 0.10


def test_heldout_suite_stays_within_loose_bounds() -> None:
    # Measured once, after the rules and the model were final: 96.6 % recall, 14.2 % false alarms.
    ev = _run("heldout")
    assert ev.overall.urgent >= 100 and ev.overall.calm >= 100
    figures = ev.overall.figures()
    assert figures["recall"] >= 0.90
    assert figures["false_alarm_rate"] <= 0.20


def test_every_channel_and_category_is_counted() -> None:
    ev = _run("dev")
    assert set(ev.by_channel) == {"hotline", "petition", "media"}
    assert sum(t.urgent + t.calm for t in ev.by_category.values()) == ev.overall.urgent + ev.overall.calm


def test_the_command_refuses_to_show_report_only_misses(capsys: pytest.CaptureFixture[str]) -> None:
    for half in ("test", "heldout"):
        assert main(["--half", half, "--misses"]) == 2
        assert "测试集" in capsys.readouterr().err
    assert main(["--half", "dev", "--json"]) == 0
    assert '"recall": 1.0' in capsys.readouterr().out
