"""Throughput benchmark: ``python -m hotline.services.classifier.bench FILE``.

FILE is CSV or JSON lines with a ``text`` column (or ``subject`` + ``body``). Prints the chars/s of
bare ``jieba.lcut`` and of batched ``TopicModel.predict`` on the same texts, and their ratio; then the
learned readings of misconduct and of who leads, and the ratio with them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from hotline.services.classifier.char_grams import rows_for
from hotline.services.classifier.dataset import read_examples
from hotline.services.classifier.misconduct_model import learned_misconduct_batch, load_misconduct_model
from hotline.services.classifier.model import TopicModel, bench
from hotline.services.classifier.unit_model import likeliest_units_of, load_unit_model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="classifier-bench", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--model", type=Path, default=None, help="artefact directory (default: packaged)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    texts = [ex.text for ex in read_examples(args.file, require_label=False) if ex.text]
    if not texts:
        print(f"{args.file}: no raw texts")
        return 2
    model = TopicModel.load(args.model)
    result = bench(texts, model, repeat=args.repeat)
    readings_s = time_readings(texts, model, repeat=args.repeat)
    chars = result["chars"]
    all_cps = chars / (chars / result["predict_chars_per_s"] + readings_s) if readings_s else 0.0
    result.update(
        readings_chars_per_s=round(chars / readings_s) if readings_s else 0.0,
        all_chars_per_s=round(all_cps),
        all_ratio=round(all_cps / result["jieba_chars_per_s"], 3),
    )
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{int(result['texts'])} texts, {int(chars)} chars (best of {args.repeat})")
        print(f"jieba.lcut          {result['jieba_chars_per_s']:>10,.0f} chars/s")
        print(f"TopicModel.predict  {result['predict_chars_per_s']:>10,.0f} chars/s  (topic and matter models)")
        print(f"ratio               {result['ratio']:>10.3f}")
        print(f"learned readings    {result['readings_chars_per_s']:>10,.0f} chars/s  (misconduct, who leads)")
        print(f"ratio with them     {result['all_ratio']:>10.3f}")
    return 0


def time_readings(texts: list[str], model: TopicModel, *, repeat: int, batch_size: int = 1000) -> float:
    """Seconds (best of ``repeat``) the learned readings of misconduct and of who leads take over
    ``texts`` in batches, as classify_cases runs them (the rules' misconduct findings apart)."""
    misconduct_model, unit_model = load_misconduct_model(), model.units or load_unit_model()
    misconduct_vocabulary = misconduct_model.table if misconduct_model is not None else None
    best = float("inf")
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        for i in range(0, len(texts), batch_size):
            batch = texts[i : i + batch_size]
            misconduct_rows, unit_rows = rows_for(batch, misconduct_vocabulary, unit_model)
            nothing: list[tuple[str, ...]] = [()] * len(batch)
            learned_misconduct_batch(
                batch, nothing, ticked=[False] * len(batch), model=misconduct_model, rows=misconduct_rows
            )
            if unit_model is not None:
                likeliest_units_of(batch, unit_model, rows=unit_rows)
        best = min(best, time.perf_counter() - started)
    return best


if __name__ == "__main__":
    raise SystemExit(main())
