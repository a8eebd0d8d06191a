"""The 紧急诉求 judgement (guards + arbiter) on the labelled suites in the repository. Every one of them
is development material and trains the arbiter, so these are regression nets on texts it has seen,
not figures for unseen text: that figure is the leave-one-writer-out table
(``hotline eval-urgency --leave-one-writer-out``, tests/classifier/test_urgency_lowo.py) and a sealed
suite outside the repository, measured by the lead (see the README)."""

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


@pytest.mark.parametrize("half", ["test", "heldout"])
def test_the_former_report_only_suites_meet_the_targets_now_that_they_are_development_material(half: str) -> None:
    # Round two, before they were tuned on: test 96.1 % recall, 4.6 % false alarms; held-out 96.6 %, 14.2 %.
    ev = _run(half)
    assert ev.overall.urgent >= 70 and ev.overall.calm >= 60
    figures = ev.overall.figures()
    missed = [m["id"] for m in ev.misses if m["expected"] and not m["got"]]
    assert figures["recall"] == 1.0, f"missed emergencies: {missed}"
    assert figures["false_alarm_rate"] <= 0.03
    assert figures["line_accuracy"] >= 0.55


def test_every_channel_and_category_is_counted() -> None:
    ev = _run("dev")
    assert set(ev.by_channel) == {"hotline", "petition", "media"}
    assert sum(t.urgent + t.calm for t in ev.by_category.values()) == ev.overall.urgent + ev.overall.calm


def test_the_command_shows_misses_on_every_repository_suite(capsys: pytest.CaptureFixture[str]) -> None:
    for half in ("dev", "test", "heldout"):
        assert main(["--half", half, "--misses", "--rules-only"]) == 0
        out = capsys.readouterr().out
        assert '"id"' in out  # the rules alone miss some: their texts are printed for tuning
    assert main(["--half", "dev", "--json"]) == 0
    assert '"recall": 1.0' in capsys.readouterr().out
