"""Throughput benchmark: ``python -m hotline.services.classifier.bench FILE``.

FILE is CSV or JSON lines with a ``text`` column (or ``subject`` + ``body``). Times, on the same
texts, bare ``jieba.lcut`` against the topic path (tokens, topic and matter models), against the
models classification reads (the topic path and the learned readings of misconduct and of who
leads), and against the whole of ``classify_and_dispatch`` (the rule passes for urgency, severity,
place and misconduct, the catalogue and the router besides), and prints their ratios.

A shared machine's speed drifts by tens of percent from one minute to the next. So the three are
timed batch by batch in turn (jieba on a batch, then the classifier on the same batch), each repeat's
ratio is taken over the whole file, and the median ratio of the repeats is printed, beside the best
throughput of each.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from hotline.services.classifier.char_grams import rows_for
from hotline.services.classifier.classify import ClassifierParts, Request, classify_and_dispatch
from hotline.services.classifier.dataset import read_examples
from hotline.services.classifier.misconduct_model import learned_misconduct_batch, load_misconduct_model
from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.severity import load_severity_rules
from hotline.services.classifier.text import python_jieba_cut
from hotline.services.classifier.unit_model import likeliest_units_of, load_unit_model
from hotline.shared.catalogue import packaged
from hotline.shared.clock import ScaledClock

Step = Callable[[list[str]], object]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="classifier-bench", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--model", type=Path, default=None, help="artefact directory (default: packaged)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--batch", type=int, default=1000, help="texts a step reads at once (1: the fixed cost of a batch shows)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    texts = [ex.text for ex in read_examples(args.file, require_label=False) if ex.text]
    if not texts:
        print(f"{args.file}: no raw texts")
        return 2
    result = bench(texts, TopicModel.load(args.model), repeat=args.repeat, batch_size=args.batch)
    if args.json:
        print(json.dumps(asdict(result)))
        return 0
    print(f"{result.texts} texts, {result.chars} chars; {args.repeat} repeats, interleaved by batch of {args.batch}")
    print(f"jieba.lcut             {result.jieba_chars_per_s:>10,} chars/s  (best repeat)")
    print(f"topic path             {result.predict_chars_per_s:>10,} chars/s  (tokens, topic and matter models)")
    print(f"ratio                  {result.ratio:>10.3f}  (median; repeats {result.ratio_range})")
    print(f"learned readings       {result.readings_chars_per_s:>10,} chars/s  (misconduct, who leads)")
    print(f"ratio with them        {result.all_ratio:>10.3f}  (median; repeats {result.all_ratio_range})")
    print(
        f"whole classification   {result.whole_ratio:>10.3f}  (median; repeats {result.whole_ratio_range}; "
        "with the urgency, severity, place and misconduct rules, the catalogue and the router)"
    )
    return 0


@dataclass(frozen=True, slots=True)
class BenchResult:
    texts: int
    chars: int
    jieba_chars_per_s: int  # the best repeat's
    predict_chars_per_s: int  # the topic path's, best repeat
    readings_chars_per_s: int  # the learned readings', best repeat
    ratio: float  # the topic path's speed over jieba's, median of the repeats
    ratio_range: str
    all_ratio: float  # with the learned readings, median of the repeats
    all_ratio_range: str
    whole_ratio: float  # all of classify_and_dispatch (the rule passes, the catalogue, the router), median
    whole_ratio_range: str


def bench(texts: Sequence[str], model: TopicModel, *, repeat: int = 5, batch_size: int = 1000) -> BenchResult:
    """Chars/s of bare jieba, of the topic path and of the learned readings on ``texts``, and the
    ratios of the classifier's speed to jieba's (the issue asks >= 0.7)."""
    cut = python_jieba_cut()  # the reference: bare jieba, whatever the classifier segments with
    model.predict(list(texts[:10]))  # warm-up
    parts = ClassifierParts(model, load_severity_rules(), packaged())
    clock = ScaledClock()
    steps: dict[str, Step] = {
        "jieba": lambda batch: [cut(t) for t in batch],
        "topic": lambda batch: topic_path(batch, model),
        "readings": readings_step(model),
        "whole": lambda batch: classify_and_dispatch([Request(t) for t in batch], parts, clock=clock),
    }
    seconds = interleaved(texts, steps, repeat=repeat, batch_size=batch_size)
    ratios = [j / t for j, t in zip(seconds["jieba"], seconds["topic"], strict=True)]
    all_ratios = [j / (t + r) for j, t, r in zip(seconds["jieba"], seconds["topic"], seconds["readings"], strict=True)]
    whole_ratios = [j / w for j, w in zip(seconds["jieba"], seconds["whole"], strict=True)]
    chars = sum(len(t) for t in texts)
    return BenchResult(
        texts=len(texts),
        chars=chars,
        jieba_chars_per_s=round(chars / min(seconds["jieba"])),
        predict_chars_per_s=round(chars / min(seconds["topic"])),
        readings_chars_per_s=round(chars / min(seconds["readings"])),
        ratio=round(statistics.median(ratios), 3),
        ratio_range=f"{min(ratios):.3f}–{max(ratios):.3f}",
        all_ratio=round(statistics.median(all_ratios), 3),
        all_ratio_range=f"{min(all_ratios):.3f}–{max(all_ratios):.3f}",
        whole_ratio=round(statistics.median(whole_ratios), 3),
        whole_ratio_range=f"{min(whole_ratios):.3f}–{max(whole_ratios):.3f}",
    )


def topic_path(batch: list[str], model: TopicModel) -> object:
    """What classify_cases runs on a batch before the rules: tokens, the matter and topic models."""
    tokens = model.tokenize(batch)
    return model.predict(batch, tokens, model.matters.probabilities(tokens) if model.matters is not None else None)


def readings_step(model: TopicModel) -> Step:
    """The learned readings of misconduct and of who leads over a batch, as classify_cases runs them
    (the rules' misconduct findings apart)."""
    misconduct_model, unit_model = load_misconduct_model(), model.units or load_unit_model()
    misconduct_vocabulary = misconduct_model.table if misconduct_model is not None else None

    def read(batch: list[str]) -> object:
        misconduct_rows, unit_rows = rows_for(batch, misconduct_vocabulary, unit_model)
        nothing: list[tuple[str, ...]] = [()] * len(batch)
        found = learned_misconduct_batch(
            batch, nothing, ticked=[False] * len(batch), model=misconduct_model, rows=misconduct_rows
        )
        leads = likeliest_units_of(batch, unit_model, rows=unit_rows) if unit_model is not None else None
        return found, leads

    return read


def interleaved(
    texts: Sequence[str], steps: dict[str, Step], *, repeat: int, batch_size: int
) -> dict[str, list[float]]:
    """Seconds each step takes over all ``texts``, per repeat; the steps take turns on each batch."""
    seconds: dict[str, list[float]] = {name: [] for name in steps}
    batches = [list(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    for _ in range(max(1, repeat)):
        spent = dict.fromkeys(steps, 0.0)
        for batch in batches:
            for name, step in steps.items():
                started = time.perf_counter()
                step(batch)
                spent[name] += time.perf_counter() - started
        for name, value in spent.items():
            seconds[name].append(value)
    return seconds


if __name__ == "__main__":
    raise SystemExit(main())
