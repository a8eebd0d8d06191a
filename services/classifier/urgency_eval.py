"""`hotline eval-urgency [--half dev|test|heldout | --suite FILE]`: how well the 紧急诉求 judgement
(guards + learned arbiter, or ``--rules-only``) does on a labelled suite; with
``--leave-one-writer-out``, on each writer by an arbiter trained without it (:mod:`urgency_lowo`).

:func:`evaluate` is pure (cases, rules and model in, figures out). A suite is JSON lines with ``id``,
``channel``, ``text``, ``urgent``, ``lines``, ``category`` and ``note``. Since round three every suite
in the repository (``dev.jsonl``, ``test.jsonl``, the held-out suite ``tests/data/urgency-heldout``) is
development material and trains the arbiter: ``--misses`` prints the texts it got wrong on any of them.
The suite nobody tunes on is sealed outside the repository; the lead measures it with ``--suite``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.services.classifier.urgency import UrgencyRules, load_urgency_rules
from hotline.services.classifier.urgency_judge import judge_urgency
from hotline.services.classifier.urgency_model import UrgencyModel, load_urgency_model
from hotline.services.classifier.urgency_train import add_feature_options, feature_options

DATA_DIR = Path(__file__).resolve().parents[2] / "tests" / "data"
SUITE_DIR = DATA_DIR / "urgency"
HALVES = {
    "dev": SUITE_DIR / "dev.jsonl",
    "test": SUITE_DIR / "test.jsonl",
    "heldout": DATA_DIR / "urgency-heldout" / "cases.jsonl",
}


@dataclass(frozen=True, slots=True)
class SuiteCase:
    id: str
    channel: str
    text: str
    urgent: bool
    lines: tuple[str, ...]
    category: str


@dataclass
class Tally:
    """Counts for one group of cases (all, a category or a channel)."""

    urgent: int = 0
    found: int = 0  # urgent cases the rules flagged
    calm: int = 0
    false_alarms: int = 0  # non-urgent cases the rules flagged
    lines_exact: int = 0  # found cases whose lines are exactly the labelled ones
    lines_cover: int = 0  # found cases whose lines include every labelled one
    lines_labelled: int = 0  # found cases whose suite labels their lines (the phrasings do not)

    def add(self, case: SuiteCase, urgent: bool, lines: Sequence[str]) -> None:
        if case.urgent:
            self.urgent += 1
            if urgent:
                self.found += 1
            if urgent and case.lines:
                self.lines_labelled += 1
                self.lines_exact += set(lines) == set(case.lines)
                self.lines_cover += set(case.lines) <= set(lines)
        else:
            self.calm += 1
            self.false_alarms += urgent

    def figures(self) -> dict[str, Any]:
        def rate(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {
            "urgent": self.urgent,
            "recall": rate(self.found, self.urgent),
            "not_urgent": self.calm,
            "false_alarm_rate": rate(self.false_alarms, self.calm),
            "line_accuracy": rate(self.lines_exact, self.lines_labelled),
            "lines_cover": rate(self.lines_cover, self.lines_labelled),
        }


@dataclass
class Evaluation:
    overall: Tally = field(default_factory=Tally)
    by_category: dict[str, Tally] = field(default_factory=dict)
    by_channel: dict[str, Tally] = field(default_factory=dict)
    misses: list[dict[str, Any]] = field(default_factory=list)  # wrong verdicts, for tuning on dev


def parse_case(row: dict[str, Any]) -> SuiteCase:
    return SuiteCase(
        id=str(row["id"]),
        channel=str(row.get("channel", "hotline")),
        text=str(row["text"]),
        urgent=bool(row["urgent"]),
        lines=tuple(str(line) for line in row.get("lines", [])),
        category=str(row.get("category", "")),
    )


def evaluate(cases: Iterable[SuiteCase], rules: UrgencyRules, model: UrgencyModel | None = None) -> Evaluation:
    """Recall on urgent cases, false alarms on the others, and line accuracy; overall, per category
    and per channel. Without a model, the rules alone."""
    ev = Evaluation()
    for case in cases:
        got = judge_urgency(case.text, rules, model)
        lines = [line.value for line in got.lines]
        for tally in (
            ev.overall,
            ev.by_category.setdefault(case.category, Tally()),
            ev.by_channel.setdefault(case.channel, Tally()),
        ):
            tally.add(case, got.urgent, lines)
        if got.urgent != case.urgent or (case.urgent and set(lines) != set(case.lines)):
            ev.misses.append(
                {
                    "id": case.id,
                    "category": case.category,
                    "expected": list(case.lines) if case.urgent else False,
                    "got": lines if got.urgent else False,
                    "reasons": got.reasons,
                    "text": case.text,
                }
            )
    return ev


def read_suite(path: Path) -> list[SuiteCase]:
    with path.open(encoding="utf-8") as fh:
        return [parse_case(json.loads(line)) for line in fh if line.strip()]


def _table(title: str, tallies: dict[str, Tally]) -> list[str]:
    rows = [f"{title:<24} {'urgent':>6} {'recall':>7} {'calm':>5} {'false':>6} {'lines':>6}"]
    for name, t in sorted(tallies.items()):
        f = t.figures()

        def pct(v: float | None) -> str:
            return "—" if v is None else f"{v:.1%}"

        rows.append(
            f"{name:<24} {t.urgent:>6} {pct(f['recall']):>7} {t.calm:>5} {pct(f['false_alarm_rate']):>6} "
            f"{pct(f['line_accuracy']):>6}"
        )
    return rows


def _leave_one_writer_out(
    rules_path: Path | None, *, with_background: bool, features: dict[str, bool], target: float | None
) -> int:
    from hotline.services.classifier.urgency_lowo import leave_one_writer_out, report
    from hotline.services.classifier.urgency_train import (
        BACKGROUND_PATH,
        RECALL_TARGET,
        WRITERS,
        gather,
        prepare,
        read_background,
    )

    rules = load_urgency_rules(rules_path)
    background = read_background(BACKGROUND_PATH) if with_background and BACKGROUND_PATH.exists() else []
    data = prepare(gather(WRITERS), rules, **features)
    print(report(leave_one_writer_out(data, rules, background, target=target or RECALL_TARGET)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline eval-urgency", description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=tuple(HALVES), default="dev")
    parser.add_argument("--suite", type=Path, default=None, help="a suite file (JSON lines) instead of --half")
    parser.add_argument("--rules", type=Path, default=None, help="urgency rules file (default: the packaged one)")
    parser.add_argument("--model", type=Path, default=None, help="urgency model artefact (default: the shipped one)")
    parser.add_argument("--rules-only", action="store_true", help="judge by the rules alone, without the model")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--misses", action="store_true", help="print the cases it got wrong (verdict or lines)")
    parser.add_argument(
        "--leave-one-writer-out",
        action="store_true",
        help="train on every writer but one, measure on that one, for each writer (the figure for unseen text)",
    )
    parser.add_argument(
        "--no-background", action="store_true", help="with --leave-one-writer-out: skip the ordinary messages"
    )
    add_feature_options(parser)  # with --leave-one-writer-out
    parser.add_argument("--recall-target", type=float, default=None, help="with --leave-one-writer-out (default 0.99)")
    args = parser.parse_args(argv)
    if args.leave_one_writer_out:
        return _leave_one_writer_out(
            args.rules,
            with_background=not args.no_background,
            features=feature_options(args),
            target=args.recall_target,
        )
    path = args.suite or HALVES[args.half]
    model = None if args.rules_only else load_urgency_model(args.model)
    ev = evaluate(read_suite(path), load_urgency_rules(args.rules), model)
    name = str(args.suite) if args.suite else args.half
    summary = {"half": name, "model": model.version if model else None, "cases": ev.overall.urgent + ev.overall.calm}
    summary |= ev.overall.figures()
    if args.json:
        summary["by_category"] = {k: v.figures() for k, v in sorted(ev.by_category.items())}
        summary["by_channel"] = {k: v.figures() for k, v in sorted(ev.by_channel.items())}
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(json.dumps(summary, ensure_ascii=False))
        print("\n".join(_table("category", ev.by_category)))
        print("\n".join(_table("channel", ev.by_channel)))
    if args.misses:
        for miss in ev.misses:
            print(json.dumps(miss, ensure_ascii=False))
    return 0
