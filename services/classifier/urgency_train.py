"""`hotline train-urgency`: rebuild the learned 紧急诉求 model (``artifacts/urgency_model.json``).

Training texts, all in the repository except the background:

* the labelled suites: ``tests/data/urgency/dev.jsonl`` and, since round three, ``test.jsonl`` and
  ``tests/data/urgency-heldout/cases.jsonl`` too (measured several times, they became development
  material; a new sealed suite is measured by the lead);
* ``tests/data/urgency-train/*.jsonl`` (our own phrasings from round one and a training set written
  for this purpose, see its README);
* background negatives: the raw ordinary 政务留言 of ``messages_train.csv`` (``--background``; skipped
  with a warning when the file is absent, but the shipped artefact was built with them).

``--leave-out SOURCE`` trains without one of them (e.g. ``heldout``), to measure on it as unseen text.
The model reads each text as the rules do, with the figurative phrases of ``mask`` blotted out.

Choices are made by 5-fold cross-validation on these texts only: the regularisation C and the
threshold t of the stated rule in :mod:`urgency_judge` (the lowest t at which the model's own false
alarms, out of fold, stay within ``--max-added-false-alarms`` on the labelled non-emergencies and 1 %
on the background). Deterministic: same files, same artefact.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.services.classifier.urgency import (
    UrgencyRules,
    assess_urgency,
    bounded_text,
    load_urgency_rules,
    masked,
)
from hotline.services.classifier.urgency_judge import model_gated
from hotline.services.classifier.urgency_model import MODEL_PATH, NGRAM_MAX, NGRAM_MIN, parse_urgency_model, top_ngrams

REPO = Path(__file__).resolve().parents[2]
DEV_PATH = REPO / "tests" / "data" / "urgency" / "dev.jsonl"
SUITES = {  # the labelled suites, by source name (all development material since round three)
    "dev": DEV_PATH,
    "test": REPO / "tests" / "data" / "urgency" / "test.jsonl",
    "heldout": REPO / "tests" / "data" / "urgency-heldout" / "cases.jsonl",
}
TRAIN_DIR = REPO / "tests" / "data" / "urgency-train"
BACKGROUND_PATH = Path("/work/shared/data/messages_train.csv")
HEAD, TAIL = 4000, 1000
THRESHOLDS = [round(0.20 + 0.05 * i, 2) for i in range(15)]  # 0.20 … 0.90
C_GRID = (4.0, 16.0, 64.0)
MAX_FEATURES = 8000
LINES = ("110", "119", "120", "122")
LINE_C = 4.0  # the line models' regularisation (fixed; their accuracy is measured across suites)
LINE_MAX_FEATURES = 4000


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    urgent: bool
    source: str  # "dev", a file name under urgency-train, or "background"
    lines: tuple[str, ...] = ()  # the labelled emergency lines, where the suite gives them


def read_jsonl(path: Path, source: str) -> list[Example]:
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [
        Example(str(r["text"]), bool(r["urgent"]), source, tuple(str(line) for line in r.get("lines", [])))
        for r in rows
    ]


def read_background(path: Path) -> list[Example]:
    """Raw ordinary messages (rows with their text; the segmented-only rows differ in form)."""
    csv.field_size_limit(10**8)
    with path.open(encoding="utf-8", newline="") as fh:
        texts = [row["text"].strip() for row in csv.DictReader(fh) if row.get("text", "").strip()]
    return [Example(bounded_text(t, HEAD, TAIL), False, "background") for t in texts]


def gather(
    train_dir: Path, suites: dict[str, Path], background: Path | None, leave_out: Sequence[str] = ()
) -> list[Example]:
    examples: list[Example] = []
    for name, path in suites.items():
        examples += read_jsonl(path, name)
    for path in sorted(train_dir.glob("*.jsonl")):
        examples += read_jsonl(path, path.stem)
    if background is not None:
        examples += read_background(background)
    return [e for e in examples if e.source not in leave_out]


def fingerprint(examples: Iterable[Example]) -> str:
    digest = hashlib.sha256()
    for e in examples:
        digest.update(f"{int(e.urgent)}\t{e.source}\t{','.join(e.lines)}\t{e.text}\n".encode())
    return digest.hexdigest()[:16]


def model_verdict(p: float, t: float, gated: bool) -> bool:
    return p >= t and not gated


def rates(urgent: Sequence[bool], flagged: Sequence[bool], mask: Sequence[bool]) -> tuple[float, float]:
    """Recall on the urgent and false-alarm rate on the others, among the examples ``mask`` selects."""
    pos = [f for u, f, m in zip(urgent, flagged, mask, strict=True) if m and u]
    neg = [f for u, f, m in zip(urgent, flagged, mask, strict=True) if m and not u]
    return (sum(pos) / len(pos) if pos else 1.0), (sum(neg) / len(neg) if neg else 0.0)


def choose_threshold(
    examples: Sequence[Example],
    probs: Sequence[float],
    rule_hits: Sequence[bool],
    gated: Sequence[bool],
    max_added: float,
) -> tuple[float, dict[str, float]]:
    """The lowest threshold whose model-only false alarms stay within ``max_added`` on the labelled
    non-emergencies and 1 % on the background; with the combined figures it gives, out of fold."""
    urgent = [e.urgent for e in examples]
    labelled = [e.source != "background" for e in examples]
    background = [not m for m in labelled]
    for t in THRESHOLDS:
        alone = [model_verdict(p, t, g) and not r for p, g, r in zip(probs, gated, rule_hits, strict=True)]
        _, added = rates(urgent, alone, labelled)
        _, added_bg = rates(urgent, alone, background)
        if added <= max_added and added_bg <= 0.01:
            combined = [r or model_verdict(p, t, g) for p, g, r in zip(probs, gated, rule_hits, strict=True)]
            recall, fa = rates(urgent, combined, labelled)
            _, fa_bg = rates(urgent, combined, background)
            rule_recall, rule_fa = rates(urgent, rule_hits, labelled)
            model_recall, _ = rates(
                urgent, [model_verdict(p, t, g) for p, g in zip(probs, gated, strict=True)], labelled
            )
            return t, {
                "model_recall": round(model_recall, 4),
                "recall": round(recall, 4),
                "false_alarm_rate": round(fa, 4),
                "background_false_alarm_rate": round(fa_bg, 4),
                "rules_recall": round(rule_recall, 4),
                "rules_false_alarm_rate": round(rule_fa, 4),
            }
    return 1.01, {}


def train(examples: Sequence[Example], rules: UrgencyRules, *, max_added: float, folds: int = 5) -> dict[str, Any]:
    """Cross-validate C and the threshold, fit on everything, return the artefact (a JSON object)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline

    def pipeline(c: float, max_features: int = MAX_FEATURES) -> Any:
        return make_pipeline(
            TfidfVectorizer(
                analyzer="char",
                ngram_range=(NGRAM_MIN, NGRAM_MAX),
                sublinear_tf=True,
                min_df=2,
                max_features=max_features,
            ),
            LogisticRegression(C=c, class_weight="balanced", max_iter=5000),
        )

    rule_hits = [assess_urgency(e.text, rules).urgent for e in examples]
    texts = [masked(e.text, rules) for e in examples]  # what the model reads (see urgency_judge)
    y = np.array([e.urgent for e in examples])
    best: tuple[float, float, float, dict[str, float]] | None = None  # (model recall, C, t, figures)
    cv: dict[str, Any] = {}
    for c in C_GRID:
        probs = np.zeros(len(texts))
        gated = [False] * len(texts)
        for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, y):
            fitted = pipeline(c).fit([texts[i] for i in train_idx], y[train_idx])
            probs[test_idx] = fitted.predict_proba([texts[i] for i in test_idx])[:, 1]
            fold_model = parse_urgency_model(_weights(fitted, threshold=0.5))
            for i in test_idx:
                gated[i] = model_gated(texts[i], top_ngrams(texts[i], fold_model), rules)
        t, figures = choose_threshold(examples, probs.tolist(), rule_hits, gated, max_added)
        cv[f"C={c:g}"] = {"threshold": t, **figures}
        # The rules were written against most of these texts, so the combined recall flatters them:
        # choose by what the model finds on its own, out of fold (what it adds on unseen text).
        if figures and (best is None or figures["model_recall"] > best[0]):
            best = (figures["model_recall"], c, t, figures)
    if best is None:
        raise ValueError("no threshold keeps the model's false alarms within bounds")
    _, c, t, figures = best
    fitted = pipeline(c).fit(texts, y)
    # One model per emergency line, on the urgent texts whose suite labels their lines.
    with_lines = [(text, e) for text, e in zip(texts, examples, strict=True) if e.urgent and e.lines]
    line_models = {}
    for line in LINES:
        labels = [line in e.lines for _, e in with_lines]
        if len(set(labels)) == 2:
            fitted_line = pipeline(LINE_C, LINE_MAX_FEATURES).fit([text for text, _ in with_lines], labels)
            weights = _weights(fitted_line, threshold=0.5)
            line_models[line] = {"intercept": weights["intercept"], "ngrams": weights["ngrams"]}
    counts = {"urgent": int(y.sum()), "not_urgent": int((~y).sum())}
    sources = sorted({e.source for e in examples})
    return {
        "version": f"urgency-{fingerprint(examples)}",
        "params": {
            "C": c,
            "ngram_range": [NGRAM_MIN, NGRAM_MAX],
            "max_features": MAX_FEATURES,
            "folds": folds,
            "line_C": LINE_C,
            "line_max_features": LINE_MAX_FEATURES,
        },
        "data": {**counts, "sources": {s: sum(e.source == s for e in examples) for s in sources}},
        "cv": {"chosen": {"C": c, "threshold": t, **figures}, "grid": cv},
        **_weights(fitted, threshold=t),
        "lines": line_models,
    }


