"""Reading labelled (or unlabelled) messages from CSV or JSON lines.

Accepted columns: ``text`` (raw message) and/or ``text_seg`` (pre-segmented, space-separated),
``label`` (first-level class; optional for unlabelled data). Other columns are ignored. When
``text`` is empty but ``subject``/``body`` exist they are joined; when all raw fields are empty the
segmented form is used.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.services.classifier.text import tokens_from_raw, tokens_from_segmented

# The public 政务留言 corpus the models are trained and judged on (2020 泰迪杯 problem C, see the
# README). It is not shipped: the running system needs only the trained artefacts. Developers keep it
# in a `shared/data` folder beside the repository, or name its folder with HOTLINE_CORPUS_DIR.
CORPUS_DIR = Path(os.environ.get("HOTLINE_CORPUS_DIR") or Path(__file__).resolve().parents[3] / "shared" / "data")
TRAIN_CORPUS = CORPUS_DIR / "messages_train.csv"
EVAL_CORPUS = CORPUS_DIR / "messages_eval.csv"  # never trained on


@dataclass(frozen=True, slots=True)
class Example:
    text: str  # raw text ("" when only the segmented form exists)
    text_seg: str
    label: str


def _row_to_example(row: Mapping[str, Any]) -> Example:
    def get(key: str) -> str:
        v = row.get(key)
        return "" if v is None else str(v).strip()

    text = get("text") or " ".join(p for p in (get("subject"), get("body")) if p)
    return Example(text=text, text_seg=get("text_seg"), label=get("label"))


def _iter_rows(path: Path) -> Iterator[Mapping[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        first = fh.read(1)
        fh.seek(0)
        if path.suffix.lower() in (".jsonl", ".ndjson", ".json") or first == "{":
            for n, line in enumerate(fh, 1):
                line = line.strip()
                if not line:
                    continue
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError(f"{path}:{n}: expected a JSON object per line")
                yield obj
        else:
            csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
            yield from csv.DictReader(fh)


def read_examples(path: Path, *, require_label: bool = True) -> list[Example]:
    """Read examples; rows without any text (or without a label when required) are skipped."""
    out: list[Example] = []
    for row in _iter_rows(path):
        ex = _row_to_example(row)
        if not (ex.text or ex.text_seg) or (require_label and not ex.label):
            continue
        out.append(ex)
    if not out:
        raise ValueError(f"{path}: no usable rows (need columns text or text_seg, and label)")
    return out


def example_tokens(ex: Example, stopwords: frozenset[str] | None = None) -> list[str]:
    """Normalised tokens: from the raw text when present, else from the segmented text."""
    if ex.text:
        return tokens_from_raw(ex.text, stopwords)
    return tokens_from_segmented(ex.text_seg, stopwords)
