"""`hotline train-matters`: train the learned matter model and write ``artifacts/matter_model.*``.

Training documents: the labelled texts of ``data/matter_train*.jsonl`` (callers' own words, one file
per group of writers, see ``data/README.md``) plus, for each matter of the catalogue, its name and its
terms as short documents.
A linear SVM (one per matter) over char 1–3-gram + word TF-IDF, its scores turned into probabilities
by a softmax temperature fitted on out-of-fold scores; the weights are pruned to the ``--keep``
strongest features per matter. Deterministic: same data, catalogue and code give the same artefact.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from hotline.services.classifier import matter_model
from hotline.services.classifier.artefact import ARTIFACTS_DIR
from hotline.services.classifier.features import FeatureSpace
from hotline.services.classifier.text import load_stopwords, tokens_from_raw
from hotline.services.classifier.train import fit_temperature
from hotline.shared.domain.matters import MatterCatalogue, load_matters

# Every ``matter_train*.jsonl`` in this folder: each writer's texts are kept in their own file.
DEFAULT_DATA = Path(__file__).with_name("data")
SEED = 20261128


def catalogue_documents(catalogue: MatterCatalogue) -> list[tuple[str, str]]:
    """(code, text) pairs from the catalogue itself: each matter's name, and its terms in one line."""
    docs = []
    for m in catalogue.matters:
        docs.append((m.code, m.name))
        if m.terms:
            docs.append((m.code, " ".join(" ".join(t.words) for t in m.terms)))
    return docs


def data_files(path: Path) -> list[Path]:
    """A file as given, or every ``matter_train*.jsonl`` of a folder, in name order."""
    return sorted(path.glob("matter_train*.jsonl")) if path.is_dir() else [path]


def read_labelled(path: Path) -> list[tuple[str, str]]:
    """(matter code, text) rows of a training file, or of every training file in a folder."""
    rows = []
    for file in data_files(path):
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                rows.append((str(item["matter"]), str(item["text"])))
    return rows


def prune(coef: npt.NDArray[np.float32], keep: int) -> sp.csr_matrix:
    """(n_features, n_matters) sparse weights keeping each matter's ``keep`` largest |w|."""
    n_classes, n_features = coef.shape
    keep = min(keep, n_features)
    cols = np.argpartition(-np.abs(coef), keep - 1, axis=1)[:, :keep]
    rows = np.repeat(np.arange(n_classes), keep)
    data = coef[rows, cols.ravel()]
    return sp.csr_matrix((data, (cols.ravel(), rows)), shape=(n_features, n_classes), dtype=np.float32)


def _fit(x: Any, y: Sequence[int], c: float) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    from sklearn.svm import LinearSVC

    clf = LinearSVC(C=c, random_state=SEED).fit(x, list(y))
    return np.asarray(clf.coef_, dtype=np.float32), np.asarray(clf.intercept_, dtype=np.float32)


def train(
    data: Path = DEFAULT_DATA,
    *,
    catalogue: MatterCatalogue | None = None,
    out_dir: Path | None = ARTIFACTS_DIR,
    c: float = 0.5,
    keep: int = 600,
    word_weight: float = 0.6,
    folds: int = 5,
    labelled: Sequence[tuple[str, str]] | None = None,
    temperature: float | None = None,
) -> tuple[matter_model.MatterModel, dict[str, Any]]:
    """Fit the model (written to ``out_dir`` unless None). ``labelled`` replaces the data file's rows
    and ``temperature`` skips the out-of-fold fit (both for cross-validating the routing decision)."""
    cat = catalogue or load_matters()
    codes = [m.code for m in cat.matters]
    index = {code: i for i, code in enumerate(codes)}
    rows = read_labelled(data) if labelled is None else labelled
    labelled = [(code, text) for code, text in rows if code in index]
    docs = labelled + catalogue_documents(cat)
    stop = load_stopwords()
    tokens = [tokens_from_raw(text, stop) for _, text in docs]
    y = np.array([index[code] for code, _ in docs], dtype=np.int64)
    fs = FeatureSpace.fit(tokens, max_n=3, min_df=2, word_weight=word_weight)
    x = fs.transform(tokens)
    n_lab = len(labelled)
    k, cv_top1 = 0, None
    if temperature is None:
        temperature, k, cv_top1 = _out_of_fold(x, y, n_lab, len(codes), c, keep, folds)
    coef, bias = _fit(x, y.tolist(), c)
    # Over every document, the catalogue's names and terms too: an edited catalogue is a new version.
    digest = hashlib.sha256("\n".join(f"{a}\t{b}" for a, b in docs).encode()).hexdigest()[:12]
    meta: dict[str, Any] = {
        "version": f"matters-{digest}-{len(codes)}",
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": ", ".join(f.name for f in data_files(data)),
        "data_digest": digest,  # sha256 of the documents used (labelled rows and catalogue documents)
        "documents": {"labelled": n_lab, "catalogue": len(docs) - n_lab, "matters": len(codes)},
        "params": {"c": c, "keep": keep, "word_weight": word_weight, "temperature": round(temperature, 4)},
        "cv": {"folds": k, "top1_accuracy": round(cv_top1, 4) if cv_top1 is not None else None},
        # Each matter's first-level class, so the topic rules can ask the model whether it backs a class.
        "classes": {m.code: m.klass for m in cat.matters},
    }
    # The temperature is folded into the stored weights, so prediction is a plain softmax.
    model = matter_model.MatterModel(fs, codes, prune(coef * temperature, keep), bias * temperature, meta)
    if out_dir is not None:
        meta["npz_bytes"] = matter_model.save(model, out_dir).stat().st_size
    return model, meta


def _out_of_fold(
    x: Any, y: npt.NDArray[np.int64], n_lab: int, n_codes: int, c: float, keep: int, folds: int
) -> tuple[float, int, float]:
    """Softmax temperature and top-1 accuracy from out-of-fold scores of the labelled texts (the
    catalogue documents, after them in ``x``, always train)."""
    from sklearn.model_selection import StratifiedKFold

    oof = np.zeros((n_lab, n_codes), dtype=np.float32)
    k = min(folds, min(Counter(y[:n_lab].tolist()).values()))
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=SEED)
    for tr, te in skf.split(np.zeros(n_lab), y[:n_lab]):
        train_rows = np.concatenate([tr, np.arange(n_lab, x.shape[0])])
        coef, bias = _fit(x[train_rows], y[train_rows].tolist(), c)
        oof[te] = np.asarray((x[te] @ prune(coef, keep)).todense(), dtype=np.float32) + bias
    return fit_temperature(oof, y[:n_lab]), k, float((oof.argmax(axis=1) == y[:n_lab]).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline train-matters", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="a JSONL file, or a folder of matter_train*.jsonl"
    )
    parser.add_argument("--out", type=Path, default=ARTIFACTS_DIR)
    parser.add_argument("--c", type=float, default=0.5)
    parser.add_argument("--keep", type=int, default=600, help="features kept per matter")
    parser.add_argument("--word-weight", type=float, default=0.6)
    args = parser.parse_args(argv)
    _, meta = train(args.data, out_dir=args.out, c=args.c, keep=args.keep, word_weight=args.word_weight)
    print(json.dumps(meta, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