def _weights(fitted: Any, *, threshold: float) -> dict[str, Any]:
    """The fitted pipeline as the artefact stores it: per n-gram its IDF and weight, the intercept."""
    vectorizer, regression = fitted.steps[0][1], fitted.steps[1][1]
    ngrams = {
        gram: [round(float(vectorizer.idf_[i]), 5), round(float(regression.coef_[0][i]), 5)]
        for gram, i in sorted(vectorizer.vocabulary_.items())
    }
    return {"threshold": threshold, "intercept": round(float(regression.intercept_[0]), 5), "ngrams": ngrams}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline train-urgency", description=__doc__.splitlines()[0])
    parser.add_argument("--train-dir", type=Path, default=TRAIN_DIR)
    parser.add_argument("--dev", type=Path, default=DEV_PATH)
    parser.add_argument(
        "--leave-out",
        action="append",
        default=[],
        choices=(*SUITES, "cases", "phrasings"),
        help="train without this source (repeatable), to measure on it afterwards as unseen text",
    )
    parser.add_argument("--background", type=Path, default=BACKGROUND_PATH, help="ordinary messages CSV")
    parser.add_argument("--no-background", action="store_true", help="train without background negatives")
    parser.add_argument("--max-added-false-alarms", type=float, default=0.03)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    background: Path | None = None if args.no_background else args.background
    if background is not None and not background.exists():
        print(f"背景负例 {background} 不存在，不用背景负例训练（随附的模型是用背景负例训练的）", file=sys.stderr)
        background = None
    examples = gather(args.train_dir, {**SUITES, "dev": args.dev}, background, args.leave_out)
    artefact = train(examples, load_urgency_rules(), max_added=args.max_added_false_alarms)
    args.out.write_text(json.dumps(artefact, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    summary = {k: artefact[k] for k in ("version", "threshold", "params", "data", "cv")}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0
