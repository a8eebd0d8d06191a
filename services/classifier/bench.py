"""Throughput benchmark: ``python -m hotline.services.classifier.bench FILE``.

FILE is CSV or JSON lines with a ``text`` column (or ``subject`` + ``body``). Prints the chars/s of
bare ``jieba.lcut`` and of batched ``TopicModel.predict`` on the same texts, and their ratio.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hotline.services.classifier.dataset import read_examples
from hotline.services.classifier.model import TopicModel, bench


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
    result = bench(texts, TopicModel.load(args.model), repeat=args.repeat)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{int(result['texts'])} texts, {int(result['chars'])} chars (best of {args.repeat})")
        print(f"jieba.lcut          {result['jieba_chars_per_s']:>10,.0f} chars/s")
        print(f"TopicModel.predict  {result['predict_chars_per_s']:>10,.0f} chars/s")
        print(f"ratio               {result['ratio']:>10.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
