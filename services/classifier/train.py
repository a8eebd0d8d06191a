"""Train the topic model and write the artefact.

    python -m hotline.services.classifier.train --data messages_train.csv --eval messages_eval.csv

(`--data` defaults to the training file of the corpus folder: dataset.CORPUS_DIR, HOTLINE_CORPUS_DIR.)

The data file is CSV or JSON lines with ``text`` (or ``text_seg``) and ``label``. Training is
deterministic: same data and code give the same weights.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hotline.services.classifier import artefact
from hotline.services.classifier.dataset import TRAIN_CORPUS, Example, example_tokens, read_examples
from hotline.services.classifier.features import FeatureSpace
from hotline.services.classifier.metrics import classification_metrics, format_metrics
from hotline.services.classifier.text import load_stopwords

DEFAULT_DATA = TRAIN_CORPUS


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Hyper-parameters (chosen by 5-fold cross-validation on the training file, 3 shuffles)."""

    c: float = 1.0
    min_df: int = 2
    max_n: int = 3
    word_weight: float = 0.7
    title_tokens: int = 10
    title_weight: float = 0.8
    cv_folds: int = 5
    random_state: int = 0


def _fit_linear(x: Any, y: Sequence[str], cfg: TrainConfig) -> Any:
    from sklearn.svm import LinearSVC

    return LinearSVC(C=cfg.c, random_state=cfg.random_state).fit(x, list(y))


def fit_temperature(scores: npt.NDArray[np.float32], y_idx: npt.NDArray[np.int64]) -> float:
    """Temperature for softmax(scores * T) minimising the log loss of out-of-fold scores."""
    best_t, best_nll = 1.0, np.inf
    for t in np.geomspace(0.5, 100.0, 80):
        z = scores * t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = float(-logp[np.arange(y_idx.size), y_idx].mean())
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def cross_validate(
    x: Any, y: Sequence[str], classes: list[str], cfg: TrainConfig
) -> tuple[npt.NDArray[np.float32] | None, dict[str, Any]]:
    """Out-of-fold decision scores and CV metrics; (None, {}) when the data is too small."""
    from sklearn.model_selection import StratifiedKFold

    folds = min(cfg.cv_folds, min(Counter(y).values()))
    if folds < 2 or len(classes) < 2:
        return None, {}
    y_arr = np.array(y)
    oof = np.zeros((len(y), len(classes)), dtype=np.float32)
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=cfg.random_state)
    for tr, te in skf.split(np.zeros(len(y)), y_arr):
        clf = _fit_linear(x[tr], y_arr[tr], cfg)
        w, b = _linear_params(clf, classes)
        oof[te] = np.asarray(x[te] @ w, dtype=np.float32) + b
    pred = [classes[i] for i in oof.argmax(axis=1)]
    m = classification_metrics(list(y), pred, classes)
    return oof, {"folds": folds, "macro_f1": m["macro_f1"], "accuracy": m["accuracy"]}


