"""`hotline eval-routing`: how often the production classify + route path picks an acceptable unit.

Each labelled case (JSON lines: id, channel, text, township, is_accusation, class, accept [unit codes],
matter, note) goes through the classifier's ``classify_cases`` and the router's decision with the
packaged 派单目录; a case counts as right when its 主办 unit is one of ``accept``, as sent to a person
when it went to 人工分拣, and as wrong otherwise. Scoring is a pure function (:func:`score_routing`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hotline.services.classifier.dataset import EVAL_CORPUS

if TYPE_CHECKING:
    from hotline.services.classifier.model import TopicModel
    from hotline.services.classifier.unit_model import UnitModel
    from hotline.shared.catalogue import Catalogue

SUITE_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "routing"
TOPIC_EVAL = EVAL_CORPUS
HELDOUT_DIR = SUITE_DIR.with_name("routing-heldout")
ROUND3_DIR = SUITE_DIR.with_name("routing-round3")
ROUND5_DIR = SUITE_DIR.with_name("routing-round5")
ROUND6_DIR = SUITE_DIR.with_name("routing-round6")
ROUND7_DIR = SUITE_DIR.with_name("routing-round7")
ROUND8_DIR = SUITE_DIR.with_name("routing-round8")
ROUND9_DIR = SUITE_DIR.with_name("routing-round9")
ROUND10_DIR = SUITE_DIR.with_name("routing-round10")
ROUND11_DIR = SUITE_DIR.with_name("routing-round11")
HALVES = ("dev", "test", "heldout")  # heldout: an independent writer's suite, every case unseen
# Every labelled suite, one writer each: what carries to a writer the router was not tuned on shows only
# when each is reported on its own (pooling lets the writer tuned on hide the others).
WRITER_SUITES: tuple[tuple[str, Path], ...] = (
    ("writer 1 dev", SUITE_DIR / "dev.jsonl"),
    ("writer 1 test", SUITE_DIR / "test.jsonl"),
    ("writer 2", HELDOUT_DIR / "cases.jsonl"),
    ("writer 3 dev", ROUND3_DIR / "dev.jsonl"),
    ("writer 3 test", ROUND3_DIR / "test.jsonl"),
    # Round five's suite: two writers (A: r5-…, B: r5b-…) split together into halves.
    ("writers 4+5 dev", ROUND5_DIR / "dev.jsonl"),
    ("writers 4+5 test", ROUND5_DIR / "test.jsonl"),
    # Round six's sealed suite (A: r6a-…, B: r6b-…), development material since measured once.
    ("writers 6+7 dev", ROUND6_DIR / "dev.jsonl"),
    ("writers 6+7 test", ROUND6_DIR / "test.jsonl"),
    # Round seven's sealed suite (r7a-…, r7b-…, r7c-…), development material since measured once.
    ("writers 8–10 dev", ROUND7_DIR / "dev.jsonl"),
    ("writers 8–10 test", ROUND7_DIR / "test.jsonl"),
    # Round eight's sealed suite (r8a-…, r8b-…, r8c-…), development material since measured once.
    ("writers 11–13 dev", ROUND8_DIR / "dev.jsonl"),
    ("writers 11–13 test", ROUND8_DIR / "test.jsonl"),
    # Round nine's sealed suite (r9a-…, r9b-…, r9c-…), development material since measured once.
    ("writers 14–16 dev", ROUND9_DIR / "dev.jsonl"),
    ("writers 14–16 test", ROUND9_DIR / "test.jsonl"),
    # Round ten's sealed suite (r10a-… to r10d-…), development material since measured once.
    ("writers 17–20 dev", ROUND10_DIR / "dev.jsonl"),
    ("writers 17–20 test", ROUND10_DIR / "test.jsonl"),
    # Round eleven's sealed suite (r11a-… to r11d-…), development material since measured once.
    ("writers 21–24 dev", ROUND11_DIR / "dev.jsonl"),
    ("writers 21–24 test", ROUND11_DIR / "test.jsonl"),
)


def suite_file(half: str, suite: Path = SUITE_DIR) -> Path:
    """The JSON lines of a half: ``dev.jsonl``/``test.jsonl`` in ``suite``, or the held-out suite."""
    return HELDOUT_DIR / "cases.jsonl" if half == "heldout" else suite / f"{half}.jsonl"


@dataclass(frozen=True, slots=True)
class LabelledCase:
    id: str
    text: str
    klass: str
    accept: tuple[str, ...]
    channel: str = "hotline"
    township: str | None = None
    is_accusation: bool = False
    matter: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    unit_code: str
    to_person: bool
    matter_code: str | None = None


@dataclass(slots=True)
class Tally:
    right: int = 0
    wrong: int = 0
    person: int = 0

    @property
    def n(self) -> int:
        return self.right + self.wrong + self.person

    @classmethod
    def of(cls, verdicts: Iterable[str]) -> Tally:
        """The tally of verdicts ("right", "wrong", "person", see :func:`verdict`)."""
        tally = cls()
        for kind in verdicts:
            setattr(tally, kind, getattr(tally, kind) + 1)
        return tally

    def share(self, count: int) -> float:
        return round(count / self.n, 4) if self.n else 0.0

    def text(self) -> str:
        """ "right / wrong / person" as percentages."""
        return " / ".join(f"{self.share(count):.1%}" for count in (self.right, self.wrong, self.person))

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "right": self.share(self.right),
            "wrong": self.share(self.wrong),
            "person": self.share(self.person),
        }


@dataclass(slots=True)
class RoutingReport:
    overall: Tally = field(default_factory=Tally)
    per_class: dict[str, Tally] = field(default_factory=dict)
    misses: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.as_dict(),
            "per_class": {k: v.as_dict() for k, v in sorted(self.per_class.items())},
        }


def verdict(case: LabelledCase, outcome: Outcome) -> str:
    """ "right", "person" or "wrong" for one case."""
    if outcome.unit_code in case.accept:
        return "right"
    return "person" if outcome.to_person else "wrong"


def score_routing(cases: Sequence[LabelledCase], outcomes: Sequence[Outcome]) -> RoutingReport:
    report = RoutingReport()
    for case, outcome in zip(cases, outcomes, strict=True):
        kind = verdict(case, outcome)
        for tally in (report.overall, report.per_class.setdefault(case.klass, Tally())):
            setattr(tally, kind, getattr(tally, kind) + 1)
        if kind != "right":
            report.misses.append(
                {
                    "id": case.id,
                    "class": case.klass,
                    "accept": list(case.accept),
                    "matter": case.matter,
                    "got": outcome.unit_code,
                    "got_matter": outcome.matter_code,
                    "kind": kind,
                }
            )
    return report


def parse_case(raw: Mapping[str, Any]) -> LabelledCase:
    accept = raw.get("accept") or []
    township = raw.get("township")
    return LabelledCase(
        id=str(raw.get("id", "")),
        text=str(raw["text"]),
        klass=str(raw.get("class") or "?"),
        accept=tuple(str(a) for a in accept),
        channel=str(raw.get("channel") or "hotline"),
        township=township if isinstance(township, str) and township.strip() else None,
        is_accusation=bool(raw.get("is_accusation")),
        matter=raw.get("matter") if isinstance(raw.get("matter"), str) else None,
    )


def load_suite(path: Path) -> list[LabelledCase]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [parse_case(json.loads(line)) for line in lines if line.strip()]


def format_report(report: RoutingReport, title: str) -> str:
    rows = [f"== {title} ==", f"{'class':<16}{'n':>5}{'right':>9}{'wrong':>9}{'person':>9}"]

    def row(name: str, tally: Tally) -> str:
        pad = " " * max(0, 16 - 2 * len(name)) if name.isascii() is False else " " * max(0, 16 - len(name))
        return (
            f"{name}{pad}{tally.n:>5}{tally.share(tally.right):>9.1%}"
            f"{tally.share(tally.wrong):>9.1%}{tally.share(tally.person):>9.1%}"
        )

    rows += [row(name, tally) for name, tally in sorted(report.per_class.items())]
    rows.append(row("overall", report.overall))
    return "\n".join(rows)


def format_writers(reports: Sequence[tuple[str, RoutingReport]]) -> str:
    """One line per writer's suite (overall right / wrong / to a person)."""
    rows = [f"{'suite':<19}{'n':>5}{'right':>9}{'wrong':>9}{'person':>9}"]
    for name, report in reports:
        t = report.overall
        rows.append(f"{name:<19}{t.n:>5}{t.share(t.right):>9.1%}{t.share(t.wrong):>9.1%}{t.share(t.person):>9.1%}")
    return "\n".join(rows)


