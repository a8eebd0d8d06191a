"""`hotline train-misconduct` / `hotline eval-misconduct`: the learned reading of officials' misconduct.

Training texts: every routing suite (tests/data/routing*/, both halves), a case positive when its
``accept`` names the discipline commission (``jwjw``), grouped by the writer who wrote it (its id
prefix: ``r0001``… is writer 1, ``q001``… writer 2 (routing-heldout), otherwise the part before the
first ``-``: r3, r5, r5b, r6a … r8c). The matter-model phrasings (``data/matter_train*.jsonl``; a matter
led by the commission is positive) train every model but are never scored. So do the ordinary 政务留言
of ``messages_train.csv`` (developer checkouts only; skipped when absent) in which the rules find no
misconduct, as negatives: letters addressed to a 处长 or 厅长 about an exam or a subsidy are not
accusations (leaving writers out they cost no recall and cut the model's false alarms on the other half
of those messages from 16 in 3,099 to none).

``eval-misconduct --leave-one-writer-out``: for each writer in turn the model is trained on all other
writers (and the phrasings) and scores the held-out writer's cases; the pooled out-of-writer
probabilities choose the threshold (:func:`choose_threshold`: the most misconduct found by the model
beyond the rules, an ordinary complaint sent to the commission costing :data:`FALSE_POSITIVE_COST`
misses) and give the figures per writer. ``train-misconduct`` does the same and then trains on
everything, writing ``artifacts/misconduct_model.json`` with that threshold. Deterministic.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.services.classifier.dataset import EVAL_CORPUS, TRAIN_CORPUS
from hotline.services.classifier.misconduct_model import MODEL_PATH, cheap_features
from hotline.services.classifier.urgency_model import NGRAM_MAX, NGRAM_MIN
from hotline.shared.domain.misconduct import misconduct

REPO = Path(__file__).resolve().parents[2]
SUITES = sorted((REPO / "tests" / "data").glob("routing*/*.jsonl"))
PHRASINGS = sorted(Path(__file__).with_name("data").glob("matter_train*.jsonl"))
BACKGROUND_PATH = TRAIN_CORPUS  # ordinary 政务留言 (training only)
BACKGROUND_ID = "messages_train"
EVAL_PATH = EVAL_CORPUS  # never trained on: false alarms reported only
UNIT = "jwjw"
FALSE_POSITIVE_COST = 3.0  # an ordinary complaint sent to the 纪委 weighs as much as three misses
MAX_FEATURES = 20000
MIN_DF = 2
C = 4.0
FEATURES = ("rules", "official", "ticked")


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    positive: bool
    writer: str  # "" for the phrasings (training only)
    id: str = ""
    ticked: bool = False
    rules: tuple[str, ...] = ()


def writer_of(case_id: str) -> str:
    """The writer of a routing case, from its id."""
    if re.fullmatch(r"r\d{4}", case_id):
        return "w1"
    if re.fullmatch(r"q\d+", case_id):
        return "w2"
    return case_id.split("-", 1)[0]


def _example(text: str, positive: bool, writer: str, case_id: str = "", ticked: bool = False) -> Example:
    return Example(text, positive, writer, case_id, ticked, misconduct(text, ticked=ticked))


def read_messages(path: Path) -> list[str]:
    """The texts of a 政务留言 file (``messages_*.csv``); [] when it is absent."""
    if not path.exists():
        return []
    from hotline.services.classifier.dataset import read_examples

    return [e.text or e.text_seg for e in read_examples(path)]


def background(path: Path = BACKGROUND_PATH) -> list[Example]:
    """The ordinary messages in which the rules find no misconduct, as negatives (training only)."""
    return [e for e in (_example(t, False, "", BACKGROUND_ID) for t in read_messages(path)) if not e.rules]


def jsonl_rows(paths: Sequence[Path]) -> Iterator[dict[str, Any]]:
    """The objects of JSON-lines files, in order."""
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)


def gather(suites: Sequence[Path] = SUITES, phrasings: Sequence[Path] = PHRASINGS) -> list[Example]:
    out: list[Example] = []
    for raw in jsonl_rows(suites):
        accept = raw.get("accept") or []
        case_id = str(raw.get("id", ""))
        ticked = bool(raw.get("is_accusation"))
        out.append(_example(str(raw["text"]), UNIT in accept, writer_of(case_id), case_id, ticked))
    if phrasings:
        from hotline.shared.catalogue import packaged

        by_code = packaged().matters.by_code
        for raw in jsonl_rows(phrasings):
            matter = by_code.get(str(raw.get("matter")))
            out.append(_example(str(raw["text"]), matter is not None and matter.lead == UNIT, ""))
    return out


def _matrix(examples: Sequence[Example], vectorizer: Any, *, fit: bool) -> Any:
    import numpy as np
    from scipy.sparse import csr_matrix, hstack

    texts = [e.text for e in examples]
    grams = vectorizer.fit_transform(texts) if fit else vectorizer.transform(texts)
    dense = np.array(
        [[cheap_features(e.text, rules_fired=bool(e.rules), ticked=e.ticked)[f] for f in FEATURES] for e in examples]
    )
    return hstack([grams, csr_matrix(dense)]).tocsr()


def char_vectorizer(*, max_features: int, min_df: int = MIN_DF) -> Any:
    """The char 1–3-gram TF-IDF the learned readings use (prediction repeats it, see
    :func:`char_grams.tfidf_rows`)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="char",
        ngram_range=(NGRAM_MIN, NGRAM_MAX),
        sublinear_tf=True,
        min_df=min_df,
        max_features=max_features,
        dtype=np.float64,
    )