def _linear_params(clf: Any, classes: list[str]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    coef = np.asarray(clf.coef_, dtype=np.float32)
    bias = np.asarray(clf.intercept_, dtype=np.float32)
    if len(classes) == 2:  # binary LinearSVC has one score: class 1 vs class 0
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        bias = np.array([-bias[0] / 2, bias[0] / 2], dtype=np.float32)
    order = [list(clf.classes_).index(c) for c in classes]
    return np.ascontiguousarray(coef[order].T), bias[order]


def evaluate(model_dir: Path, eval_path: Path) -> dict[str, Any]:
    """Metrics on a labelled file: model alone (trained classes) and the full pipeline (with rules)."""
    from hotline.services.classifier.model import TopicModel

    examples = read_examples(eval_path)
    model = TopicModel.load(model_dir)
    texts = [ex.text or ex.text_seg for ex in examples]
    y = [ex.label for ex in examples]
    labels = sorted(set(model.classes) | set(y))
    model_only = classification_metrics(y, model.predict_trained(texts), labels)
    preds = model.predict(texts)
    full = classification_metrics(y, [p.topic for p in preds], labels)
    full["needs_review"] = sum(p.needs_review for p in preds)
    return {"file": eval_path.name, "model": model_only, "pipeline": full}


def train(
    data: Path,
    *,
    eval_path: Path | None = None,
    out_dir: Path | None = None,
    config: TrainConfig | None = None,
) -> dict[str, Any]:
    """Train on ``data``, write the artefact to ``out_dir`` (default: packaged artifacts/).

    Returns the artefact's metadata (version, fingerprint, metrics, ...).
    """
    cfg = config or TrainConfig()
    out = out_dir or artefact.ARTIFACTS_DIR
    t0 = time.perf_counter()
    examples: list[Example] = read_examples(data)
    sw = load_stopwords()
    docs = [example_tokens(ex, sw) for ex in examples]
    y = [ex.label for ex in examples]
    classes = sorted(set(y))
    if len(classes) < 2:
        raise ValueError("need at least two classes to train")
    fs = FeatureSpace.fit(
        docs,
        max_n=cfg.max_n,
        min_df=cfg.min_df,
        word_weight=cfg.word_weight,
        title_tokens=cfg.title_tokens,
        title_weight=cfg.title_weight,
    )
    x = fs.transform(docs)
    oof, cv = cross_validate(x, y, classes, cfg)
    y_idx = np.array([classes.index(v) for v in y], dtype=np.int64)
    temperature = fit_temperature(oof, y_idx) if oof is not None else 5.0
    clf = _fit_linear(x, y, cfg)
    weights, bias = _linear_params(clf, classes)
    fingerprint = artefact.sha256_file(data)
    # The version names the data and the settings, so a retrain with other settings is a new version
    # (the running classifier switches when the version changes).
    settings_hash = hashlib.sha256(json.dumps(asdict(cfg), sort_keys=True).encode()).hexdigest()
    now = datetime.now(UTC)
    meta: dict[str, Any] = {
        "version": f"topic-{now:%Y.%m.%d}-{fingerprint[:8]}-{settings_hash[:6]}",
        "created_at": now.isoformat(timespec="seconds"),
        "training_data": {
            "file": data.name,
            "sha256": fingerprint,
            "rows": len(examples),
            "raw_rows": sum(1 for ex in examples if ex.text),
            "labels": dict(sorted(Counter(y).items())),
        },
        "classes": classes,
        "config": asdict(cfg),
        "n_features": fs.n_features,
        "temperature": round(temperature, 4),
        "metrics": {"cv": cv},
    }
    art = artefact.LinearArtefact(fs, classes, weights, bias, temperature, meta)
    artefact.save(art, out)
    if eval_path is not None:
        meta["metrics"]["eval"] = evaluate(out, eval_path)
        art.meta = meta
        artefact.save(art, out)
    meta["train_seconds"] = round(time.perf_counter() - t0, 1)
    return meta


def format_report(meta: dict[str, Any]) -> str:
    """Human-readable summary of a training run."""
    lines = [
        f"model {meta['version']}  (trained on {meta['training_data']['file']}, "
        f"{meta['training_data']['rows']} rows, sha256 {meta['training_data']['sha256'][:16]}…)",
    ]
    cv = meta["metrics"].get("cv") or {}
    if cv:
        lines.append(f"cross-validation ({cv['folds']}-fold on training data): macro-F1 {cv['macro_f1']:.4f}")
    ev = meta["metrics"].get("eval")
    if ev:
        lines.append("")
        lines.append(format_metrics(ev["model"], f"== evaluation on {ev['file']}: model (trained classes) =="))
        lines.append("")
        lines.append(
            format_metrics(ev["pipeline"], f"== evaluation on {ev['file']}: pipeline (model + taxonomy rules) ==")
        )
        lines.append(f"sent to 人工分拣 (confidence below threshold): {ev['pipeline']['needs_review']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline train", description="Train the topic classifier.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CSV or JSON lines with text and label")
    parser.add_argument("--eval", type=Path, default=None, help="labelled file to evaluate on (not trained on)")
    parser.add_argument("--out", type=Path, default=None, help="artefact directory (default: packaged model)")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"training data not found: {args.data}", file=sys.stderr)
        return 2
    meta = train(args.data, eval_path=args.eval, out_dir=args.out)
    print(format_report(meta))
    print(f"\nwritten to {args.out or artefact.ARTIFACTS_DIR} in {meta['train_seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