# --------------------------------------------------------------------------------------------- running


def route_suite(
    cases: Sequence[LabelledCase],
    *,
    model: TopicModel | None = None,
    catalogue: Catalogue | None = None,
    unit_model: UnitModel | None = None,
    use_unit_model: bool = True,
) -> list[Outcome]:
    """Each case through the production path: classify_cases, then the router's decision (the packaged
    models and 派单目录 unless others are given; no learned reading of who leads without
    ``use_unit_model``)."""
    from hotline.services.classifier.classify import ClassifierParts, Request, classify_and_dispatch
    from hotline.services.classifier.model import TopicModel
    from hotline.services.classifier.severity import load_severity_rules
    from hotline.shared.catalogue import packaged
    from hotline.shared.clock import ScaledClock

    results = classify_and_dispatch(
        [Request(c.text, channel=c.channel, township=c.township, is_accusation=c.is_accusation) for c in cases],
        ClassifierParts(
            model or TopicModel.load(),
            load_severity_rules(),
            catalogue or packaged(),
            unit_model=unit_model,
            use_unit_model=use_unit_model,
        ),
        clock=ScaledClock(),
    )
    return [Outcome(d.unit_code, d.to_person, d.matter_code) for _, d in results]


def topic_macro_f1(
    path: Path, *, model: TopicModel | None = None, catalogue: Catalogue | None = None
) -> dict[str, Any]:
    """Macro-F1 of the classified topic (what `classified` events carry) over the labelled classes."""
    from hotline.services.classifier.classify import ClassifierParts, Request, classify_and_dispatch
    from hotline.services.classifier.dataset import read_examples
    from hotline.services.classifier.metrics import classification_metrics
    from hotline.services.classifier.model import TopicModel
    from hotline.services.classifier.severity import load_severity_rules
    from hotline.shared.catalogue import packaged
    from hotline.shared.clock import ScaledClock

    examples = read_examples(path)
    results = classify_and_dispatch(
        [Request(ex.text or ex.text_seg) for ex in examples],
        ClassifierParts(model or TopicModel.load(), load_severity_rules(), catalogue or packaged()),
        clock=ScaledClock(),
    )
    y = [ex.label for ex in examples]
    labels = sorted(set(y))
    classified = classification_metrics(y, [case.topic for case, _ in results], labels)
    routed = classification_metrics(y, [d.topic for _, d in results], labels)
    return {"file": path.name, "classified_macro_f1": classified["macro_f1"], "routed_macro_f1": routed["macro_f1"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline eval-routing", description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=HALVES, default="dev", help="heldout: tests/data/routing-heldout")
    parser.add_argument("--suite", type=Path, default=SUITE_DIR, help="folder with dev.jsonl and test.jsonl")
    parser.add_argument("--topics", type=Path, default=TOPIC_EVAL, help="labelled topic file (messages_eval.csv)")
    parser.add_argument("--by-writer", action="store_true", help="every writer's suite, one line each")
    parser.add_argument("--misses", action="store_true", help="list each miss")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    if args.by_writer:
        return _by_writer(args.json)
    source = suite_file(args.half, args.suite)
    cases = load_suite(source)
    report = score_routing(cases, route_suite(cases))
    topics = topic_macro_f1(args.topics) if args.topics.exists() else None
    if args.json:
        print(json.dumps({"half": args.half, **report.as_dict(), "topics": topics}, ensure_ascii=False))
        return 0
    print(format_report(report, f"routing, {args.half} ({source})"))
    if topics is None:
        print(f"\n(topic macro-F1 skipped: {args.topics} not found; it ships with developer checkouts only)")
    else:
        print(
            f"\ntopic macro-F1 on {topics['file']}: classified {topics['classified_macro_f1']:.4f}"
            f", routed class {topics['routed_macro_f1']:.4f}"
        )
    if args.misses:
        for miss in report.misses:
            print(json.dumps(miss, ensure_ascii=False))
    return 0


def _by_writer(as_json: bool) -> int:
    reports = []
    for name, path in WRITER_SUITES:
        cases = load_suite(path)
        reports.append((name, score_routing(cases, route_suite(cases))))
    if as_json:
        print(json.dumps({name: r.overall.as_dict() for name, r in reports}, ensure_ascii=False))
    else:
        print(format_writers(reports))
    return 0