def fit(examples: Sequence[Example]) -> tuple[Any, Any]:
    from sklearn.linear_model import LogisticRegression

    vectorizer = char_vectorizer(max_features=MAX_FEATURES)
    x = _matrix(examples, vectorizer, fit=True)
    model = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=2000)
    model.fit(x, [e.positive for e in examples])
    return vectorizer, model


def predict(vectorizer: Any, model: Any, examples: Sequence[Example]) -> list[float]:
    if not examples:
        return []
    return [float(p) for p in model.predict_proba(_matrix(examples, vectorizer, fit=False))[:, 1]]


@dataclass(frozen=True, slots=True)
class Scored:
    example: Example
    p: float  # out-of-writer probability


def out_of_writer(examples: Sequence[Example]) -> list[Scored]:
    """Every writer's cases scored by a model trained without that writer."""
    writers = sorted({e.writer for e in examples if e.writer})
    scored: list[Scored] = []
    for writer in writers:
        vectorizer, model = fit([e for e in examples if e.writer != writer])
        own = [e for e in examples if e.writer == writer]
        scored += [Scored(e, p) for e, p in zip(own, predict(vectorizer, model, own), strict=True)]
    return scored


@dataclass(slots=True)
class Figures:
    positives: int = 0
    negatives: int = 0
    found: int = 0  # positives sent to the commission (rules or model)
    false: int = 0  # ordinary complaints sent to the commission
    found_rules: int = 0
    false_rules: int = 0

    def add(self, s: Scored, threshold: float) -> None:
        by_rules = bool(s.example.rules)
        sent = by_rules or s.p >= threshold
        if s.example.positive:
            self.positives += 1
            self.found += sent
            self.found_rules += by_rules
        else:
            self.negatives += 1
            self.false += sent
            self.false_rules += by_rules

    def as_dict(self) -> dict[str, Any]:
        def pct(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {
            "positives": self.positives,
            "recall": pct(self.found, self.positives),
            "recall_rules": pct(self.found_rules, self.positives),
            "negatives": self.negatives,
            "false": self.false,
            "false_rate": pct(self.false, self.negatives),
            "false_rules": self.false_rules,
        }


def figures(scored: Sequence[Scored], threshold: float) -> tuple[Figures, dict[str, Figures]]:
    pooled = Figures()
    per: dict[str, Figures] = {}
    for s in scored:
        pooled.add(s, threshold)
        per.setdefault(s.example.writer, Figures()).add(s, threshold)
    return pooled, per


def choose_threshold(scored: Sequence[Scored], cost: float = FALSE_POSITIVE_COST) -> float:
    """The threshold at which the model's additions to the rules gain most: each misconduct case found
    beyond the rules +1, each ordinary complaint sent to the commission beyond the rules −``cost``;
    ties go to the higher threshold."""
    best, best_gain = 0.99, 0.0
    for step in range(99, 29, -1):
        t = step / 100
        gain = sum((1.0 if s.example.positive else -cost) for s in scored if not s.example.rules and s.p >= t)
        if gain > best_gain:
            best, best_gain = t, gain
    return best


def artefact(examples: Sequence[Example], threshold: float) -> dict[str, Any]:
    vectorizer, model = fit(examples)
    coef = model.coef_[0]
    vocab = vectorizer.vocabulary_
    idf = vectorizer.idf_
    n = len(vocab)
    grams = {g: [round(float(idf[i]), 5), round(float(coef[i]), 5)] for g, i in sorted(vocab.items())}
    digest = hashlib.sha256(json.dumps(grams, ensure_ascii=False).encode()).hexdigest()[:12]
    return {
        "version": f"misconduct-{digest}",
        "threshold": threshold,
        "intercept": round(float(model.intercept_[0]), 6),
        "features": {f: round(float(coef[n + k]), 6) for k, f in enumerate(FEATURES)},
        "params": {"C": C, "max_features": MAX_FEATURES, "min_df": MIN_DF, "ngram": [NGRAM_MIN, NGRAM_MAX]},
        "data": {
            "positives": sum(e.positive for e in examples),
            "negatives": sum(not e.positive for e in examples),
            "writers": sorted({e.writer for e in examples if e.writer}),
        },
        "ngrams": grams,
    }


def report(scored: Sequence[Scored], threshold: float) -> str:
    pooled, per = figures(scored, threshold)
    rows = [
        f"threshold {threshold:.2f} (chosen on the pooled out-of-writer probabilities; "
        f"one ordinary complaint sent to the 纪委 costs {FALSE_POSITIVE_COST:g} misses)",
        "| held-out writer | misconduct | recall rules+model | recall rules | ordinary | to jwjw rules+model "
        "| to jwjw rules |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, f in [*sorted(per.items()), ("pooled", pooled)]:
        d = f.as_dict()
        rows.append(
            f"| {name} | {f.positives} | {f.found} ({_pct(d['recall'])}) | {f.found_rules} ({_pct(d['recall_rules'])})"
            f" | {f.negatives} | {f.false} ({_pct(d['false_rate'])}) | {f.false_rules} |"
        )
    rows.append("\nother thresholds (pooled): t / recall / ordinary to jwjw")
    for t in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95):
        d = figures(scored, t)[0].as_dict()
        rows.append(f"  {t:.2f} / {_pct(d['recall'])} / {d['false']} ({_pct(d['false_rate'])})")
    return "\n".join(rows)


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def ordinary_false_alarms(examples: Sequence[Example], threshold: float) -> dict[str, tuple[int, int]]:
    """False alarms of the model alone on ordinary messages it was not trained on: each half of the
    training background scored by a model trained without that half, and ``messages_eval.csv``."""
    back = [e for e in examples if e.id == BACKGROUND_ID]
    rest = [e for e in examples if e.id != BACKGROUND_ID]
    out: dict[str, tuple[int, int]] = {}
    if back:
        halves = (back[0::2], back[1::2])
        flagged = 0
        for k in (0, 1):
            vectorizer, model = fit(rest + halves[1 - k])
            flagged += sum(p >= threshold for p in predict(vectorizer, model, halves[k]))
        out["messages_train (each half held out)"] = (len(back), flagged)
    held = [e for e in (_example(t, False, "") for t in read_messages(EVAL_PATH)) if not e.rules]
    if held:
        vectorizer, model = fit(examples)
        flagged = sum(p >= threshold for p in predict(vectorizer, model, held))
        out["messages_eval (never trained on)"] = (len(held), flagged)
    return out


def main_eval(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline eval-misconduct", description=__doc__.splitlines()[0])
    parser.add_argument("--leave-one-writer-out", action="store_true", help="(the only mode)")
    parser.add_argument("--misses", action="store_true", help="list the held-out misses and false alarms")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    examples = gather() + background()
    scored = out_of_writer(examples)
    threshold = choose_threshold(scored)
    ordinary = ordinary_false_alarms(examples, threshold)
    if args.json:
        pooled, per = figures(scored, threshold)
        out = {
            "threshold": threshold,
            "pooled": pooled.as_dict(),
            "writers": {w: f.as_dict() for w, f in per.items()},
            "ordinary_messages": ordinary,
        }
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(report(scored, threshold))
        for name, (n, flagged) in ordinary.items():
            print(f"{name}: the model alone sends {flagged} of {n} texts the rules leave alone to the 纪委")
    if args.misses:
        for s in scored:
            sent = bool(s.example.rules) or s.p >= threshold
            if sent != s.example.positive:
                kind = "miss" if s.example.positive else "false"
                print(
                    json.dumps(
                        {"id": s.example.id, "kind": kind, "p": round(s.p, 3), "text": s.example.text[:80]},
                        ensure_ascii=False,
                    )
                )
    return 0


def main_train(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline train-misconduct", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    examples = gather() + background()
    threshold = choose_threshold(out_of_writer(examples))
    data = artefact(examples, threshold)
    args.out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(json.dumps({k: data[k] for k in ("version", "threshold", "features", "params", "data")}, ensure_ascii=False))
    return 0
