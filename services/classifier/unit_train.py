"""`hotline train-units` / `hotline eval-units --leave-one-writer-out`: the learned reading of who leads.

Training texts: every labelled routing suite in ``tests/data/routing*/`` (each case labelled with its
first acceptable 主办 unit, a township's code read as "town": the 属地 乡镇/街道) and the matter
training texts (``data/matter_train*.jsonl``, labelled with their matter's 主办, "town" for 属地 matters).

``eval-units --leave-one-writer-out``: for each writer in turn a model is trained on all other writers
(and the matter texts) and scores the held-out writer's cases; the router's decision with that model is
compared with the router's without it, per writer. The threshold from which the router follows the
model is chosen on those pooled out-of-writer probabilities (each right unit +1, each wrong one
−``WRONG_COST``: a wrong unit costs a 退回 and days, a person seconds). ``train-units`` does the same,
then trains on everything and writes ``artifacts/unit_model.npz``. The router's own figures on the
suites then read cases the model was trained on: the honest figures are the out-of-writer ones here
and those of sealed suites written after the model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from hotline.services.classifier.char_grams import pack
from hotline.services.classifier.misconduct_train import PHRASINGS, SUITES, char_vectorizer, jsonl_rows, writer_of
from hotline.services.classifier.unit_model import MODEL_PATH, UnitModel, probabilities, save_unit_model
from hotline.services.classifier.urgency_model import NGRAM_MAX, NGRAM_MIN
from hotline.shared.domain.matters import TOWN

MAX_FEATURES = 30000
MIN_DF = 2
C = 10.0
WRONG_COST = 2.0


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    unit: str  # the label: a unit code, or TOWN
    writer: str  # "" for the matter texts (training only)
    id: str = ""
    accept: tuple[str, ...] = ()  # the suite's acceptable units, TOWN for any township
    township: str | None = None
    channel: str = "hotline"
    is_accusation: bool = False


def as_label(code: str) -> str:
    return TOWN if code.startswith("town-") else code


def gather(suites: Sequence[Path] = SUITES, phrasings: Sequence[Path] = PHRASINGS) -> list[Example]:
    out: list[Example] = []
    for raw in jsonl_rows(suites):
        accept = tuple(dict.fromkeys(as_label(str(a)) for a in raw.get("accept") or []))
        if accept:
            case_id = str(raw.get("id", ""))
            township = raw.get("township") if isinstance(raw.get("township"), str) else None
            channel, ticked = str(raw.get("channel") or "hotline"), bool(raw.get("is_accusation"))
            out.append(
                Example(str(raw["text"]), accept[0], writer_of(case_id), case_id, accept, township, channel, ticked)
            )
    from hotline.shared.catalogue import packaged

    by_code = packaged().matters.by_code
    for raw in jsonl_rows(phrasings):
        matter = by_code.get(str(raw.get("matter")))
        if matter is not None:
            out.append(Example(str(raw["text"]), TOWN if matter.township == "lead" else matter.lead, ""))
    return out


def fit(examples: Sequence[Example], *, threshold: float = 1.0) -> UnitModel:
    """The model, as shipped (weights in half precision), trained on ``examples``."""
    return as_unit_model(*fit_sklearn(examples), threshold=threshold)


def fit_sklearn(examples: Sequence[Example]) -> tuple[Any, Any]:
    """The fitted vectorizer and regression (scikit-learn's, for training only)."""
    from sklearn.linear_model import LogisticRegression

    vectorizer = char_vectorizer(max_features=MAX_FEATURES, min_df=MIN_DF)
    x = vectorizer.fit_transform([e.text for e in examples])
    model = LogisticRegression(C=C, max_iter=3000)
    model.fit(x, [e.unit for e in examples])
    return vectorizer, model


def as_unit_model(vectorizer: Any, model: Any, *, threshold: float) -> UnitModel:
    """scikit-learn's vectorizer and regression as the arrays prediction reads."""
    packed = sorted((pack(gram), index) for gram, index in vectorizer.vocabulary_.items())
    order = np.array([index for _, index in packed], dtype=np.int64)
    weights = np.asarray(model.coef_.T[order], dtype=np.float32)
    digest = hashlib.sha256(weights.tobytes()).hexdigest()[:12]
    return UnitModel(
        codes=np.array([code for code, _ in packed], dtype=np.uint64),
        idf=np.asarray(vectorizer.idf_[order], dtype=np.float64),
        coef=weights.astype(np.float16).astype(np.float32),  # as shipped
        intercept=np.asarray(model.intercept_, dtype=np.float64),
        units=tuple(str(u) for u in model.classes_),
        threshold=threshold,
        version=f"units-{digest}",
    )


@dataclass(frozen=True, slots=True)
class Scored:
    example: Example
    unit: str  # the model's likeliest unit
    p: float  # its out-of-writer probability


def out_of_writer(examples: Sequence[Example]) -> tuple[list[Scored], dict[str, UnitModel]]:
    """Every writer's cases scored by a model trained without that writer (and those models)."""
    scored, models = [], {}
    for writer in sorted({e.writer for e in examples if e.writer}):
        model = models[writer] = fit([e for e in examples if e.writer != writer])
        for e in examples:
            if e.writer == writer:
                p = probabilities(e.text, model)
                best = int(np.argmax(p))
                scored.append(Scored(e, model.units[best], float(p[best])))
    return scored, models


def choose_threshold(scored: Sequence[Scored], router: dict[str, tuple[str, str]], cost: float = WRONG_COST) -> float:
    """The threshold at which following the model gains most over the router alone (``router``: case id
    → the router's verdict and unit without the model): where the model is that sure, its unit replaces
    the router's, except where the router sent the case to the discipline commission (misconduct keeps
    its precedence); right +1, wrong −``cost``, person 0. Ties go to the higher threshold."""
    from hotline.shared.catalogue import packaged

    accusation_unit = packaged().county.accusation_unit
    worth = {"right": 1.0, "wrong": -cost, "person": 0.0}
    best, best_gain = 1.0, 0.0
    for step in range(99, 19, -1):
        t = step / 100
        gain = 0.0
        for s in scored:
            verdict, unit = router[s.example.id]
            if s.p >= t and unit != accusation_unit:
                gain += worth["right" if s.unit in s.example.accept else "wrong"] - worth[verdict]
        if gain > best_gain:
            best, best_gain = t, gain
    return best


def router_verdicts(examples: Sequence[Example], model: UnitModel | None) -> dict[str, tuple[str, str]]:
    """The router's (verdict, unit) per suite case, with ``model`` as its reading of who leads (None:
    without one)."""
    from hotline.eval_routing import LabelledCase, Outcome, route_suite, verdict

    own = [e for e in examples if e.writer]
    cases = [LabelledCase(e.id, e.text, "?", e.accept, e.channel, e.township, e.is_accusation) for e in own]
    outcomes = route_suite(cases, unit_model=model, use_unit_model=model is not None)
    return {
        c.id: (verdict(c, Outcome(as_label(o.unit_code), o.to_person)), o.unit_code)
        for c, o in zip(cases, outcomes, strict=True)
    }


def report(
    examples: Sequence[Example],
    scored: Sequence[Scored],
    models: dict[str, UnitModel],
    threshold: float,
    without: dict[str, tuple[str, str]],
) -> tuple[str, dict[str, Any]]:
    """Per held-out writer: the model alone, the router without it (``without``, see
    :func:`router_verdicts`), and the router with the model trained without that writer (run through
    the whole production path)."""
    from hotline.eval_routing import Tally

    rows = [
        f"threshold {threshold:.2f} (chosen on the pooled out-of-writer probabilities; a wrong unit costs "
        f"{WRONG_COST:g} right ones)",
        "| held-out writer | cases | model alone right | router without: right / wrong / person "
        "| router with the model: right / wrong / person |",
        "| --- | --- | --- | --- | --- |",
    ]
    pooled_without: dict[str, str] = {}
    pooled_with: dict[str, str] = {}
    figures: dict[str, Any] = {}
    for writer, model in sorted(models.items()):
        own = [e for e in examples if e.writer == writer]
        with_model = router_verdicts(own, replace(model, threshold=threshold))
        before = {e.id: without[e.id][0] for e in own}
        after = {e.id: with_model[e.id][0] for e in own}
        pooled_without.update(before)
        pooled_with.update(after)
        alone = [s for s in scored if s.example.writer == writer]
        right_alone = sum(1 for s in alone if s.unit in s.example.accept) / len(alone)
        without_it, with_it = Tally.of(before.values()), Tally.of(after.values())
        figures[writer] = {
            "model_alone": round(right_alone, 4),
            "without": without_it.as_dict(),
            "with": with_it.as_dict(),
        }
        rows.append(f"| {writer} | {len(own)} | {right_alone:.1%} | {without_it.text()} | {with_it.text()} |")
    right_alone = sum(1 for s in scored if s.unit in s.example.accept) / len(scored)
    pooled = Tally.of(pooled_without.values()), Tally.of(pooled_with.values())
    rows.append(f"| pooled | {len(scored)} | {right_alone:.1%} | {pooled[0].text()} | {pooled[1].text()} |")
    figures["pooled"] = {
        "model_alone": round(right_alone, 4),
        "without": pooled[0].as_dict(),
        "with": pooled[1].as_dict(),
    }
    return "\n".join(rows), figures


def main_eval(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline eval-units", description=__doc__.splitlines()[0])
    parser.add_argument("--leave-one-writer-out", action="store_true", help="(the only mode)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    examples = gather()
    scored, models = out_of_writer(examples)
    without = router_verdicts(examples, None)
    threshold = choose_threshold(scored, without)
    text, figures = report(examples, scored, models, threshold, without)
    print(json.dumps({"threshold": threshold, **figures}, ensure_ascii=False) if args.json else text)
    return 0


def main_train(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline train-units", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--threshold", type=float, help="skip leaving writers out and use this threshold")
    args = parser.parse_args(argv)
    examples = gather()
    if args.threshold is None:
        scored, models = out_of_writer(examples)
        without = router_verdicts(examples, None)
        threshold = choose_threshold(scored, without)
        print(report(examples, scored, models, threshold, without)[0])
    else:
        threshold = args.threshold
    model = fit(examples, threshold=threshold)
    meta = {
        "params": {"C": C, "max_features": MAX_FEATURES, "min_df": MIN_DF, "ngram": [NGRAM_MIN, NGRAM_MAX]},
        "data": {
            "suite_cases": sum(1 for e in examples if e.writer),
            "matter_texts": sum(1 for e in examples if not e.writer),
            "writers": sorted({e.writer for e in examples if e.writer}),
        },
    }
    save_unit_model(args.out, model, meta)
    summary = {"version": model.version, "threshold": threshold, "units": len(model.units), **meta}
    print(json.dumps(summary, ensure_ascii=False))
    return 0
